variable "name_prefix" {
  description = "Prefix of every resource name this module creates."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "tags" {
  description = "Tags added to every resource this module creates."
  type        = map(string)
  default     = {}
}

variable "vault_arn" {
  description = "The module's vault: the only vault whose recovery points are restored (IncludeVaults), so only recovery points this module made and labelled are tested."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:backup:[a-z0-9-]+:[0-9]{12}:backup-vault:[a-zA-Z0-9_-]{2,50}$", var.vault_arn))
    error_message = "vault_arn must be a backup vault ARN: arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME."
  }
}

variable "selection_tag_key" {
  description = "The module's selection tag key: the instances restored are those whose tag has one of tag_values (aws:ResourceTag/<key> in the selection)."
  type        = string
}

variable "tag_values" {
  description = "Selection tag values (the schedules' tag_value) whose instances are restore-tested: one restore testing selection each. Expect each run to restore a recovery point of every selected instance (no per-run cap is documented): keep the list to the fleets you mean to test."
  type        = list(string)

  validation {
    condition     = length(var.tag_values) > 0 && length(distinct(var.tag_values)) == length(var.tag_values)
    error_message = "tag_values must name at least one selection tag value, each once."
  }

  validation {
    condition     = alltrue([for v in var.tag_values : can(regex("^[\\p{L}\\p{N}\\s_.:/=+@-]{1,256}$", v))])
    error_message = "Each tag_values entry must be a valid EC2 tag value: 1-256 letters, digits, spaces and _ . : / = + - @."
  }
}

variable "schedule_expression" {
  description = "When the restore tests run: a cron expression AWS Backup accepts, e.g. cron(0 5 ? * SUN *) (Sundays 05:00)."
  type        = string
  default     = "cron(0 5 ? * SUN *)"

  validation {
    condition     = can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)$", var.schedule_expression))
    error_message = "schedule_expression must be cron(minutes hours day-of-month month day-of-week year) with six fields, e.g. cron(0 5 ? * SUN *)."
  }
}

variable "schedule_expression_timezone" {
  description = "IANA time zone the schedule is read in."
  type        = string
  default     = "UTC"

  validation {
    condition     = can(regex("^(UTC|[A-Za-z]+(/[A-Za-z0-9_+-]+){1,2})$", var.schedule_expression_timezone))
    error_message = "schedule_expression_timezone must be UTC or an IANA time zone name such as Europe/Paris."
  }
}

variable "start_window_hours" {
  description = "Hours after the scheduled time within which the restore jobs must start (1-168)."
  type        = number
  default     = 8

  validation {
    condition     = var.start_window_hours >= 1 && var.start_window_hours <= 168 && floor(var.start_window_hours) == var.start_window_hours
    error_message = "start_window_hours must be a whole number from 1 to 168."
  }
}

variable "algorithm" {
  description = "Which recovery point of each instance is restored: LATEST_WITHIN_WINDOW (the newest) or RANDOM_WITHIN_WINDOW."
  type        = string
  default     = "LATEST_WITHIN_WINDOW"

  validation {
    condition     = contains(["LATEST_WITHIN_WINDOW", "RANDOM_WITHIN_WINDOW"], var.algorithm)
    error_message = "algorithm must be LATEST_WITHIN_WINDOW or RANDOM_WITHIN_WINDOW."
  }
}

variable "selection_window_days" {
  description = "Only recovery points created within this many days are candidates (1-365)."
  type        = number
  default     = 7

  validation {
    condition     = var.selection_window_days >= 1 && var.selection_window_days <= 365 && floor(var.selection_window_days) == var.selection_window_days
    error_message = "selection_window_days must be a whole number from 1 to 365."
  }
}

variable "validation_window_hours" {
  description = "Hours AWS Backup keeps a restored instance for the validation (1-168); the validation ends 10 minutes before, as TIMED_OUT if it has not finished."
  type        = number
  default     = 4

  validation {
    condition     = var.validation_window_hours >= 1 && var.validation_window_hours <= 168 && floor(var.validation_window_hours) == var.validation_window_hours
    error_message = "validation_window_hours must be a whole number from 1 to 168 (AWS allows 0, which leaves no time to validate)."
  }
}

