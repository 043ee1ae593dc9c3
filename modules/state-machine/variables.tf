################################################################################
# Naming
################################################################################

variable "name_prefix" {
  description = "Prefix of every resource name this module creates (state machine, role, guard table, log group, alarms, dashboard)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen, so that every derived name (state machine, role, table, alarms) stays within AWS limits."
  }
}

variable "tags" {
  description = "Tags added to every resource this module creates."
  type        = map(string)
  default     = {}
}

################################################################################
# What the state machine works with
################################################################################

variable "vault_name" {
  description = "Name of the AWS Backup vault the backup jobs write to."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{2,50}$", var.vault_name))
    error_message = "vault_name must be 2-50 letters, digits, hyphens or underscores, as AWS Backup names vaults."
  }
}

variable "vault_arn" {
  description = "ARN of that vault: the only vault the state machine may start backup jobs into."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:backup:[a-z0-9-]+:[0-9]{12}:backup-vault:[A-Za-z0-9_-]{2,50}$", var.vault_arn))
    error_message = "vault_arn must be an AWS Backup vault ARN (arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME)."
  }
}

variable "backup_role_arn" {
  description = "ARN of the IAM role AWS Backup assumes to take and copy the backups (passed to StartBackupJob and StartCopyJob)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$", var.backup_role_arn))
    error_message = "backup_role_arn must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME): it is the only role the state machine may pass, and only to AWS Backup."
  }
}

variable "ssm_document_name" {
  description = "Name of the freeze/thaw SSM Command document (docs/contracts.md section 3, modules/instance-documents output document_name)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,128}$", var.ssm_document_name))
    error_message = "ssm_document_name must be 3-128 letters, digits, '_', '-' or '.', as SSM names documents."
  }
}

variable "ssm_document_arn" {
  description = "ARN of that document: the only document the state machine may send."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:document/[A-Za-z0-9_.-]{3,128}$", var.ssm_document_arn))
    error_message = "ssm_document_arn must be an SSM document ARN (arn:aws:ssm:REGION:ACCOUNT:document/NAME)."
  }
}

variable "ssm_document_version" {
  description = "Version of that document the state machine sends (SendCommand DocumentVersion; modules/instance-documents output document_version). Pinned, so that whoever can change the document's default version cannot change what runs as root at the next backup."
  type        = string

  validation {
    condition     = can(regex("^[1-9][0-9]{0,8}$", var.ssm_document_version))
    error_message = "ssm_document_version must be a document version number such as \"3\" ($DEFAULT and $LATEST would follow whoever last changed the document)."
  }
}

variable "selection_tag_key" {
  description = "Tag key that selects instances for backup. The state machine may send the document only to instances carrying this tag (IAM condition ssm:resourceTag)."
  type        = string
  default     = "AppConsistentBackup"

  validation {
    condition     = length(var.selection_tag_key) >= 1 && length(var.selection_tag_key) <= 128 && !startswith(lower(var.selection_tag_key), "aws:") && can(regex("^[A-Za-z0-9 _.:/=+@-]+$", var.selection_tag_key))
    error_message = "selection_tag_key must be a valid EC2 tag key: 1-128 characters of letters, digits, spaces and _ . : / = + - @, not starting with \"aws:\" (reserved)."
  }
}

variable "notification_topic_arn" {
  description = "ARN of the SNS topic the state machine publishes its ServiceNow events to (docs/contracts.md section 5); the alarms notify it too."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.notification_topic_arn))
    error_message = "notification_topic_arn must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME): the state machine may publish to that topic only."
  }
}

variable "notification_kms_key_arn" {
  description = "ARN of the customer-managed KMS key encrypting the topic: the state machine then gets kms:GenerateDataKey and kms:Decrypt on it, through SNS only. Null for an unencrypted topic or one using the AWS-managed key."
  type        = string
  default     = null

  validation {
    condition     = var.notification_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.notification_kms_key_arn))
    error_message = "notification_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID); an alias cannot be granted in IAM."
  }
}

variable "copy_destination_vault_arns" {
  description = "ARNs of the vaults the schedules' copy_targets may copy to (other Regions or accounts). Empty: the state machine gets no copy permission."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.copy_destination_vault_arns : can(regex("^arn:aws[a-z-]*:backup:[a-z0-9-]+:[0-9]{12}:backup-vault:[A-Za-z0-9_-]{2,50}$", arn))])
    error_message = "copy_destination_vault_arns holds ${join(", ", [for arn in var.copy_destination_vault_arns : jsonencode(arn) if !(can(regex("^arn:aws[a-z-]*:backup:[a-z0-9-]+:[0-9]{12}:backup-vault:[A-Za-z0-9_-]{2,50}$", arn)))])}: each must be an AWS Backup vault ARN (arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME)."
  }
}

