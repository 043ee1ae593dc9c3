mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:111122223333:acb-notifications" }
  }
  mock_resource "aws_sns_topic_subscription" {
    defaults = { arn = "arn:aws:sns:eu-west-1:111122223333:acb-notifications:00000000-0000-0000-0000-000000000000" }
  }
}

variables {
  name_prefix = "acb"
}

run "creates_encrypted_topic" {
  command = apply

  variables {
    subscriptions = {
      servicenow = { protocol = "https", endpoint = "https://example.service-now.com/api/global/em/jsonv2", raw_message_delivery = true }
      oncall     = { protocol = "email", endpoint = "oncall@example.com", filter_policy = "{\"severity\": [\"1\", \"2\"]}" }
    }
  }

  assert {
    condition     = aws_sns_topic.this[0].kms_master_key_id == aws_kms_key.topic[0].arn
    error_message = "The created topic is encrypted with the created customer-managed key."
  }

  assert {
    condition     = contains([for s in jsondecode(aws_kms_key.topic[0].policy).Statement : try(s.Principal.Service, "")], "cloudwatch.amazonaws.com")
    error_message = "The topic key lets CloudWatch alarms publish (they cannot be granted through IAM)."
  }

  assert {
    condition     = anytrue([for s in jsondecode(aws_sns_topic_policy.this[0].policy).Statement : try(s.Effect == "Deny" && s.Condition.Bool["aws:SecureTransport"] == "false", false)])
    error_message = "The topic refuses publishing over plain HTTP."
  }

  assert {
    condition     = aws_sns_topic_subscription.this["oncall"].filter_policy_scope == "MessageAttributes"
    error_message = "Filter policies apply to the message attributes (severity, stage, outcome, instance_id)."
  }

  assert {
    condition     = length(output.subscription_arns) == 2
    error_message = "Both subscriptions are output."
  }
}

run "brings_own_topic" {
  command = apply

  variables {
    create_topic = false
    topic_arn    = "arn:aws:sns:eu-west-1:111122223333:itsm"
    kms_key_arn  = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = length(aws_sns_topic.this) == 0 && length(aws_kms_key.topic) == 0
    error_message = "A brought topic creates neither topic nor key."
  }

  assert {
    condition     = output.topic_arn == var.topic_arn && output.kms_key_arn == var.kms_key_arn
    error_message = "The brought topic and its key are output for the publishers' policies."
  }
}

run "rejects_bad_name_prefix" {
  command = plan
  variables { name_prefix = "-acb" }
  expect_failures = [var.name_prefix]
}

run "rejects_bad_topic_arn" {
  command = plan
  variables { topic_arn = "itsm" }
  expect_failures = [var.topic_arn]
}

run "rejects_brought_topic_without_arn" {
  command = plan
  variables { create_topic = false }
  expect_failures = [var.topic_arn]
}

run "rejects_aws_managed_key" {
  command = plan
  variables { kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:alias/aws/sns" }
  expect_failures = [var.kms_key_arn]
}

run "rejects_key_id" {
  command = plan
  variables { kms_key_arn = "11111111-2222-3333-4444-555555555555" }
  expect_failures = [var.kms_key_arn]
}

run "rejects_plain_http" {
  command = plan
  variables { subscriptions = { itsm = { protocol = "http", endpoint = "http://example.com/hook" } } }
  expect_failures = [var.subscriptions]
}

run "rejects_https_protocol_with_http_url" {
  command = plan
  variables { subscriptions = { itsm = { protocol = "https", endpoint = "http://example.com/hook" } } }
  expect_failures = [var.subscriptions]
}

run "rejects_bad_email" {
  command = plan
  variables { subscriptions = { oncall = { protocol = "email", endpoint = "not-an-address" } } }
  expect_failures = [var.subscriptions]
}

run "rejects_bad_filter_policy" {
  command = plan
  variables { subscriptions = { oncall = { protocol = "email", endpoint = "a@example.com", filter_policy = "severity=1" } } }
  expect_failures = [var.subscriptions]
}

run "rejects_subscriptions_on_brought_topic" {
  command = plan
  variables {
    create_topic  = false
    topic_arn     = "arn:aws:sns:eu-west-1:111122223333:itsm"
    subscriptions = { oncall = { protocol = "email", endpoint = "a@example.com" } }
  }
  expect_failures = [var.subscriptions]
}
