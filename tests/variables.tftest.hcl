# Every validation of the root module's variables rejects what it should.
# The positive runs (defaults, the complete example's shape) live in module.tftest.hcl.

mock_provider "aws" {
  source = "./tests/mocks"
}

run "rejects_bad_name_prefix" {
  command = plan
  variables { name_prefix = "App_Backup" }
  expect_failures = [var.name_prefix]
}

run "rejects_aws_reserved_selection_tag_key" {
  command = plan
  variables { selection_tag_key = "aws:backup" }
  expect_failures = [var.selection_tag_key]
}

run "rejects_bad_opt_out_tag_key" {
  command = plan
  variables { opt_out_tag_key = "opt-out;rm" }
  expect_failures = [var.opt_out_tag_key]
}

run "rejects_opt_out_equal_to_selection_key" {
  command = plan
  variables { opt_out_tag_key = "AppConsistentBackup" }
  expect_failures = [var.opt_out_tag_key]
}

run "rejects_no_schedule" {
  command = plan
  variables { schedules = {} }
  expect_failures = [var.schedules]
}

run "rejects_bad_schedule_name" {
  command = plan
  variables { schedules = { "Nightly_Run" = { schedule_expression = "cron(0 1 * * ? *)" } } }
  expect_failures = [var.schedules]
}

run "rejects_five_field_cron" {
  command = plan
  variables { schedules = { nightly = { schedule_expression = "cron(0 1 * * *)" } } }
  expect_failures = [var.schedules]
}

run "rejects_bad_rate" {
  command = plan
  variables { schedules = { nightly = { schedule_expression = "rate(0 hours)" } } }
  expect_failures = [var.schedules]
}

run "rejects_bad_timezone" {
  command = plan
  variables { schedules = { nightly = { schedule_expression = "cron(0 1 * * ? *)", timezone = "Paris time" } } }
  expect_failures = [var.schedules]
}

run "rejects_retention_out_of_range" {
  command = plan
  variables { schedules = { nightly = { schedule_expression = "cron(0 1 * * ? *)", retention_days = 0 } } }
  expect_failures = [var.schedules]
}

run "rejects_flexible_window_out_of_range" {
  command = plan
  variables { schedules = { nightly = { schedule_expression = "cron(0 1 * * ? *)", flexible_window_minutes = 2000 } } }
  expect_failures = [var.schedules]
}

run "rejects_bad_tag_value" {
  command = plan
  variables { schedules = { nightly = { schedule_expression = "cron(0 1 * * ? *)", tag_value = "night$(id)" } } }
  expect_failures = [var.schedules]
}

run "rejects_schedule_freeze_out_of_range" {
  command = plan
  variables { schedules = { nightly = { schedule_expression = "cron(0 1 * * ? *)", max_freeze_seconds = 14 } } }
  expect_failures = [var.schedules]
}

run "rejects_schedule_bad_fallback" {
  command = plan
  variables { schedules = { nightly = { schedule_expression = "cron(0 1 * * ? *)", on_freeze_failure = "ignore" } } }
  expect_failures = [var.schedules]
}

run "rejects_schedule_bad_stopped_policy" {
  command = plan
  variables { schedules = { nightly = { schedule_expression = "cron(0 1 * * ? *)", stopped_instances = "start" } } }
  expect_failures = [var.schedules]
}

run "rejects_two_schedules_same_tag_value" {
  command = plan
  variables {
    schedules = {
      nightly = { schedule_expression = "cron(0 1 * * ? *)" }
      other   = { schedule_expression = "cron(0 2 * * ? *)", tag_value = "nightly" }
    }
  }
  expect_failures = [var.schedules]
}

run "rejects_retention_outside_vault_lock" {
  command = plan
  variables {
    vault     = { lock = { min_retention_days = 30 } }
    schedules = { nightly = { schedule_expression = "cron(0 1 * * ? *)", retention_days = 7 } }
  }
  expect_failures = [var.schedules]
}

