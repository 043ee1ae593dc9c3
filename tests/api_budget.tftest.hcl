# The root's API budget (docs/fleet.md): it reaches the state machine, and discovery's
# start pace follows it unless discovery.start_rate_per_second says otherwise.
# The runs that only expect a variable's failure plan tests/fixtures/root_variables, the
# root's variables without its submodules (see variables.tftest.hcl).

mock_provider "aws" {
  source = "./tests/mocks"
}

run "start_pace_follows_the_budget" {
  command = plan

  assert {
    condition     = output.admission.freeze_slots == 2 && output.admission.start_rate_per_second == 0.06
    error_message = "With the default budget (half of each quota) the fleet runs 2 instances frozen at once and starts 0.06 a second."
  }
  assert {
    condition     = output.schedule_capacity == { nightly = 5184 }
    error_message = "The default daily schedule's run starts at most 5,184 instances (86,400 s x 0.06) before the next one."
  }
}

run "an_explicit_start_pace_is_accepted" {
  command = plan
  variables {
    discovery  = { start_rate_per_second = 2 }
    api_budget = { share_of_quota = 0.6 }
  }

  assert {
    condition     = output.admission.freeze_slots == 3 && output.admission.start_rate_per_second == 0.1
    error_message = "A share of 0.6 gives 3 slots (SendCommand and StartBackupJob at 3/s) and a pace of 0.1/s; discovery.start_rate_per_second, when set, overrides only discovery's pace."
  }
}

run "the_account_quotas_reach_the_admission" {
  command = plan
  variables {
    api_budget = { quotas = { "ssm:SendCommand" = 20, "backup:StartBackupJob" = 20 } }
  }

  assert {
    condition     = output.admission.freeze_slots == 10 && output.admission.start_rate_per_second == 0.33 && output.admission.quotas_calls_per_second["backup:StartBackupJob"] == 20
    error_message = "With the account's SendCommand and StartBackupJob quotas at 20/s the fleet runs 10 instances frozen at once and starts 0.33 a second (docs/fleet.md; make bench-fleet measures it)."
  }
}

run "rejects_a_budget_key_that_names_no_api" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    api_budget = { calls_per_second = { "ssm:SendComand" = 1 } }
  }
  expect_failures = [var.api_budget]
}

run "rejects_a_share_of_zero" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    api_budget = { share_of_quota = 0 }
  }
  expect_failures = [var.api_budget]
}

run "rejects_a_quota_that_names_no_api" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    api_budget = { quotas = { "ssm:sendcommand" = 20 } }
  }
  expect_failures = [var.api_budget]
}

run "rejects_a_quota_given_as_null" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    api_budget = { quotas = { "ssm:SendCommand" = null } }
  }
  expect_failures = [var.api_budget]
}
