################################################################################
# Silence heard: alarms on what fails without a notification of its own. A
# discovery invocation that crashes, times out or is throttled ends in the
# dead-letter queue after Lambda's retries; a schedule that cannot invoke the
# function ends there after the scheduler's; and a schedule that quietly stops
# producing recovery points shows nowhere else. Every alarm publishes ALARM and OK
# to alarm_actions (the module's alarm topic: docs/contracts.md section 8).
################################################################################

locals {
  state_machine_name = element(split(":", var.state_machine_arn), 6)

  discovery_alarms = {
    discovery-errors = {
      description = "The discovery function ${local.function_name} failed (an exception or a timeout): the schedule's instances were not all started, and nothing else reports it. Lambda retries twice, then the event goes to ${local.dlq_name}; read the function's log group."
      namespace   = "AWS/Lambda"
      metric      = "Errors"
      dimensions  = { FunctionName = local.function_name }
      statistic   = "Sum"
    }
    discovery-throttles = {
      description = "Invocations of the discovery function ${local.function_name} were throttled (the account's concurrency, or reserved_concurrent_executions): a run may start late or end in ${local.dlq_name}."
      namespace   = "AWS/Lambda"
      metric      = "Throttles"
      dimensions  = { FunctionName = local.function_name }
      statistic   = "Sum"
    }
    discovery-dlq = {
      description = "A backup run was given up: ${local.dlq_name} holds a schedule invocation the scheduler could not deliver or a discovery invocation that failed after Lambda's retries. Read the message, fix the cause, invoke the function again with its event."
      namespace   = "AWS/SQS"
      metric      = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = local.dlq_name }
      statistic   = "Maximum"
    }
  }

  # EventBridge Scheduler's metrics for the module's schedule group: invocations
  # dropped after the retry policy, sent to the dead-letter queue, or lost on the way.
  scheduler_metrics = {
    dropped = "InvocationDroppedCount"
    sent    = "InvocationsSentToDeadLetterCount"
    lost    = "InvocationsFailedToBeSentToDeadLetterCount"
  }
}

resource "aws_cloudwatch_metric_alarm" "discovery" {
  for_each = local.discovery_alarms

  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "scheduler" {
  alarm_name          = "${var.name_prefix}-scheduler-failed"
  alarm_description   = "EventBridge Scheduler could not invoke the discovery function for a schedule of group ${var.name_prefix} (after its retries): the invocation was dropped, dead-lettered to ${local.dlq_name}, or lost. That run did not happen."
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags

  lifecycle {
    precondition {
      condition     = alltrue([for name in keys(var.recovery_point_alarm_hours) : contains(keys(var.schedules), name)])
      error_message = "recovery_point_alarm_hours names a schedule that does not exist (${join(", ", setsubtract(keys(var.recovery_point_alarm_hours), keys(var.schedules)))}): a misspelt name would leave its schedule on the default."
    }
  }

  metric_query {
    id          = "failed"
    expression  = "SUM([${join(", ", [for id in keys(local.scheduler_metrics) : "FILL(${id}, 0)"])}])"
    label       = "Scheduler invocations that did not reach the function"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = local.scheduler_metrics
    content {
      id          = metric_query.key
      return_data = false
      metric {
        namespace   = "AWS/Scheduler"
        metric_name = metric_query.value
        dimensions  = { ScheduleGroup = aws_scheduler_schedule_group.this.name }
        stat        = "Sum"
        period      = 300
      }
    }
  }
}

################################################################################
# No recovery point from a schedule for N hours. The state machine publishes
# AppConsistentBackup RecoveryPoints {StateMachine, Schedule} = 1 at the end of each
# run that made one; missing data is breaching, so a schedule that never ran is an
# alarm too. N: the schedule's interval plus a quarter of it (an hour at least), plus
# its flexible window; only read from rate(...) and from cron(...) firing every day;
# CloudWatch evaluates 7 days at most.
################################################################################

locals {
  cron_fields = { for name, s in var.schedules : name => try(
    regex("^cron\\(([^ ]+) ([^ ]+) ([^ ]+) ([^ ]+) ([^ ]+) ([^ ]+)\\)$", s.schedule_expression), null
  ) }
  rate_fields = { for name, s in var.schedules : name => try(
    regex("^rate\\(([0-9]+) (minute|minutes|hour|hours|day|days)\\)$", s.schedule_expression), null
  ) }

  cron_every_day = { for name, f in local.cron_fields : name => (
    f != null ? contains(["*", "?"], f[2]) && contains(["*", "?"], f[4]) && f[3] == "*" && f[5] == "*" : false
  ) }

  interval_hours = { for name, s in var.schedules : name => (
    local.rate_fields[name] != null ? (
      startswith(local.rate_fields[name][1], "minute") ? tonumber(local.rate_fields[name][0]) / 60 :
      startswith(local.rate_fields[name][1], "hour") ? tonumber(local.rate_fields[name][0]) :
      tonumber(local.rate_fields[name][0]) * 24
      ) : local.cron_every_day[name] ? (
      local.cron_fields[name][1] == "*" ? 1 :
      can(regex("^(\\*|[0-9]+)/[0-9]+$", local.cron_fields[name][1])) ? tonumber(split("/", local.cron_fields[name][1])[1]) :
      can(regex("^[0-9,-]+$", local.cron_fields[name][1])) ? 24 : null
    ) : null
  ) }

  derived_hours = { for name, hours in local.interval_hours : name => (
    hours == null ? null : ceil(hours + max(1, hours / 4) + coalesce(var.schedules[name].flexible_window_minutes, 0) / 60)
  ) }

  recovery_point_alarm_hours = { for name, s in var.schedules : name => lookup(
    var.recovery_point_alarm_hours, name, try(local.derived_hours[name] <= 168 ? local.derived_hours[name] : null, null)
  ) if s.enabled && !var.dry_run }

  recovery_point_alarms = { for name, hours in local.recovery_point_alarm_hours : name => hours if hours != null && hours != 0 }
}

resource "aws_cloudwatch_metric_alarm" "no_recovery_point" {
  for_each = local.recovery_point_alarms

  alarm_name          = "${var.name_prefix}-${each.key}-no-recovery-point"
  alarm_description   = "Schedule ${each.key} produced no recovery point in ${each.value} hours: its runs did not happen, started nothing, or every backup failed. (After the first apply it stays in ALARM until the schedule's first recovery point.)"
  namespace           = "AppConsistentBackup"
  metric_name         = "RecoveryPoints"
  dimensions          = { StateMachine = local.state_machine_name, Schedule = each.key }
  statistic           = "Sum"
  period              = each.value * 3600
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
