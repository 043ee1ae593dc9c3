# Every validation of the root module's variables rejects what it should.
# The positive runs (defaults, the complete example's shape) live in module.tftest.hcl.
#
# Each run plans tests/fixtures/root_variables, whose variables.tf is a symbolic link to the
# root's: the same variables and validations, without the submodules. Every validation of the
# root reads variables only, so a value is rejected there exactly when the root rejects it; a
# plan of the fixture costs about 0.03 s of CPU, of the whole root about 0.5 s (tests/
# servicenow, instance_hooks, api_budget and recovery_points plan it too for their runs that only
# expect a variable's failure). Should a validation ever read a local value, a resource or a
# module's output, the fixture would not load (an undeclared reference) and these runs would fail:
# such a validation needs runs without the module block, planning the root.
#
# A run may hold one bad value of each of two variables (a comment names each) and expect each to
# fail: a missing failure names its variable. A variable never has two bad values in one run (the
# run could then pass on the wrong rule). A validation that reads another variable is not
# evaluated when that one fails, so variables so linked never share a run: schedules read vault,
# and discovery reads schedules; opt_out_tag_key reads selection_tag_key.

mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejects_no_schedule_and_brought_topic_without_arn" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # no schedule: var.schedules
    schedules = {}
    # brought topic without arn: var.notifications
    notifications = { create_topic = false }
  }
  expect_failures = [var.schedules, var.notifications]
}

run "rejects_bad_schedule_name_and_bad_topic_arn" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # bad schedule name: var.schedules
    schedules = { "Nightly_Run" = { schedule_expression = "cron(0 1 * * ? *)" } }
    # bad topic arn: var.notifications
    notifications = { create_topic = false, topic_arn = "my-topic" }
  }
  expect_failures = [var.schedules, var.notifications]
}

run "rejects_five_field_cron_and_aws_managed_topic_key" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # five field cron: var.schedules
    schedules = { nightly = { schedule_expression = "cron(0 1 * * *)" } }
    # aws managed topic key: var.notifications
    notifications = { kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:alias/aws/sns" }
  }
  expect_failures = [var.schedules, var.notifications]
}

run "rejects_bad_rate_and_topics_without_any_key" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # bad rate: var.schedules
    schedules = { nightly = { schedule_expression = "rate(0 hours)" } }
    # topics without any key: var.notifications
    notifications = { create_kms_key = false }
  }
  expect_failures = [var.schedules, var.notifications]
}

run "rejects_bad_timezone_and_storm_threshold_out_of_range" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # bad timezone: var.schedules
    schedules = { nightly = { schedule_expression = "cron(0 1 * * ? *)", timezone = "Paris time" } }
    # storm threshold out of range: var.notifications
    notifications = { storm_threshold = 0 }
  }
  expect_failures = [var.schedules, var.notifications]
}

run "rejects_retention_out_of_range_and_plain_http_subscription" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # retention out of range: var.schedules
    schedules = { nightly = { schedule_expression = "cron(0 1 * * ? *)", retention_days = 0 } }
    # plain http subscription: var.notifications
    notifications = { subscriptions = { itsm = { protocol = "http", endpoint = "http://example.com" } } }
  }
  expect_failures = [var.schedules, var.notifications]
}

run "rejects_flexible_window_out_of_range_and_https_subscription_to_http_url" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # flexible window out of range: var.schedules
    schedules = { nightly = { schedule_expression = "cron(0 1 * * ? *)", flexible_window_minutes = 2000 } }
    # https subscription to http url: var.notifications
    notifications = { subscriptions = { itsm = { protocol = "https", endpoint = "http://example.com" } } }
  }
  expect_failures = [var.schedules, var.notifications]
}

run "rejects_bad_tag_value_and_bad_email_subscription" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # bad tag value: var.schedules
    schedules = { nightly = { schedule_expression = "cron(0 1 * * ? *)", tag_value = "night$(id)" } }
    # bad email subscription: var.notifications
    notifications = { subscriptions = { oncall = { protocol = "email", endpoint = "oncall" } } }
  }
  expect_failures = [var.schedules, var.notifications]
}

