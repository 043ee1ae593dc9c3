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
    defaults = { arn = "arn:aws:iam::111122223333:role/acb-servicenow" }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn           = "arn:aws:lambda:eu-west-1:111122223333:function:acb-servicenow"
      invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:acb-servicenow/invocations"
      qualified_arn = "arn:aws:lambda:eu-west-1:111122223333:function:acb-servicenow:1"
    }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:111122223333:acb-servicenow"
      id  = "https://sqs.eu-west-1.amazonaws.com/111122223333/acb-servicenow"
      url = "https://sqs.eu-west-1.amazonaws.com/111122223333/acb-servicenow"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/acb-servicenow" }
  }
  mock_resource "aws_sns_topic_subscription" {
    defaults = { arn = "arn:aws:sns:eu-west-1:111122223333:acb-notifications:00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = { arn = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:acb-servicenow" }
  }
}

variables {
  name_prefix  = "acb"
  instance_url = "https://acme.service-now.com/"
  secret_arn   = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:acb/servicenow-AbCdEf"
  topic_arns = {
    notifications = "arn:aws:sns:eu-west-1:111122223333:acb-notifications"
    alarms        = "arn:aws:sns:eu-west-1:111122223333:acb-alarms"
  }
  alarm_actions = ["arn:aws:sns:eu-west-1:111122223333:acb-alarms"]
}

run "topics_feed_the_queue_which_feeds_the_function" {
  command = apply

  assert {
    condition     = length(aws_sns_topic_subscription.events) == 2 && alltrue([for s in aws_sns_topic_subscription.events : s.protocol == "sqs" && s.raw_message_delivery == false])
    error_message = "The queue subscribes to every topic, with raw message delivery off (the function reads the SNS envelope)."
  }

  assert {
    condition     = toset([for s in aws_sns_topic_subscription.events : s.topic_arn]) == toset(values(var.topic_arns))
    error_message = "One subscription per topic given."
  }

  assert {
    condition = anytrue([for s in jsondecode(aws_sqs_queue.events.policy).Statement : try(
      s.Effect == "Allow" && s.Principal.Service == "sns.amazonaws.com" && s.Action == "sqs:SendMessage" &&
      toset(s.Condition.ArnEquals["aws:SourceArn"]) == toset(values(var.topic_arns)) &&
      s.Resource == "arn:aws:sqs:eu-west-1:111122223333:acb-servicenow"
    , false)])
    error_message = "The queue policy lets SNS send from exactly the subscribed topics."
  }

  assert {
    condition     = anytrue([for s in jsondecode(aws_sqs_queue.events.policy).Statement : try(s.Effect == "Deny" && s.Condition.Bool["aws:SecureTransport"] == "false", false)])
    error_message = "The queue refuses plain HTTP."
  }

  assert {
    condition     = jsondecode(aws_sqs_queue.events.redrive_policy).maxReceiveCount == 20 && jsondecode(aws_sqs_queue.events.redrive_policy).deadLetterTargetArn == aws_sqs_queue.dead_letter.arn
    error_message = "After 20 receives SQS moves a message to the dead-letter queue."
  }

  assert {
    condition     = aws_sqs_queue.events.visibility_timeout_seconds == 6 * aws_lambda_function.this.timeout && aws_sqs_queue.events.message_retention_seconds == 1209600
    error_message = "Visibility is six times the function's timeout (AWS's advice); messages are kept 14 days."
  }

  assert {
    condition     = aws_sqs_queue.events.sqs_managed_sse_enabled == true && aws_sqs_queue.dead_letter.sqs_managed_sse_enabled == true
    error_message = "Both queues are encrypted (SSE-SQS, which SNS can always write to)."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.function_response_types == toset(["ReportBatchItemFailures"]) && aws_lambda_event_source_mapping.this.event_source_arn == aws_sqs_queue.events.arn
    error_message = "The queue drives the function, which reports partial batch failures."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.scaling_config[0].maximum_concurrency == 2
    error_message = "A backlog drives at most two invocations at once by default."
  }

  assert {
    condition     = aws_lambda_function.this.handler == "servicenow.handler.handler" && endswith(aws_lambda_function.this.filename, "package/servicenow.zip")
    error_message = "The function runs the committed package's servicenow.handler.handler."
  }

  assert {
    condition = aws_lambda_function.this.environment[0].variables == tomap({
      SERVICENOW_URL          = "https://acme.service-now.com"
      SERVICENOW_SECRET_ARN   = var.secret_arn
      DEAD_LETTER_QUEUE_URL   = aws_sqs_queue.dead_letter.url
      QUEUE_URL               = aws_sqs_queue.events.url
      NAME_PREFIX             = "acb"
      MAX_ATTEMPTS            = "3"
      REQUEST_TIMEOUT_SECONDS = "10"
    })
    error_message = "The environment holds the instance URL (no trailing slash), the secret's ARN (never its value), the queues and the retry settings: docs/contracts.md section 7."
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Resource if contains(flatten([s.Action]), "secretsmanager:GetSecretValue")] == [var.secret_arn]
    error_message = "The role reads exactly the given secret."
  }

  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Resource != "*" || s.Sid == "WriteTraces"])
    error_message = "Every statement names its resource (X-Ray alone has none)."
  }

  assert {
    condition     = !anytrue([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : anytrue([for a in flatten([s.Action]) : startswith(a, "kms:")])])
    error_message = "No KMS permission without a customer-managed key to use."
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Resource if contains(flatten([s.Action]), "sqs:SendMessage")] == ["arn:aws:sqs:eu-west-1:111122223333:acb-servicenow-dlq"]
    error_message = "The function may send to its dead-letter queue only (dead-lettering with the reason)."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["dlq"].dimensions.QueueName == "acb-servicenow-dlq" && aws_cloudwatch_metric_alarm.this["dlq"].threshold == 1 && aws_cloudwatch_metric_alarm.this["dlq"].alarm_actions == toset(var.alarm_actions) && aws_cloudwatch_metric_alarm.this["dlq"].ok_actions == toset(var.alarm_actions)
    error_message = "One dead-lettered event raises the dead-letter alarm on the alarm route, and its clear follows."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["stalled"].metric_name == "ApproximateAgeOfOldestMessage" && aws_cloudwatch_metric_alarm.this["stalled"].threshold == 3600
    error_message = "A queue not drained for an hour raises an alarm."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["errors"].dimensions.FunctionName == "acb-servicenow"
    error_message = "The function's errors raise an alarm."
  }
}

