output "state_machine_arn" {
  description = "ARN of the per-instance backup state machine."
  value       = module.app_consistent_backup.state_machine_arn
}

output "discovery_function_name" {
  description = "Name of the discovery function (invoke it with a schedule's input and dry_run = true to see what would be backed up)."
  value       = module.app_consistent_backup.discovery_function_name
}

output "schedule_names" {
  description = "EventBridge Scheduler schedules, by schedule key."
  value       = module.app_consistent_backup.schedule_names
}

output "sns_topic_arn" {
  description = "Topic failures and clears are published to."
  value       = module.app_consistent_backup.sns_topic_arn
}

output "vault_arn" {
  description = "Vault the recovery points go to."
  value       = module.app_consistent_backup.vault_arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard of runs, failures and freeze windows."
  value       = module.app_consistent_backup.dashboard_name
}

output "alarm_topic_arn" {
  description = "Topic every alarm publishes to (ALARM and OK)."
  value       = module.app_consistent_backup.alarm_topic_arn
}

output "servicenow_dead_letter_queue_url" {
  description = "Events ServiceNow refused, each with its reason: redrive once the cause is fixed."
  value       = module.app_consistent_backup.servicenow_dead_letter_queue_url
}

output "servicenow_function_name" {
  description = "Function delivering the events and alarms to ServiceNow (its logs say what was delivered, retried or dead-lettered)."
  value       = module.app_consistent_backup.servicenow_function_name
}