# The messages name the bad keys among good ones (tests/test_validation_messages.py reads
# them); these runs prove the message expressions evaluate at plan time, the vault
# lock's cross-variable one included.
run "rejects_one_bad_schedule_among_good_ones" {
  command = plan
  variables {
    schedules = {
      nightly = { schedule_expression = "cron(0 1 * * ? *)" }
      hourly  = { schedule_expression = "rate(1 hour)", max_freeze_seconds = 30 }
      broken  = { schedule_expression = "cron(0 1 * * *)", timezone = "Paris time", max_freeze_seconds = 5 }
    }
  }
  expect_failures = [var.schedules]
}

run "rejects_one_schedule_outside_vault_lock_among_good_ones" {
  command = plan
  variables {
    vault = { lock = { min_retention_days = 7, max_retention_days = 30 } }
    schedules = {
      weekly  = { schedule_expression = "rate(7 days)", retention_days = 14 }
      monthly = { schedule_expression = "rate(30 days)", retention_days = 365 }
    }
  }
  expect_failures = [var.schedules]
}

run "rejects_freeze_too_short" {
  command = plan
  variables { max_freeze_seconds = 10 }
  expect_failures = [var.max_freeze_seconds]
}

run "rejects_bad_fallback" {
  command = plan
  variables { on_freeze_failure = "retry" }
  expect_failures = [var.on_freeze_failure]
}

run "rejects_bad_stopped_policy" {
  command = plan
  variables { stopped_instances = "start" }
  expect_failures = [var.stopped_instances]
}

run "rejects_bad_vault_name" {
  command = plan
  variables { vault = { name = "a" } }
  expect_failures = [var.vault]
}

run "rejects_existing_vault_without_name" {
  command = plan
  variables { vault = { create = false } }
  expect_failures = [var.vault]
}

