################################################################################
# The share of each consistency label among the recovery points. The state machine
# publishes AppConsistentBackup RecoveryPoints {StateMachine, Consistency} = 1 for
# every recovery point (docs/contracts.md section 5a); a share of
# crash-consistent-timeout that rises says AWS Backup starts the snapshots later than
# the freeze bound allows in this account (section 8). Every label is queried, so the
# share is of all recovery points; an alarm may use 10 metrics, and there are 6 labels.
# A label without data in the window counts 0 (FILL); a window without any recovery
# point is no data, which the no-recovery-point alarms hear.
################################################################################

locals {
  consistency_labels = ["application-consistent", "crash-consistent", "crash-consistent-watchdog", "crash-consistent-timeout", "stopped", "vss"]

  # Metric math ids: a lower-case letter first, then letters, digits and underscores.
  consistency_metric_ids = { for label in local.consistency_labels : label => replace(label, "-", "_") }

  consistency_share_alarms = {
    for label, percent in merge({ "crash-consistent-timeout" = 10 }, var.consistency_share_alarms) : label => percent if percent > 0
  }
}

resource "aws_cloudwatch_metric_alarm" "consistency_share" {
  for_each = local.consistency_share_alarms

  alarm_name          = "${local.state_machine_name}-${each.key}-share"
  alarm_description   = "At least ${each.value} % of the recovery points of ${local.state_machine_name} in ${var.consistency_share_alarm_hours} hours are labelled ${each.key} (docs/contracts.md section 4)${each.key == "crash-consistent-timeout" ? ": AWS Backup started their snapshots after the freeze bound, so they are crash-consistent only. Read the runs' snapshot-wait causes; a larger max_freeze_seconds, or another backup window, may help" : ""}."
  evaluation_periods  = 1
  threshold           = each.value
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = coalesce(var.alarm_actions, [var.notification_topic_arn])
  ok_actions          = var.alarm_actions == null ? [] : var.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "share"
    expression  = "IF(total > 0, 100 * FILL(${local.consistency_metric_ids[each.key]}, 0) / total, 0)"
    label       = "${each.key} share of recovery points (%)"
    return_data = true
  }

  metric_query {
    id          = "total"
    expression  = "SUM([${join(", ", [for label in local.consistency_labels : "FILL(${local.consistency_metric_ids[label]}, 0)"])}])"
    label       = "Recovery points"
    return_data = false
  }

  dynamic "metric_query" {
    for_each = local.consistency_metric_ids
    content {
      id          = metric_query.value
      return_data = false
      metric {
        namespace   = local.metric_namespace
        metric_name = "RecoveryPoints"
        dimensions  = { StateMachine = local.state_machine_name, Consistency = metric_query.key }
        stat        = "Sum"
        period      = var.consistency_share_alarm_hours * 3600
      }
    }
  }
}
