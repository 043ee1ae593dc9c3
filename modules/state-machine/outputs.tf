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
  description = "What the API budget allows (docs/fleet.md): budget_calls_per_second by API, freeze_slots (instances inside the freeze window at once) and start_rate_per_second (the StartExecution pace discovery keeps by default)."
  value = {
    budget_calls_per_second = local.api_budget
    freeze_slots            = local.freeze_slots
    start_rate_per_second   = local.start_rate_per_second
  }
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
