output "restore_testing_plan_arn" {
  description = "The AWS Backup restore testing plan."
  value       = module.app_consistent_backup.restore_testing_plan_arn
}

output "restore_validation_function_name" {
  description = "The function validating each restored instance (its logs tell each test's checks)."
  value       = module.app_consistent_backup.restore_validation_function_name
}

output "sns_topic_arn" {
  description = "Topic the failed (and cleared) restore tests are published to."
  value       = module.app_consistent_backup.sns_topic_arn
}