run "rejects_schedule_freeze_out_of_range_and_bad_filter_policy" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # schedule freeze out of range: var.schedules
    schedules = { nightly = { schedule_expression = "cron(0 1 * * ? *)", max_freeze_seconds = 14 } }
    # bad filter policy: var.notifications
    notifications = { subscriptions = { oncall = { protocol = "email", endpoint = "a@example.com", filter_policy = "{severity" } } }
  }
  expect_failures = [var.schedules, var.notifications]
}

run "rejects_schedule_bad_fallback_and_subscriptions_on_brought_topic" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # schedule bad fallback: var.schedules
    schedules = { nightly = { schedule_expression = "cron(0 1 * * ? *)", on_freeze_failure = "ignore" } }
    # subscriptions on brought topic: var.notifications
    notifications = {
      create_topic  = false
      topic_arn     = "arn:aws:sns:eu-west-1:111122223333:itsm"
      subscriptions = { oncall = { protocol = "email", endpoint = "a@example.com" } }
    }
  }
  expect_failures = [var.schedules, var.notifications]
}

run "rejects_schedule_bad_stopped_policy_and_bad_copy_destination" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # schedule bad stopped policy: var.schedules
    schedules = { nightly = { schedule_expression = "cron(0 1 * * ? *)", stopped_instances = "start" } }
    # bad copy destination: var.copy_destinations
    copy_destinations = [{ destination_vault_arn = "arn:aws:s3:::bucket" }]
  }
  expect_failures = [var.schedules, var.copy_destinations]
}

run "rejects_two_schedules_same_tag_value_and_copy_retention_out_of_range" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # two schedules same tag value: var.schedules
    schedules = {
      nightly = { schedule_expression = "cron(0 1 * * ? *)" }
      other   = { schedule_expression = "cron(0 2 * * ? *)", tag_value = "nightly" }
    }
    # copy retention out of range: var.copy_destinations
    copy_destinations = [{ destination_vault_arn = "arn:aws:backup:eu-central-1:111122223333:backup-vault:dr", retention_days = 0 }]
  }
  expect_failures = [var.schedules, var.copy_destinations]
}

# The messages name the bad keys among good ones (tests/test_validation_messages.py reads
# them); these runs prove the message expressions evaluate at plan time, the vault
# lock's cross-variable one included.
run "rejects_one_bad_schedule_among_good_ones_and_duplicate_copy_destination" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # one bad schedule among good ones: var.schedules
    schedules = {
      nightly = { schedule_expression = "cron(0 1 * * ? *)" }
      hourly  = { schedule_expression = "rate(1 hour)", max_freeze_seconds = 30 }
      broken  = { schedule_expression = "cron(0 1 * * *)", timezone = "Paris time", max_freeze_seconds = 5 }
    }
    # duplicate copy destination: var.copy_destinations
    copy_destinations = [
      { destination_vault_arn = "arn:aws:backup:eu-central-1:111122223333:backup-vault:dr" },
      { destination_vault_arn = "arn:aws:backup:eu-central-1:111122223333:backup-vault:dr", retention_days = 90 },
    ]
  }
  expect_failures = [var.schedules, var.copy_destinations]
}

run "rejects_retention_outside_vault_lock_and_bad_name_prefix" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # retention outside vault lock: var.schedules
    vault     = { lock = { min_retention_days = 30 } }
    schedules = { nightly = { schedule_expression = "cron(0 1 * * ? *)", retention_days = 7 } }
    # bad name prefix: var.name_prefix
    name_prefix = "App_Backup"
  }
  expect_failures = [var.schedules, var.name_prefix]
}

run "rejects_one_schedule_outside_vault_lock_among_good_ones_and_freeze_too_short" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # one schedule outside vault lock among good ones: var.schedules
    vault = { lock = { min_retention_days = 7, max_retention_days = 30 } }
    schedules = {
      weekly  = { schedule_expression = "rate(7 days)", retention_days = 14 }
      monthly = { schedule_expression = "rate(30 days)", retention_days = 365 }
    }
    # freeze too short: var.max_freeze_seconds
    max_freeze_seconds = 10
  }
  expect_failures = [var.schedules, var.max_freeze_seconds]
}

