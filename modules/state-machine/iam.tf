################################################################################
# The state machine's role: one statement per integration the definition uses,
# each on its own resources. Describe*/Get* calls that support no resource-level
# permissions are the only "*" resources; no action is a wildcard.
################################################################################

locals {
  consistency_tag_key = "app-consistent-backup:consistency"
  run_id_tag_key      = "app-consistent-backup:run-id"

  # The copy preflight (docs/contracts.md section 4) runs only for a copy into another
  # account: only then may the role read volumes and describe keys.
  copies_to_other_accounts = anytrue([for arn in var.copy_destination_vault_arns : split(":", arn)[4] != local.account])

  state_machine_statements = concat(
    [
      {
        Sid      = "InstanceGuard"
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
        Resource = local.guard_table_arn
      },
      {
        # Executions count their outcome in their run's item only (run/<schedule>/<time>);
        # the schedule items and the summary's claim are discovery's.
        Sid      = "CountRunOutcomes"
        Effect   = "Allow"
        Action   = ["dynamodb:UpdateItem"]
        Resource = local.run_ledger_arn
        Condition = {
          "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = ["run/*"] }
        }
      },
      {
        Sid      = "CheckGuardHolder"
        Effect   = "Allow"
        Action   = ["states:DescribeExecution"]
        Resource = local.execution_arns
      },
      {
        Sid      = "InspectInstancesAndSnapshots"
        Effect   = "Allow"
        Action   = ["ec2:DescribeInstances", "ec2:DescribeImages", "ec2:DescribeSnapshots"]
        Resource = "*" # EC2 Describe* calls support no resource-level permissions
      },
      {
        Sid      = "ReadAgentsAndCommands"
        Effect   = "Allow"
        Action   = ["ssm:DescribeInstanceInformation", "ssm:GetCommandInvocation"]
        Resource = "*" # neither supports resource-level permissions
      },
      {
        Sid      = "SendFreezeThawDocument"
        Effect   = "Allow"
        Action   = ["ssm:SendCommand"]
        Resource = var.ssm_document_arn
      },
      {
        Sid      = "SendToSelectedInstances"
        Effect   = "Allow"
        Action   = ["ssm:SendCommand"]
        Resource = "arn:${local.partition}:ec2:${local.region}:${local.account}:instance/*"
        Condition = {
          StringLike = { "ssm:resourceTag/${var.selection_tag_key}" = "*" }
        }
      },
      {
        Sid      = "StartBackupJobsIntoTheVault"
        Effect   = "Allow"
        Action   = ["backup:StartBackupJob"]
        Resource = var.vault_arn
      },
      {
        Sid      = "FollowJobs"
        Effect   = "Allow"
        Action   = ["backup:DescribeBackupJob", "backup:DescribeCopyJob"]
        Resource = "*" # neither supports resource-level permissions
      },
      {
        Sid      = "PassTheBackupRoleToBackup"
        Effect   = "Allow"
        Action   = ["iam:PassRole"]
        Resource = var.backup_role_arn
        Condition = {
          StringEquals = { "iam:PassedToService" = "backup.amazonaws.com" }
        }
      },
      {
        # An EC2 recovery point is an AMI: backup:TagResource refuses non-backup ARNs.
        Sid      = "LabelRecoveryPoints"
        Effect   = "Allow"
        Action   = ["ec2:CreateTags"]
        Resource = "arn:${local.partition}:ec2:${local.region}::image/*"
        Condition = {
          "ForAllValues:StringEquals" = { "aws:TagKeys" = [local.consistency_tag_key] }
          Null                        = { "aws:ResourceTag/${local.run_id_tag_key}" = "false" }
        }
      },
      {
        Sid      = "PublishEvents"
        Effect   = "Allow"
        Action   = ["sns:Publish"]
        Resource = var.notification_topic_arn
      },
      {
        Sid      = "RunMetrics"
        Effect   = "Allow"
        Action   = ["cloudwatch:PutMetricData"]
        Resource = "*" # PutMetricData supports no resource-level permissions
        Condition = {
          StringEquals = { "cloudwatch:namespace" = local.metric_namespace }
        }
      },
      {
        Sid    = "DeliverLogs"
        Effect = "Allow"
        Action = [
          "logs:CreateLogDelivery",
          "logs:DeleteLogDelivery",
          "logs:DescribeLogGroups",
          "logs:DescribeResourcePolicies",
          "logs:GetLogDelivery",
          "logs:ListLogDeliveries",
          "logs:PutResourcePolicy",
          "logs:UpdateLogDelivery",
        ]
        Resource = "*" # Step Functions log delivery requires "*" (vended logs)
      },
    ],
    length(var.copy_destination_vault_arns) == 0 ? [] : [
      {
        Sid    = "StartCopyJobsFromTheVault"
        Effect = "Allow"
        Action = ["backup:StartCopyJob"]
        Resource = [
          "arn:${local.partition}:backup:${local.region}:${local.account}:recovery-point:*",
          "arn:${local.partition}:ec2:${local.region}::image/*",
        ]
      },
      {
        Sid      = "CopyIntoTheDestinationVaults"
        Effect   = "Allow"
        Action   = ["backup:CopyIntoBackupVault"]
        Resource = var.copy_destination_vault_arns
      },
    ],
    local.copies_to_other_accounts ? [
      {
        Sid      = "ReadVolumesForTheCopyPreflight"
        Effect   = "Allow"
        Action   = ["ec2:DescribeVolumes"]
        Resource = "*" # EC2 Describe* calls support no resource-level permissions
      },
      {
        # KeyManager AWS or CUSTOMER of each encrypted volume's key: metadata only, no
        # cryptographic use. Any account: a volume may be encrypted with a customer-managed
        # key shared from another account (a central key account), whose ARN names that
        # account. This Region only: an EBS volume's key is always in the volume's Region.
        # The key's own policy must allow it too; a key that does not is treated as
        # shareable (the copy is started).
        Sid      = "DescribeVolumeKeysForTheCopyPreflight"
        Effect   = "Allow"
        Action   = ["kms:DescribeKey"]
        Resource = "arn:${local.partition}:kms:${local.region}:*:key/*"
      },
    ] : [],
    var.run_summary_function_name == null ? [] : [{
      Sid      = "AskForRunSummaries"
      Effect   = "Allow"
      Action   = ["lambda:InvokeFunction"]
      Resource = local.run_summary_function_arn
    }],
    var.tracing_enabled ? [{
      Sid      = "WriteTraces"
      Effect   = "Allow"
      Action   = ["xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments"]
      Resource = "*" # X-Ray supports no resource-level permissions
    }] : [],
    var.guard_table_kms_key_arn == null ? [] : [{
      Sid       = "EncryptGuardTable"
      Effect    = "Allow"
      Action    = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
      Resource  = var.guard_table_kms_key_arn
      Condition = { StringEquals = { "kms:ViaService" = "dynamodb.${local.region}.amazonaws.com" } }
    }],
    var.notification_kms_key_arn == null ? [] : [{
      Sid       = "EncryptEvents"
      Effect    = "Allow"
      Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource  = var.notification_kms_key_arn
      Condition = { StringEquals = { "kms:ViaService" = "sns.${local.region}.amazonaws.com" } }
    }],
  )

  state_machine_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.state_machine_statements
  })

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "states.amazonaws.com" }
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account }
        ArnLike      = { "aws:SourceArn" = local.state_machine_arn }
      }
    }]
  })
}

resource "aws_iam_role" "this" {
  name                 = "${local.state_machine_name}-sfn"
  description          = "Runs ${local.state_machine_name}: freeze, back up, thaw, report."
  assume_role_policy   = local.assume_role_policy
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "state-machine"
  role   = aws_iam_role.this.id
  policy = local.state_machine_policy
}