variable "notify_on_success" {
  description = "Publish an OK event (severity 5) after every successful run; without it a success is published only as the Clear (severity 0) of an alert a previous run left open. A schedule's policy.notify_on_success can ask for it too."
  type        = bool
  default     = false
}

################################################################################
# Timings
################################################################################

variable "storm_threshold" {
  description = "Instances of one run reported one by one for the same reason (the same reason_code) before the rest of that run's failures are collapsed into one BackupStorm event (docs/contracts.md section 5b): 1,000 instances failing alike give this many events, one storm event and the run summary."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.storm_threshold == floor(var.storm_threshold) && var.storm_threshold >= 1 && var.storm_threshold <= 25
    error_message = "storm_threshold must be a whole number from 1 to 25 (the run ledger names the first 50 instances of a reason; a storm event names every instance reported before it)."
  }
}

variable "run_summary_function_name" {
  description = "Name of the function (in this account and Region) the state machine invokes asynchronously to publish a run's summary when its record completes the run: the discovery function (docs/contracts.md section 5b). Null: runs are counted in the ledger but their summary is only published by the schedule's next run."
  type        = string
  default     = null

  validation {
    condition     = var.run_summary_function_name == null || can(regex("^[A-Za-z0-9_-]{1,64}$", coalesce(var.run_summary_function_name, "x")))
    error_message = "run_summary_function_name must be null or a Lambda function name (1-64 letters, digits, '-' or '_'), not an ARN."
  }
}

variable "timings" {
  description = <<-EOT
    Polling and bounds of the state machine, in seconds unless named otherwise:
    command_poll_seconds / command_wait_max_seconds (freeze and thaw commands: poll interval,
    and how long a command may stay pending or running, pre-freeze hooks included),
    snapshot_poll_seconds (inside the freeze window), thaw_margin_seconds (the thaw starts this
    long before the instance's watchdog deadline), thaw_max_attempts, clock_skew_margin_seconds
    (how far the instance's clock may be from AWS's: used to trust the watchdog deadline the
    instance reports and to compare its watchdog's thaw with the snapshots' start),
    job_poll_initial_seconds / job_poll_max_seconds
    (the interval doubles up to the maximum), job_wait_max_seconds, complete_window_minutes
    (StartBackupJob CompleteWindowMinutes), copy_poll_initial_seconds / copy_poll_max_seconds /
    copy_wait_max_seconds, guard_ttl_seconds (how long DynamoDB keeps an instance's guard item
    after its last scheduled run), slot_wait_seconds / slot_wait_max_seconds (an instance waiting
    for a freeze slot tries again after 1 to 2 times slot_wait_seconds, and gives up, unfrozen,
    after slot_wait_max_seconds).
  EOT
  type = object({
    command_poll_seconds      = optional(number, 2)
    command_wait_max_seconds  = optional(number, 120)
    snapshot_poll_seconds     = optional(number, 2)
    thaw_margin_seconds       = optional(number, 8)
    thaw_max_attempts         = optional(number, 3)
    clock_skew_margin_seconds = optional(number, 2)
    job_poll_initial_seconds  = optional(number, 60)
    job_poll_max_seconds      = optional(number, 1200)
    job_wait_max_seconds      = optional(number, 612000)
    complete_window_minutes   = optional(number, 10080)
    copy_poll_initial_seconds = optional(number, 60)
    copy_poll_max_seconds     = optional(number, 3600)
    copy_wait_max_seconds     = optional(number, 259200)
    guard_ttl_seconds         = optional(number, 2592000)
    slot_wait_seconds         = optional(number, 5)
    slot_wait_max_seconds     = optional(number, 21600)
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for name, value in var.timings : value == floor(value) && value >= 1])
    error_message = "Every timing must be a whole number of at least 1."
  }

  validation {
    condition     = var.timings.command_poll_seconds <= 60 && var.timings.snapshot_poll_seconds <= 10
    error_message = "command_poll_seconds must be at most 60 and snapshot_poll_seconds at most 10: the freeze window is measured in seconds."
  }

  validation {
    condition     = var.timings.thaw_margin_seconds + var.timings.clock_skew_margin_seconds < 15 && var.timings.thaw_max_attempts <= 10
    error_message = "thaw_margin_seconds + clock_skew_margin_seconds must stay below 15 (the smallest max_freeze_seconds: the thaw must start inside every freeze window) and thaw_max_attempts must be at most 10."
  }

  validation {
    condition     = var.timings.slot_wait_seconds <= 300 && var.timings.slot_wait_max_seconds >= 60 && var.timings.slot_wait_max_seconds <= 604800
    error_message = "slot_wait_seconds must be at most 300 and slot_wait_max_seconds from 60 to 604800 (a week): an instance waits for a freeze slot unfrozen, but not for ever."
  }

  validation {
    condition     = var.timings.command_wait_max_seconds >= 30 && var.timings.command_wait_max_seconds <= 3600
    error_message = "command_wait_max_seconds must be from 30 (SendCommand's delivery timeout) to 3600: it bounds how long a freeze or thaw command, hooks included, is waited for."
  }

  validation {
    condition     = var.timings.job_poll_initial_seconds <= var.timings.job_poll_max_seconds && var.timings.copy_poll_initial_seconds <= var.timings.copy_poll_max_seconds
    error_message = "The initial poll intervals must not exceed their maximums (job_poll_*, copy_poll_*)."
  }

  validation {
    condition     = var.timings.job_wait_max_seconds / var.timings.job_poll_max_seconds <= 1000 && var.timings.copy_wait_max_seconds / var.timings.copy_poll_max_seconds <= 1000
    error_message = "job_wait_max_seconds / job_poll_max_seconds and copy_wait_max_seconds / copy_poll_max_seconds must each be at most 1000 polls: an execution's history is limited to 25,000 events (about 14 per job poll, 9 per copy poll)."
  }

  validation {
    condition     = var.timings.job_wait_max_seconds + var.timings.copy_wait_max_seconds <= 2505600
    error_message = "job_wait_max_seconds + copy_wait_max_seconds must stay within 29 days: the state machine's own timeout is 30 days."
  }

  validation {
    condition     = var.timings.complete_window_minutes >= 60 && var.timings.complete_window_minutes * 60 <= var.timings.job_wait_max_seconds
    error_message = "complete_window_minutes must be at least 60 and, in seconds, no longer than job_wait_max_seconds (AWS Backup must end the job before the state machine stops waiting)."
  }
}

