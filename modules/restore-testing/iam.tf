################################################################################
# The role AWS Backup restores with: AWS's restore policy, and passing only the
# instance profiles' roles the restored instances get back.
################################################################################

resource "aws_iam_role" "restore" {
  name                 = "${var.name_prefix}-restore-testing"
  description          = "Assumed by AWS Backup to restore ${var.name_prefix} recovery points for restore tests."
  permissions_boundary = var.permissions_boundary_arn
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "backup.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "restore" {
  role       = aws_iam_role.restore.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores"
}

resource "aws_iam_role_policy" "restore_pass_role" {
  count = length(var.instance_role_arns) > 0 ? 1 : 0

  name = "pass-instance-roles"
  role = aws_iam_role.restore.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "PassInstanceProfileRoles"
      Effect    = "Allow"
      Action    = "iam:PassRole"
      Resource  = var.instance_role_arns
      Condition = { StringEquals = { "iam:PassedToService" = "ec2.amazonaws.com" } }
    }]
  })
}

################################################################################
# The validation function's role: read its restore jobs, look at the restored
# instance, run one document on it, put the result, publish, hand on to itself.
################################################################################

locals {
  function_statements = concat(
    [
      {
        Sid    = "ReadAndReportRestoreJobs"
        Effect = "Allow"
        Action = ["backup:DescribeRestoreJob", "backup:ListRestoreJobs", "backup:PutRestoreValidationResult"]
        # Restore jobs have no ARN to scope these to.
        Resource = "*"
      },
      {
        Sid      = "InspectRestoredInstances"
        Effect   = "Allow"
        Action   = ["ec2:DescribeInstances", "ec2:DescribeInstanceStatus", "ec2:DescribeImages", "ssm:DescribeInstanceInformation"]
        Resource = "*" # Describe calls support no resource-level permissions
      },
      {
        Sid    = "RunValidationDocument"
        Effect = "Allow"
        Action = ["ssm:SendCommand"]
        # The restored instance's ID is not known in advance: any instance of this
        # account and Region, but only with the read-only validation document.
        Resource = [
          aws_ssm_document.validation.arn,
          "arn:${local.partition}:ec2:${local.region}:${local.account_id}:instance/*",
        ]
      },
      {
        Sid      = "ReadValidationResults"
        Effect   = "Allow"
        Action   = ["ssm:GetCommandInvocation"]
        Resource = "*" # GetCommandInvocation supports no resource-level permissions
      },
      {
        Sid      = "PublishResults"
        Effect   = "Allow"
        Action   = ["sns:Publish"]
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
    var.notification_kms_key_arn == null ? [] : [{
      Sid       = "EncryptNotifications"
      Effect    = "Allow"
      Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
      Resource  = var.notification_kms_key_arn
      Condition = { StringEquals = { "kms:ViaService" = "sns.${local.region}.amazonaws.com" } }
    }],
  )
}

resource "aws_iam_role" "function" {
  name                 = "${var.name_prefix}-restore-validation"
  description          = "Restore validation function of ${var.name_prefix}: checks restored instances and reports the result."
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
  name   = "restore-validation"
  role   = aws_iam_role.function.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.function_statements })
}
