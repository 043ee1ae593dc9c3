output "topic_arn" {
  description = "ARN of the SNS topic failures (and clears) are published to."
  value       = local.topic_arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the topic (null for a brought topic whose key was not given): publishers need kms:GenerateDataKey on it."
  value       = local.kms_key_arn
}

output "subscription_arns" {
  description = "ARNs of the subscriptions created, by the names given in var.subscriptions."
  value       = { for k, s in aws_sns_topic_subscription.this : k => s.arn }
}

output "subscriptions" {
  description = "The subscriptions created, by the names given in var.subscriptions: arn, and pending_confirmation (true until the endpoint confirms; an e-mail or https subscription delivers nothing before)."
  value       = { for k, s in aws_sns_topic_subscription.this : k => { arn = s.arn, pending_confirmation = s.pending_confirmation } }
}

output "alarm_topic_arn" {
  description = "ARN of the topic the module's CloudWatch alarms publish to (ALARM and OK): the created alarm topic, or with a brought topic alarm_topic_arn or the brought topic."
  value       = local.alarm_topic_arn
}

output "alarm_subscription_arns" {
  description = "ARNs of the endpoints' subscriptions to the alarm topic, by the names given in var.subscriptions."
  value       = { for k, s in aws_sns_topic_subscription.alarms : k => s.arn }
}
