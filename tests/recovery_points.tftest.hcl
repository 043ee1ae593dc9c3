# The root module wires the vault protection and the optional restore testing.
# The runs that only expect a variable's failure plan tests/fixtures/root_variables, the
# root's variables without its submodules (see variables.tftest.hcl).

mock_provider "aws" {
  source = "./tests/mocks"

  mock_resource "aws_backup_restore_testing_plan" {
    defaults = { arn = "arn:aws:backup:eu-west-1:111122223333:restore-testing-plan:app_consistent_backup_restore_test-0a1b" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:111122223333:rule/app-consistent-backup-restore-jobs" }
  }
}

run "vault_protected_and_no_restore_testing_by_default" {
  command = plan

  assert {
    condition     = contains(jsondecode(output.vault_access_policy_json).Statement[0].Action, "backup:DeleteRecoveryPoint") && module.vault.access_policy_attached
    error_message = "The created vault carries the deletion-denying access policy by default."
  }

  assert {
    condition     = length(module.restore_testing) == 0 && output.restore_testing_plan_arn == null
    error_message = "Restore testing is off by default: it launches instances."
  }
}

run "restore_tests_the_chosen_schedules" {
  command = apply

  variables {
    selection_tag_key = "backup-policy"
    schedules = {
      nightly = { schedule_expression = "cron(0 1 * * ? *)" }
      db      = { schedule_expression = "rate(1 hour)", tag_value = "hourly-db" }
      monthly = { schedule_expression = "cron(0 3 1 * ? *)" }
    }
    vault = { access_policy = { break_glass_principal_arns = ["arn:aws:iam::111122223333:role/BreakGlass"] } }
    restore_testing = {
      enabled   = true
      schedules = ["db", "monthly"]
    }
  }

  assert {
    condition     = keys(module.restore_testing[0].restore_testing_selection_names) == ["hourly-db", "monthly"]
    error_message = "The chosen schedules' tag values are restore-tested, by their tag values."
  }

  assert {
    condition     = output.restore_testing_plan_arn == module.restore_testing[0].restore_testing_plan_arn && output.restore_validation_function_name == "app-consistent-backup-restore-validation"
    error_message = "The plan and function are output."
  }

  assert {
    condition     = jsondecode(output.vault_access_policy_json).Statement[0].Condition.ArnNotLike["aws:PrincipalArn"] == ["arn:aws:iam::111122223333:role/BreakGlass"]
    error_message = "vault.access_policy reaches the vault."
  }
}

run "rejects_restore_testing_of_unknown_schedule" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables { restore_testing = { enabled = true, schedules = ["weekly"] } }
  expect_failures = [var.restore_testing]
}
