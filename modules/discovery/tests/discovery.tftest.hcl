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
  mock_resource "aws_scheduler_schedule" {
    defaults = { arn = "arn:aws:scheduler:eu-west-1:111122223333:schedule/acb/nightly" }
  }
}

variables {
  name_prefix            = "acb"
  state_machine_arn      = "arn:aws:states:eu-west-1:111122223333:stateMachine:acb-backup-instance"
  notification_topic_arn = "arn:aws:sns:eu-west-1:111122223333:acb-notifications"
  schedules = {
    nightly = {
      schedule_expression = "cron(0 1 * * ? *)"
      policy = {
        retention_days     = 35
        max_freeze_seconds = 30
        on_freeze_failure  = "crash-consistent"
        stopped_instances  = "backup"
        copy_targets       = [{ destination_vault_arn = "arn:aws:backup:eu-central-1:111122223333:backup-vault:dr", retention_days = 90 }]
        notify_on_success  = false
      }
    }
    weekly = {
      schedule_expression     = "cron(0 3 ? * SUN *)"
      timezone                = "Europe/Paris"
      tag_value               = "gold"
      flexible_window_minutes = 30
      enabled                 = false
      policy = {
        retention_days     = 90
        max_freeze_seconds = 60
        on_freeze_failure  = "fail"
        stopped_instances  = "skip"
        copy_targets       = []
        notify_on_success  = true
      }
    }
  }
}

run "function_defaults" {
  command = apply

  assert {
    condition     = aws_lambda_function.this.runtime == "python3.12" && aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "The function runs on python3.12, arm64, by default."
  }

  assert {
    condition     = aws_lambda_function.this.handler == "discovery.handler.handler"
    error_message = "The handler is discovery.handler.handler, the package's entry point."
  }

  assert {
    condition     = aws_lambda_function.this.timeout == 900 && aws_lambda_function.this.memory_size == 256
    error_message = "timeout and memory_size default to 900 s and 256 MB."
  }

  assert {
    condition     = aws_lambda_function.this.logging_config[0].log_format == "JSON" && aws_lambda_function.this.logging_config[0].log_group == "/aws/lambda/acb-discovery"
    error_message = "The function logs JSON to its own log group."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 365
    error_message = "The log group keeps a year of logs by default."
  }

  assert {
    condition = aws_lambda_function.this.environment[0].variables == tomap({
      STATE_MACHINE_ARN           = "arn:aws:states:eu-west-1:111122223333:stateMachine:acb-backup-instance"
      BACKUP_TAG_KEY              = "AppConsistentBackup"
      OPT_OUT_TAG_KEY             = "AppConsistentBackupOptOut"
      NOTIFICATION_TOPIC_ARN      = "arn:aws:sns:eu-west-1:111122223333:acb-notifications"
      NAME_PREFIX                 = "acb"
      MAX_CONCURRENCY             = "8"
      START_RATE_PER_SECOND       = "50"
      START_BURST                 = "100"
      CONTINUATION_MARGIN_SECONDS = "60"
      SCHEDULE_TAG_VALUES         = jsonencode({ nightly = "nightly", weekly = "gold" })
      NOT_SELECTED_REPORTER       = "nightly"
    })
    error_message = "The environment is the one docs/contracts.md section 1 lists; the reporter defaults to the first enabled schedule."
  }

  assert {
    condition     = aws_lambda_function.this.dead_letter_config[0].target_arn == aws_sqs_queue.dead_letter.arn
    error_message = "Failed asynchronous invocations end in the dead-letter queue."
  }

  assert {
    condition     = aws_sqs_queue.dead_letter.sqs_managed_sse_enabled == true
    error_message = "The dead-letter queue is encrypted (SSE-SQS without a key)."
  }

  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "X-Ray tracing is active by default."
  }
}

