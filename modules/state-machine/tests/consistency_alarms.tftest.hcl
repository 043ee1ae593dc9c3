# The consistency share alarms (docs/contracts.md section 8): the share of one label
# among every recovery point, by metric math over RecoveryPoints {StateMachine, Consistency}.
# The runs that only expect a variable's failure plan tests/fixtures/variables: symbolic links
# to this module's variables.tf and budget.tf (the locals api_budget's validations read), the
# same validations without the resources and the rendered definition (about 0.03 s of CPU a
# plan against 0.2 s). A validation that read anything else would not load in the fixture, and
# those runs would fail.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333", arn = "arn:aws:iam::111122223333:user/test" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111122223333:role/acb-backup-instance-sfn" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/vendedlogs/states/acb-backup-instance" }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/acb-instance-guard" }
  }
  mock_resource "aws_sfn_state_machine" {
    defaults = { arn = "arn:aws:states:eu-west-1:111122223333:stateMachine:acb-backup-instance" }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = { arn = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:acb-backup-instance" }
  }
}

variables {
  name_prefix            = "acb"
  vault_name             = "acb-vault"
  vault_arn              = "arn:aws:backup:eu-west-1:111122223333:backup-vault:acb-vault"
  backup_role_arn        = "arn:aws:iam::111122223333:role/acb-backup"
  ssm_document_name      = "acb-freeze-thaw"
  ssm_document_arn       = "arn:aws:ssm:eu-west-1:111122223333:document/acb-freeze-thaw"
  ssm_document_version   = "3"
  notification_topic_arn = "arn:aws:sns:eu-west-1:111122223333:acb-events"
  alarm_actions          = ["arn:aws:sns:eu-west-1:111122223333:acb-alarms"]
}

run "a_rising_share_of_timeouts_raises_an_alarm_by_default" {
  command = plan

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.consistency_share) == ["crash-consistent-timeout"]
    error_message = "By default one share alarm: crash-consistent-timeout."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.consistency_share["crash-consistent-timeout"].alarm_name == "acb-backup-instance-crash-consistent-timeout-share" &&
      aws_cloudwatch_metric_alarm.consistency_share["crash-consistent-timeout"].threshold == 10 &&
      aws_cloudwatch_metric_alarm.consistency_share["crash-consistent-timeout"].comparison_operator == "GreaterThanOrEqualToThreshold" &&
      aws_cloudwatch_metric_alarm.consistency_share["crash-consistent-timeout"].evaluation_periods == 1 &&
      aws_cloudwatch_metric_alarm.consistency_share["crash-consistent-timeout"].treat_missing_data == "notBreaching"
    )
    error_message = "The alarm fires when 10 % or more of the recovery points are crash-consistent-timeout; no recovery point is no data, heard by the no-recovery-point alarms."
  }

  assert {
    condition     = one([for q in aws_cloudwatch_metric_alarm.consistency_share["crash-consistent-timeout"].metric_query : q.expression if q.return_data]) == "IF(total > 0, 100 * FILL(crash_consistent_timeout, 0) / total, 0)"
    error_message = "The alarm watches the label's share, in percent, of every recovery point."
  }

  assert {
    condition     = one([for q in aws_cloudwatch_metric_alarm.consistency_share["crash-consistent-timeout"].metric_query : q.expression if q.id == "total"]) == "SUM([FILL(application_consistent, 0), FILL(crash_consistent, 0), FILL(crash_consistent_watchdog, 0), FILL(crash_consistent_timeout, 0), FILL(stopped, 0), FILL(vss, 0)])"
    error_message = "The total is the recovery points of every label of docs/contracts.md section 4."
  }

  assert {
    condition = toset([
      for q in aws_cloudwatch_metric_alarm.consistency_share["crash-consistent-timeout"].metric_query : q.metric[0].dimensions.Consistency if length(q.metric) > 0
    ]) == toset(["application-consistent", "crash-consistent", "crash-consistent-watchdog", "crash-consistent-timeout", "stopped", "vss"])
    error_message = "Each label is one metric of the query."
  }

  assert {
    condition = alltrue([
      for q in aws_cloudwatch_metric_alarm.consistency_share["crash-consistent-timeout"].metric_query : (
        q.metric[0].namespace == "AppConsistentBackup" && q.metric[0].metric_name == "RecoveryPoints" &&
        q.metric[0].dimensions.StateMachine == aws_sfn_state_machine.this.name &&
        q.metric[0].stat == "Sum" && q.metric[0].period == 86400 && !q.return_data
      ) if length(q.metric) > 0
    ])
    error_message = "The metrics are the state machine's RecoveryPoints {StateMachine, Consistency} (contracts section 5a), summed over 24 hours."
  }

  assert {
    condition     = length([for q in aws_cloudwatch_metric_alarm.consistency_share["crash-consistent-timeout"].metric_query : q if length(q.metric) > 0]) <= 10
    error_message = "A metric math alarm may reference 10 metrics at most."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.consistency_share["crash-consistent-timeout"].alarm_actions == toset(var.alarm_actions) &&
      aws_cloudwatch_metric_alarm.consistency_share["crash-consistent-timeout"].ok_actions == toset(var.alarm_actions)
    )
    error_message = "The alarm and its clear go to the alarm topic, as every alarm of the module (contracts section 8)."
  }
}

