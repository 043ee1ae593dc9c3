# The role AWS Backup assumes to snapshot the instances. The state machine passes
# it to StartBackupJob and nothing else may assume it.
locals {
  backup_assume_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "backup.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
}

resource "aws_iam_role" "backup" {
  name                 = "${var.name_prefix}-backup"
  description          = "Assumed by AWS Backup to take and copy the ${var.name_prefix} recovery points."
  assume_role_policy   = local.backup_assume_policy
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

# AWS's own policy for backup jobs: it tracks the EC2/EBS calls AWS Backup makes
# (CreateImage, CreateSnapshot, tags, copies) as the service evolves, which a
# hand-written copy would not.
resource "aws_iam_role_policy_attachment" "backup" {
  role       = aws_iam_role.backup.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
}