run "a_plain_interval_is_carried_in_whole_seconds" {
  command = plan
  variables {
    schedules = {
      sevens  = { schedule_expression = "rate(7 minutes)", policy = { retention_days = 35, max_freeze_seconds = 30, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } }
      hourly  = { schedule_expression = "rate(1 hour)", policy = { retention_days = 35, max_freeze_seconds = 30, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } }
      quarter = { schedule_expression = "cron(0/15 */6 * * ? *)", policy = { retention_days = 35, max_freeze_seconds = 30, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } }
      paused  = { schedule_expression = "rate(2 days)", enabled = false, policy = { retention_days = 35, max_freeze_seconds = 30, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } }
      sixes   = { schedule_expression = "cron(30 */6 * * ? *)", policy = { retention_days = 35, max_freeze_seconds = 30, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } }
      at-one  = { schedule_expression = "cron(0 1 * * ? *)", policy = { retention_days = 35, max_freeze_seconds = 30, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } }
      twice   = { schedule_expression = "cron(0 2,14 * * ? *)", policy = { retention_days = 35, max_freeze_seconds = 30, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } }
      nightly = { schedule_expression = "cron(0 1-5 * * ? *)", policy = { retention_days = 35, max_freeze_seconds = 30, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } }
      fives   = { schedule_expression = "cron(0 */5 * * ? *)", policy = { retention_days = 35, max_freeze_seconds = 30, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } }
    }
  }

  assert {
    condition = {
      for name, s in aws_scheduler_schedule.this : name => lookup(jsondecode(s.target[0].input), "interval_seconds", "absent")
      } == {
      sevens  = 420
      hourly  = 3600
      quarter = "absent" # four firings in each sixth hour: no plain interval
      paused  = 172800   # a disabled schedule's input is still complete, for a manual enable
      sixes   = 21600
      at-one  = 86400
      twice   = "absent" # 12 hours, but a list of hours may have unequal gaps
      nightly = "absent" # hourly from 1 to 5, then 20 hours
      fives   = "absent" # every 5 hours, then 4 from 20:00 to 00:00
    }
    error_message = "A schedule's input carries interval_seconds, in whole seconds, exactly where its interval is plain (docs/contracts.md section 1)."
  }

  assert {
    condition     = strcontains(aws_scheduler_schedule.this["sevens"].target[0].input, "\"interval_seconds\":420,")
    error_message = "interval_seconds is written as a JSON integer (420, not 420.0000001): discovery ignores anything else."
  }
}

