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
    condition     = output.admission.freeze_slots == 2
    error_message = "Two freeze slots by default: each costs at most one call a second of SendCommand and StartBackupJob (budgets 2.5/s), DescribeSnapshots and GetCommandInvocation (10/s)."
  }
  assert {
    condition     = output.admission.start_rate_per_second == 0.06
    error_message = "The default start pace must be the slots' turnover (2 slots / 30 s), the tightest of the budgets' limits."
  }
  assert {
    condition     = output.admission.job_poll_gate_calls == 5
    error_message = "The default DescribeBackupJob gate: five polls a second, the whole budget (a poll waits until the start of its second)."
  }
  assert {
    condition     = strcontains(aws_sfn_state_machine.this.definition, "$number('2')")
    error_message = "The definition must carry the number of freeze slots."
  }
}

run "budgets_move_the_slots_and_the_pace" {
  command = plan
  variables {
    api_budget = {
      share_of_quota   = 0.8
      calls_per_second = { "ec2:DescribeSnapshots" = 8 }
    }
  }

  assert {
    condition     = output.admission.freeze_slots == 4 && output.admission.budget_calls_per_second["ec2:DescribeSnapshots"] == 8 && output.admission.budget_calls_per_second["backup:DescribeBackupJob"] == 8
    error_message = "calls_per_second must set one API's budget and share_of_quota every other one; the slots are the smallest of the freeze window's budgets (SendCommand and StartBackupJob at 4/s)."
  }
  assert {
    condition     = output.admission.start_rate_per_second == 0.13
    error_message = "4 slots must start 0.13 instances a second (4 / 30 s)."
  }
  assert {
    condition     = output.admission.job_poll_gate_calls == 8
    error_message = "The poll gate follows the DescribeBackupJob budget (0.8 of 10)."
  }
}

run "one_call_a_second_of_send_command_leaves_one_slot" {
  command = plan
  variables {
    api_budget = {
      calls_per_second = { "ssm:SendCommand" = 1, "backup:DescribeBackupJob" = 0.5 }
    }
  }

  assert {
    condition     = output.admission.freeze_slots == 1 && output.admission.start_rate_per_second == 0.03
    error_message = "A SendCommand budget of 1/s must leave one freeze slot (a frozen instance's thaw is never made to wait for the budget) and a start pace of 1 / 30 s."
  }
  assert {
    condition     = output.admission.job_poll_gate_calls == 1
    error_message = "The poll gate never allows less than one poll a second."
  }
}

run "the_account_quotas_move_the_budgets" {
  command = plan
  variables {
    api_budget = {
      quotas = { "ssm:SendCommand" = 20, "backup:StartBackupJob" = 20 }
    }
  }

  assert {
    condition     = output.admission.quotas_calls_per_second["ssm:SendCommand"] == 20 && output.admission.quotas_calls_per_second["ec2:DescribeSnapshots"] == 20 && output.admission.budget_calls_per_second["ssm:SendCommand"] == 10 && output.admission.budget_calls_per_second["backup:StartBackupJob"] == 10
    error_message = "A quota given in api_budget.quotas must replace the module's (SendCommand and StartBackupJob 20/s, budgets 10/s) and leave the others as they were."
  }
  assert {
    condition     = output.admission.freeze_slots == 10 && output.admission.start_rate_per_second == 0.33
    error_message = "With SendCommand and StartBackupJob at 20/s the freeze window's budgets are all 10/s: 10 slots, starting 0.33 instances a second (10 / 30 s)."
  }
}

run "the_fleet_bench_raised_quotas_give_its_admission" {
  # tests/fleet/test_account_quotas.py runs these quotas with 10 slots and 0.33 a second.
  command = plan
  variables {
    api_budget = {
      quotas = { "ssm:SendCommand" = 20, "backup:StartBackupJob" = 20, "ec2:DescribeSnapshots" = 200 }
    }
  }

  assert {
    condition     = output.admission.freeze_slots == 10 && output.admission.start_rate_per_second == 0.33 && output.admission.job_poll_gate_calls == 5
    error_message = "The fleet test's raised quotas must derive what it runs: 10 slots (GetCommandInvocation's budget of 10 binds), 0.33 a second, a gate of 5."
  }
}

run "a_budget_may_follow_a_raised_quota" {
  command = plan
  variables {
    api_budget = {
      quotas           = { "ssm:SendCommand" = 20 }
      calls_per_second = { "ssm:SendCommand" = 12 }
    }
  }

  assert {
    condition     = output.admission.budget_calls_per_second["ssm:SendCommand"] == 12 && output.admission.freeze_slots == 2
    error_message = "A budget above the module's assumed quota must be accepted under the account's raised one; StartBackupJob's budget (2.5/s) still leaves 2 slots."
  }
}

run "rejects_a_budget_above_a_lowered_quota" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    api_budget = {
      quotas           = { "ssm:SendCommand" = 2 }
      calls_per_second = { "ssm:SendCommand" = 3 }
    }
  }
  expect_failures = [var.api_budget]
}

run "rejects_a_quota_that_names_no_api" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    api_budget = { quotas = { "backup:StartBackupJobs" = 20 } }
  }
  expect_failures = [var.api_budget]
}

run "rejects_a_quota_of_zero" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    api_budget = { quotas = { "ssm:SendCommand" = 0 } }
  }
  expect_failures = [var.api_budget]
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

run "rejects_a_freeze_window_budget_below_one_call_a_second" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    api_budget = { quotas = { "ssm:SendCommand" = 1.5 } }
  }
  expect_failures = [var.api_budget]
}

run "rejects_a_quota_given_as_null" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    api_budget = { quotas = { "backup:StartBackupJob" = null } }
  }
  expect_failures = [var.api_budget]
}
