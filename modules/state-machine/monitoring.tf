################################################################################
# Alarms on executions that failed or timed out, to the topic, and a dashboard.
# A run that handles its own failure publishes its event and then fails; the
# alarms are the fleet-level signal and the backstop for runs that could not
# report themselves (their notification could not be published, or they died).
################################################################################

locals {
  metric_namespace = "AppConsistentBackup"

  execution_alarms = {
    failed = {
      metric      = "ExecutionsFailed"
      description = "Executions of ${local.state_machine_name} failed: a backup failed (each failed run also publishes its own event) or a run could not report itself."
    }
    timed-out = {
      metric      = "ExecutionsTimedOut"
      description = "Executions of ${local.state_machine_name} timed out: a run ended without releasing its guard or reporting; check the execution history."
    }
  }

  # The ARN is known before apply (built from the name), so plans show the dashboard in full.
  sfn_dimension = ["StateMachineArn", local.state_machine_arn]
}

resource "aws_cloudwatch_metric_alarm" "executions" {
  for_each = local.execution_alarms

  alarm_name          = "${local.state_machine_name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = "AWS/States"
  metric_name         = each.value.metric
  dimensions          = { StateMachineArn = local.state_machine_arn }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = coalesce(var.alarm_actions, [var.notification_topic_arn])
  ok_actions          = var.alarm_actions == null ? [] : var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = local.state_machine_name
  dashboard_body = jsonencode({
    widgets = [
      {
        type   = "metric"
        x      = 0
        y      = 0
        width  = 12
        height = 6
        properties = {
          title  = "Runs"
          region = local.region
          stat   = "Sum"
          period = 3600
          view   = "timeSeries"
          metrics = [
            ["AWS/States", "ExecutionsStarted", local.sfn_dimension[0], local.sfn_dimension[1]],
            [".", "ExecutionsSucceeded", ".", "."],
            [".", "ExecutionsFailed", ".", "."],
            [".", "ExecutionsTimedOut", ".", "."],
            [".", "ExecutionsAborted", ".", "."],
          ]
        }
      },
      {
        type   = "metric"
        x      = 12
        y      = 0
        width  = 12
        height = 6
        properties = {
          title  = "Failures"
          region = local.region
          stat   = "Sum"
          period = 3600
          view   = "timeSeries"
          metrics = [
            ["AWS/States", "ExecutionsFailed", local.sfn_dimension[0], local.sfn_dimension[1]],
            [".", "ExecutionsTimedOut", ".", "."],
            [".", "ExecutionThrottled", ".", "."],
          ]
          annotations = { horizontal = [{ label = "alarm", value = 1 }] }
        }
      },
      {
        type   = "metric"
        x      = 0
        y      = 6
        width  = 24
        height = 6
        properties = {
          title  = "Freeze window (ms, as measured on the instance: frozen -> thawed)"
          region = local.region
          period = 3600
          view   = "timeSeries"
          metrics = [
            [local.metric_namespace, "FreezeWindow", "StateMachine", local.state_machine_name, { stat = "Maximum" }],
            ["...", { stat = "p95" }],
            ["...", { stat = "Average" }],
          ]
        }
      },
      {
        # One line per consistency label (consistency_alarms.tf watches their shares).
        type   = "metric"
        x      = 0
        y      = 12
        width  = 24
        height = 6
        properties = {
          title   = "Recovery points by consistency label"
          region  = local.region
          stat    = "Sum"
          period  = 86400
          view    = "timeSeries"
          stacked = true
          metrics = [for label in local.consistency_labels : [local.metric_namespace, "RecoveryPoints", "StateMachine", local.state_machine_name, "Consistency", label]]
        }
      },
    ]
  })
}
