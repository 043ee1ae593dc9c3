data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  # Known at plan even when kms_key_arn comes from a key of the same configuration, as
  # long as the caller says create_kms_key = false (a count cannot wait for apply).
  create_kms_key  = var.create_topic && (var.create_kms_key != null ? var.create_kms_key : var.kms_key_arn == null)
  kms_key_arn     = local.create_kms_key ? aws_kms_key.topic[0].arn : var.kms_key_arn
  topic_arn       = var.create_topic ? aws_sns_topic.this[0].arn : var.topic_arn
  alarm_topic_arn = var.create_topic ? aws_sns_topic.alarms[0].arn : coalesce(var.alarm_topic_arn, var.topic_arn)
}

resource "aws_kms_key" "topic" {
  count = local.create_kms_key ? 1 : 0

  description             = "${var.name_prefix}: encrypts the backup notifications and alarms topics"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = local.topic_key_policy
  tags                    = var.tags
}

resource "aws_kms_alias" "topic" {
  count = local.create_kms_key ? 1 : 0

  name          = "alias/${var.name_prefix}-notifications"
  target_key_id = aws_kms_key.topic[0].key_id
}

locals {
  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"

  topic_key_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # The account administers the key and grants its own roles (the
        # function's, the state machine's) through IAM.
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # CloudWatch alarms publish as a service principal, which only the key
        # policy can grant.
        Sid       = "CloudWatchAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
      },
    ]
  })
}

resource "aws_sns_topic" "this" {
  count = var.create_topic ? 1 : 0

  name              = "${var.name_prefix}-notifications"
  kms_master_key_id = local.kms_key_arn
  tags              = var.tags
}

# CloudWatch alarm actions cannot set message attributes, so alarms get a topic of
# their own (docs/contracts.md section 8): a subscription filtering notifications on
# severity still hears every alarm through it.
resource "aws_sns_topic" "alarms" {
  count = var.create_topic ? 1 : 0

  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = local.kms_key_arn
  tags              = var.tags
}

locals {
  topics = var.create_topic ? { this = aws_sns_topic.this[0].arn, alarms = aws_sns_topic.alarms[0].arn } : {}

  topic_policies = { for name, arn in local.topics : name => jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "CloudWatchAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = arn
        Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
      },
      {
        # A topic policy replaces the default one, which let the account's own
        # principals (with IAM permission) publish: keep that.
        Sid       = "AccountPublishes"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = "sns:Publish"
        Resource  = arn
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sns:Publish"
        Resource  = arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  }) }
}

resource "aws_sns_topic_policy" "this" {
  count = var.create_topic ? 1 : 0

  arn    = aws_sns_topic.this[0].arn
  policy = local.topic_policies["this"]
}

resource "aws_sns_topic_policy" "alarms" {
  count = var.create_topic ? 1 : 0

  arn    = aws_sns_topic.alarms[0].arn
  policy = local.topic_policies["alarms"]
}

################################################################################
# Subscriptions: each endpoint hears the notifications (filtered as it says) and,
# unless it opts out, the alarms (unfiltered: alarms carry no message attributes).
################################################################################

locals {
  subscriptions       = var.create_topic ? var.subscriptions : {}
  alarm_subscriptions = { for k, s in local.subscriptions : k => s if s.alarms }

  # https: SNS posts text/plain unless a delivery policy names another content type.
  delivery_policies = { for k, s in local.subscriptions : k => (
    s.protocol != "https" || (s.content_type == null && s.delivery_policy == null) ? null : jsonencode(merge(
      try(jsondecode(s.delivery_policy), {}),
      s.content_type == null ? {} : { requestPolicy = { headerContentType = s.content_type } },
    ))
  ) }
}

resource "aws_sns_topic_subscription" "this" {
  for_each = local.subscriptions

  topic_arn                       = aws_sns_topic.this[0].arn
  protocol                        = each.value.protocol
  endpoint                        = each.value.endpoint
  filter_policy                   = each.value.filter_policy
  filter_policy_scope             = each.value.filter_policy == null ? null : "MessageAttributes"
  raw_message_delivery            = each.value.raw_message_delivery
  delivery_policy                 = local.delivery_policies[each.key]
  endpoint_auto_confirms          = each.value.endpoint_auto_confirms
  confirmation_timeout_in_minutes = each.value.confirmation_timeout_in_minutes

  depends_on = [aws_sqs_queue_policy.subscribed, aws_lambda_permission.notifications]
}

resource "aws_sns_topic_subscription" "alarms" {
  for_each = local.alarm_subscriptions

  topic_arn                       = aws_sns_topic.alarms[0].arn
  protocol                        = each.value.protocol
  endpoint                        = each.value.endpoint
  raw_message_delivery            = each.value.raw_message_delivery
  delivery_policy                 = local.delivery_policies[each.key]
  endpoint_auto_confirms          = each.value.endpoint_auto_confirms
  confirmation_timeout_in_minutes = each.value.confirmation_timeout_in_minutes

  depends_on = [aws_sqs_queue_policy.subscribed, aws_lambda_permission.alarms]
}