run "schedules_carry_the_contract_input" {
  command = apply

  assert {
    condition = jsondecode(aws_scheduler_schedule.this["nightly"].target[0].input) == {
      schedule_name    = "nightly"
      scheduled_time   = "<aws.scheduler.scheduled-time>"
      tag_value        = "nightly"
      interval_seconds = 86400
      dry_run          = false
      policy = {
        retention_days     = 35
        max_freeze_seconds = 30
        on_freeze_failure  = "crash-consistent"
        stopped_instances  = "backup"
        copy_targets       = [{ destination_vault_arn = "arn:aws:backup:eu-central-1:111122223333:backup-vault:dr", retention_days = 90 }]
        notify_on_success  = false
      }
    }
    error_message = "A schedule's input is docs/contracts.md section 1, tag_value defaulting to the schedule's name."
  }

  assert {
    condition     = strcontains(aws_scheduler_schedule.this["nightly"].target[0].input, "\"scheduled_time\":\"<aws.scheduler.scheduled-time>\"")
    error_message = "The scheduler only fills in its placeholder written literally: jsonencode's \\u003c escape must be undone in the input."
  }

  assert {
    condition     = jsondecode(aws_scheduler_schedule.this["weekly"].target[0].input).tag_value == "gold"
    error_message = "A schedule's tag_value is passed when given."
  }

  assert {
    condition     = !contains(keys(jsondecode(aws_scheduler_schedule.this["weekly"].target[0].input)), "interval_seconds")
    error_message = "A schedule whose interval is not plain (weekly: cron on one day of the week) carries no interval_seconds."
  }

  assert {
    condition     = aws_scheduler_schedule.this["nightly"].flexible_time_window[0].mode == "OFF" && aws_scheduler_schedule.this["weekly"].flexible_time_window[0].mode == "FLEXIBLE" && aws_scheduler_schedule.this["weekly"].flexible_time_window[0].maximum_window_in_minutes == 30
    error_message = "A schedule without a window starts on time; one with a window is flexible."
  }

  assert {
    condition     = aws_scheduler_schedule.this["weekly"].schedule_expression_timezone == "Europe/Paris" && aws_scheduler_schedule.this["nightly"].schedule_expression_timezone == "UTC"
    error_message = "Each schedule's time zone is passed, UTC by default."
  }

  assert {
    condition     = aws_scheduler_schedule.this["weekly"].state == "DISABLED" && aws_scheduler_schedule.this["nightly"].state == "ENABLED"
    error_message = "enabled = false disables the schedule."
  }

  assert {
    condition     = aws_scheduler_schedule.this["nightly"].target[0].retry_policy[0].maximum_retry_attempts == 5 && aws_scheduler_schedule.this["nightly"].target[0].dead_letter_config[0].arn == aws_sqs_queue.dead_letter.arn
    error_message = "Schedules retry, then dead-letter to the queue."
  }

  assert {
    condition     = aws_scheduler_schedule.this["nightly"].target[0].arn == aws_lambda_function.this.arn && aws_scheduler_schedule.this["nightly"].target[0].role_arn == aws_iam_role.scheduler.arn
    error_message = "Schedules invoke the function with the scheduler's role."
  }

  assert {
    condition     = output.schedule_names == { nightly = "nightly", weekly = "weekly" } && aws_scheduler_schedule.this["nightly"].group_name == "acb"
    error_message = "Schedules keep their names, in the module's schedule group."
  }
}

run "dry_run_reaches_every_schedule" {
  command = apply

  variables {
    dry_run = true
  }

  assert {
    condition     = alltrue([for s in values(aws_scheduler_schedule.this) : jsondecode(s.target[0].input).dry_run])
    error_message = "dry_run = true is passed to every schedule."
  }
}

run "least_privilege" {
  command = plan

  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : alltrue([for a in flatten([s.Action]) : a != "*" && !endswith(a, ":*")])])
    error_message = "The function's policy grants no wildcard action."
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Resource if contains(flatten([s.Action]), "states:StartExecution")] == ["arn:aws:states:eu-west-1:111122223333:stateMachine:acb-backup-instance"]
    error_message = "StartExecution is allowed on the given state machine only."
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Resource if contains(flatten([s.Action]), "sns:Publish")] == ["arn:aws:sns:eu-west-1:111122223333:acb-notifications"]
    error_message = "Publish is allowed on the notification topic only."
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Resource if contains(flatten([s.Action]), "lambda:InvokeFunction")] == [["arn:aws:lambda:eu-west-1:111122223333:function:acb-discovery", "arn:aws:lambda:eu-west-1:111122223333:function:acb-discovery:*"]]
    error_message = "The function may invoke itself only (its continuations)."
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Resource if contains(flatten([s.Action]), "logs:PutLogEvents")] == ["arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/acb-discovery:*"]
    error_message = "The function writes to its own log group only."
  }

  assert {
    condition     = toset(flatten([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Resource if s.Resource == "*"])) == toset(["*"]) && toset(flatten([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Action if s.Resource == "*"])) == toset(["ec2:DescribeInstances", "xray:PutTraceSegments", "xray:PutTelemetryRecords"])
    error_message = "Only DescribeInstances and X-Ray, which have no resource-level permissions, are granted on every resource."
  }

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s if startswith(flatten([s.Action])[0], "kms:")]) == 0
    error_message = "Without a notification key, the function gets no KMS permission."
  }

  assert {
    condition = jsondecode(aws_iam_role_policy.scheduler.policy).Statement == [
      { Sid = "InvokeDiscovery", Effect = "Allow", Action = ["lambda:InvokeFunction"], Resource = ["arn:aws:lambda:eu-west-1:111122223333:function:acb-discovery", "arn:aws:lambda:eu-west-1:111122223333:function:acb-discovery:*"] },
      { Sid = "DeadLetters", Effect = "Allow", Action = ["sqs:SendMessage"], Resource = "arn:aws:sqs:eu-west-1:111122223333:acb-discovery-dlq" },
    ]
    error_message = "The scheduler may invoke the function and write dead letters, nothing else."
  }

  assert {
    condition     = jsondecode(aws_iam_role.function.assume_role_policy).Statement[0].Principal.Service == "lambda.amazonaws.com" && jsondecode(aws_iam_role.scheduler.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "111122223333"
    error_message = "Each role trusts its own service, from this account only."
  }
}