run "customer_managed_keys_are_granted_through_their_service_only" {
  command = plan

  variables {
    secret_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
    queue_kms_key_arn  = "arn:aws:kms:eu-west-1:111122223333:key/66666666-7777-8888-9999-000000000000"
  }

  assert {
    condition = anytrue([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : try(
      s.Sid == "DecryptSecret" && s.Action == ["kms:Decrypt"] && s.Resource == var.secret_kms_key_arn &&
      s.Condition.StringEquals["kms:ViaService"] == "secretsmanager.eu-west-1.amazonaws.com"
    , false)])
    error_message = "kms:Decrypt on the secret's key, through Secrets Manager only."
  }

  assert {
    condition = anytrue([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : try(
      s.Resource == var.queue_kms_key_arn && s.Condition.StringEquals["kms:ViaService"] == "sqs.eu-west-1.amazonaws.com"
    , false)])
    error_message = "The queues' key is usable through SQS only."
  }

  assert {
    condition     = aws_sqs_queue.events.kms_master_key_id == var.queue_kms_key_arn && aws_sqs_queue.dead_letter.kms_master_key_id == var.queue_kms_key_arn
    error_message = "The key encrypts both queues."
  }
}

run "the_local_servicenow_is_reached_over_loopback_http" {
  command = plan

  variables {
    instance_url = "http://127.0.0.1:8080"
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables.SERVICENOW_URL == "http://127.0.0.1:8080"
    error_message = "http is allowed to the loopback (the local ServiceNow of tests and demo)."
  }
}

run "rejects_the_jsonv2_path_as_instance_url" {
  command = plan
  variables { instance_url = "https://acme.service-now.com/api/global/em/jsonv2" }
  expect_failures = [var.instance_url]
}

run "rejects_plain_http_to_a_real_instance" {
  command = plan
  variables { instance_url = "http://acme.service-now.com" }
  expect_failures = [var.instance_url]
}

run "rejects_a_secret_name_for_an_arn" {
  command = plan
  variables { secret_arn = "acb/servicenow" }
  expect_failures = [var.secret_arn]
}

run "rejects_no_topic" {
  command = plan
  variables { topic_arns = {} }
  expect_failures = [var.topic_arns]
}

run "rejects_a_receive_count_that_gives_no_outage_a_chance" {
  command = plan
  variables { max_receive_count = 1 }
  expect_failures = [var.max_receive_count]
}

run "rejects_a_batch_larger_than_ten" {
  command = plan
  variables { batch_size = 100 }
  expect_failures = [var.batch_size]
}
