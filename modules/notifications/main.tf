data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  create_kms_key = var.create_topic && var.kms_key_arn == null
  kms_key_arn    = local.create_kms_key ? aws_kms_key.topic[0].arn : var.kms_key_arn
  topic_arn      = var.create_topic ? aws_sns_topic.this[0].arn : var.topic_arn
}

resource "aws_kms_key" "topic" {
  count = local.create_kms_key ? 1 : 0

  description             = "${var.name_prefix}: encrypts the backup failure notifications topic"
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

locals {
  topic_policy = var.create_topic ? jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "CloudWatchAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.this[0].arn
        Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
      },
      {
        # A topic policy replaces the default one, which let the account's own
        # principals (with IAM permission) publish: keep that.
        Sid       = "AccountPublishes"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.this[0].arn
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.this[0].arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  }) : null
}

resource "aws_sns_topic_policy" "this" {
  count = var.create_topic ? 1 : 0

  arn    = aws_sns_topic.this[0].arn
  policy = local.topic_policy
}

resource "aws_sns_topic_subscription" "this" {
  for_each = var.create_topic ? var.subscriptions : {}

  topic_arn              = aws_sns_topic.this[0].arn
  protocol               = each.value.protocol
  endpoint               = each.value.endpoint
  filter_policy          = each.value.filter_policy
  filter_policy_scope    = each.value.filter_policy == null ? null : "MessageAttributes"
  raw_message_delivery   = each.value.raw_message_delivery
  endpoint_auto_confirms = each.value.endpoint_auto_confirms
}