run "keys_and_boundary_when_given" {
  command = plan

  variables {
    notification_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-1111-1111-1111-111111111111"
    dead_letter_kms_key_arn  = "arn:aws:kms:eu-west-1:111122223333:key/22222222-2222-2222-2222-222222222222"
    log_kms_key_arn          = "arn:aws:kms:eu-west-1:111122223333:key/33333333-3333-3333-3333-333333333333"
    permissions_boundary_arn = "arn:aws:iam::111122223333:policy/boundary"
    tracing_mode             = "PassThrough"
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s if s.Sid == "EncryptNotifications"] == [{
      Sid       = "EncryptNotifications"
      Effect    = "Allow"
      Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
      Resource  = "arn:aws:kms:eu-west-1:111122223333:key/11111111-1111-1111-1111-111111111111"
      Condition = { StringEquals = { "kms:ViaService" = "sns.eu-west-1.amazonaws.com" } }
    }]
    error_message = "With a notification key, the function may use it through SNS only."
  }

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.scheduler.policy).Statement : s if s.Sid == "EncryptDeadLetters"]) == 1 && aws_sqs_queue.dead_letter.kms_master_key_id == "arn:aws:kms:eu-west-1:111122223333:key/22222222-2222-2222-2222-222222222222"
    error_message = "A dead-letter key encrypts the queue and is granted to the scheduler."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == "arn:aws:kms:eu-west-1:111122223333:key/33333333-3333-3333-3333-333333333333"
    error_message = "The log group is encrypted with the given key."
  }

  assert {
    condition     = aws_iam_role.function.permissions_boundary == "arn:aws:iam::111122223333:policy/boundary" && aws_iam_role.scheduler.permissions_boundary == "arn:aws:iam::111122223333:policy/boundary"
    error_message = "Both roles carry the permissions boundary."
  }

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s if s.Sid == "WriteTraces"]) == 0
    error_message = "Without active tracing, no X-Ray permission."
  }
}

################################################################################
# Every validation rejects what it should
################################################################################

run "rejects_bad_name_prefix" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { name_prefix = "ACB_prod" }
  expect_failures = [var.name_prefix]
}

run "rejects_bad_state_machine_arn" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { state_machine_arn = "arn:aws:states:eu-west-1:111122223333:execution:acb:x" }
  expect_failures = [var.state_machine_arn]
}

run "rejects_bad_topic_arn" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { notification_topic_arn = "acb-notifications" }
  expect_failures = [var.notification_topic_arn]
}

run "rejects_key_alias" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { notification_kms_key_arn = "alias/acb" }
  expect_failures = [var.notification_kms_key_arn]
}

run "rejects_reserved_tag_key" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { selection_tag_key = "aws:backup" }
  expect_failures = [var.selection_tag_key]
}

run "rejects_bad_opt_out_tag_key" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { opt_out_tag_key = "" }
  expect_failures = [var.opt_out_tag_key]
}

run "rejects_same_selection_and_opt_out_keys" {
  command = plan
  variables { opt_out_tag_key = "AppConsistentBackup" }
  expect_failures = [aws_lambda_function.this]
}

run "rejects_no_schedule" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { schedules = {} }
  expect_failures = [var.schedules]
}

