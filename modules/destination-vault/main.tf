# The other side of a copy: a vault in another account (or Region), its key, and an
# access policy that lets the named source accounts copy in and nobody delete.
#
# AWS Backup guide, "Creating backup copies across AWS accounts": the destination
# account creates the vault, assigns it a key and an access policy allowing the
# source; AWS Backup re-encrypts the copy with the destination vault's key. For
# resource types AWS Backup does not fully manage (EC2, EBS) that key must be
# customer-managed, and the source volumes' keys must be shared with this account.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  # Known at plan when the caller says create_kms_key (kms_key_arn may be unknown).
  create_key = var.create_kms_key != null ? var.create_kms_key : var.kms_key_arn == null

  source_roots = [for id in sort(distinct(var.source_account_ids)) : "arn:${local.partition}:iam::${id}:root"]
  # Which service calls KMS for a cross-account copy is not documented: the source
  # accounts may use the key only through AWS Backup or EC2 (the snapshot copy).
  via_services = ["backup.${local.region}.amazonaws.com", "ec2.${local.region}.amazonaws.com"]
  use_actions  = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]

  source_principals = concat(
    length(local.source_roots) == 0 ? [] : [{
      Principal = { AWS = local.source_roots }
      Condition = {}
    }],
    var.source_organization_id == null ? [] : [{
      Principal = { AWS = "*" }
      Condition = { StringEquals = { "aws:PrincipalOrgID" = var.source_organization_id } }
    }],
  )

  key_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        # The account administers the key and grants its own roles through IAM;
        # without this statement the key would become unmanageable.
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      }],
      flatten([for i, p in local.source_principals : [
        {
          Sid       = "SourceUsesKeyForCopies${i}"
          Effect    = "Allow"
          Principal = p.Principal
          Action    = local.use_actions
          Resource  = "*"
          Condition = merge(p.Condition, { StringEquals = merge(try(p.Condition.StringEquals, {}), { "kms:ViaService" = local.via_services }) })
        },
        {
          Sid       = "SourceGrantsKeyToAwsForCopies${i}"
          Effect    = "Allow"
          Principal = p.Principal
          Action    = "kms:CreateGrant"
          Resource  = "*"
          Condition = merge(p.Condition, {
            StringEquals = merge(try(p.Condition.StringEquals, {}), { "kms:ViaService" = local.via_services })
            Bool         = { "kms:GrantIsForAWSResource" = "true" }
          })
        },
      ]]),
    )
  })
}

resource "aws_kms_key" "this" {
  count = local.create_key ? 1 : 0

  description             = "Key of the ${var.vault_name} backup vault: copies from ${join(", ", concat(var.source_account_ids, compact([var.source_organization_id])))}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = local.key_policy
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  count = local.create_key ? 1 : 0

  name          = "alias/${var.vault_name}-vault"
  target_key_id = aws_kms_key.this[0].key_id
}

resource "aws_backup_vault" "this" {
  name          = var.vault_name
  kms_key_arn   = local.create_key ? aws_kms_key.this[0].arn : var.kms_key_arn
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_backup_vault_lock_configuration" "this" {
  count = var.vault_lock == null ? 0 : 1

  backup_vault_name   = aws_backup_vault.this.name
  min_retention_days  = var.vault_lock.min_retention_days
  max_retention_days  = var.vault_lock.max_retention_days
  changeable_for_days = var.vault_lock.changeable_for_days
}

module "access_policy" {
  source = "../vault-access-policy"

  partition                   = local.partition
  copy_source_account_ids     = var.source_account_ids
  copy_source_organization_id = var.source_organization_id
  break_glass_principal_arns  = var.access_policy.break_glass_principal_arns
  deny_policy_changes         = var.access_policy.deny_policy_changes
}

resource "aws_backup_vault_policy" "this" {
  backup_vault_name = aws_backup_vault.this.name
  policy            = module.access_policy.json

  # The lock goes on before a policy that may deny changing it.
  depends_on = [aws_backup_vault_lock_configuration.this]
}
