mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_backup_vault" {
    defaults = {
      arn         = "arn:aws:backup:eu-west-1:111122223333:backup-vault:existing"
      kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000001"
    }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_backup_vault" {
    defaults = { arn = "arn:aws:backup:eu-west-1:111122223333:backup-vault:acb" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111122223333:role/acb-backup" }
  }
}

variables {
  name_prefix = "acb"
}

run "creates_vault_with_its_own_key" {
  command = apply

  assert {
    condition     = aws_backup_vault.this[0].name == "acb"
    error_message = "The vault is named after name_prefix by default."
  }

  assert {
    condition     = aws_backup_vault.this[0].kms_key_arn == aws_kms_key.vault[0].arn
    error_message = "A created vault is encrypted with the created customer-managed key."
  }

  assert {
    condition     = aws_kms_key.vault[0].enable_key_rotation
    error_message = "The created key rotates."
  }

  assert {
    condition     = jsondecode(aws_iam_role.backup.assume_role_policy).Statement[0].Principal.Service == "backup.amazonaws.com"
    error_message = "Only AWS Backup may assume the backup role."
  }

  assert {
    condition     = length(aws_backup_vault_lock_configuration.this) == 0 && !output.vault_lock_enabled
    error_message = "No vault lock unless asked for."
  }
}

run "brings_own_key_and_lock" {
  command = plan

  variables {
    vault_name  = "prod-vault"
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
    vault_lock  = { min_retention_days = 7, max_retention_days = 400, changeable_for_days = 3 }
  }

  assert {
    condition     = length(aws_kms_key.vault) == 0 && aws_backup_vault.this[0].kms_key_arn == var.kms_key_arn
    error_message = "A brought key is used, and no key is created."
  }

  assert {
    condition     = aws_backup_vault_lock_configuration.this[0].min_retention_days == 7 && aws_backup_vault_lock_configuration.this[0].changeable_for_days == 3
    error_message = "The vault lock is configured as given."
  }
}

run "lock_with_minimum_only" {
  command = plan

  variables {
    vault_lock = { min_retention_days = 7 }
  }

  assert {
    condition     = aws_backup_vault_lock_configuration.this[0].min_retention_days == 7 && aws_backup_vault_lock_configuration.this[0].max_retention_days == null
    error_message = "A lock with only a minimum (governance mode, no maximum) is accepted."
  }
}

run "uses_existing_vault" {
  command = apply

  variables {
    create_vault = false
    vault_name   = "existing"
  }

  assert {
    condition     = length(aws_backup_vault.this) == 0 && length(aws_kms_key.vault) == 0
    error_message = "An existing vault creates neither vault nor key."
  }

  assert {
    condition     = output.vault_arn == "arn:aws:backup:eu-west-1:111122223333:backup-vault:existing"
    error_message = "The existing vault's ARN is output."
  }
}

run "permissions_boundary_on_role" {
  command = plan

  variables {
    permissions_boundary_arn = "arn:aws:iam::111122223333:policy/boundary"
  }

  assert {
    condition     = aws_iam_role.backup.permissions_boundary == "arn:aws:iam::111122223333:policy/boundary"
    error_message = "The backup role carries the permissions boundary."
  }
}

run "rejects_bad_name_prefix" {
  command = plan
  variables { name_prefix = "Bad_Prefix" }
  expect_failures = [var.name_prefix]
}

run "rejects_bad_vault_name" {
  command = plan
  variables { vault_name = "no spaces allowed" }
  expect_failures = [var.vault_name]
}

run "rejects_existing_vault_without_name" {
  command = plan
  variables { create_vault = false }
  expect_failures = [var.vault_name]
}

run "rejects_aws_managed_key" {
  command = plan
  variables { kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:alias/aws/backup" }
  expect_failures = [var.kms_key_arn]
}

run "rejects_key_that_is_not_an_arn" {
  command = plan
  variables { kms_key_arn = "11111111-2222-3333-4444-555555555555" }
  expect_failures = [var.kms_key_arn]
}

run "rejects_lock_min_out_of_range" {
  command = plan
  variables { vault_lock = { min_retention_days = 0 } }
  expect_failures = [var.vault_lock]
}

run "rejects_lock_max_below_min" {
  command = plan
  variables { vault_lock = { min_retention_days = 30, max_retention_days = 7 } }
  expect_failures = [var.vault_lock]
}

run "rejects_short_grace_period" {
  command = plan
  variables { vault_lock = { min_retention_days = 7, changeable_for_days = 1 } }
  expect_failures = [var.vault_lock]
}

run "rejects_bad_boundary" {
  command = plan
  variables { permissions_boundary_arn = "boundary" }
  expect_failures = [var.permissions_boundary_arn]
}