run "rejects_bad_schedule_name" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    schedules = { "Nightly_Backup" = { schedule_expression = "cron(0 1 * * ? *)", policy = { retention_days = 35, max_freeze_seconds = 30, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } } }
  }
  expect_failures = [var.schedules]
}

run "rejects_five_field_cron" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    schedules = { nightly = { schedule_expression = "cron(0 1 * * *)", policy = { retention_days = 35, max_freeze_seconds = 30, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } } }
  }
  expect_failures = [var.schedules]
}

run "rejects_bad_timezone" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    schedules = { nightly = { schedule_expression = "rate(1 day)", timezone = "CET+1", policy = { retention_days = 35, max_freeze_seconds = 30, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } } }
  }
  expect_failures = [var.schedules]
}

run "rejects_bad_tag_value" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    schedules = { nightly = { schedule_expression = "rate(1 day)", tag_value = "", policy = { retention_days = 35, max_freeze_seconds = 30, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } } }
  }
  expect_failures = [var.schedules]
}

run "rejects_bad_flexible_window" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    schedules = { nightly = { schedule_expression = "rate(1 day)", flexible_window_minutes = 0, policy = { retention_days = 35, max_freeze_seconds = 30, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } } }
  }
  expect_failures = [var.schedules]
}

run "rejects_bad_retention" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    schedules = { nightly = { schedule_expression = "rate(1 day)", policy = { retention_days = 0.5, max_freeze_seconds = 30, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } } }
  }
  expect_failures = [var.schedules]
}

run "rejects_bad_max_freeze" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    schedules = { nightly = { schedule_expression = "rate(1 day)", policy = { retention_days = 35, max_freeze_seconds = 7200, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } } }
  }
  expect_failures = [var.schedules]
}

run "rejects_max_freeze_below_the_thaw_margin" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    schedules = { nightly = { schedule_expression = "rate(1 day)", policy = { retention_days = 35, max_freeze_seconds = 14, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } } }
  }
  expect_failures = [var.schedules]
}

run "not_selected_reporter_can_be_chosen" {
  command = plan
  variables { not_selected_reporter = "weekly" }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["NOT_SELECTED_REPORTER"] == "weekly"
    error_message = "The chosen schedule reports the instances no schedule selects."
  }
}

run "not_selected_reporting_can_be_turned_off" {
  command = plan
  variables { report_not_selected = false }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["NOT_SELECTED_REPORTER"] == ""
    error_message = "With report_not_selected false, nobody reports."
  }

  assert {
    condition     = jsondecode(aws_lambda_function.this.environment[0].variables["SCHEDULE_TAG_VALUES"]) == { nightly = "nightly", weekly = "gold" }
    error_message = "The schedules' tag values are passed whatever the reporting."
  }
}

run "no_enabled_schedule_reports_from_the_first" {
  command = plan
  variables {
    schedules = {
      zulu  = { schedule_expression = "rate(1 day)", enabled = false, policy = { retention_days = 35, max_freeze_seconds = 60, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } }
      alpha = { schedule_expression = "rate(1 day)", enabled = false, tag_value = "a", policy = { retention_days = 35, max_freeze_seconds = 60, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false } }
    }
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["NOT_SELECTED_REPORTER"] == "alpha"
    error_message = "With no enabled schedule, the first in name order is the reporter."
  }
}

run "rejects_a_reporter_that_is_no_schedule" {
  command = plan
  variables { not_selected_reporter = "hourly" }
  expect_failures = [aws_lambda_function.this]
}

run "rejects_a_bad_reporter_name" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { not_selected_reporter = "Hourly Backups" }
  expect_failures = [var.not_selected_reporter]
}

run "rejects_an_environment_over_lambdas_4_kb" {
  command = plan
  variables {
    schedules = { for n in range(20) : "schedule-${n}" => {
      schedule_expression = "rate(1 day)"
      tag_value           = "${n}-${join("", [for i in range(200) : "v"])}"
      policy              = { retention_days = 35, max_freeze_seconds = 60, on_freeze_failure = "crash-consistent", stopped_instances = "backup", copy_targets = [], notify_on_success = false }
    } }
  }
  expect_failures = [aws_lambda_function.this]
}

