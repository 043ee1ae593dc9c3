################################################################################
# One EventBridge Scheduler schedule per entry of var.schedules, in a group of the
# module's own (names are unique per group, so the schedule keeps its plain name).
################################################################################

resource "aws_scheduler_schedule_group" "this" {
  name = var.name_prefix
  tags = var.tags
}

resource "aws_scheduler_schedule" "this" {
  #checkov:skip=CKV_AWS_297:The schedule's input holds a schedule name, a tag value and retention numbers, no secret; EventBridge Scheduler encrypts it with an AWS-owned key.
  for_each = var.schedules

  name                         = each.key
  group_name                   = aws_scheduler_schedule_group.this.name
  description                  = "Consistent backup of the instances tagged ${var.selection_tag_key} = ${coalesce(each.value.tag_value, each.key)}."
  schedule_expression          = each.value.schedule_expression
  schedule_expression_timezone = each.value.timezone
  state                        = each.value.enabled ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode                      = each.value.flexible_window_minutes == null ? "OFF" : "FLEXIBLE"
    maximum_window_in_minutes = each.value.flexible_window_minutes
  }

  target {
    arn      = aws_lambda_function.this.arn
    role_arn = aws_iam_role.scheduler.arn

    # docs/contracts.md section 1. The scheduler fills in the placeholder with the
    # time the schedule was due (not when a flexible window or a retry ran it), so
    # every execution name of this firing is fixed whatever happens next.
    # jsonencode writes < and > as \u003c and \u003e, which the scheduler would
    # not recognise as its placeholder: put them back. interval_seconds only where the
    # interval is plain (capacity.tf): discovery reports a run that outlasts it.
    input = replace(replace(jsonencode(merge({
      schedule_name  = each.key
      scheduled_time = "<aws.scheduler.scheduled-time>"
      tag_value      = coalesce(each.value.tag_value, each.key)
      dry_run        = var.dry_run
      policy         = each.value.policy
      }, {
      for key, seconds in { interval_seconds = local.run_interval_seconds[each.key] } : key => seconds if seconds > 0
    })), "\\u003c", "<"), "\\u003e", ">")

    retry_policy {
      maximum_event_age_in_seconds = var.scheduler_retry.maximum_event_age_in_seconds
      maximum_retry_attempts       = var.scheduler_retry.maximum_retry_attempts
    }

    dead_letter_config {
      arn = aws_sqs_queue.dead_letter.arn
    }
  }
}