variable "api_budget" {
  description = <<-EOT
    The AWS API calls a fleet run may spend, so that the account's other tools keep working.
    share_of_quota: every API's budget as a share of its quota (default 0.5; other tools keep
    the rest). calls_per_second: one API's budget in calls per second, by key (for example
    "ssm:SendCommand"; every key and its quota in docs/fleet.md). quotas: the account's quota
    in calls per second where it is not the one the module assumes (a quota AWS Support
    raised, or one AWS does not publish and the account measured), by the same keys. The
    budgets set how many instances may be frozen at once and how fast discovery starts
    executions.
  EOT
  type = object({
    share_of_quota   = optional(number, 0.5)
    calls_per_second = optional(map(number), {})
    quotas           = optional(map(number), {})
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.api_budget.share_of_quota > 0 && var.api_budget.share_of_quota <= 0.9
    error_message = "api_budget.share_of_quota must be above 0 and at most 0.9: the account's other tools need a share of every quota."
  }

  validation {
    condition     = length(setsubtract(keys(merge(var.api_budget.calls_per_second, var.api_budget.quotas)), keys(local.default_api_quotas))) == 0
    error_message = "api_budget.calls_per_second and api_budget.quotas have keys that name no API the module calls: ${join(", ", setsubtract(keys(merge(var.api_budget.calls_per_second, var.api_budget.quotas)), keys(local.default_api_quotas)))} (known: ${join(", ", sort(keys(local.default_api_quotas)))})."
  }

  validation {
    condition     = alltrue([for api, quota in var.api_budget.quotas : try(quota > 0, false)])
    error_message = "api_budget.quotas must be above 0 calls per second (a quota of the account, not a budget); wrong: ${join(", ", [for api, quota in var.api_budget.quotas : api if !try(quota > 0, false)])}."
  }

  validation {
    condition     = alltrue([for api, rate in var.api_budget.calls_per_second : try(rate > 0 && rate <= lookup(merge(local.default_api_quotas, var.api_budget.quotas), api, rate), false)])
    error_message = "api_budget.calls_per_second must be above 0 and at most the API's quota (the module's, or api_budget.quotas; docs/fleet.md); wrong: ${join(", ", [for api, rate in var.api_budget.calls_per_second : "${api} (quota ${try(lookup(merge(local.default_api_quotas, var.api_budget.quotas), api, "unknown"), "unknown")})" if !try(rate > 0 && rate <= lookup(merge(local.default_api_quotas, var.api_budget.quotas), api, rate), false)])}."
  }

  # A freeze slot makes up to one call a second of each of these (budget.tf): below one
  # call a second, even one slot could spend more than the budget in a second.
  validation {
    condition = alltrue([for api in ["ssm:SendCommand", "backup:StartBackupJob", "ec2:DescribeSnapshots", "ssm:GetCommandInvocation"] :
    try(lookup(var.api_budget.calls_per_second, api, lookup(merge(local.default_api_quotas, var.api_budget.quotas), api) * var.api_budget.share_of_quota) >= 1, true)])
    error_message = "api_budget: the freeze window's APIs need a budget of at least 1 call a second each (one freeze slot makes up to one call a second of each; docs/fleet.md); raise share_of_quota, calls_per_second or the quota of: ${join(", ", [for api in ["ssm:SendCommand", "backup:StartBackupJob", "ec2:DescribeSnapshots", "ssm:GetCommandInvocation"] : api if !try(lookup(var.api_budget.calls_per_second, api, lookup(merge(local.default_api_quotas, var.api_budget.quotas), api) * var.api_budget.share_of_quota) >= 1, true)])}."
  }
}