run "rejects_bad_on_freeze_failure" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    schedules = { nightly = { schedule_expression = "rate(1 day)", policy = { retention_days = 35, max_freeze_seconds = 30, on_freeze_failure = "ignore", stopped_instances = "backup", copy_targets = [], notify_on_success = false } } }
  }
  expect_failures = [var.schedules]
}

run "rejects_bad_stopped_instances" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    schedules = { nightly = { schedule_expression = "rate(1 day)", policy = { retention_days = 35, max_freeze_seconds = 30, on_freeze_failure = "skip", stopped_instances = "start", copy_targets = [], notify_on_success = false } } }
  }
  expect_failures = [var.schedules]
}

run "rejects_bad_copy_target" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    schedules = { nightly = { schedule_expression = "rate(1 day)", policy = { retention_days = 35, max_freeze_seconds = 30, on_freeze_failure = "skip", stopped_instances = "backup", copy_targets = [{ destination_vault_arn = "dr", retention_days = 90 }], notify_on_success = false } } }
  }
  expect_failures = [var.schedules]
}

run "rejects_bad_scheduler_retry_age" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { scheduler_retry = { maximum_event_age_in_seconds = 30 } }
  expect_failures = [var.scheduler_retry]
}

run "rejects_bad_scheduler_retry_attempts" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { scheduler_retry = { maximum_retry_attempts = 200 } }
  expect_failures = [var.scheduler_retry]
}

run "rejects_old_runtime" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { runtime = "python3.9" }
  expect_failures = [var.runtime]
}

run "rejects_bad_architecture" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { architecture = "aarch64" }
  expect_failures = [var.architecture]
}

run "rejects_bad_memory" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { memory_size = 64 }
  expect_failures = [var.memory_size]
}

run "rejects_bad_timeout" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { timeout = 1000 }
  expect_failures = [var.timeout]
}

run "rejects_bad_margin" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { continuation_margin_seconds = 1 }
  expect_failures = [var.continuation_margin_seconds]
}

run "rejects_margin_too_large_for_the_timeout" {
  command = plan
  variables {
    timeout                     = 100
    continuation_margin_seconds = 60
  }
  expect_failures = [aws_lambda_function.this]
}

run "margin_follows_a_short_timeout" {
  command = plan

  variables {
    timeout = 60
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["CONTINUATION_MARGIN_SECONDS"] == "15"
    error_message = "Without an explicit margin, a 60 s timeout hands on with 15 s left."
  }
}

run "rejects_bad_concurrency" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { max_concurrency = 100 }
  expect_failures = [var.max_concurrency]
}

run "rejects_rate_above_quota" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { start_rate_per_second = 500 }
  expect_failures = [var.start_rate_per_second]
}

run "rejects_bad_burst" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { start_burst = 0 }
  expect_failures = [var.start_burst]
}

run "rejects_zero_reserved_concurrency" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { reserved_concurrent_executions = 0 }
  expect_failures = [var.reserved_concurrent_executions]
}

run "rejects_bad_tracing_mode" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { tracing_mode = "On" }
  expect_failures = [var.tracing_mode]
}

run "rejects_bad_log_level" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { log_level = "VERBOSE" }
  expect_failures = [var.log_level]
}

run "rejects_bad_log_retention" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { log_retention_days = 10 }
  expect_failures = [var.log_retention_days]
}

run "rejects_bad_log_key" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { log_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:alias/logs" }
  expect_failures = [var.log_kms_key_arn]
}

run "rejects_bad_dead_letter_key" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { dead_letter_kms_key_arn = "key" }
  expect_failures = [var.dead_letter_kms_key_arn]
}

run "rejects_bad_boundary" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables { permissions_boundary_arn = "arn:aws:iam::111122223333:role/boundary" }
  expect_failures = [var.permissions_boundary_arn]
}
