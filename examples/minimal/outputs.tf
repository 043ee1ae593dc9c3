output "state_machine_arn" {
  description = "ARN of the per-instance backup state machine."
  value       = module.app_consistent_backup.state_machine_arn
}

output "sns_topic_arn" {
  description = "Topic to subscribe to for failure notifications."
  value       = module.app_consistent_backup.sns_topic_arn
}

output "vault_name" {
  description = "Vault the recovery points go to."
  value       = module.app_consistent_backup.vault_name
}
