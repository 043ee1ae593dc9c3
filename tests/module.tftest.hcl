# The root module composes its submodules as documented: settings resolve per
# schedule, brought resources are used as they are, outputs are wired through.

mock_provider "aws" {
  source = "./tests/mocks"
}

run "defaults" {
  command = apply

  assert {
    condition     = keys(output.schedules) == ["nightly"] && output.schedules.nightly.tag_value == "nightly"
    error_message = "By default one schedule, nightly, selects AppConsistentBackup = nightly."
  }

  assert {
    condition = output.schedules.nightly.policy == {
      retention_days     = 35
      max_freeze_seconds = 60
      on_freeze_failure  = "crash-consistent"
      stopped_instances  = "backup"
      copy_targets       = []
      notify_on_success  = false
    }
    error_message = "The default policy: 35 days, 60 s freeze bound, crash-consistent fallback, stopped instances backed up, no copies."
  }

  assert {
    condition     = output.vault_name == "app-consistent-backup"
    error_message = "The created vault is named after name_prefix."
  }

  assert {
    condition     = yamldecode(module.instance_documents.document_content).parameters.MaxFreezeSeconds.default == "60"
    error_message = "The document's MaxFreezeSeconds default (a command sent by hand) is the module's max_freeze_seconds."
  }

  assert {
    condition     = startswith(output.ssm_document_name, "app-consistent-backup")
    error_message = "The instance documents are the module's own, named after name_prefix."
  }
}

run "per_schedule_overrides_and_copies" {
  command = apply

  variables {
    max_freeze_seconds = 45
    on_freeze_failure  = "skip"
    schedules = {
      nightly = { schedule_expression = "cron(0 1 * * ? *)", timezone = "Europe/Paris" }
      db      = { schedule_expression = "rate(1 hour)", tag_value = "hourly-db", retention_days = 7, max_freeze_seconds = 20, on_freeze_failure = "fail", stopped_instances = "skip" }
    }
    copy_destinations = [
      { destination_vault_arn = "arn:aws:backup:eu-central-1:111122223333:backup-vault:dr", retention_days = 90 },
      { destination_vault_arn = "arn:aws:backup:us-east-1:444455556666:backup-vault:offsite" },
    ]
    notifications = { notify_on_success = true }
  }

  assert {
    condition     = output.schedules.nightly.policy.max_freeze_seconds == 45 && output.schedules.nightly.policy.on_freeze_failure == "skip"
    error_message = "A schedule without overrides takes the module-wide settings."
  }

  assert {
    condition = (
      output.schedules.db.tag_value == "hourly-db" &&
      output.schedules.db.policy.max_freeze_seconds == 20 &&
      output.schedules.db.policy.on_freeze_failure == "fail" &&
      output.schedules.db.policy.stopped_instances == "skip"
    )
    error_message = "A schedule's own settings override the module-wide ones."
  }

  assert {
    condition     = [for c in output.schedules.db.policy.copy_targets : c.retention_days] == [90, 7]
    error_message = "A copy without its own retention keeps the schedule's."
  }

  assert {
    condition     = output.schedules.nightly.policy.notify_on_success
    error_message = "notify_on_success reaches every schedule's policy."
  }

  assert {
    condition     = keys(output.schedule_names) == ["db", "nightly"]
    error_message = "One EventBridge schedule per entry of var.schedules."
  }
}

run "brought_vault_and_topic" {
  command = apply

  variables {
    vault = { create = false, name = "existing" }
    notifications = {
      create_topic = false
      topic_arn    = "arn:aws:sns:eu-west-1:111122223333:itsm"
      kms_key_arn  = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
    }
  }

  assert {
    condition     = output.vault_arn == "arn:aws:backup:eu-west-1:111122223333:backup-vault:existing"
    error_message = "An existing vault is used as it is."
  }

  assert {
    condition     = output.sns_topic_arn == "arn:aws:sns:eu-west-1:111122223333:itsm"
    error_message = "A brought topic is used as it is."
  }
}

run "subscriptions_output" {
  command = apply

  variables {
    notifications = {
      subscriptions = {
        on-call = { protocol = "email", endpoint = "oncall@example.com" }
        itsm    = { protocol = "https", endpoint = "https://hooks.example.com/backup-events" }
      }
    }
  }

  assert {
    condition     = keys(output.subscriptions) == ["itsm", "on-call"]
    error_message = "The subscriptions output is keyed like var.notifications.subscriptions."
  }

  assert {
    condition     = alltrue([for s in values(output.subscriptions) : startswith(s.arn, "arn:aws:sns:") && s.pending_confirmation == true])
    error_message = "Each subscription shows its ARN and whether it still waits for confirmation."
  }
}
