# The destination side of a copy grants the source exactly what a copy needs.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "999988887777" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-central-1" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-central-1:999988887777:key/00000000-0000-0000-0000-000000000000", key_id = "00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_backup_vault" {
    defaults = {
      arn         = "arn:aws:backup:eu-central-1:999988887777:backup-vault:acb-dr"
      kms_key_arn = "arn:aws:kms:eu-central-1:999988887777:key/00000000-0000-0000-0000-000000000000"
    }
  }
}

variables {
  vault_name         = "acb-dr"
  source_account_ids = ["111122223333"]
}

run "grants_copy_into_vault_to_the_source_only" {
  command = apply

  assert {
    condition = [for s in jsondecode(aws_backup_vault_policy.this.policy).Statement : s if s.Effect == "Allow"] == [{
      Sid       = "AllowCopyFromSourceAccounts"
      Effect    = "Allow"
      Principal = { AWS = ["arn:aws:iam::111122223333:root"] }
      Action    = "backup:CopyIntoBackupVault"
      Resource  = "*"
    }]
    error_message = "The vault policy allows the source account backup:CopyIntoBackupVault and nothing else."
  }

  assert {
    condition = (
      jsondecode(aws_backup_vault_policy.this.policy).Statement[1].Effect == "Deny" &&
      jsondecode(aws_backup_vault_policy.this.policy).Statement[1].Principal == { AWS = "*" } &&
      contains(jsondecode(aws_backup_vault_policy.this.policy).Statement[1].Action, "backup:DeleteRecoveryPoint") &&
      contains(jsondecode(aws_backup_vault_policy.this.policy).Statement[1].Action, "backup:UpdateRecoveryPointLifecycle") &&
      contains(jsondecode(aws_backup_vault_policy.this.policy).Statement[1].Action, "backup:DeleteBackupVault")
    )
    error_message = "Copies are protected like the originals: nobody deletes them, shortens them or deletes the vault."
  }

  assert {
    condition     = aws_backup_vault.this.kms_key_arn == aws_kms_key.this[0].arn && aws_kms_key.this[0].enable_key_rotation
    error_message = "The vault gets its own customer-managed key, rotating."
  }
}

run "key_policy_lets_the_source_use_the_key_through_backup_and_ec2_only" {
  command = plan

  assert {
    condition     = [for s in jsondecode(aws_kms_key.this[0].policy).Statement : s.Principal if s.Sid == "AccountAdministers"] == [{ AWS = "arn:aws:iam::999988887777:root" }]
    error_message = "The destination account administers its key."
  }

  assert {
    condition = alltrue([for s in jsondecode(aws_kms_key.this[0].policy).Statement : (
      s.Principal == { AWS = ["arn:aws:iam::111122223333:root"] } &&
      s.Condition.StringEquals["kms:ViaService"] == ["backup.eu-central-1.amazonaws.com", "ec2.eu-central-1.amazonaws.com"] &&
      !contains(flatten([s.Action]), "kms:*")
    ) if s.Sid != "AccountAdministers"]) && length(jsondecode(aws_kms_key.this[0].policy).Statement) == 3
    error_message = "The source account may use the key, through AWS Backup or EC2 in the vault's Region only, and may not administer it."
  }

  assert {
    condition = [for s in jsondecode(aws_kms_key.this[0].policy).Statement : s.Condition.Bool if s.Action == "kms:CreateGrant"] == [
      { "kms:GrantIsForAWSResource" = "true" }
    ]
    error_message = "The source's grants are only for AWS resources (the copy), never for itself."
  }
}

run "organization_wide_grants" {
  command = plan

  variables {
    source_account_ids     = []
    source_organization_id = "o-a1b2c3d4e5"
  }

  assert {
    condition     = jsondecode(aws_backup_vault_policy.this.policy).Statement[0].Condition == { StringEquals = { "aws:PrincipalOrgID" = "o-a1b2c3d4e5" } } && jsondecode(aws_backup_vault_policy.this.policy).Statement[0].Action == "backup:CopyIntoBackupVault"
    error_message = "An organization may copy in, conditioned on aws:PrincipalOrgID."
  }

  assert {
    condition = alltrue([for s in jsondecode(aws_kms_key.this[0].policy).Statement : (
      s.Condition.StringEquals["aws:PrincipalOrgID"] == "o-a1b2c3d4e5" && length(s.Condition.StringEquals["kms:ViaService"]) == 2
    ) if s.Sid != "AccountAdministers"]) && length(jsondecode(aws_kms_key.this[0].policy).Statement) == 3
    error_message = "The organization uses the key only from its own accounts, through AWS Backup or EC2."
  }
}

run "same_account_copy_needs_no_grant" {
  command = plan

  variables {
    source_account_ids = []
    kms_key_arn        = "arn:aws:kms:eu-central-1:999988887777:key/11111111-2222-3333-4444-555555555555"
    vault_lock         = { min_retention_days = 30, changeable_for_days = 3 }
    access_policy      = { break_glass_principal_arns = ["arn:aws:iam::999988887777:role/BreakGlass"], deny_policy_changes = true }
  }

  assert {
    condition     = length([for s in jsondecode(aws_backup_vault_policy.this.policy).Statement : s if s.Effect == "Allow"]) == 0
    error_message = "A copy from this account (another Region) grants nobody anything."
  }

  assert {
    condition     = length(aws_kms_key.this) == 0 && aws_backup_vault.this.kms_key_arn == var.kms_key_arn
    error_message = "A brought key is used as it is."
  }

  assert {
    condition     = aws_backup_vault_lock_configuration.this[0].changeable_for_days == 3 && contains(jsondecode(aws_backup_vault_policy.this.policy).Statement[0].Action, "backup:DeleteBackupVaultLockConfiguration")
    error_message = "Lock and policy guard apply as asked."
  }
}

run "rejects_bad_source_account" {
  command = plan
  variables { source_account_ids = ["1111-2222-3333"] }
  expect_failures = [var.source_account_ids]
}

run "rejects_key_alias" {
  command = plan
  variables { kms_key_arn = "arn:aws:kms:eu-central-1:999988887777:alias/aws/backup" }
  expect_failures = [var.kms_key_arn]
}

run "rejects_short_grace_period" {
  command = plan
  variables { vault_lock = { min_retention_days = 7, changeable_for_days = 1 } }
  expect_failures = [var.vault_lock]
}

run "create_kms_key_false_uses_the_given_key" {
  command = plan

  variables {
    create_kms_key = false
    kms_key_arn    = "arn:aws:kms:eu-central-1:999988887777:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = length(aws_kms_key.this) == 0 && aws_backup_vault.this.kms_key_arn == var.kms_key_arn
    error_message = "create_kms_key = false creates no key and encrypts the vault with kms_key_arn."
  }
}

run "rejects_create_kms_key_false_without_a_key" {
  command = plan
  variables {
    create_kms_key = false
  }
  expect_failures = [var.create_kms_key]
}
