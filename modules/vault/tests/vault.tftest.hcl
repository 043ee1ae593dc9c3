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

run "rejects_aws_managed_key_alias" {
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

run "created_vault_gets_the_access_policy" {
  command = apply

  assert {
    condition     = length(aws_backup_vault_policy.this) == 1 && aws_backup_vault_policy.this[0].backup_vault_name == "acb"
    error_message = "A vault the module creates carries the access policy by default."
  }

  assert {
    condition = alltrue([for a in ["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle", "backup:DeleteBackupVault"] :
    contains(jsondecode(aws_backup_vault_policy.this[0].policy).Statement[0].Action, a)])
    error_message = "The attached policy denies deleting recovery points, changing their lifecycle and deleting the vault."
  }

  assert {
    condition = (
      jsondecode(aws_backup_vault_policy.this[0].policy).Statement[0].Effect == "Deny" &&
      jsondecode(aws_backup_vault_policy.this[0].policy).Statement[0].Principal == { AWS = "*" } &&
      !can(jsondecode(aws_backup_vault_policy.this[0].policy).Statement[0].Condition)
    )
    error_message = "Without a break-glass principal the denials apply to everyone."
  }

  assert {
    condition     = length([for s in jsondecode(aws_backup_vault_policy.this[0].policy).Statement : s if s.Effect == "Allow"]) == 0
    error_message = "The source vault's policy grants nothing."
  }

  assert {
    condition     = output.access_policy_attached && output.access_policy_json == aws_backup_vault_policy.this[0].policy
    error_message = "The outputs say the policy is attached and show it."
  }

  assert {
    condition     = length(aws_backup_report_plan.this) == 0 && output.report_plan_arn == null
    error_message = "No report plan unless asked for."
  }
}

run "break_glass_and_policy_guard" {
  command = apply

  variables {
    vault_lock = { min_retention_days = 7 }
    access_policy = {
      break_glass_principal_arns = ["arn:aws:iam::111122223333:role/BreakGlass"]
      deny_policy_changes        = true
    }
  }

  assert {
    condition     = jsondecode(aws_backup_vault_policy.this[0].policy).Statement[0].Condition.ArnNotLike["aws:PrincipalArn"] == ["arn:aws:iam::111122223333:role/BreakGlass"]
    error_message = "The break-glass role is the only exemption."
  }

  assert {
    condition     = contains(jsondecode(aws_backup_vault_policy.this[0].policy).Statement[0].Action, "backup:PutBackupVaultAccessPolicy") && contains(jsondecode(aws_backup_vault_policy.this[0].policy).Statement[0].Action, "backup:DeleteBackupVaultLockConfiguration")
    error_message = "deny_policy_changes protects the policy and the lock too."
  }
}

run "brought_vault_keeps_its_policy_by_default" {
  command = plan

  variables {
    create_vault = false
    vault_name   = "existing"
  }

  assert {
    condition     = length(aws_backup_vault_policy.this) == 0 && !output.access_policy_attached
    error_message = "A brought vault's own policy is not replaced unless asked."
  }

  assert {
    condition     = output.access_policy_statements[0].Effect == "Deny"
    error_message = "The statements to merge are still output."
  }
}

run "brought_vault_policy_on_request" {
  command = plan

  variables {
    create_vault  = false
    vault_name    = "existing"
    access_policy = { enabled = true }
  }

  assert {
    condition     = aws_backup_vault_policy.this[0].backup_vault_name == "existing"
    error_message = "Asked to, the module attaches its policy to the brought vault."
  }
}

run "policy_can_be_turned_off" {
  command = plan

  variables {
    access_policy = { enabled = false }
  }

  assert {
    condition     = length(aws_backup_vault_policy.this) == 0
    error_message = "enabled = false attaches nothing."
  }
}

run "report_plan_for_the_jobs" {
  command = plan

  variables {
    report_plan = { s3_bucket_name = "acme-backup-reports", s3_key_prefix = "acb" }
  }

  assert {
    condition = (
      aws_backup_report_plan.this[0].name == "acb_backup_job_report" &&
      aws_backup_report_plan.this[0].report_setting[0].report_template == "BACKUP_JOB_REPORT" &&
      aws_backup_report_plan.this[0].report_delivery_channel[0].s3_bucket_name == "acme-backup-reports" &&
      toset(aws_backup_report_plan.this[0].report_delivery_channel[0].formats) == toset(["CSV", "JSON"])
    )
    error_message = "The report plan delivers a backup job report, CSV and JSON, into the given bucket, under a name AWS accepts."
  }
}

run "rejects_unknown_report_template" {
  command = plan
  variables { report_plan = { s3_bucket_name = "acme-backup-reports", report_template = "CONTROL_COMPLIANCE_REPORT" } }
  expect_failures = [var.report_plan]
}

run "rejects_bad_report_format" {
  command = plan
  variables { report_plan = { s3_bucket_name = "acme-backup-reports", formats = ["XML"] } }
  expect_failures = [var.report_plan]
}

# A key of the caller's configuration has an ARN unknown until apply: create_kms_key
# = false tells the module at plan that it creates none.
run "create_kms_key_false_uses_the_given_key" {
  command = plan

  variables {
    create_kms_key = false
    kms_key_arn    = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = length(aws_kms_key.vault) == 0 && length(aws_kms_alias.vault) == 0 && aws_backup_vault.this[0].kms_key_arn == var.kms_key_arn
    error_message = "create_kms_key = false creates no key and encrypts the vault with kms_key_arn."
  }
}

run "create_kms_key_true_creates_one" {
  command = plan

  variables {
    create_kms_key = true
  }

  assert {
    condition     = length(aws_kms_key.vault) == 1 && length(aws_kms_alias.vault) == 1
    error_message = "create_kms_key = true creates the vault's key."
  }
}

run "rejects_create_kms_key_with_a_key" {
  command = plan
  variables {
    create_kms_key = true
    kms_key_arn    = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  }
  expect_failures = [var.create_kms_key]
}

run "rejects_no_key_at_all" {
  command = plan
  variables {
    create_kms_key = false
  }
  expect_failures = [var.create_kms_key]
}
