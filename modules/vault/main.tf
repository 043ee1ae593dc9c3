data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  vault_name = coalesce(var.vault_name, var.name_prefix)
  # Known at plan even when kms_key_arn comes from a key of the same configuration, as
  # long as the caller says create_kms_key = false (a count cannot wait for apply).
  create_kms_key = var.create_vault && (var.create_kms_key != null ? var.create_kms_key : var.kms_key_arn == null)
}

resource "aws_kms_key" "vault" {
  count = local.create_kms_key ? 1 : 0

  # EC2 recovery points keep their volumes' keys; this key encrypts the vault's backups
  # of resource types AWS Backup fully manages.
  description             = "${var.name_prefix}: key of the ${local.vault_name} backup vault"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = local.vault_key_policy
  tags                    = var.tags
}

resource "aws_kms_alias" "vault" {
  count = local.create_kms_key ? 1 : 0

  name          = "alias/${var.name_prefix}-vault"
  target_key_id = aws_kms_key.vault[0].key_id
}

locals {
  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"

  # The account administers the key and grants its roles (AWS Backup's) through
  # IAM; without this statement the key would become unmanageable.
  vault_key_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministers"
      Effect    = "Allow"
      Principal = { AWS = local.account_root }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_backup_vault" "this" {
  count = var.create_vault ? 1 : 0

  name          = local.vault_name
  kms_key_arn   = local.create_kms_key ? aws_kms_key.vault[0].arn : var.kms_key_arn
  force_destroy = var.force_destroy
  tags          = var.tags
}

data "aws_backup_vault" "existing" {
  count = var.create_vault ? 0 : 1

  name = local.vault_name
}

resource "aws_backup_vault_lock_configuration" "this" {
  count = var.create_vault && var.vault_lock != null ? 1 : 0

  backup_vault_name   = aws_backup_vault.this[0].name
  min_retention_days  = var.vault_lock.min_retention_days
  max_retention_days  = var.vault_lock.max_retention_days
  changeable_for_days = var.vault_lock.changeable_for_days
}

################################################################################
# Access policy: nobody but the break-glass principals deletes a recovery point,
# shortens its retention or deletes the vault (modules/vault-access-policy)
################################################################################

locals {
  # A brought vault keeps its own policy unless asked: PutBackupVaultAccessPolicy
  # replaces the whole document.
  attach_access_policy = coalesce(var.access_policy.enabled, var.create_vault)
}

module "access_policy" {
  source = "../vault-access-policy"

  partition                  = data.aws_partition.current.partition
  break_glass_principal_arns = var.access_policy.break_glass_principal_arns
  deny_policy_changes        = var.access_policy.deny_policy_changes
}

resource "aws_backup_vault_policy" "this" {
  count = local.attach_access_policy ? 1 : 0

  backup_vault_name = var.create_vault ? aws_backup_vault.this[0].name : data.aws_backup_vault.existing[0].name
  policy            = module.access_policy.json

  # With deny_policy_changes the policy denies PutBackupVaultLockConfiguration: the
  # lock goes on first. (On destroy the policy goes first, so a vault without that
  # guard can still be destroyed when force_destroy allows it.)
  depends_on = [aws_backup_vault_lock_configuration.this]
}