run "the_dashboard_shows_every_label" {
  command = plan

  assert {
    condition = [
      for m in one([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w if w.properties.title == "Recovery points by consistency label"]).properties.metrics : m[5]
    ] == ["application-consistent", "crash-consistent", "crash-consistent-watchdog", "crash-consistent-timeout", "stopped", "vss"]
    error_message = "The dashboard plots RecoveryPoints of each consistency label, so a rising share is seen as well as alarmed on."
  }
}

run "the_threshold_the_window_and_more_labels_are_configurable" {
  command = plan

  variables {
    consistency_share_alarms      = { "crash-consistent-timeout" = 25, "crash-consistent-watchdog" = 5, "stopped" = 0 }
    consistency_share_alarm_hours = 6
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.consistency_share) == ["crash-consistent-timeout", "crash-consistent-watchdog"]
    error_message = "Labels are added; 0 is no alarm."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.consistency_share["crash-consistent-timeout"].threshold == 25 && aws_cloudwatch_metric_alarm.consistency_share["crash-consistent-watchdog"].threshold == 5
    error_message = "Each label's percent is its threshold."
  }

  assert {
    condition     = one([for q in aws_cloudwatch_metric_alarm.consistency_share["crash-consistent-watchdog"].metric_query : q.expression if q.return_data]) == "IF(total > 0, 100 * FILL(crash_consistent_watchdog, 0) / total, 0)"
    error_message = "Each alarm watches its own label's share."
  }

  assert {
    condition     = alltrue([for q in aws_cloudwatch_metric_alarm.consistency_share["crash-consistent-watchdog"].metric_query : q.metric[0].period == 21600 if length(q.metric) > 0])
    error_message = "The window is consistency_share_alarm_hours."
  }
}

run "the_timeout_alarm_can_be_switched_off" {
  command = plan

  variables {
    consistency_share_alarms = { "crash-consistent-timeout" = 0 }
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.consistency_share) == 0
    error_message = "0 switches the default alarm off."
  }
}

run "without_an_alarm_topic_the_alarm_goes_to_the_notification_topic" {
  command = plan

  variables {
    alarm_actions = null
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.consistency_share["crash-consistent-timeout"].alarm_actions == toset([var.notification_topic_arn]) && length(aws_cloudwatch_metric_alarm.consistency_share["crash-consistent-timeout"].ok_actions) == 0
    error_message = "As the execution alarms: the notification topic, on ALARM only."
  }
}

run "application_consistent_or_an_unknown_label_is_refused" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }

  variables {
    consistency_share_alarms = { "application-consistent" = 50, "crash-consistant-timeout" = 10 }
  }

  expect_failures = [var.consistency_share_alarms]
}

run "a_percent_outside_0_to_100_is_refused" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }

  variables {
    consistency_share_alarms = { "crash-consistent-timeout" = 150 }
  }

  expect_failures = [var.consistency_share_alarms]
}

run "a_window_beyond_7_days_is_refused" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }

  variables {
    consistency_share_alarm_hours = 169
  }

  expect_failures = [var.consistency_share_alarm_hours]
}