run "rejects_aws_managed_vault_key" {
  command = plan
  variables { vault = { kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:alias/aws/backup" } }
  expect_failures = [var.vault]
}

run "rejects_vault_key_alias" {
  command = plan
  variables { vault = { kms_key_arn = "alias/my-key" } }
  expect_failures = [var.vault]
}

run "rejects_vault_key_created_and_given" {
  command = plan
  variables { vault = { create_kms_key = true, kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555" } }
  expect_failures = [var.vault]
}

run "rejects_vault_without_any_key" {
  command = plan
  variables { vault = { create_kms_key = false } }
  expect_failures = [var.vault]
}

run "rejects_lock_on_existing_vault" {
  command = plan
  variables { vault = { create = false, name = "existing", lock = { min_retention_days = 7 } } }
  expect_failures = [var.vault]
}

run "rejects_lock_min_out_of_range" {
  command = plan
  variables { vault = { lock = { min_retention_days = 0 } } }
  expect_failures = [var.vault]
}

run "rejects_lock_max_below_min" {
  command = plan
  variables { vault = { lock = { min_retention_days = 30, max_retention_days = 7 } } }
  expect_failures = [var.vault]
}

run "rejects_short_lock_grace_period" {
  command = plan
  variables { vault = { lock = { min_retention_days = 7, changeable_for_days = 2 } } }
  expect_failures = [var.vault]
}

run "rejects_bad_copy_destination" {
  command = plan
  variables { copy_destinations = [{ destination_vault_arn = "arn:aws:s3:::bucket" }] }
  expect_failures = [var.copy_destinations]
}

run "rejects_copy_retention_out_of_range" {
  command = plan
  variables { copy_destinations = [{ destination_vault_arn = "arn:aws:backup:eu-central-1:111122223333:backup-vault:dr", retention_days = 0 }] }
  expect_failures = [var.copy_destinations]
}

run "rejects_duplicate_copy_destination" {
  command = plan
  variables {
    copy_destinations = [
      { destination_vault_arn = "arn:aws:backup:eu-central-1:111122223333:backup-vault:dr" },
      { destination_vault_arn = "arn:aws:backup:eu-central-1:111122223333:backup-vault:dr", retention_days = 90 },
    ]
  }
  expect_failures = [var.copy_destinations]
}

run "rejects_brought_topic_without_arn" {
  command = plan
  variables { notifications = { create_topic = false } }
  expect_failures = [var.notifications]
}

run "rejects_bad_topic_arn" {
  command = plan
  variables { notifications = { create_topic = false, topic_arn = "my-topic" } }
  expect_failures = [var.notifications]
}

run "rejects_aws_managed_topic_key" {
  command = plan
  variables { notifications = { kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:alias/aws/sns" } }
  expect_failures = [var.notifications]
}

run "rejects_topics_without_any_key" {
  command = plan
  variables { notifications = { create_kms_key = false } }
  expect_failures = [var.notifications]
}

run "rejects_storm_threshold_out_of_range" {
  command = plan
  variables { notifications = { storm_threshold = 0 } }
  expect_failures = [var.notifications]
}

run "rejects_plain_http_subscription" {
  command = plan
  variables { notifications = { subscriptions = { itsm = { protocol = "http", endpoint = "http://example.com" } } } }
  expect_failures = [var.notifications]
}

run "rejects_https_subscription_to_http_url" {
  command = plan
  variables { notifications = { subscriptions = { itsm = { protocol = "https", endpoint = "http://example.com" } } } }
  expect_failures = [var.notifications]
}

run "rejects_bad_email_subscription" {
  command = plan
  variables { notifications = { subscriptions = { oncall = { protocol = "email", endpoint = "oncall" } } } }
  expect_failures = [var.notifications]
}

run "rejects_bad_filter_policy" {
  command = plan
  variables { notifications = { subscriptions = { oncall = { protocol = "email", endpoint = "a@example.com", filter_policy = "{severity" } } } }
  expect_failures = [var.notifications]
}

run "rejects_subscriptions_on_brought_topic" {
  command = plan
  variables {
    notifications = {
      create_topic  = false
      topic_arn     = "arn:aws:sns:eu-west-1:111122223333:itsm"
      subscriptions = { oncall = { protocol = "email", endpoint = "a@example.com" } }
    }
  }
  expect_failures = [var.notifications]
}

run "rejects_old_runtime" {
  command = plan
  variables { discovery = { runtime = "python3.9" } }
  expect_failures = [var.discovery]
}

run "rejects_bad_architecture" {
  command = plan
  variables { discovery = { architecture = "arm" } }
  expect_failures = [var.discovery]
}

run "rejects_memory_out_of_range" {
  command = plan
  variables { discovery = { memory_size = 64 } }
  expect_failures = [var.discovery]
}

run "rejects_timeout_out_of_range" {
  command = plan
  variables { discovery = { timeout = 901 } }
  expect_failures = [var.discovery]
}

run "rejects_concurrency_out_of_range" {
  command = plan
  variables { discovery = { max_concurrency = 0 } }
  expect_failures = [var.discovery]
}

run "rejects_rate_over_quota" {
  command = plan
  variables { discovery = { start_rate_per_second = 1000 } }
  expect_failures = [var.discovery]
}

run "rejects_a_not_selected_reporter_that_is_no_schedule" {
  command = plan
  variables { discovery = { not_selected_reporter = "weekly" } }
  expect_failures = [var.discovery]
}

run "rejects_bad_permissions_boundary" {
  command = plan
  variables { permissions_boundary_arn = "arn:aws:iam::111122223333:role/boundary" }
  expect_failures = [var.permissions_boundary_arn]
}

run "rejects_bad_log_retention" {
  command = plan
  variables { log_retention_days = 42 }
  expect_failures = [var.log_retention_days]
}

run "rejects_bad_log_key" {
  command = plan
  variables { log_kms_key_arn = "alias/logs" }
  expect_failures = [var.log_kms_key_arn]
}
