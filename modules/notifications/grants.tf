################################################################################
# What SNS needs to deliver to an sqs or lambda subscriber: without it the
# subscription exists and silently receives nothing. The module grants it for
# endpoints in this account and region (grant_access = true), and refuses at plan
# time what it cannot grant; grant_access = false leaves it to the caller.
################################################################################

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name

  granted = { for k, s in local.subscriptions : k => s if s.grant_access && contains(["sqs", "lambda"], s.protocol) }

  # One policy per queue (a queue has one subscription per topic: the variable refuses
  # two subscriptions of one endpoint), keyed by the subscription's name, so that a
  # queue created in the same configuration (its ARN unknown until apply) plans.
  queues = { for k, s in local.granted : k => {
    arn    = s.endpoint
    url    = "https://sqs.${split(":", s.endpoint)[3]}.${data.aws_partition.current.dns_suffix}/${split(":", s.endpoint)[4]}/${split(":", s.endpoint)[5]}"
    topics = concat([aws_sns_topic.this[0].arn], s.alarms ? [aws_sns_topic.alarms[0].arn] : [])
  } if s.protocol == "sqs" }

  functions = { for k, s in local.granted : k => {
    arn       = join(":", slice(split(":", s.endpoint), 0, 7))
    qualifier = length(split(":", s.endpoint)) == 8 ? split(":", s.endpoint)[7] : null
  } if s.protocol == "lambda" }
}

resource "aws_sqs_queue_policy" "subscribed" {
  for_each = local.queues

  queue_url = each.value.url
  # Replaces the queue's policy: a queue shared with other senders needs
  # grant_access = false and a policy of its own.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "TopicsSendNotifications"
        Effect    = "Allow"
        Principal = { Service = "sns.amazonaws.com" }
        Action    = "sqs:SendMessage"
        Resource  = each.value.arn
        Condition = { ArnEquals = { "aws:SourceArn" = each.value.topics } }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sqs:*"
        Resource  = each.value.arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })

  lifecycle {
    precondition {
      condition     = split(":", each.value.arn)[4] == local.account_id && split(":", each.value.arn)[3] == local.region
      error_message = "The queue ${each.value.arn} of subscription ${each.key} is not in this account and region, so the module cannot write its policy: set grant_access = false on its subscription and let the queue's owner allow sns.amazonaws.com to send from the topics (aws:SourceArn)."
    }
  }
}

resource "aws_lambda_permission" "notifications" {
  for_each = local.functions

  statement_id  = "sns-${var.name_prefix}-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = each.value.arn
  qualifier     = each.value.qualifier
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.this[0].arn

  lifecycle {
    precondition {
      condition     = split(":", each.value.arn)[4] == local.account_id && split(":", each.value.arn)[3] == local.region
      error_message = "The function ${each.value.arn} is not in this account and region, so the module cannot add its permission: set grant_access = false on its subscription and let the function's owner allow sns.amazonaws.com to invoke it from the topics."
    }
  }
}

resource "aws_lambda_permission" "alarms" {
  for_each = { for k, f in local.functions : k => f if local.granted[k].alarms }

  statement_id  = "sns-${var.name_prefix}-${each.key}-alarms"
  action        = "lambda:InvokeFunction"
  function_name = each.value.arn
  qualifier     = each.value.qualifier
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.alarms[0].arn
}
