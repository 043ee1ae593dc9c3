output "function_name" {
  description = "Name of the discovery function (invoke it with a schedule's input and dry_run = true to see what would be backed up)."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the discovery function."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "ARN of the discovery function's IAM role."
  value       = aws_iam_role.function.arn
}

output "log_group_name" {
  description = "Name of the function's CloudWatch log group (JSON logs; one run summary line per invocation)."
  value       = aws_cloudwatch_log_group.this.name
}

output "schedule_group_name" {
  description = "Name of the EventBridge Scheduler schedule group holding the schedules."
  value       = aws_scheduler_schedule_group.this.name
}

output "schedule_names" {
  description = "Names of the EventBridge Scheduler schedules, by the keys of var.schedules."
  value       = { for key, schedule in aws_scheduler_schedule.this : key => schedule.name }
}

output "schedule_arns" {
  description = "ARNs of the EventBridge Scheduler schedules, by the keys of var.schedules."
  value       = { for key, schedule in aws_scheduler_schedule.this : key => schedule.arn }
}

output "scheduler_role_arn" {
  description = "ARN of the IAM role EventBridge Scheduler assumes to invoke the function."
  value       = aws_iam_role.scheduler.arn
}

output "dead_letter_queue_arn" {
  description = "ARN of the SQS dead-letter queue: schedule invocations that could not be delivered, and invocations that failed after Lambda's retries."
  value       = aws_sqs_queue.dead_letter.arn
}

output "alarm_names" {
  description = "Names of the alarms on silent failures: discovery-errors, discovery-throttles, discovery-dlq, scheduler-failed, and <schedule>-no-recovery-point per schedule that has one."
  value = merge(
    { for k, a in aws_cloudwatch_metric_alarm.discovery : k => a.alarm_name },
    { scheduler-failed = aws_cloudwatch_metric_alarm.scheduler.alarm_name },
    { for k, a in aws_cloudwatch_metric_alarm.no_recovery_point : "${k}-no-recovery-point" => a.alarm_name },
  )
}

output "recovery_point_alarm_hours" {
  description = "Per schedule, the hours without a recovery point after which its alarm fires (null: no such alarm)."
  value       = local.recovery_point_alarm_hours
}

output "schedule_capacity" {
  description = "Per enabled schedule, the most instances its run starts before the schedule fires again (its interval times start_rate_per_second; null where the intervals between firings are not all the same), for the schedule running alone: schedules whose runs overlap each start at the full pace, so together they start faster and share the freeze slots."
  value       = local.schedule_capacity
}
