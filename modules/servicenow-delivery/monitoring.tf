################################################################################
# The component's own alarms, on the alarm route: a message ServiceNow will never
# take, a queue that stopped draining (ServiceNow unreachable for an hour), and a
# function that fails (its secret or role broken). Their events reach ServiceNow
# through this same queue when it can; e-mail subscribers of the alarm topic hear
# them regardless.
################################################################################

locals {
  alarms = {
    dlq = {
      description = "Events that could never be delivered to ServiceNow are in ${local.dlq_name} (each carries its reason as a message attribute): fix the cause, then redrive the dead-letter queue."
      namespace   = "AWS/SQS"
      metric      = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = local.dlq_name }
      statistic   = "Maximum"
      threshold   = 1
    }
    stalled = {
      description = "The oldest event waiting for ServiceNow in ${local.queue_name} is over an hour old: ServiceNow is unreachable, throttling or refusing; nothing is lost until it is dead-lettered."
      namespace   = "AWS/SQS"
      metric      = "ApproximateAgeOfOldestMessage"
      dimensions  = { QueueName = local.queue_name }
      statistic   = "Maximum"
      threshold   = 3600
    }
    errors = {
      description = "The ServiceNow delivery function ${local.function_name} failed (a broken secret or role, a timeout): events wait in its queue."
      namespace   = "AWS/Lambda"
      metric      = "Errors"
      dimensions  = { FunctionName = local.function_name }
      statistic   = "Sum"
      threshold   = 1
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name_prefix}-servicenow-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
