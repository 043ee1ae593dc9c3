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
}

################################################################################
# The API budget and the admission it implies (docs/fleet.md)
################################################################################

run "default_budget_is_half_of_each_quota" {
  command = plan

  assert {
    condition     = output.admission.budget_calls_per_second["ssm:SendCommand"] == 2.5 && output.admission.budget_calls_per_second["ec2:DescribeSnapshots"] == 10 && output.admission.budget_calls_per_second["states:StartExecution"] == 75
    error_message = "By default every API's budget must be half its quota (SendCommand 5/s, EC2 non-mutating 20/s, StartExecution 150/s)."
  }
  assert {
    condition     = output.admission.freeze_slots == 10
    error_message = "Ten freeze slots by default: each costs at most one polling call a second, and the DescribeSnapshots and GetCommandInvocation budgets are 10/s."
  }
  assert {
    condition     = output.admission.start_rate_per_second == 0.33
    error_message = "The default start pace must be the slots' turnover (10 slots / 30 s), the tightest of the budgets' limits."
  }
  assert {
    condition     = output.admission.send_command_gate_calls == 1 && output.admission.job_poll_gate_calls == 5
    error_message = "The default gates: one SendCommand per reserved second (a second then holds at most 2, under the budget of 2.5) and five DescribeBackupJob polls (the whole budget: a poll waits until the start of its second)."
  }
  assert {
    condition     = strcontains(aws_sfn_state_machine.this.definition, "$number('10')")
    error_message = "The definition must carry the number of freeze slots."
  }
}

run "budgets_move_the_slots_and_the_pace" {
  command = plan
  variables {
    api_budget = {
      share_of_quota   = 0.8
      calls_per_second = { "ec2:DescribeSnapshots" = 16, "ssm:GetCommandInvocation" = 16, "ssm:SendCommand" = 1 }
    }
  }

  assert {
    condition     = output.admission.freeze_slots == 16 && output.admission.budget_calls_per_second["backup:StartBackupJob"] == 4
    error_message = "calls_per_second must set one API's budget and share_of_quota every other one."
  }
  assert {
    condition     = output.admission.start_rate_per_second == 0.5
    error_message = "A SendCommand budget of 1/s must hold the start pace at 0.5/s (two commands per instance)."
  }
  assert {
    condition     = output.admission.send_command_gate_calls == 1 && output.admission.job_poll_gate_calls == 8
    error_message = "The gates follow the budgets, never below one call per reserved second: SendCommand 1/s gives 1, DescribeBackupJob 8/s (0.8 of 10) gives 8."
  }
}

run "rejects_a_budget_key_that_names_no_api" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    api_budget = { calls_per_second = { "ec2:DescribeSnapshot" = 5 } }
  }
  expect_failures = [var.api_budget]
}

run "rejects_a_budget_above_the_quota" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    api_budget = { calls_per_second = { "ssm:SendCommand" = 6 } }
  }
  expect_failures = [var.api_budget]
}

run "rejects_a_share_that_leaves_nothing_to_other_tools" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    api_budget = { share_of_quota = 1 }
  }
  expect_failures = [var.api_budget]
}

run "rejects_a_slot_wait_without_bound" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    timings = { slot_wait_max_seconds = 30 }
  }
  expect_failures = [var.timings]
}
