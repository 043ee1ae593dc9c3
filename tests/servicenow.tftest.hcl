# ServiceNow delivery and the alarm route, composed by the root module.
# The runs that only expect a variable's failure plan tests/fixtures/root_variables, the
# root's variables without its submodules (see variables.tftest.hcl).

mock_provider "aws" {
  source = "./tests/mocks"
}

override_resource {
  target = module.notifications.aws_sns_topic.alarms
  values = { arn = "arn:aws:sns:eu-west-1:111122223333:app-consistent-backup-alarms" }
}

variables {
  servicenow = {
    instance_url = "https://acme.service-now.com"
    secret_arn   = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:acb/servicenow-AbCdEf"
  }
  notifications = {
    subscriptions = {
      on-call = { protocol = "email", endpoint = "oncall@example.com", filter_policy = "{\"severity\": [\"1\", \"2\"]}" }
    }
  }
}

# (terraform test sees the outputs of submodules, not their resources: the alarms'
# actions are asserted in each submodule's tests, and on the applied module by the
# demo, which reads every alarm back from the emulator.)

run "alarms_have_a_route_and_servicenow_a_queue" {
  command = apply

  assert {
    condition     = output.alarm_topic_arn == "arn:aws:sns:eu-west-1:111122223333:app-consistent-backup-alarms" && output.alarm_topic_arn != output.sns_topic_arn
    error_message = "The alarms have a topic of their own."
  }

  assert {
    condition = keys(output.alarm_names) == [
      "crash-consistent-timeout-share", "discovery-dlq", "discovery-errors", "discovery-throttles", "nightly-no-recovery-point", "scheduler-failed",
    ]
    error_message = "Alarms on the discovery function's errors, throttles and dead letters, on the scheduler, on the nightly schedule's recovery points, and on the share of crash-consistent-timeout."
  }

  assert {
    condition     = output.servicenow_function_name == "app-consistent-backup-servicenow" && output.servicenow_queue_url != null && output.servicenow_dead_letter_queue_url != null
    error_message = "servicenow set: the delivery component exists."
  }
}

run "no_servicenow_no_delivery" {
  command = plan

  variables {
    servicenow = null
  }

  assert {
    condition     = output.servicenow_function_name == null && output.servicenow_queue_url == null
    error_message = "The component is optional: off by default."
  }
}

run "brought_topic_carries_the_alarms" {
  command = plan

  variables {
    notifications = { create_topic = false, topic_arn = "arn:aws:sns:eu-west-1:111122223333:itsm" }
  }

  assert {
    condition     = output.alarm_topic_arn == "arn:aws:sns:eu-west-1:111122223333:itsm"
    error_message = "Without an alarm topic of its own, alarms go to the brought topic."
  }
}

run "rejects_jsonv2_as_a_subscription" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables {
    notifications = { subscriptions = { servicenow = { protocol = "https", endpoint = "https://acme.service-now.com/api/global/em/jsonv2", raw_message_delivery = true, endpoint_auto_confirms = true } } }
  }
  expect_failures = [var.notifications]
}

run "rejects_credentials_for_a_secret_arn" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables { servicenow = { instance_url = "https://acme.service-now.com", secret_arn = "admin:password" } }
  expect_failures = [var.servicenow]
}

run "rejects_the_jsonv2_url_as_instance_url" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables { servicenow = { instance_url = "https://acme.service-now.com/api/global/em/jsonv2", secret_arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:acb/servicenow-AbCdEf" } }
  expect_failures = [var.servicenow]
}

run "the_consistency_share_alarm_is_configured_from_monitoring" {
  command = plan

  variables {
    monitoring = { consistency_share_alarms = { crash-consistent-timeout = 0, crash-consistent-watchdog = 5 }, consistency_share_alarm_hours = 12 }
  }

  assert {
    condition     = keys(module.state_machine.consistency_alarm_names) == ["crash-consistent-watchdog-share"] && output.alarm_names["crash-consistent-watchdog-share"] == "app-consistent-backup-backup-instance-crash-consistent-watchdog-share"
    error_message = "monitoring.consistency_share_alarms reaches the state machine's share alarms (0 switches the default off)."
  }
}

run "rejects_a_share_alarm_on_application_consistent" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables { monitoring = { consistency_share_alarms = { application-consistent = 90 } } }
  expect_failures = [var.monitoring]
}

run "rejects_a_share_window_beyond_7_days" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables { monitoring = { consistency_share_alarm_hours = 200 } }
  expect_failures = [var.monitoring]
}

run "rejects_hours_for_an_unknown_schedule" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables { monitoring = { recovery_point_alarm_hours = { weekly = 24 } } }
  expect_failures = [var.monitoring]
}
