# Recovery points copied every night into a vault in a second account, which the
# first account can neither delete from nor shorten. Two providers: the source
# account (default) and the destination account (alias dr).

provider "aws" {
  region = var.region
}

provider "aws" {
  alias  = "dr"
  region = var.dr_region

  assume_role {
    role_arn = var.dr_role_arn
  }
}

data "aws_caller_identity" "source" {}

data "aws_caller_identity" "dr" {
  provider = aws.dr
}

# EC2 recovery points keep their EBS volumes' keys: the vault's key does not
# re-encrypt them. A copy to another account therefore needs the volumes on a
# customer-managed key that account may use; volumes on aws/ebs fail every copy.
# Launch the instances with this key (or make it the account's EBS default key with
# aws_ebs_default_kms_key, which changes every new volume in the Region).
resource "aws_kms_key" "volumes" {
  description         = "EBS volumes of the instances backed up and copied to ${data.aws_caller_identity.dr.account_id}"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.source.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "DestinationAccountCopiesSnapshots"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.dr.account_id}:root" }
        Action    = ["kms:Decrypt", "kms:DescribeKey", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant"]
        Resource  = "*"
      },
    ]
  })
}

# The destination account: vault, key the source may use through AWS Backup, and an
# access policy allowing CopyIntoBackupVault from the source and denying deletion.
module "dr_vault" {
  source    = "../../modules/destination-vault"
  providers = { aws = aws.dr }

  vault_name         = "acb-dr"
  source_account_ids = [data.aws_caller_identity.source.account_id]
  vault_lock = {
    min_retention_days  = 30
    max_retention_days  = 400
    changeable_for_days = 3 # compliance mode after three days: nobody can remove it
  }
  access_policy = {
    break_glass_principal_arns = compact([var.dr_break_glass_role_arn])
  }
}

# The source account: the module, copying every recovery point into the DR vault.
module "app_consistent_backup" {
  source = "../../"

  name_prefix = "acb-prod"

  schedules = {
    nightly = { schedule_expression = "cron(0 1 * * ? *)", retention_days = 35 }
  }

  vault = {
    lock = { min_retention_days = 7, max_retention_days = 400 } # governance mode: removable
  }

  copy_destinations = [
    { destination_vault_arn = module.dr_vault.vault_arn, retention_days = 90 },
  ]
}
