mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:111122223333:acb-notifications" }
  }
  mock_resource "aws_sns_topic_subscription" {
    defaults = { arn = "arn:aws:sns:eu-west-1:111122223333:acb-notifications:00000000-0000-0000-0000-000000000000" }
  }
}

override_resource {
  target = aws_sns_topic.alarms
  values = { arn = "arn:aws:sns:eu-west-1:111122223333:acb-alarms" }
}

variables {
  name_prefix = "acb"
}

run "creates_encrypted_topic" {
  command = apply

  variables {
    subscriptions = {
      webhook = { protocol = "https", endpoint = "https://hooks.example.com/backup", raw_message_delivery = true }
      oncall  = { protocol = "email", endpoint = "oncall@example.com", filter_policy = "{\"severity\": [\"1\", \"2\"]}" }
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

run "alarms_have_their_own_topic_every_endpoint_hears" {
  command = apply

  variables {
    subscriptions = {
      oncall  = { protocol = "email", endpoint = "oncall@example.com", filter_policy = "{\"severity\": [\"1\", \"2\"]}" }
      archive = { protocol = "email", endpoint = "archive@example.com", alarms = false }
    }
  }

  assert {
    condition     = aws_sns_topic.alarms[0].name == "acb-alarms" && aws_sns_topic.alarms[0].kms_master_key_id == aws_kms_key.topic[0].arn
    error_message = "The alarm topic sits beside the notifications topic, under the same key."
  }

  assert {
    condition     = output.alarm_topic_arn == "arn:aws:sns:eu-west-1:111122223333:acb-alarms"
    error_message = "The alarm route is output for the alarms' actions."
  }

  assert {
    condition     = anytrue([for s in jsondecode(aws_sns_topic_policy.alarms[0].policy).Statement : try(s.Principal.Service == "cloudwatch.amazonaws.com" && s.Action == "sns:Publish", false)])
    error_message = "CloudWatch alarms may publish to the alarm topic."
  }

  assert {
    condition     = keys(aws_sns_topic_subscription.alarms) == ["oncall"] && aws_sns_topic_subscription.alarms["oncall"].topic_arn == output.alarm_topic_arn
    error_message = "Every endpoint is subscribed to the alarms too, unless it opts out."
  }

  assert {
    condition     = aws_sns_topic_subscription.alarms["oncall"].filter_policy == null
    error_message = "The severity filter is not applied to alarms, which carry no message attributes: the on-call address hears every alarm."
  }
}

run "https_subscribers_choose_content_type_and_confirmation_timeout" {
  command = plan

  variables {
    subscriptions = {
      webhook = {
        protocol                        = "https"
        endpoint                        = "https://hooks.example.com/backup"
        content_type                    = "application/json"
        delivery_policy                 = "{\"healthyRetryPolicy\": {\"numRetries\": 5}}"
        confirmation_timeout_in_minutes = 5
        endpoint_auto_confirms          = true
      }
    }
  }

  assert {
    condition     = jsondecode(aws_sns_topic_subscription.this["webhook"].delivery_policy) == { healthyRetryPolicy = { numRetries = 5 }, requestPolicy = { headerContentType = "application/json" } }
    error_message = "The content type goes into the delivery policy, merged with the caller's."
  }

  assert {
    condition     = aws_sns_topic_subscription.this["webhook"].confirmation_timeout_in_minutes == 5 && aws_sns_topic_subscription.alarms["webhook"].delivery_policy == aws_sns_topic_subscription.this["webhook"].delivery_policy
    error_message = "The confirmation timeout and the delivery policy apply to both topics."
  }
}

run "sqs_and_lambda_subscribers_get_what_sns_needs_to_deliver" {
  command = plan

  variables {
    subscriptions = {
      queue    = { protocol = "sqs", endpoint = "arn:aws:sqs:eu-west-1:111122223333:itsm", raw_message_delivery = true }
      filtered = { protocol = "sqs", endpoint = "arn:aws:sqs:eu-west-1:111122223333:triage", alarms = false, filter_policy = "{\"severity\": [\"1\"]}" }
      handler  = { protocol = "lambda", endpoint = "arn:aws:lambda:eu-west-1:111122223333:function:triage:live" }
    }
  }

  assert {
    condition     = keys(aws_sqs_queue_policy.subscribed) == ["filtered", "queue"]
    error_message = "One policy per queue, keyed by its subscription (known at plan even when the queue is not)."
  }

  assert {
    condition     = aws_sqs_queue_policy.subscribed["queue"].queue_url == "https://sqs.eu-west-1.amazonaws.com/111122223333/itsm"
    error_message = "The policy is written to the queue's URL."
  }

  assert {
    condition = anytrue([for s in jsondecode(aws_sqs_queue_policy.subscribed["queue"].policy).Statement : try(
      s.Principal.Service == "sns.amazonaws.com" && s.Action == "sqs:SendMessage" &&
      s.Resource == "arn:aws:sqs:eu-west-1:111122223333:itsm" &&
      s.Condition.ArnEquals["aws:SourceArn"] == ["arn:aws:sns:eu-west-1:111122223333:acb-notifications", "arn:aws:sns:eu-west-1:111122223333:acb-alarms"]
    , false)])
    error_message = "SNS may send to the queue from both topics, and from nothing else."
  }

  assert {
    condition = anytrue([for s in jsondecode(aws_sqs_queue_policy.subscribed["filtered"].policy).Statement : try(
      s.Action == "sqs:SendMessage" && s.Condition.ArnEquals["aws:SourceArn"] == ["arn:aws:sns:eu-west-1:111122223333:acb-notifications"]
    , false)])
    error_message = "A queue that opted out of the alarms hears the notifications topic only."
  }

  assert {
    condition = (
      aws_lambda_permission.notifications["handler"].function_name == "arn:aws:lambda:eu-west-1:111122223333:function:triage" &&
      aws_lambda_permission.notifications["handler"].qualifier == "live" &&
      aws_lambda_permission.notifications["handler"].principal == "sns.amazonaws.com" &&
      aws_lambda_permission.notifications["handler"].source_arn == "arn:aws:sns:eu-west-1:111122223333:acb-notifications" &&
      aws_lambda_permission.alarms["handler"].source_arn == "arn:aws:sns:eu-west-1:111122223333:acb-alarms"
    )
    error_message = "The function (its alias) lets SNS invoke it from each topic."
  }
}

run "refuses_two_subscriptions_of_one_endpoint" {
  command = plan

  variables {
    subscriptions = {
      queue  = { protocol = "sqs", endpoint = "arn:aws:sqs:eu-west-1:111122223333:itsm" }
      queue2 = { protocol = "sqs", endpoint = "arn:aws:sqs:eu-west-1:111122223333:itsm", alarms = false }
    }
  }

  expect_failures = [var.subscriptions]
}

run "callers_may_grant_access_themselves" {
  command = plan

  variables {
    subscriptions = {
      queue = { protocol = "sqs", endpoint = "arn:aws:sqs:eu-west-1:444455556666:central-itsm", grant_access = false }
    }
  }

  assert {
    condition     = length(aws_sqs_queue_policy.subscribed) == 0 && length(aws_sns_topic_subscription.this) == 1
    error_message = "With grant_access = false the module subscribes and leaves the queue's policy alone."
  }
}

run "refuses_to_write_another_accounts_queue_policy" {
  command = plan

  variables {
    subscriptions = {
      queue = { protocol = "sqs", endpoint = "arn:aws:sqs:eu-west-1:444455556666:central-itsm" }
    }
  }

  expect_failures = [aws_sqs_queue_policy.subscribed]
}

run "refuses_a_function_in_another_region" {
  command = plan

  variables {
    subscriptions = {
      handler = { protocol = "lambda", endpoint = "arn:aws:lambda:us-east-1:111122223333:function:triage" }
    }
  }

  expect_failures = [aws_lambda_permission.notifications]
}

run "brought_topic_routes_alarms_to_itself_or_to_the_given_topic" {
  command = plan

  variables {
    create_topic = false
    topic_arn    = "arn:aws:sns:eu-west-1:111122223333:itsm"
  }

  assert {
    condition     = output.alarm_topic_arn == var.topic_arn && length(aws_sns_topic.alarms) == 0
    error_message = "A brought topic without an alarm topic carries the alarms itself."
  }
}

run "brought_alarm_topic" {
  command = plan

  variables {
    create_topic    = false
    topic_arn       = "arn:aws:sns:eu-west-1:111122223333:itsm"
    alarm_topic_arn = "arn:aws:sns:eu-west-1:111122223333:itsm-alarms"
  }

  assert {
    condition     = output.alarm_topic_arn == var.alarm_topic_arn
    error_message = "A brought alarm topic is the alarm route."
  }
}

run "rejects_jsonv2_as_a_subscription" {
  command = plan
  variables { subscriptions = { servicenow = { protocol = "https", endpoint = "https://acme.service-now.com/api/global/em/jsonv2", raw_message_delivery = true } } }
  expect_failures = [var.subscriptions]
}

run "rejects_content_type_on_email" {
  command = plan
  variables { subscriptions = { oncall = { protocol = "email", endpoint = "a@example.com", content_type = "application/json" } } }
  expect_failures = [var.subscriptions]
}

run "rejects_an_unsupported_content_type" {
  command = plan
  variables { subscriptions = { hook = { protocol = "https", endpoint = "https://hooks.example.com/x", content_type = "text/json" } } }
  expect_failures = [var.subscriptions]
}

run "rejects_raw_delivery_to_email" {
  command = plan
  variables { subscriptions = { oncall = { protocol = "email", endpoint = "a@example.com", raw_message_delivery = true } } }
  expect_failures = [var.subscriptions]
}

run "rejects_a_fifo_queue" {
  command = plan
  variables { subscriptions = { queue = { protocol = "sqs", endpoint = "arn:aws:sqs:eu-west-1:111122223333:itsm.fifo" } } }
  expect_failures = [var.subscriptions]
}

run "rejects_an_alarm_topic_beside_a_created_topic" {
  command = plan
  variables { alarm_topic_arn = "arn:aws:sns:eu-west-1:111122223333:elsewhere" }
  expect_failures = [var.alarm_topic_arn]
}

run "create_kms_key_false_encrypts_with_the_given_key" {
  command = plan

  variables {
    create_kms_key = false
    kms_key_arn    = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = length(aws_kms_key.topic) == 0 && aws_sns_topic.this[0].kms_master_key_id == var.kms_key_arn && aws_sns_topic.alarms[0].kms_master_key_id == var.kms_key_arn
    error_message = "create_kms_key = false creates no key and encrypts both topics with kms_key_arn."
  }
}

run "rejects_create_kms_key_with_a_key" {
  command = plan
  variables {
    create_kms_key = true
    kms_key_arn    = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  }
  expect_failures = [var.create_kms_key]
}

run "rejects_create_kms_key_false_without_a_key" {
  command = plan
  variables { create_kms_key = false }
  expect_failures = [var.create_kms_key]
}
