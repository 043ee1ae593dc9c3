output "state_machine_arn" {
  description = "ARN of the per-instance backup state machine."
  value       = module.app_consistent_backup.state_machine_arn
}

output "discovery_function_name" {
  description = "Name of the discovery function."
  value       = module.app_consistent_backup.discovery_function_name
}

output "sns_topic_arn" {
  description = "Topic failures and clears are published to."
  value       = module.app_consistent_backup.sns_topic_arn
}

output "itsm_queue_url" {
  description = "Queue standing in for the ITSM tool (subscribed to the topic, raw messages)."
  value       = aws_sqs_queue.itsm.url
}

output "vault_name" {
  description = "Vault the recovery points go to."
  value       = module.app_consistent_backup.vault_name
}

output "guard_table_name" {
  description = "DynamoDB table of the per-instance guard."
  value       = module.app_consistent_backup.guard_table_name
}

output "schedules" {
  description = "The schedules' resolved settings, as the discovery function receives them."
  value       = module.app_consistent_backup.schedules
}

output "discovery_function_arn" {
  description = "ARN of the discovery function (the schedules' target)."
  value       = module.app_consistent_backup.discovery_function_arn
}

output "ssm_document_name" {
  description = "The freeze/thaw SSM document the state machine sends to the instances."
  value       = module.app_consistent_backup.ssm_document_name
}

output "dead_letter_queue_arn" {
  description = "Queue of schedule invocations that could not be delivered (empty after a good run)."
  value       = module.app_consistent_backup.dead_letter_queue_arn
}