run "rejects_bad_vault_name_and_aws_reserved_selection_tag_key" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # bad vault name: var.vault
    vault = { name = "a" }
    # aws reserved selection tag key: var.selection_tag_key
    selection_tag_key = "aws:backup"
  }
  expect_failures = [var.vault, var.selection_tag_key]
}

run "rejects_existing_vault_without_name_and_bad_opt_out_tag_key" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # existing vault without name: var.vault
    vault = { create = false }
    # bad opt out tag key: var.opt_out_tag_key
    opt_out_tag_key = "opt-out;rm"
  }
  expect_failures = [var.vault, var.opt_out_tag_key]
}

run "rejects_aws_managed_vault_key_and_bad_fallback" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # aws managed vault key: var.vault
    vault = { kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:alias/aws/backup" }
    # bad fallback: var.on_freeze_failure
    on_freeze_failure = "retry"
  }
  expect_failures = [var.vault, var.on_freeze_failure]
}

run "rejects_vault_key_alias_and_bad_stopped_policy" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # vault key alias: var.vault
    vault = { kms_key_arn = "alias/my-key" }
    # bad stopped policy: var.stopped_instances
    stopped_instances = "start"
  }
  expect_failures = [var.vault, var.stopped_instances]
}

run "rejects_vault_key_created_and_given_and_bad_permissions_boundary" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # vault key created and given: var.vault
    vault = { create_kms_key = true, kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555" }
    # bad permissions boundary: var.permissions_boundary_arn
    permissions_boundary_arn = "arn:aws:iam::111122223333:role/boundary"
  }
  expect_failures = [var.vault, var.permissions_boundary_arn]
}

run "rejects_vault_without_any_key_and_bad_log_retention" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # vault without any key: var.vault
    vault = { create_kms_key = false }
    # bad log retention: var.log_retention_days
    log_retention_days = 42
  }
  expect_failures = [var.vault, var.log_retention_days]
}

run "rejects_lock_on_existing_vault_and_bad_log_key" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # lock on existing vault: var.vault
    vault = { create = false, name = "existing", lock = { min_retention_days = 7 } }
    # bad log key: var.log_kms_key_arn
    log_kms_key_arn = "alias/logs"
  }
  expect_failures = [var.vault, var.log_kms_key_arn]
}

run "rejects_lock_min_out_of_range_and_opt_out_equal_to_selection_key" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    # lock min out of range: var.vault
    vault = { lock = { min_retention_days = 0 } }
    # opt out equal to selection key: var.opt_out_tag_key
    opt_out_tag_key = "AppConsistentBackup"
  }
  expect_failures = [var.vault, var.opt_out_tag_key]
}

run "rejects_lock_max_below_min" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    vault = { lock = { min_retention_days = 30, max_retention_days = 7 } }
  }
  expect_failures = [var.vault]
}

run "rejects_short_lock_grace_period" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    vault = { lock = { min_retention_days = 7, changeable_for_days = 2 } }
  }
  expect_failures = [var.vault]
}

run "rejects_old_runtime" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    discovery = { runtime = "python3.9" }
  }
  expect_failures = [var.discovery]
}

run "rejects_bad_architecture" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    discovery = { architecture = "arm" }
  }
  expect_failures = [var.discovery]
}

run "rejects_memory_out_of_range" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    discovery = { memory_size = 64 }
  }
  expect_failures = [var.discovery]
}

run "rejects_timeout_out_of_range" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    discovery = { timeout = 901 }
  }
  expect_failures = [var.discovery]
}

run "rejects_concurrency_out_of_range" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    discovery = { max_concurrency = 0 }
  }
  expect_failures = [var.discovery]
}

run "rejects_rate_over_quota" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    discovery = { start_rate_per_second = 1000 }
  }
  expect_failures = [var.discovery]
}

run "rejects_a_not_selected_reporter_that_is_no_schedule" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    discovery = { not_selected_reporter = "weekly" }
  }
  expect_failures = [var.discovery]
}
