################################################################################
# The function's role: discover, start executions of one state machine, publish to
# one topic, invoke itself (continuations), write its own logs and dead letters, and
# read and write the run ledger (the run's end and its summary).
################################################################################

locals {
  function_statements = concat(
    [
      {
        Sid      = "DiscoverInstances"
        Effect   = "Allow"
        Action   = ["ec2:DescribeInstances"]
        Resource = "*" # DescribeInstances supports no resource-level permissions
      },
      {
        Sid      = "StartBackupExecutions"
        Effect   = "Allow"
        Action   = ["states:StartExecution"]
        Resource = var.state_machine_arn
      },
      {
        Sid      = "PublishFailures"
        Effect   = "Allow"
        Action   = ["sns:Publish"] # also grants PublishBatch
        Resource = var.notification_topic_arn
      },
      {
        Sid      = "HandOnToItself"
        Effect   = "Allow"
        Action   = ["lambda:InvokeFunction"]
        Resource = [local.function_arn, "${local.function_arn}:*"]
      },
      {
        Sid      = "WriteOwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${local.log_group_arn}:*"
      },
      {
        Sid      = "DeadLetters"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = local.dlq_arn
      },
    ],
    var.run_ledger == null ? [] : [{
      # Only the ledger's two kinds of items (docs/contracts.md section 5b).
      Sid      = "RunLedger"
      Effect   = "Allow"
      Action   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
      Resource = var.run_ledger.table_arn
      Condition = {
        "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = ["run/*", "schedule/*"] }
      }
    }],
    try(var.run_ledger.kms_key_arn, null) == null ? [] : [{
      Sid       = "EncryptRunLedger"
      Effect    = "Allow"
      Action    = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
      Resource  = var.run_ledger.kms_key_arn
      Condition = { StringEquals = { "kms:ViaService" = "dynamodb.${local.region}.amazonaws.com" } }
    }],
    var.tracing_mode == "Active" ? [{
      Sid      = "WriteTraces"
      Effect   = "Allow"
      Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      Resource = "*" # X-Ray supports no resource-level permissions for these
    }] : [],
    var.notification_kms_key_arn == null ? [] : [{
      Sid       = "EncryptNotifications"
      Effect    = "Allow"
      Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
      Resource  = var.notification_kms_key_arn
      Condition = { StringEquals = { "kms:ViaService" = "sns.${local.region}.amazonaws.com" } }
    }],
    var.dead_letter_kms_key_arn == null ? [] : [{
      Sid       = "EncryptDeadLetters"
      Effect    = "Allow"
      Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
      Resource  = var.dead_letter_kms_key_arn
      Condition = { StringEquals = { "kms:ViaService" = "sqs.${local.region}.amazonaws.com" } }
    }],
  )

  scheduler_statements = concat(
    [
      {
        Sid      = "InvokeDiscovery"
        Effect   = "Allow"
        Action   = ["lambda:InvokeFunction"]
        Resource = [local.function_arn, "${local.function_arn}:*"]
      },
      {
        Sid      = "DeadLetters"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = local.dlq_arn
      },
    ],
    var.dead_letter_kms_key_arn == null ? [] : [{
      Sid       = "EncryptDeadLetters"
      Effect    = "Allow"
      Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
      Resource  = var.dead_letter_kms_key_arn
      Condition = { StringEquals = { "kms:ViaService" = "sqs.${local.region}.amazonaws.com" } }
    }],
  )
}

resource "aws_iam_role" "function" {
  name                 = "${var.name_prefix}-discovery"
  description          = "Discovery function of ${var.name_prefix}: finds tagged instances and starts their backup executions."
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
  name   = "discovery"
  role   = aws_iam_role.function.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.function_statements })
}

resource "aws_iam_role" "scheduler" {
  name                 = "${var.name_prefix}-discovery-scheduler"
  description          = "EventBridge Scheduler of ${var.name_prefix}: invokes the discovery function."
  permissions_boundary = var.permissions_boundary_arn
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "invoke-discovery"
  role   = aws_iam_role.scheduler.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.scheduler_statements })
}
