# The runs that only expect a variable's failure plan tests/fixtures/variables, whose
# variables.tf is a symbolic link to this module's: the same validations without the resources
# (about 0.03 s of CPU a plan against 0.15 s). Every validation here reads variables only; one
# that read anything else would not load in the fixture, and those runs would fail.

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
    defaults = { arn = "arn:aws:iam::111122223333:role/acb-discovery" }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn           = "arn:aws:lambda:eu-west-1:111122223333:function:acb-discovery"
      invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:acb-discovery/invocations"
      qualified_arn = "arn:aws:lambda:eu-west-1:111122223333:function:acb-discovery:1"
    }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:111122223333:acb-discovery-dlq"
      id  = "https://sqs.eu-west-1.amazonaws.com/111122223333/acb-discovery-dlq"
      url = "https://sqs.eu-west-1.amazonaws.com/111122223333/acb-discovery-dlq"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/acb-discovery" }
  }
  mock_resource "aws_scheduler_schedule_group" {
    defaults = { arn = "arn:aws:scheduler:eu-west-1:111122223333:schedule-group/acb" }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = { arn = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:acb" }
  }
  mock_resource "aws_scheduler_schedule" {
    defaults = { arn = "arn:aws:scheduler:eu-west-1:111122223333:schedule/acb/nightly" }
  }
}


variables {
  name_prefix            = "acb"
  state_machine_arn      = "arn:aws:states:eu-west-1:111122223333:stateMachine:acb-backup-instance"
  notification_topic_arn = "arn:aws:sns:eu-west-1:111122223333:acb-notifications"
  alarm_actions          = ["arn:aws:sns:eu-west-1:111122223333:acb-alarms"]
  schedules = {
    nightly  = { schedule_expression = "cron(0 1 * * ? *)", policy = { retention_days = 35, max_freeze_seconds = 60, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } }
    late     = { schedule_expression = "cron(30 2 ? * * *)", flexible_window_minutes = 30, policy = { retention_days = 35, max_freeze_seconds = 60, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } }
    hourly   = { schedule_expression = "rate(1 hour)", policy = { retention_days = 7, max_freeze_seconds = 30, on_freeze_failure = "fail", stopped_instances = "backup", copy_targets = [], notify_on_success = false } }
    quarter  = { schedule_expression = "cron(0/15 */6 * * ? *)", policy = { retention_days = 7, max_freeze_seconds = 30, on_freeze_failure = "fail", stopped_instances = "backup", copy_targets = [], notify_on_success = false } }
    twice    = { schedule_expression = "rate(12 hours)", policy = { retention_days = 7, max_freeze_seconds = 30, on_freeze_failure = "fail", stopped_instances = "backup", copy_targets = [], notify_on_success = false } }
    weekly   = { schedule_expression = "cron(0 3 ? * SUN *)", policy = { retention_days = 90, max_freeze_seconds = 60, on_freeze_failure = "fail", stopped_instances = "skip", copy_targets = [], notify_on_success = false } }
    monthly  = { schedule_expression = "cron(0 3 1 * ? *)", policy = { retention_days = 365, max_freeze_seconds = 60, on_freeze_failure = "fail", stopped_instances = "skip", copy_targets = [], notify_on_success = false } }
    paused   = { schedule_expression = "cron(0 4 * * ? *)", enabled = false, policy = { retention_days = 35, max_freeze_seconds = 60, on_freeze_failure = "fail", stopped_instances = "skip", copy_targets = [], notify_on_success = false } }
    fortnite = { schedule_expression = "rate(7 days)", policy = { retention_days = 35, max_freeze_seconds = 60, on_freeze_failure = "fail", stopped_instances = "skip", copy_targets = [], notify_on_success = false } }
  }
}

run "a_crash_throttle_or_dead_letter_of_discovery_raises_an_alarm" {
  command = plan

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.discovery["discovery-errors"].namespace == "AWS/Lambda" &&
      aws_cloudwatch_metric_alarm.discovery["discovery-errors"].metric_name == "Errors" &&
      aws_cloudwatch_metric_alarm.discovery["discovery-errors"].dimensions == tomap({ FunctionName = "acb-discovery" }) &&
      aws_cloudwatch_metric_alarm.discovery["discovery-errors"].statistic == "Sum" &&
      aws_cloudwatch_metric_alarm.discovery["discovery-errors"].threshold == 1 &&
      aws_cloudwatch_metric_alarm.discovery["discovery-errors"].comparison_operator == "GreaterThanOrEqualToThreshold"
    )
    error_message = "One failed invocation of the discovery function (Lambda counts exceptions and timeouts as Errors) raises an alarm."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.discovery["discovery-throttles"].metric_name == "Throttles" && aws_cloudwatch_metric_alarm.discovery["discovery-throttles"].dimensions.FunctionName == "acb-discovery"
    error_message = "A throttled invocation raises an alarm."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.discovery["discovery-dlq"].metric_name == "ApproximateNumberOfMessagesVisible" && aws_cloudwatch_metric_alarm.discovery["discovery-dlq"].dimensions.QueueName == "acb-discovery-dlq" && aws_cloudwatch_metric_alarm.discovery["discovery-dlq"].dimensions.QueueName == aws_sqs_queue.dead_letter.name
    error_message = "A message in the discovery dead-letter queue raises an alarm."
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.discovery : a.alarm_actions == toset(var.alarm_actions) && a.ok_actions == toset(var.alarm_actions) && a.treat_missing_data == "notBreaching"])
    error_message = "Each alarm and its clear go to the alarm route; no data means nothing failed."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.discovery["discovery-errors"].dimensions.FunctionName == aws_lambda_function.this.function_name
    error_message = "The alarm watches the function this module creates."
  }
}

