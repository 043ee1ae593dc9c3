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

output "alarm_topic_arn" {
  description = "Topic every alarm of the module publishes to."
  value       = module.app_consistent_backup.alarm_topic_arn
}

output "servicenow_function_name" {
  description = "The ServiceNow delivery function."
  value       = module.app_consistent_backup.servicenow_function_name
}

output "servicenow_queue_url" {
  description = "Queue the topics feed and the delivery function reads."
  value       = module.app_consistent_backup.servicenow_queue_url
}

output "servicenow_dead_letter_queue_url" {
  description = "Events the local ServiceNow refused, with their reason (empty after a good run)."
  value       = module.app_consistent_backup.servicenow_dead_letter_queue_url
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
