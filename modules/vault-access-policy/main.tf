# A backup vault access policy document, and nothing else: no resource, no provider.
# modules/vault and modules/destination-vault attach it with aws_backup_vault_policy.
#
# Vault access policies take no wildcard in Action (AWS Backup guide, "Vault access
# policies"), so every protected action is named. Principal and Resource are "*" as AWS
# Config's backup-recovery-point-manual-deletion-disabled rule requires.

locals {
  # Deleting a recovery point, or ending it early: UpdateRecoveryPointLifecycle can set
  # DeleteAfterDays to 1; DisassociateRecoveryPoint deletes a continuous backup's point
  # from AWS Backup. Deleting the vault itself.
  recovery_point_actions = [
    "backup:DeleteRecoveryPoint",
    "backup:UpdateRecoveryPointLifecycle",
    "backup:DisassociateRecoveryPoint",
    "backup:DeleteBackupVault",
  ]

  # Removing the protection itself (the policy, or a governance-mode lock).
  policy_actions = [
    "backup:PutBackupVaultAccessPolicy",
    "backup:DeleteBackupVaultAccessPolicy",
    "backup:PutBackupVaultLockConfiguration",
    "backup:DeleteBackupVaultLockConfiguration",
  ]

  denied_actions = concat(local.recovery_point_actions, var.deny_policy_changes ? local.policy_actions : [])

  protect = merge(
    {
      Sid       = "ProtectRecoveryPoints"
      Effect    = "Deny"
      Principal = { AWS = "*" }
      Action    = local.denied_actions
      Resource  = "*"
    },
    length(var.break_glass_principal_arns) == 0 ? {} : {
      Condition = { ArnNotLike = { "aws:PrincipalArn" = var.break_glass_principal_arns } }
    },
  )

  copy_from_accounts = length(var.copy_source_account_ids) == 0 ? [] : [{
    Sid       = "AllowCopyFromSourceAccounts"
    Effect    = "Allow"
    Principal = { AWS = [for id in sort(distinct(var.copy_source_account_ids)) : "arn:${var.partition}:iam::${id}:root"] }
    Action    = "backup:CopyIntoBackupVault"
    Resource  = "*"
  }]

  copy_from_organization = var.copy_source_organization_id == null ? [] : [{
    Sid       = "AllowCopyFromOrganization"
    Effect    = "Allow"
    Principal = { AWS = "*" }
    Action    = "backup:CopyIntoBackupVault"
    Resource  = "*"
    Condition = { StringEquals = { "aws:PrincipalOrgID" = var.copy_source_organization_id } }
  }]

  statements = concat(local.copy_from_accounts, local.copy_from_organization, [local.protect])
}
