output "function_name" {
  description = "Name of the ServiceNow delivery function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the ServiceNow delivery function."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "ARN of the delivery function's IAM role (grant it kms:Decrypt in the secret's key policy if that key's policy does not defer to IAM)."
  value       = aws_iam_role.function.arn
}

output "queue_arn" {
  description = "ARN of the queue the topics feed and the function reads."
  value       = aws_sqs_queue.events.arn
}

output "queue_url" {
  description = "URL of the queue the topics feed and the function reads."
  value       = aws_sqs_queue.events.url
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue: events ServiceNow refused (with their reason) or that kept failing past max_receive_count."
  value       = aws_sqs_queue.dead_letter.arn
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue (redrive it to the queue once the cause is fixed)."
  value       = aws_sqs_queue.dead_letter.url
}

output "alarm_names" {
  description = "Names of the component's alarms, by kind (dlq, stalled, errors)."
  value       = { for k, a in aws_cloudwatch_metric_alarm.this : k => a.alarm_name }
}
