################################################################################
# The function's role: read its queue, dead-letter to its DLQ, read one secret,
# write its own logs. Nothing else.
################################################################################

locals {
  function_statements = concat(
    [
      {
        Sid      = "ReadQueue"
        Effect   = "Allow"
        Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
        Resource = local.queue_arn
      },
      {
        Sid      = "DeadLetterWithReason"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = local.dlq_arn
      },
      {
        Sid      = "ReadServiceNowCredentials"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = var.secret_arn
      },
      {
        Sid      = "WriteOwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${local.log_group_arn}:*"
      },
    ],
    var.secret_kms_key_arn == null ? [] : [{
      Sid       = "DecryptSecret"
      Effect    = "Allow"
      Action    = ["kms:Decrypt"]
      Resource  = var.secret_kms_key_arn
      Condition = { StringEquals = { "kms:ViaService" = "secretsmanager.${local.region}.amazonaws.com" } }
    }],
    var.queue_kms_key_arn == null ? [] : [{
      Sid       = "EncryptedQueues"
      Effect    = "Allow"
      Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource  = var.queue_kms_key_arn
      Condition = { StringEquals = { "kms:ViaService" = "sqs.${local.region}.amazonaws.com" } }
    }],
    var.tracing_mode == "Active" ? [{
      Sid      = "WriteTraces"
      Effect   = "Allow"
      Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      Resource = "*" # X-Ray supports no resource-level permissions for these
    }] : [],
  )
}

resource "aws_iam_role" "function" {
  name                 = "${var.name_prefix}-servicenow"
  description          = "ServiceNow delivery function of ${var.name_prefix}: reads its queue, posts to Event Management."
  permissions_boundary = var.permissions_boundary_arn
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "function" {
  name   = "servicenow-delivery"
  role   = aws_iam_role.function.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.function_statements })
}
