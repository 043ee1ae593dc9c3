# The vault access policy document: who may not delete, who may copy in.

run "denies_deletion_to_everyone_by_default" {
  command = plan

  assert {
    condition = jsondecode(output.json).Statement == [{
      Sid       = "ProtectRecoveryPoints"
      Effect    = "Deny"
      Principal = { AWS = "*" }
      Action    = ["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle", "backup:DisassociateRecoveryPoint", "backup:DeleteBackupVault"]
      Resource  = "*"
    }]
    error_message = "Without break-glass principals or copy sources the policy is one Deny, for everyone, of deleting recovery points, shortening their lifecycle and deleting the vault."
  }

  assert {
    condition     = !contains(output.denied_actions, "backup:PutBackupVaultAccessPolicy")
    error_message = "The policy itself stays editable unless deny_policy_changes is set."
  }
}

run "break_glass_principals_are_exempt" {
  command = plan

  variables {
    break_glass_principal_arns = ["arn:aws:iam::111122223333:role/BreakGlass", "arn:aws:iam::111122223333:role/Backup-Admin*"]
  }

  assert {
    condition     = jsondecode(output.json).Statement[0].Condition == { ArnNotLike = { "aws:PrincipalArn" = ["arn:aws:iam::111122223333:role/BreakGlass", "arn:aws:iam::111122223333:role/Backup-Admin*"] } }
    error_message = "The Deny exempts exactly the break-glass principals, by aws:PrincipalArn."
  }

  assert {
    condition     = jsondecode(output.json).Statement[0].Effect == "Deny" && jsondecode(output.json).Statement[0].Principal == { AWS = "*" }
    error_message = "Everyone else stays denied."
  }
}

run "policy_changes_denied_on_request" {
  command = plan

  variables {
    break_glass_principal_arns = ["arn:aws:iam::111122223333:role/BreakGlass"]
    deny_policy_changes        = true
  }

  assert {
    condition = alltrue([for a in [
      "backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle", "backup:PutBackupVaultAccessPolicy",
      "backup:DeleteBackupVaultAccessPolicy", "backup:DeleteBackupVaultLockConfiguration", "backup:PutBackupVaultLockConfiguration",
    ] : contains(jsondecode(output.json).Statement[0].Action, a)])
    error_message = "With deny_policy_changes one statement denies deletion, lifecycle changes and policy and lock changes (the shape AWS Config's backup-recovery-point-manual-deletion-disabled looks for)."
  }
}

run "copy_grants_for_accounts_and_organization" {
  command = plan

  variables {
    partition                   = "aws-us-gov"
    copy_source_account_ids     = ["444455556666", "111122223333", "444455556666"]
    copy_source_organization_id = "o-a1b2c3d4e5"
  }

  assert {
    condition = jsondecode(output.json).Statement[0] == {
      Sid       = "AllowCopyFromSourceAccounts"
      Effect    = "Allow"
      Principal = { AWS = ["arn:aws-us-gov:iam::111122223333:root", "arn:aws-us-gov:iam::444455556666:root"] }
      Action    = "backup:CopyIntoBackupVault"
      Resource  = "*"
    }
    error_message = "The named accounts, each once, may only CopyIntoBackupVault."
  }

  assert {
    condition = jsondecode(output.json).Statement[1] == {
      Sid       = "AllowCopyFromOrganization"
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = "backup:CopyIntoBackupVault"
      Resource  = "*"
      Condition = { StringEquals = { "aws:PrincipalOrgID" = "o-a1b2c3d4e5" } }
    }
    error_message = "The organization's principals may only CopyIntoBackupVault."
  }

  assert {
    condition     = length([for s in jsondecode(output.json).Statement : s if s.Effect == "Allow"]) == 2 && jsondecode(output.json).Statement[2].Effect == "Deny"
    error_message = "Nothing else is allowed, and the Deny still applies to the copy sources."
  }
}

run "rejects_policy_lock_without_break_glass" {
  command = plan
  variables { deny_policy_changes = true }
  expect_failures = [var.deny_policy_changes]
}

run "rejects_session_arn_as_break_glass" {
  command = plan
  variables { break_glass_principal_arns = ["arn:aws:sts::111122223333:assumed-role/BreakGlass/alice"] }
  expect_failures = [var.break_glass_principal_arns]
}

run "rejects_bad_account_id" {
  command = plan
  variables { copy_source_account_ids = ["12345"] }
  expect_failures = [var.copy_source_account_ids]
}

run "rejects_bad_organization_id" {
  command = plan
  variables { copy_source_organization_id = "r-abcd" }
  expect_failures = [var.copy_source_organization_id]
}
