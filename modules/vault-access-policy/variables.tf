variable "partition" {
  description = "AWS partition the ARNs of copy source accounts are written in (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"], var.partition)
    error_message = "partition must be an AWS partition name such as aws, aws-cn or aws-us-gov."
  }
}

variable "break_glass_principal_arns" {
  description = "IAM principals (roles, users, or an account's root) exempt from every denial, matched against aws:PrincipalArn: the one way left to delete a recovery point or the vault early. A role ARN may end in * (ArnNotLike). Empty: nobody is exempt."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.break_glass_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/[\\w+=,.@/*-]+|user/[\\w+=,.@/*-]+)$", a))])
    error_message = "Each break_glass_principal_arns entry must be an IAM role, user or root ARN (arn:aws:iam::ACCOUNT:role/NAME, arn:aws:iam::ACCOUNT:user/NAME or arn:aws:iam::ACCOUNT:root): the exemption is matched against aws:PrincipalArn, which is never an assumed-role session ARN."
  }
}

variable "deny_policy_changes" {
  description = "Also deny changing or deleting this access policy and the vault's lock configuration to everyone but the break-glass principals. Without it, whoever may edit the policy may remove the protection first; with it, Terraform itself must run as a break-glass principal to change the policy, the lock or to destroy the vault. AWS Config's backup-recovery-point-manual-deletion-disabled rule needs it."
  type        = bool
  default     = false

  validation {
    condition     = !var.deny_policy_changes || length(var.break_glass_principal_arns) > 0
    error_message = "deny_policy_changes needs at least one break_glass_principal_arns entry: otherwise nobody, not even Terraform, could ever change the vault's policy or lock again, nor delete the vault."
  }
}

variable "copy_source_account_ids" {
  description = "AWS accounts whose AWS Backup may copy recovery points into this vault (backup:CopyIntoBackupVault). Empty: no account is granted by ID."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.copy_source_account_ids : can(regex("^[0-9]{12}$", a))])
    error_message = "Each copy_source_account_ids entry must be a 12-digit AWS account ID."
  }
}

variable "copy_source_organization_id" {
  description = "AWS Organization whose accounts may copy recovery points into this vault (aws:PrincipalOrgID). Null: no organization-wide grant."
  type        = string
  default     = null

  validation {
    condition     = var.copy_source_organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", coalesce(var.copy_source_organization_id, "x")))
    error_message = "copy_source_organization_id must be an AWS Organizations ID such as o-a1b2c3d4e5."
  }
}
