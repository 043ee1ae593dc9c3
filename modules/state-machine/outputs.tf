output "state_machine_arn" {
  description = "ARN of the per-instance state machine (discovery starts one execution of it per instance)."
  value       = aws_sfn_state_machine.this.arn
}

output "state_machine_name" {
  description = "Name of the state machine."
  value       = aws_sfn_state_machine.this.name
}

output "role_arn" {
  description = "ARN of the state machine's IAM role."
  value       = aws_iam_role.this.arn
}

output "guard_table_name" {
  description = "Name of the DynamoDB table holding one guard item per instance (who is backing it up, last outcome, open alert)."
  value       = aws_dynamodb_table.guard.name
}

output "admission" {
  description = "What the API budget allows (docs/fleet.md): quotas_calls_per_second (the quotas the budgets are shares of: the module's, or api_budget.quotas) and budget_calls_per_second by API, freeze_slots (instances inside the freeze window at once), start_rate_per_second (the StartExecution pace discovery keeps by default), and job_poll_gate_calls (DescribeBackupJob polls per second, docs/contracts.md section 9)."
  value = {
    quotas_calls_per_second = local.api_quotas
    budget_calls_per_second = local.api_budget
    freeze_slots            = local.freeze_slots
    start_rate_per_second   = local.start_rate_per_second
    job_poll_gate_calls     = local.job_poll_gate_calls
  }
}

output "run_ledger_table_name" {
  description = "Name of the DynamoDB run ledger: one item per run (its executions' counts, discovery's, the summary's claim) and per schedule (latest run, open storms)."
  value       = aws_dynamodb_table.run_ledger.name
}

output "run_ledger_table_arn" {
  description = "ARN of the run ledger (discovery's last hop writes it and publishes the run summary)."
  value       = aws_dynamodb_table.run_ledger.arn
}

output "run_ledger_kms_key_arn" {
  description = "The customer-managed key of the run ledger (the guard table's key), or null for the AWS-managed key: whoever writes the ledger needs kms:Encrypt/Decrypt on it."
  value       = var.guard_table_kms_key_arn
}

output "run_ledger_ttl_seconds" {
  description = "How long after its scheduled time a run's ledger item lives (DynamoDB TTL): the discovery function writes the same."
  value       = local.run_ledger_ttl_seconds
}

output "log_group_name" {
  description = "Name of the CloudWatch log group the executions log to."
  value       = aws_cloudwatch_log_group.this.name
}

output "alarm_arns" {
  description = "ARNs of the CloudWatch alarms on failed and timed-out executions, by kind (failed, timed-out)."
  value       = { for kind, alarm in aws_cloudwatch_metric_alarm.executions : kind => alarm.arn }
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard (runs, failures, freeze window)."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "consistency_alarm_names" {
  description = "Names of the consistency share alarms, by key <label>-share (by default crash-consistent-timeout-share)."
  value       = { for label, a in aws_cloudwatch_metric_alarm.consistency_share : "${label}-share" => a.alarm_name }
}
