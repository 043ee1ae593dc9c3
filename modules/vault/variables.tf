variable "name_prefix" {
  description = "Prefix of every resource name this module creates."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen, so that every derived name (IAM role, KMS alias, vault) stays within AWS limits."
  }
}

variable "tags" {
  description = "Tags added to every resource this module creates."
  type        = map(string)
  default     = {}
}

variable "create_vault" {
  description = "Create the backup vault. When false, vault_name names an existing vault in this account and region."
  type        = bool
  default     = true
}

variable "vault_name" {
  description = "Name of the vault to create (default: name_prefix) or, with create_vault = false, of the existing vault to use."
  type        = string
  default     = null

  validation {
    condition     = var.vault_name == null || can(regex("^[a-zA-Z0-9_-]{2,50}$", var.vault_name))
    error_message = "vault_name must be 2-50 letters, digits, hyphens or underscores: that is what AWS Backup accepts for a vault name."
  }

  validation {
    condition     = var.create_vault || var.vault_name != null
    error_message = "vault_name is required when create_vault is false: the module has to know which existing vault to back up into."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer-managed KMS key for the vault the module creates (null creates one, with rotation). The vault key encrypts the backups of resource types AWS Backup fully manages; EC2 recovery points (an AMI and its EBS snapshots) keep the volumes' own keys and are not re-encrypted with it (AWS Backup guide, \"Encryption for backups in AWS Backup\")."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID): AWS Backup takes no key ids or aliases (alias/aws/backup included) for vault encryption."
  }
}

variable "create_kms_key" {
  description = "Create the created vault's KMS key (with rotation). Null (default): create one when kms_key_arn is null. Set false when kms_key_arn is the ARN of a key created in the same configuration: that ARN is unknown until apply, and Terraform must know at plan whether this module creates a key."
  type        = bool
  default     = null

  validation {
    condition     = var.create_kms_key != true || var.kms_key_arn == null
    error_message = "create_kms_key = true creates the vault's key, so kms_key_arn must be null: set one or the other."
  }

  validation {
    condition     = var.create_kms_key != false || !var.create_vault || var.kms_key_arn != null
    error_message = "create_kms_key = false needs kms_key_arn: the module encrypts the vault it creates with a customer-managed key (AWS Backup's own aws/backup key cannot be shared for cross-account copies)."
  }
}

variable "vault_lock" {
  description = "Optional AWS Backup Vault Lock. min/max bound the retention every recovery point must have; changeable_for_days null keeps governance mode (removable), a number starts the grace period after which the lock becomes compliance mode and can never be removed."
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
    error_message = "vault_lock.max_retention_days must be at least min_retention_days: otherwise no recovery point could satisfy the lock."
  }

  validation {
    condition     = var.vault_lock == null ? true : (var.vault_lock.changeable_for_days == null ? true : var.vault_lock.changeable_for_days >= 3)
    error_message = "vault_lock.changeable_for_days must be at least 3: AWS Backup requires a grace period of 3 days or more before a lock becomes immutable (compliance mode)."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete the created vault even when it holds recovery points. Keep false outside test accounts."
  type        = bool
  default     = false
}

variable "permissions_boundary_arn" {
  description = "ARN of an IAM permissions boundary attached to the AWS Backup service role this module creates."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM policy ARN (arn:aws:iam::ACCOUNT:policy/NAME)."
  }
}

variable "access_policy" {
  description = <<-EOT
    The vault access policy (docs/compliance.md):
    - enabled: attach it. Null (default): attached to a vault the module creates, not to a brought one, because PutBackupVaultAccessPolicy replaces whatever policy that vault already has; merge the output access_policy_statements into it instead, or set true to let the module own it.
    - break_glass_principal_arns: IAM roles or users (aws:PrincipalArn, * allowed) exempt from the denials.
    - deny_policy_changes: also deny changing or removing the policy and the vault lock (needs a break-glass principal; Terraform must then run as one to change either or destroy the vault).
  EOT
  type = object({
    enabled                    = optional(bool)
    break_glass_principal_arns = optional(list(string), [])
    deny_policy_changes        = optional(bool, false)
  })
  default  = {}
  nullable = false
}

variable "report_plan" {
  description = <<-EOT
    Optional AWS Backup Audit Manager report plan (null: none). AWS Backup writes the reports into an S3 bucket you own, whose policy must let AWS Backup write (docs/compliance.md):
    - s3_bucket_name, s3_key_prefix: where the reports go.
    - formats: CSV and/or JSON.
    - report_template: BACKUP_JOB_REPORT (default), COPY_JOB_REPORT or RESTORE_JOB_REPORT. Job reports cover the whole account and Region; the module's jobs are those of its vault.
  EOT
  type = object({
    s3_bucket_name  = string
    s3_key_prefix   = optional(string)
    formats         = optional(list(string), ["CSV", "JSON"])
    report_template = optional(string, "BACKUP_JOB_REPORT")
  })
  default = null

  validation {
    condition     = var.report_plan == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.report_plan.s3_bucket_name))
    error_message = "report_plan.s3_bucket_name must be an S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)."
  }

  validation {
    condition     = var.report_plan == null ? true : (length(var.report_plan.formats) > 0 && alltrue([for f in var.report_plan.formats : contains(["CSV", "JSON"], f)]))
    error_message = "report_plan.formats must list CSV, JSON or both: the formats AWS Backup Audit Manager writes."
  }

  validation {
    condition     = var.report_plan == null ? true : contains(["BACKUP_JOB_REPORT", "COPY_JOB_REPORT", "RESTORE_JOB_REPORT"], var.report_plan.report_template)
    error_message = "report_plan.report_template must be BACKUP_JOB_REPORT, COPY_JOB_REPORT or RESTORE_JOB_REPORT: the job reports that list this module's jobs (control and resource compliance reports need a framework, which this module does not create)."
  }
}