variable "restore_metadata_overrides" {
  description = "Restore metadata AWS Backup should not infer (keys: instanceType, subnetId, securityGroupIds, requireImdsV2, iamInstanceProfileName). By default the instance profile is restored (iamInstanceProfileName = UseBackedUpValue): without one the SSM agent cannot register and every validation fails."
  type        = map(string)
  default     = { iamInstanceProfileName = "UseBackedUpValue" }

  validation {
    condition     = alltrue([for k in keys(var.restore_metadata_overrides) : contains(["instanceType", "subnetId", "securityGroupIds", "requireImdsV2", "iamInstanceProfileName"], k)])
    error_message = "restore_metadata_overrides keys must be among instanceType, subnetId, securityGroupIds, requireImdsV2 and iamInstanceProfileName: the EC2 keys AWS Backup restore testing lets you override."
  }
}

variable "instance_role_arns" {
  description = "IAM roles of the instance profiles the restored instances get back: AWS Backup's restore role may pass them to EC2 (iam:PassRole), and nothing else."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.instance_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", a))])
    error_message = "Each instance_role_arns entry must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)."
  }
}

variable "agent_wait_seconds" {
  description = "How long after the restore the instance's SSM agent may take to come online before the validation fails (60-3600)."
  type        = number
  default     = 900

  validation {
    condition     = var.agent_wait_seconds >= 60 && var.agent_wait_seconds <= 3600 && floor(var.agent_wait_seconds) == var.agent_wait_seconds
    error_message = "agent_wait_seconds must be a whole number from 60 to 3600."
  }
}

variable "check_timeout_seconds" {
  description = "Bound of each user check on the restored instance (1-999 seconds)."
  type        = number
  default     = 300

  validation {
    condition     = var.check_timeout_seconds >= 1 && var.check_timeout_seconds <= 999 && floor(var.check_timeout_seconds) == var.check_timeout_seconds
    error_message = "check_timeout_seconds must be a whole number from 1 to 999 (the document's CheckTimeoutSeconds pattern)."
  }
}

variable "check_dir" {
  description = "Directory on the instance whose executables are the user's checks (root-owned, closed to group and others), rendered into the validation document."
  type        = string
  default     = "/etc/app-consistent-backup/restore-check.d"

  validation {
    condition     = can(regex("^(/[.]?[A-Za-z0-9_-][A-Za-z0-9._-]*)+$", var.check_dir))
    error_message = "check_dir must be an absolute path of letters, digits, ., _ and - components (no quote, blank or trailing /): it is written into the document's shell script."
  }
}

variable "notification_topic_arn" {
  description = "SNS topic the results go to (docs/contracts.md section 6)."
  type        = string
}

variable "notification_kms_key_arn" {
  description = "KMS key of the notification topic, if it is encrypted with a customer-managed key."
  type        = string
  default     = null
}

variable "notify_on_success" {
  description = "Publish every successful restore test (severity 5), not only the clear after a failed one."
  type        = bool
  default     = false
}

variable "runtime" {
  description = "Lambda runtime of the validation function (python3.12 or newer)."
  type        = string
  default     = "python3.12"

  validation {
    condition     = can(regex("^python3\\.(1[2-9]|[2-9][0-9])$", var.runtime))
    error_message = "runtime must be python3.12 or newer."
  }
}

variable "architecture" {
  description = "arm64 or x86_64."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's log group."
  type        = number
  default     = 365
}

variable "log_kms_key_arn" {
  description = "Customer-managed KMS key ARN for the function's log group (null: CloudWatch Logs' own encryption)."
  type        = string
  default     = null
}

variable "permissions_boundary_arn" {
  description = "IAM permissions boundary attached to the roles this module creates."
  type        = string
  default     = null
}