################################################################################
# Logs, traces, encryption, IAM
################################################################################

variable "log_level" {
  description = "Step Functions log level: ERROR logs failed executions and states; ALL logs every transition (with execution data, useful to investigate a run, costlier for large fleets)."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL"], var.log_level)
    error_message = "log_level must be ALL, ERROR or FATAL (OFF would leave failed runs without a trace)."
  }
}

variable "log_retention_days" {
  description = "Retention of the state machine's log group, in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of a customer-managed KMS key to encrypt the log group (its key policy must allow the CloudWatch Logs service). Null: CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."
  }
}

variable "guard_table_kms_key_arn" {
  description = "ARN of a customer-managed KMS key for the guard table and the run ledger. Null: the AWS-managed key (aws/dynamodb); the tables hold instance ids, run ids, outcomes and counts only."
  type        = string
  default     = null

  validation {
    condition     = var.guard_table_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.guard_table_kms_key_arn))
    error_message = "guard_table_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."
  }
}

variable "tracing_enabled" {
  description = "Send X-Ray traces of the executions."
  type        = bool
  default     = true
}

variable "permissions_boundary_arn" {
  description = "ARN of an IAM permissions boundary to set on the state machine's role, as landing zones often require. Null: none."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/[A-Za-z0-9+=,.@_/-]+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be null or an IAM policy ARN (arn:aws:iam::ACCOUNT:policy/NAME)."
  }
}

################################################################################
# Alarms
################################################################################

variable "alarm_actions" {
  description = "Where the execution alarms publish on ALARM and OK: the module's alarm topic (docs/contracts.md section 8). Null: notification_topic_arn, on ALARM only."
  type        = list(string)
  default     = null
}

variable "alarm_period_seconds" {
  description = "Period of the failed / timed-out execution alarms: they fire when at least one execution failed or timed out within it."
  type        = number
  default     = 300

  validation {
    condition     = contains([60, 300, 900, 3600, 21600, 86400], var.alarm_period_seconds)
    error_message = "alarm_period_seconds must be 60, 300, 900, 3600, 21600 or 86400."
  }
}

variable "consistency_share_alarms" {
  description = "Per consistency label (docs/contracts.md section 4) other than application-consistent: alarm when that label's share of the recovery points made in consistency_share_alarm_hours reaches this many percent (0: no alarm). Merged over the default { crash-consistent-timeout = 10 }: a rising share of timeouts says AWS Backup starts the snapshots later than max_freeze_seconds allows in this account."
  type        = map(number)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for label in keys(var.consistency_share_alarms) : contains(["crash-consistent", "crash-consistent-watchdog", "crash-consistent-timeout", "stopped", "vss"], label)])
    error_message = "consistency_share_alarms: ${join(", ", [for label in keys(var.consistency_share_alarms) : jsonencode(label) if !contains(["crash-consistent", "crash-consistent-watchdog", "crash-consistent-timeout", "stopped", "vss"], label)])} is not a label whose share can alarm: crash-consistent, crash-consistent-watchdog, crash-consistent-timeout, stopped or vss (application-consistent is the good news)."
  }

  validation {
    condition     = alltrue([for percent in values(var.consistency_share_alarms) : percent >= 0 && percent <= 100])
    error_message = "consistency_share_alarms: ${join(", ", [for label, percent in var.consistency_share_alarms : "${label} (${percent})" if !(percent >= 0 && percent <= 100)])} must be a percent from 0 (no alarm) to 100."
  }
}

variable "consistency_share_alarm_hours" {
  description = "Window of the consistency share alarms: the share is that of the recovery points made in this many hours (1-168; CloudWatch evaluates 7 days at most)."
  type        = number
  default     = 24
  nullable    = false

  validation {
    condition     = var.consistency_share_alarm_hours >= 1 && var.consistency_share_alarm_hours <= 168 && floor(var.consistency_share_alarm_hours) == var.consistency_share_alarm_hours
    error_message = "consistency_share_alarm_hours must be a whole number of hours from 1 to 168."
  }
}