run "a_schedule_the_scheduler_cannot_deliver_raises_an_alarm" {
  command = plan

  assert {
    condition     = toset([for q in aws_cloudwatch_metric_alarm.scheduler.metric_query : q.metric[0].metric_name if length(q.metric) > 0]) == toset(["InvocationDroppedCount", "InvocationsSentToDeadLetterCount", "InvocationsFailedToBeSentToDeadLetterCount"])
    error_message = "Dropped, dead-lettered and lost scheduler invocations are counted."
  }

  assert {
    condition     = alltrue([for q in aws_cloudwatch_metric_alarm.scheduler.metric_query : q.metric[0].namespace == "AWS/Scheduler" && q.metric[0].dimensions.ScheduleGroup == "acb" if length(q.metric) > 0])
    error_message = "The scheduler's metrics of the module's own schedule group."
  }

  assert {
    condition     = one([for q in aws_cloudwatch_metric_alarm.scheduler.metric_query : q.expression if q.return_data]) == "SUM([FILL(dropped, 0), FILL(lost, 0), FILL(sent, 0)])"
    error_message = "The alarm fires on their sum."
  }
}

run "each_schedule_says_how_many_instances_its_run_can_start" {
  command = plan
  variables {
    start_rate_per_second = 0.06
  }

  assert {
    condition = {
      for k, v in output.schedule_capacity : k => coalesce(v, -1)
      } == {
      nightly  = 5184 # 86,400 s x 0.06
      late     = 5184
      hourly   = 216
      quarter  = -1 # four firings in each sixth hour: no plain interval
      twice    = 2592
      weekly   = -1
      monthly  = -1
      fortnite = 36288 # 7 days
    }
    error_message = "A schedule's capacity is its interval times the start pace; an interval that is not plain gives none; a disabled schedule none."
  }
}

run "each_schedule_has_a_no_recovery_point_alarm_sized_by_its_interval" {
  command = plan

  assert {
    condition = {
      for k, v in output.recovery_point_alarm_hours : k => coalesce(v, -1)
      } == {
      nightly  = 30 # 24 + 6
      late     = 31 # 24 + 6 + a 30-minute window
      hourly   = 2  # 1 + 1
      quarter  = 8  # every 6 hours: 6 + 1.5
      twice    = 15 # 12 + 3
      weekly   = -1
      monthly  = -1
      fortnite = -1 # 168 + 42 is past CloudWatch's 7 days
    }
    error_message = "N is the interval plus a quarter (an hour at least) plus the flexible window; unreadable or too long intervals get none; a disabled schedule none."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.no_recovery_point["nightly"].namespace == "AppConsistentBackup" &&
      aws_cloudwatch_metric_alarm.no_recovery_point["nightly"].metric_name == "RecoveryPoints" &&
      aws_cloudwatch_metric_alarm.no_recovery_point["nightly"].dimensions == tomap({ StateMachine = "acb-backup-instance", Schedule = "nightly" }) &&
      aws_cloudwatch_metric_alarm.no_recovery_point["nightly"].period == 30 * 3600 &&
      aws_cloudwatch_metric_alarm.no_recovery_point["nightly"].statistic == "Sum" &&
      aws_cloudwatch_metric_alarm.no_recovery_point["nightly"].comparison_operator == "LessThanThreshold" &&
      aws_cloudwatch_metric_alarm.no_recovery_point["nightly"].threshold == 1
    )
    error_message = "The state machine's RecoveryPoints {StateMachine, Schedule} summed over N hours must reach 1."
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.no_recovery_point : a.treat_missing_data == "breaching" && a.alarm_actions == toset(var.alarm_actions)])
    error_message = "No data at all is silence: breaching."
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.no_recovery_point) == ["hourly", "late", "nightly", "quarter", "twice"]
    error_message = "Only schedules with an N get an alarm."
  }
}

run "hours_given_per_schedule_win" {
  command = plan

  variables {
    recovery_point_alarm_hours = { weekly = 168, nightly = 0 }
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.no_recovery_point["weekly"].period == 168 * 3600 && !contains(keys(aws_cloudwatch_metric_alarm.no_recovery_point), "nightly")
    error_message = "A given N is used; 0 switches the alarm off."
  }
}

run "a_dry_run_expects_no_recovery_point" {
  command = plan

  variables {
    dry_run = true
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.no_recovery_point) == 0
    error_message = "A dry run makes no recovery point: no alarm for it."
  }
}

run "rejects_more_than_cloudwatchs_seven_days" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { recovery_point_alarm_hours = { weekly = 169 } }
  expect_failures = [var.recovery_point_alarm_hours]
}

run "rejects_hours_for_an_unknown_schedule" {
  command = plan
  variables { recovery_point_alarm_hours = { nigthly = 30 } }
  expect_failures = [aws_cloudwatch_metric_alarm.scheduler]
}
