output "state_machine_arn" {
  description = "ARN of the per-instance backup state machine."
  value       = module.state_machine.state_machine_arn
}

output "state_machine_name" {
  description = "Name of the per-instance backup state machine."
  value       = module.state_machine.state_machine_name
}

output "state_machine_role_arn" {
  description = "ARN of the state machine's IAM role."
  value       = module.state_machine.role_arn
}

output "guard_table_name" {
  description = "DynamoDB table holding the per-instance freeze guard and last outcome."
  value       = module.state_machine.guard_table_name
}

output "dashboard_name" {
  description = "CloudWatch dashboard showing runs, failures and freeze windows."
  value       = module.state_machine.dashboard_name
}

output "discovery_function_name" {
  description = "Name of the discovery Lambda function."
  value       = module.discovery.function_name
}

output "discovery_function_arn" {
  description = "ARN of the discovery Lambda function."
  value       = module.discovery.function_arn
}

output "discovery_role_arn" {
  description = "ARN of the discovery function's IAM role."
  value       = module.discovery.role_arn
}

output "schedule_names" {
  description = "Names of the EventBridge Scheduler schedules, by the keys of var.schedules."
  value       = module.discovery.schedule_names
}

output "scheduler_role_arn" {
  description = "ARN of the IAM role EventBridge Scheduler assumes to invoke the discovery function."
  value       = module.discovery.scheduler_role_arn
}

output "dead_letter_queue_arn" {
  description = "ARN of the SQS queue receiving schedule invocations that could not be delivered."
  value       = module.discovery.dead_letter_queue_arn
}

output "subscriptions" {
  description = "The topic's subscriptions, by the keys of var.notifications.subscriptions: arn, and pending_confirmation (true until the endpoint confirms; SNS delivers nothing to an e-mail or https endpoint before)."
  value       = module.notifications.subscriptions
}

output "sns_topic_arn" {
  description = "ARN of the SNS topic failures and clears are published to (ServiceNow-ready JSON)."
  value       = module.notifications.topic_arn
}

output "alarm_topic_arn" {
  description = "ARN of the SNS topic every alarm of the module publishes to, ALARM and OK (CloudWatch's alarm JSON, no message attributes)."
  value       = module.notifications.alarm_topic_arn
}

output "alarm_names" {
  description = "Names of the alarms on silent failures: the discovery function's errors, throttles and dead letters, the scheduler's undelivered invocations, no recovery point per schedule, and the share of a consistency label (crash-consistent-timeout-share)."
  value       = merge(module.discovery.alarm_names, module.state_machine.consistency_alarm_names)
}

output "servicenow_queue_url" {
  description = "URL of the queue feeding the ServiceNow delivery function (null without servicenow)."
  value       = try(module.servicenow_delivery[0].queue_url, null)
}

output "servicenow_dead_letter_queue_url" {
  description = "URL of the ServiceNow dead-letter queue: events ServiceNow refused, each with its reason (null without servicenow)."
  value       = try(module.servicenow_delivery[0].dead_letter_queue_url, null)
}

output "servicenow_function_name" {
  description = "Name of the ServiceNow delivery function (null without servicenow)."
  value       = try(module.servicenow_delivery[0].function_name, null)
}

output "vault_name" {
  description = "Name of the AWS Backup vault recovery points go to."
  value       = module.vault.vault_name
}

output "vault_arn" {
  description = "ARN of the AWS Backup vault recovery points go to."
  value       = module.vault.vault_arn
}

output "vault_kms_key_arn" {
  description = "ARN of the vault's KMS key. EC2 recovery points are not encrypted with it: they keep their EBS volumes' keys."
  value       = module.vault.kms_key_arn
}

output "vault_access_policy_json" {
  description = "The vault access policy the module attaches (or, for a brought vault left alone, would attach): merge its Deny statement into that vault's own policy."
  value       = module.vault.access_policy_json
}

output "backup_role_arn" {
  description = "ARN of the IAM role AWS Backup assumes for the module's jobs."
  value       = module.vault.backup_role_arn
}

output "restore_testing_plan_arn" {
  description = "ARN of the AWS Backup restore testing plan, or null when restore testing is off."
  value       = try(module.restore_testing[0].restore_testing_plan_arn, null)
}

output "restore_validation_function_name" {
  description = "Name of the function validating restored instances, or null when restore testing is off."
  value       = try(module.restore_testing[0].function_name, null)
}

output "ssm_document_name" {
  description = "Name of the SSM Command document the module runs on instances (its Command parameter is freeze, thaw or dry-run). Replaces ssm_document_names, a list that always held this one name."
  value       = module.instance_documents.document_name
}

output "schedules" {
  description = "Each schedule's resolved settings and policy, as passed to the discovery function."
  value       = local.schedules
}

output "schedule_capacity" {
  description = "Per enabled schedule, the most instances its run starts before the schedule fires again: its interval times discovery's start pace (discovery.start_rate_per_second if set, else admission.start_rate_per_second; 5,184 a day by default), for the schedule running alone. A larger fleet's runs overlap and queue for the freeze slots, and discovery reports it (BackupRunOverrun, docs/fleet.md). Null where the intervals between firings are not all the same."
  value       = module.discovery.schedule_capacity
}

output "admission" {
  description = "What the API budget allows (docs/fleet.md): quotas_calls_per_second (the module's quotas, or api_budget.quotas) and budget_calls_per_second by API, freeze_slots (instances frozen at once), start_rate_per_second (discovery's default StartExecution pace) and job_poll_gate_calls (DescribeBackupJob polls per second, docs/contracts.md section 9)."
  value       = module.state_machine.admission
}
