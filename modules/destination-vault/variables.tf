variable "vault_name" {
  description = "Name of the destination vault to create, in this provider's account and Region; the source's copy_destinations name it by ARN."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{2,50}$", var.vault_name))
    error_message = "vault_name must be 2-50 letters, digits, hyphens or underscores: that is what AWS Backup accepts for a vault name."
  }
}

variable "tags" {
  description = "Tags added to every resource this module creates."
  type        = map(string)
  default     = {}
}

variable "source_account_ids" {
  description = "Accounts whose recovery points are copied into this vault: each may backup:CopyIntoBackupVault, and may use the vault's key through AWS Backup and EC2. Empty for a copy from this same account (another Region), which needs no grant."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.source_account_ids : can(regex("^[0-9]{12}$", a))])
    error_message = "Each source_account_ids entry must be a 12-digit AWS account ID."
  }
}

variable "source_organization_id" {
  description = "AWS Organization whose accounts may all copy into this vault and use its key (aws:PrincipalOrgID), instead of or besides source_account_ids. Cross-account copies require both accounts in one organization anyway."
  type        = string
  default     = null

  validation {
    condition     = var.source_organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", coalesce(var.source_organization_id, "x")))
    error_message = "source_organization_id must be an AWS Organizations ID such as o-a1b2c3d4e5."
  }
}

variable "kms_key_arn" {
  description = "ARN of an existing customer-managed key for the vault; its policy must already let the source accounts use it through AWS Backup. Null creates one (with rotation) whose policy does. AWS re-encrypts a cross-account copy with the destination vault's key, which for EC2 must be customer-managed."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", coalesce(var.kms_key_arn, "x")))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID): AWS Backup takes no key ids or aliases (alias/aws/backup included) for vault encryption."
  }
}

variable "create_kms_key" {
  description = "Create the vault's KMS key, with a policy for the source accounts. Null (default): create one when kms_key_arn is null. Set false when kms_key_arn is the ARN of a key created in the same configuration: that ARN is unknown until apply, and Terraform must know at plan whether this module creates a key."
  type        = bool
  default     = null

  validation {
    condition     = var.create_kms_key != true || var.kms_key_arn == null
    error_message = "create_kms_key = true creates the vault's key, so kms_key_arn must be null: set one or the other."
  }

  validation {
    condition     = var.create_kms_key != false || var.kms_key_arn != null
    error_message = "create_kms_key = false needs kms_key_arn: copies of EC2 recovery points into another account need a customer-managed vault key."
  }
}

variable "vault_lock" {
  description = "Optional AWS Backup Vault Lock on the destination vault: min/max retention days, and changeable_for_days (>= 3) after which the lock becomes compliance mode and can never be removed. Recommended for a vault meant to survive the loss of the source account."
  type = object({
    min_retention_days  = number
    max_retention_days  = optional(number)
    changeable_for_days = optional(number)
  })
  default = null

  validation {
    condition     = var.vault_lock == null || try(var.vault_lock.min_retention_days >= 1 && var.vault_lock.min_retention_days <= 36500, false)
    error_message = "vault_lock.min_retention_days must be between 1 and 36500 days (AWS Backup's range)."
  }

  validation {
    condition     = var.vault_lock == null ? true : (var.vault_lock.max_retention_days == null ? true : var.vault_lock.max_retention_days >= var.vault_lock.min_retention_days)
    error_message = "vault_lock.max_retention_days must be at least min_retention_days: otherwise no copy could satisfy the lock."
  }

  validation {
    condition     = var.vault_lock == null ? true : (var.vault_lock.changeable_for_days == null ? true : var.vault_lock.changeable_for_days >= 3)
    error_message = "vault_lock.changeable_for_days must be at least 3: AWS Backup requires a grace period of 3 days or more before a lock becomes immutable (compliance mode)."
  }
}

variable "access_policy" {
  description = "The Deny half of the vault's access policy (modules/vault-access-policy): break_glass_principal_arns are exempt from the denial of deleting copies, shortening their lifecycle and deleting the vault; deny_policy_changes also guards the policy and the lock."
  type = object({
    break_glass_principal_arns = optional(list(string), [])
    deny_policy_changes        = optional(bool, false)
  })
  default  = {}
  nullable = false
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete the vault while it holds copies (test accounts only). The access policy goes first on destroy, unless deny_policy_changes guards it."
  type        = bool
  default     = false
}
