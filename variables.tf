################################################################################
# Naming
################################################################################

variable "name_prefix" {
  description = "Prefix of every resource name the module creates (IAM roles, function, state machine, schedules, vault, topic)."
  type        = string
  default     = "app-consistent-backup"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen, so that every derived name (IAM role, function, state machine, schedule) stays within AWS limits."
  }
}

variable "tags" {
  description = "Tags added to every resource the module creates."
  type        = map(string)
  default     = {}
}

################################################################################
# Which instances, when
################################################################################

variable "selection_tag_key" {
  description = "Tag key that selects instances for backup. An instance is backed up by a schedule when this tag's value equals the schedule's tag_value (by default the schedule's name), e.g. AppConsistentBackup = nightly. SSM commands are only allowed on instances carrying this key."
  type        = string
  default     = "AppConsistentBackup"

  validation {
    condition     = can(regex("^[\\p{L}\\p{N}\\s_.:/=+@-]{1,128}$", var.selection_tag_key)) && !startswith(lower(var.selection_tag_key), "aws:")
    error_message = "selection_tag_key must be a valid EC2 tag key (1-128 letters, digits, spaces and _ . : / = + - @) and must not start with aws:, which AWS reserves."
  }
}

variable "opt_out_tag_key" {
  description = "Tag key that opts a selected instance out: an instance with this tag set to true is counted as opted out and never frozen or backed up by the module."
  type        = string
  default     = "AppConsistentBackupOptOut"

  validation {
    condition     = can(regex("^[\\p{L}\\p{N}\\s_.:/=+@-]{1,128}$", var.opt_out_tag_key)) && !startswith(lower(var.opt_out_tag_key), "aws:")
    error_message = "opt_out_tag_key must be a valid EC2 tag key (1-128 letters, digits, spaces and _ . : / = + - @) and must not start with aws:, which AWS reserves."
  }

  validation {
    condition     = var.opt_out_tag_key != var.selection_tag_key
    error_message = "opt_out_tag_key must differ from selection_tag_key: one tag cannot both select and exclude an instance."
  }
}

variable "schedules" {
  description = <<-EOT
    Backup schedules, by name (lower-case, used in execution and schedule names). Each runs the discovery for the instances whose selection tag equals its tag_value (default: its name):
    - schedule_expression: cron(...), rate(...) or at(...) as EventBridge Scheduler accepts them.
    - timezone: IANA time zone the cron expression is read in (default UTC).
    - enabled: false keeps the schedule but stops it firing.
    - retention_days: how long the recovery points are kept.
    - flexible_window_minutes: spread the start over this many minutes (null: start on time).
    - max_freeze_seconds, on_freeze_failure, stopped_instances: override the module-wide settings for this schedule.
  EOT
  type = map(object({
    schedule_expression     = string
    timezone                = optional(string, "UTC")
    enabled                 = optional(bool, true)
    tag_value               = optional(string)
    retention_days          = optional(number, 35)
    flexible_window_minutes = optional(number)
    max_freeze_seconds      = optional(number)
    on_freeze_failure       = optional(string)
    stopped_instances       = optional(string)
  }))
  default = {
    nightly = {
      schedule_expression = "cron(0 1 * * ? *)"
    }
  }

  validation {
    condition     = length(var.schedules) > 0
    error_message = "schedules must hold at least one schedule: without one, nothing is ever backed up."
  }

  validation {
    condition     = alltrue([for name in keys(var.schedules) : can(regex("^[a-z0-9][a-z0-9-]{0,31}$", name))])
    error_message = "Schedule names must be 1-32 lower-case letters, digits or hyphens (starting with a letter or digit): they become part of Step Functions execution names, which allow 80 characters. Not so: ${join(", ", [for name in keys(var.schedules) : jsonencode(name) if !can(regex("^[a-z0-9][a-z0-9-]{0,31}$", name))])}."
  }

  validation {
    condition = alltrue([for s in values(var.schedules) : (
      can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)$", s.schedule_expression)) ||
      can(regex("^rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)$", s.schedule_expression)) ||
      can(regex("^at\\([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\)$", s.schedule_expression))
    )])
    error_message = "schedule_expression of ${join(", ", [for k, s in var.schedules : "${k} (${jsonencode(s.schedule_expression)})" if !(can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)$", s.schedule_expression)) || can(regex("^rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)$", s.schedule_expression)) || can(regex("^at\\([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\)$", s.schedule_expression)))])}: EventBridge Scheduler accepts cron(minutes hours day-of-month month day-of-week year) with six fields, e.g. cron(0 1 * * ? *); rate(N minutes|hours|days), e.g. rate(12 hours); or at(yyyy-mm-ddThh:mm:ss) for a one-time run."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : can(regex("^(UTC|[A-Za-z]+(/[A-Za-z0-9_+-]+){1,2})$", s.timezone))])
    error_message = "timezone of ${join(", ", [for k, s in var.schedules : "${k} (${jsonencode(s.timezone)})" if !can(regex("^(UTC|[A-Za-z]+(/[A-Za-z0-9_+-]+){1,2})$", s.timezone))])}: it must be UTC or an IANA time zone name such as Europe/Paris or America/Argentina/Buenos_Aires."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : s.retention_days >= 1 && s.retention_days <= 36500 && floor(s.retention_days) == s.retention_days])
    error_message = "retention_days of ${join(", ", [for k, s in var.schedules : "${k} (${s.retention_days})" if !(s.retention_days >= 1 && s.retention_days <= 36500 && floor(s.retention_days) == s.retention_days)])}: it must be a whole number of days from 1 to 36500 (AWS Backup's lifecycle range)."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : s.flexible_window_minutes == null || try(s.flexible_window_minutes >= 1 && s.flexible_window_minutes <= 1440, false)])
    error_message = "flexible_window_minutes of ${join(", ", [for k, s in var.schedules : "${k} (${s.flexible_window_minutes})" if !(s.flexible_window_minutes == null || try(s.flexible_window_minutes >= 1 && s.flexible_window_minutes <= 1440, false))])}: it must be null (start on time) or 1-1440 minutes, EventBridge Scheduler's range."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : s.tag_value == null || can(regex("^[\\p{L}\\p{N}\\s_.:/=+@-]{1,256}$", s.tag_value))])
    error_message = "tag_value of ${join(", ", [for k, s in var.schedules : "${k} (${jsonencode(s.tag_value)})" if !(s.tag_value == null || can(regex("^[\\p{L}\\p{N}\\s_.:/=+@-]{1,256}$", s.tag_value)))])}: it must be a valid EC2 tag value, 1-256 letters, digits, spaces and _ . : / = + - @."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : s.max_freeze_seconds == null || try(s.max_freeze_seconds >= 15 && s.max_freeze_seconds <= 900 && floor(s.max_freeze_seconds) == s.max_freeze_seconds, false)])
    error_message = "max_freeze_seconds of ${join(", ", [for k, s in var.schedules : "${k} (${s.max_freeze_seconds})" if !(s.max_freeze_seconds == null || try(s.max_freeze_seconds >= 15 && s.max_freeze_seconds <= 900 && floor(s.max_freeze_seconds) == s.max_freeze_seconds, false))])}: it must be null (use the module's) or a whole number of seconds from 15 to 900: the state machine keeps 8 seconds to thaw before the bound, so less leaves AWS Backup no time to start the snapshots, and more stalls applications."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : s.on_freeze_failure == null || contains(["crash-consistent", "skip", "fail"], coalesce(s.on_freeze_failure, "x"))])
    error_message = "on_freeze_failure of ${join(", ", [for k, s in var.schedules : "${k} (${jsonencode(s.on_freeze_failure)})" if !(s.on_freeze_failure == null || contains(["crash-consistent", "skip", "fail"], coalesce(s.on_freeze_failure, "x")))])}: it must be null (use the module's), crash-consistent, skip or fail."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : s.stopped_instances == null || contains(["backup", "skip"], coalesce(s.stopped_instances, "x"))])
    error_message = "stopped_instances of ${join(", ", [for k, s in var.schedules : "${k} (${jsonencode(s.stopped_instances)})" if !(s.stopped_instances == null || contains(["backup", "skip"], coalesce(s.stopped_instances, "x")))])}: it must be null (use the module's), backup or skip."
  }

  validation {
    condition     = length(distinct([for k, s in var.schedules : coalesce(s.tag_value, k)])) == length(var.schedules)
    error_message = "Schedules ${join(", ", [for k, s in var.schedules : "${k} (${jsonencode(coalesce(s.tag_value, k))})" if length([for k2, s2 in var.schedules : k2 if coalesce(s2.tag_value, k2) == coalesce(s.tag_value, k)]) > 1])} select the same tag_value. Each instance would be backed up twice per cycle and the second job would wait behind the first (AWS Backup runs one job per resource at a time). Give each schedule its own tag_value."
  }

  validation {
    condition     = var.vault.lock == null ? true : alltrue([for s in values(var.schedules) : s.retention_days >= var.vault.lock.min_retention_days && s.retention_days <= coalesce(var.vault.lock.max_retention_days, 36500)])
    error_message = "retention_days of ${join(", ", [for k, s in var.schedules : "${k} (${s.retention_days})" if var.vault.lock != null && !(s.retention_days >= try(var.vault.lock.min_retention_days, 0) && s.retention_days <= try(coalesce(var.vault.lock.max_retention_days, 36500), 36500))])} lies outside the vault lock's retention (${try(var.vault.lock.min_retention_days, "?")} to ${try(coalesce(var.vault.lock.max_retention_days, 36500), "?")} days): AWS Backup would refuse every backup job of that schedule."
  }
}

################################################################################
# Freezing
################################################################################

variable "max_freeze_seconds" {
  description = "Longest a filesystem may stay frozen. The state machine thaws as soon as the snapshots have started, and at this bound at the latest (the backup is then labelled crash-consistent-timeout); the instance's watchdog thaws on its own at this bound too, whatever happens to the state machine."
  type        = number
  default     = 60

  validation {
    condition     = var.max_freeze_seconds >= 15 && var.max_freeze_seconds <= 900 && floor(var.max_freeze_seconds) == var.max_freeze_seconds
    error_message = "max_freeze_seconds must be a whole number from 15 to 900: the state machine keeps 8 seconds to thaw before the bound, so less leaves AWS Backup no time to start the snapshots, and more stalls applications for over 15 minutes."
  }
}

variable "on_freeze_failure" {
  description = "What to do when an instance cannot be frozen (agent offline, freeze or pre-freeze hook failed): crash-consistent (back up anyway, labelled crash-consistent, and report), skip (no backup, report) or fail (no backup, report as a failure)."
  type        = string
  default     = "crash-consistent"

  validation {
    condition     = contains(["crash-consistent", "skip", "fail"], var.on_freeze_failure)
    error_message = "on_freeze_failure must be crash-consistent, skip or fail."
  }
}

variable "stopped_instances" {
  description = "What to do with a selected instance that is stopped: backup (its disks are quiet, so the backup is consistent without a freeze; labelled stopped) or skip (counted and reported)."
  type        = string
  default     = "backup"

  validation {
    condition     = contains(["backup", "skip"], var.stopped_instances)
    error_message = "stopped_instances must be backup or skip."
  }
}

variable "instance_hooks" {
  description = <<-EOT
    Where the instances' hooks live, fixed in the SSM document when it is created (no command can name another directory):
    - pre_freeze_dir: executables run as root, in name order, before the freeze; one failing aborts the freeze.
    - post_thaw_dir: executables run as root, in reverse name order, after the thaw (also the watchdog's); the post-thaw hook named N runs only when the pre-freeze hook named N ran for that freeze.
    On the instance, every directory leading to a hook and the hook itself (symbolic links resolved) must be owned by root and not writable by group or others, or no hook of that phase runs. See ssm/README.md.
  EOT
  type = object({
    pre_freeze_dir = optional(string, "/etc/app-consistent-backup/pre-freeze.d")
    post_thaw_dir  = optional(string, "/etc/app-consistent-backup/post-thaw.d")
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for k, d in var.instance_hooks : can(regex("^(/[.]?[A-Za-z0-9_-][A-Za-z0-9._-]*)+$", d))])
    error_message = "instance_hooks: each of pre_freeze_dir and post_thaw_dir must be an absolute path of letters, digits, '.', '_' and '-', without '.' or '..' components or a trailing '/' (it is written into the SSM document's shell step)."
  }

  validation {
    condition     = !anytrue([for k, d in var.instance_hooks : can(regex("^/([^/]+|(usr/(local/)?)?(s?bin|lib(exec|64)?))$", d))])
    error_message = "instance_hooks: neither pre_freeze_dir nor post_thaw_dir may be a top-level directory or a system program directory such as /usr/sbin: every executable in it runs as root at each backup."
  }
}

variable "auto_selection_exclusions" {
  description = "Paths whose filesystems a freeze leaves out when it chooses the filesystems itself (the default, without IncludeMountpoints): services must keep writing there, and auditd can halt the system when it cannot (CIS and STIG layouts mount /var/log/audit, /tmp and /var/tmp apart). A path that does not exist on an instance excludes nothing; a command naming a filesystem in IncludeMountpoints freezes it all the same. Fixed in the SSM document. [] leaves nothing out."
  type        = list(string)
  default     = ["/var/log/audit", "/tmp", "/var/tmp"]
  nullable    = false

  validation {
    condition     = alltrue([for p in var.auto_selection_exclusions : can(regex("^(/[.]?[A-Za-z0-9_-][A-Za-z0-9._-]*)+$", p))])
    error_message = "auto_selection_exclusions: each entry must be an absolute path of letters, digits, '.', '_' and '-', without '.' or '..' components or a trailing '/' (it is written into the SSM document's shell step)."
  }

  validation {
    condition     = length(join(":", var.auto_selection_exclusions)) <= 4096
    error_message = "auto_selection_exclusions must fit in 4096 characters, joined with ':'."
  }
}

################################################################################
# Where backups go
################################################################################

variable "vault" {
  description = <<-EOT
    The AWS Backup vault:
    - create: create the vault (default) or use an existing one named by name.
    - name: the vault's name (default: name_prefix).
    - kms_key_arn: customer-managed key ARN for a created vault (null creates one). It encrypts backups of resource types AWS Backup fully manages; EC2 recovery points keep their EBS volumes' keys and are not re-encrypted with it.
    - create_kms_key: create the vault's key; null (default) creates one when kms_key_arn is null. Set false with a kms_key_arn of a key created in the same configuration (unknown until apply): Terraform must know at plan whether the module creates a key.
    - lock: optional Vault Lock (min/max retention days; changeable_for_days >= 3 makes it compliance mode after that grace period: recommended for production).
    - force_destroy: let terraform destroy delete a vault holding recovery points (test accounts only).
    - access_policy: denies deleting recovery points, changing their lifecycle and deleting the vault to all but break_glass_principal_arns; enabled null (default) attaches it to a created vault only (it would replace a brought vault's policy); deny_policy_changes also guards the policy and lock (docs/compliance.md).
  EOT
  type = object({
    create         = optional(bool, true)
    name           = optional(string)
    kms_key_arn    = optional(string)
    create_kms_key = optional(bool)
    force_destroy  = optional(bool, false)
    lock = optional(object({
      min_retention_days  = number
      max_retention_days  = optional(number)
      changeable_for_days = optional(number)
    }))
    access_policy = optional(object({
      enabled                    = optional(bool)
      break_glass_principal_arns = optional(list(string), [])
      deny_policy_changes        = optional(bool, false)
    }), {})
  })
  default = {}

  validation {
    condition     = var.vault.name == null || can(regex("^[a-zA-Z0-9_-]{2,50}$", coalesce(var.vault.name, "x")))
    error_message = "vault.name must be 2-50 letters, digits, hyphens or underscores: that is what AWS Backup accepts for a vault name."
  }

  validation {
    condition     = var.vault.create || var.vault.name != null
    error_message = "vault.name is required when vault.create is false: the module has to know which existing vault to use."
  }

  validation {
    condition     = var.vault.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", coalesce(var.vault.kms_key_arn, "x")))
    error_message = "vault.kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID): AWS Backup takes no key ids or aliases (alias/aws/backup included) for vault encryption."
  }

  validation {
    condition     = var.vault.create_kms_key == null ? true : (var.vault.create_kms_key ? var.vault.kms_key_arn == null : (!var.vault.create || var.vault.kms_key_arn != null))
    error_message = "vault.create_kms_key is ${jsonencode(var.vault.create_kms_key)}: true creates the vault's key, so vault.kms_key_arn must be null; false needs vault.kms_key_arn (a created vault is encrypted with a customer-managed key)."
  }

  validation {
    condition     = var.vault.lock == null || var.vault.create
    error_message = "vault.lock can only be set on a vault this module creates: lock an existing vault where it is managed."
  }

  validation {
    condition     = var.vault.lock == null || try(var.vault.lock.min_retention_days >= 1 && var.vault.lock.min_retention_days <= 36500, false)
    error_message = "vault.lock.min_retention_days must be from 1 to 36500 days (AWS Backup's range)."
  }

  validation {
    condition     = var.vault.lock == null ? true : (var.vault.lock.max_retention_days == null ? true : var.vault.lock.max_retention_days >= var.vault.lock.min_retention_days)
    error_message = "vault.lock.max_retention_days must be at least min_retention_days: otherwise no recovery point could satisfy the lock."
  }

  validation {
    condition     = var.vault.lock == null ? true : (var.vault.lock.changeable_for_days == null ? true : var.vault.lock.changeable_for_days >= 3)
    error_message = "vault.lock.changeable_for_days must be null (governance mode) or at least 3: AWS Backup needs a grace period of 3 days or more before a lock becomes immutable."
  }
}

variable "copy_destinations" {
  description = "Vaults every recovery point is copied to after the backup completes (another region, another account). EC2 recovery points keep their EBS volumes' keys, so a copy to another account needs the volumes encrypted with customer-managed keys whose policies let that account use them (volumes on the AWS managed aws/ebs key cannot be copied across accounts), the accounts in one AWS Organization with cross-account backup turned on, and the destination vault's access policy allowing backup:CopyIntoBackupVault from this account (modules/destination-vault; docs/compliance.md)."
  type = list(object({
    destination_vault_arn = string
    retention_days        = optional(number)
  }))
  default = []

  validation {
    condition     = alltrue([for c in var.copy_destinations : can(regex("^arn:aws[a-z-]*:backup:[a-z0-9-]+:[0-9]{12}:backup-vault:[a-zA-Z0-9_-]{2,50}$", c.destination_vault_arn))])
    error_message = "copy_destinations ${join(", ", [for i, c in var.copy_destinations : "[${i}] (${jsonencode(c.destination_vault_arn)})" if !can(regex("^arn:aws[a-z-]*:backup:[a-z0-9-]+:[0-9]{12}:backup-vault:[a-zA-Z0-9_-]{2,50}$", c.destination_vault_arn))])}: destination_vault_arn must be a backup vault ARN, arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME."
  }

  validation {
    condition     = alltrue([for c in var.copy_destinations : c.retention_days == null || try(c.retention_days >= 1 && c.retention_days <= 36500, false)])
    error_message = "retention_days of copy_destinations ${join(", ", [for i, c in var.copy_destinations : "[${i}] (${c.retention_days})" if !(c.retention_days == null || try(c.retention_days >= 1 && c.retention_days <= 36500, false))])}: it must be null (same as the source) or from 1 to 36500 days."
  }

  validation {
    condition     = length(distinct([for c in var.copy_destinations : c.destination_vault_arn])) == length(var.copy_destinations)
    error_message = "copy_destinations ${join(", ", [for i, c in var.copy_destinations : "[${i}] (${c.destination_vault_arn})" if length([for c2 in var.copy_destinations : c2 if c2.destination_vault_arn == c.destination_vault_arn]) > 1])} name the same vault: each copy would be made twice."
  }
}

variable "report_plan" {
  description = <<-EOT
    Optional AWS Backup Audit Manager report plan (null: none), delivered to an S3 bucket you own whose policy lets AWS Backup write (docs/compliance.md):
    - s3_bucket_name, s3_key_prefix: where the reports go.
    - formats: CSV and/or JSON.
    - report_template: BACKUP_JOB_REPORT (default), COPY_JOB_REPORT or RESTORE_JOB_REPORT. A job report covers the account and Region; the module's jobs are those of its vault.
  EOT
  type = object({
    s3_bucket_name  = string
    s3_key_prefix   = optional(string)
    formats         = optional(list(string), ["CSV", "JSON"])
    report_template = optional(string, "BACKUP_JOB_REPORT")
  })
  default = null
}

variable "restore_testing" {
  description = <<-EOT
    Optional AWS Backup restore testing of the module's recovery points, with a validation of each restored instance reported to AWS Backup and to the notifications (docs/compliance.md, docs/contracts.md section 6). Off by default: each test launches instances.
    - enabled: create the restore testing plan, its selections and the validation function.
    - schedules: names of the schedules whose instances are tested (default: all); one selection each, by the selection tag.
    - schedule_expression / timezone / start_window_hours: when the tests run (AWS Backup cron).
    - algorithm / selection_window_days: which recovery point of each instance (LATEST_WITHIN_WINDOW or RANDOM_WITHIN_WINDOW, among the last N days), from the module's vault only.
    - validation_window_hours: how long AWS Backup keeps a restored instance for the validation (1-168).
    - restore_metadata_overrides: EC2 restore metadata (instanceType, subnetId, securityGroupIds, requireImdsV2, iamInstanceProfileName; default restores the instance profile, which the SSM agent needs).
    - instance_role_arns: roles of those instance profiles, which AWS Backup's restore role may pass to EC2.
    - agent_wait_seconds, check_timeout_seconds, check_dir: the validation's bounds and the instance directory of the user's checks.
  EOT
  type = object({
    enabled                    = optional(bool, false)
    schedules                  = optional(list(string))
    schedule_expression        = optional(string, "cron(0 5 ? * SUN *)")
    timezone                   = optional(string, "UTC")
    start_window_hours         = optional(number, 8)
    algorithm                  = optional(string, "LATEST_WITHIN_WINDOW")
    selection_window_days      = optional(number, 7)
    validation_window_hours    = optional(number, 4)
    restore_metadata_overrides = optional(map(string), { iamInstanceProfileName = "UseBackedUpValue" })
    instance_role_arns         = optional(list(string), [])
    agent_wait_seconds         = optional(number, 900)
    check_timeout_seconds      = optional(number, 300)
    check_dir                  = optional(string, "/etc/app-consistent-backup/restore-check.d")
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.restore_testing.schedules == null ? true : alltrue([for n in coalesce(var.restore_testing.schedules, []) : contains(keys(var.schedules), n)])
    error_message = "restore_testing.schedules must name schedules of var.schedules: their instances are the ones restore-tested."
  }
}

################################################################################
# Notifications
################################################################################

variable "notifications" {
  description = <<-EOT
    Where failures, clears and alarms go:
    - create_topic: create KMS-encrypted SNS topics (default): one for the notifications (ServiceNow Event Management's fields), one for the alarms; or use topic_arn.
    - topic_arn / kms_key_arn: a brought topic and its key (the key gets publish rights for the module's roles); alarm_topic_arn: where alarms go then (default: the brought topic).
    - kms_key_arn with create_topic: a customer-managed key for the created topics (null creates one); create_kms_key: null (default) creates one when kms_key_arn is null, false with a kms_key_arn of a key created in the same configuration (unknown until apply).
    - subscriptions: by name; protocol email, email-json, https (webhooks), sqs or lambda; optional filter_policy on the message attributes severity, stage, outcome, instance_id; alarms (default true) also subscribes the endpoint to the alarm topic, unfiltered; grant_access (default true) writes the sqs queue's policy or the lambda permission SNS needs; content_type, delivery_policy, confirmation_timeout_in_minutes, endpoint_auto_confirms for https. ServiceNow is not a subscription: see servicenow.
    - notify_on_success: publish every success too (severity 5), not only the clear after a failure.
    - storm_threshold: instances of one run reported one by one for the same reason before the rest are collapsed into one BackupStorm event (1..25, default 1: 1,000 instances failing alike give 3 events, with the run summary). Every run ends with one BackupRunSummary event (docs/contracts.md section 5b).
  EOT
  type = object({
    create_topic    = optional(bool, true)
    topic_arn       = optional(string)
    kms_key_arn     = optional(string)
    create_kms_key  = optional(bool)
    alarm_topic_arn = optional(string)
    subscriptions = optional(map(object({
      protocol                        = string
      endpoint                        = string
      filter_policy                   = optional(string)
      alarms                          = optional(bool, true)
      raw_message_delivery            = optional(bool, false)
      grant_access                    = optional(bool, true)
      content_type                    = optional(string)
      delivery_policy                 = optional(string)
      confirmation_timeout_in_minutes = optional(number, 1)
      endpoint_auto_confirms          = optional(bool, false)
    })), {})
    notify_on_success = optional(bool, false)
    storm_threshold   = optional(number, 1)
  })
  default = {}

  validation {
    condition     = var.notifications.storm_threshold != null && try(var.notifications.storm_threshold == floor(var.notifications.storm_threshold) && var.notifications.storm_threshold >= 1 && var.notifications.storm_threshold <= 25, false)
    error_message = "notifications.storm_threshold must be a whole number from 1 to 25: how many instances of one run are reported one by one for the same reason before one storm event stands for the rest (the run ledger names the first 50 of each reason)."
  }

  validation {
    condition     = var.notifications.create_topic || var.notifications.topic_arn != null
    error_message = "notifications.topic_arn is required when notifications.create_topic is false: failures must be published somewhere."
  }

  validation {
    condition     = var.notifications.topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", coalesce(var.notifications.topic_arn, "x")))
    error_message = "notifications.topic_arn must be a standard SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)."
  }

  validation {
    condition     = var.notifications.alarm_topic_arn == null || (!var.notifications.create_topic && can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", coalesce(var.notifications.alarm_topic_arn, "x"))))
    error_message = "notifications.alarm_topic_arn is for a brought topic (create_topic = false) and must be a standard SNS topic ARN: with create_topic the module creates the alarm topic."
  }

  validation {
    condition     = var.notifications.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", coalesce(var.notifications.kms_key_arn, "x")))
    error_message = "notifications.kms_key_arn must be a customer-managed KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID); AWS managed alias/aws/sns is refused because CloudWatch alarms cannot publish through it."
  }

  validation {
    condition     = var.notifications.create_kms_key == null ? true : (var.notifications.create_kms_key ? var.notifications.kms_key_arn == null : (!var.notifications.create_topic || var.notifications.kms_key_arn != null))
    error_message = "notifications.create_kms_key is ${jsonencode(var.notifications.create_kms_key)}: true creates the topics' key, so notifications.kms_key_arn must be null; false needs notifications.kms_key_arn (the created topics are encrypted with a customer-managed key that CloudWatch alarms can use)."
  }

  validation {
    condition     = alltrue([for s in values(var.notifications.subscriptions) : contains(["email", "email-json", "https", "sqs", "lambda"], s.protocol)])
    error_message = "protocol of subscription ${join(", ", [for k, s in var.notifications.subscriptions : "${k} (${jsonencode(s.protocol)})" if !contains(["email", "email-json", "https", "sqs", "lambda"], s.protocol)])}: it must be email, email-json, https, sqs or lambda. Plain http is refused: the messages name instances and failures and must not cross the network in clear text."
  }

  validation {
    condition     = alltrue([for s in values(var.notifications.subscriptions) : s.protocol != "https" || can(regex("^https://\\S+$", s.endpoint))])
    error_message = "endpoint of https subscription ${join(", ", [for k, s in var.notifications.subscriptions : "${k} (${jsonencode(s.endpoint)})" if !(s.protocol != "https" || can(regex("^https://\\S+$", s.endpoint)))])}: it must be an https:// URL."
  }

  validation {
    condition     = alltrue([for s in values(var.notifications.subscriptions) : !can(regex("(?i)/api/global/em/jsonv2|/em_event\\.do", s.endpoint))])
    error_message = "ServiceNow's jsonv2 web service cannot be an SNS subscription: it cannot answer SNS's SubscriptionConfirmation (the subscription stays pending and nothing is delivered), and it wants {\"records\": [...]} as application/json with credentials. Set servicenow = { instance_url, secret_arn } instead: the module delivers through a queue and a function."
  }

  validation {
    condition     = alltrue([for s in values(var.notifications.subscriptions) : !startswith(s.protocol, "email") || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", s.endpoint))])
    error_message = "endpoint of email subscription ${join(", ", [for k, s in var.notifications.subscriptions : "${k} (${jsonencode(s.endpoint)})" if !(!startswith(s.protocol, "email") || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", s.endpoint)))])}: it must be an email address."
  }

  validation {
    condition     = alltrue([for s in values(var.notifications.subscriptions) : s.filter_policy == null || can(jsondecode(s.filter_policy))])
    error_message = "filter_policy of subscription ${join(", ", [for k, s in var.notifications.subscriptions : k if !(s.filter_policy == null || can(jsondecode(s.filter_policy)))])}: it must be JSON, such as {\"severity\": [\"1\", \"2\"]}; SNS rejects anything else at apply time."
  }

  validation {
    condition     = var.notifications.create_topic || length(var.notifications.subscriptions) == 0
    error_message = "notifications.subscriptions are only managed on a topic the module creates; subscribe to a brought topic where that topic is managed."
  }
}

variable "servicenow" {
  description = <<-EOT
    Deliver the notifications and alarms to ServiceNow Event Management (modules/servicenow-delivery); null (default): no delivery. SNS feeds an SQS queue, a function POSTs each event to INSTANCE/api/global/em/jsonv2:
    - instance_url: https://INSTANCE.service-now.com, no path.
    - secret_arn: Secrets Manager secret, JSON {"username", "password"} of a user with evt_mgmt_integration, or {"api_key"}; read at run time, never in the plan or the state.
    - secret_kms_key_arn: the secret's customer-managed key, if any (kms:Decrypt through Secrets Manager only).
    - max_receive_count, batch_size, maximum_concurrency, max_attempts, request_timeout_seconds, memory_size, timeout, queue_kms_key_arn: see the submodule.
  EOT
  type = object({
    instance_url            = string
    secret_arn              = string
    secret_kms_key_arn      = optional(string)
    queue_kms_key_arn       = optional(string)
    max_receive_count       = optional(number, 20)
    batch_size              = optional(number, 10)
    maximum_concurrency     = optional(number, 2)
    max_attempts            = optional(number, 3)
    request_timeout_seconds = optional(number, 10)
    memory_size             = optional(number, 128)
    timeout                 = optional(number, 120)
  })
  default = null

  validation {
    condition     = var.servicenow == null || can(regex("^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$", var.servicenow.instance_url)) || can(regex("^http://(127\\.[0-9]+\\.[0-9]+\\.[0-9]+|localhost|\\[::1\\]):[0-9]{1,5}/?$", var.servicenow.instance_url))
    error_message = "servicenow.instance_url must be the instance's https:// address without a path, e.g. https://acme.service-now.com (not .../api/global/em/jsonv2)."
  }

  validation {
    condition     = var.servicenow == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", var.servicenow.secret_arn))
    error_message = "servicenow.secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-SUFFIX), not the credentials: they never enter the plan or the state."
  }
}

variable "monitoring" {
  description = <<-EOT
    The alarms on silent failures (docs/contracts.md section 8), all on the alarm topic:
    - recovery_point_alarm_hours: per schedule name, alarm when it produced no recovery point in this many hours (1-168; 0: no alarm). Default: the schedule's interval plus a quarter (at least an hour) plus its flexible window, for rate(...) and daily cron(...) schedules.
    - consistency_share_alarms: per consistency label other than application-consistent, alarm when its share of the recovery points reaches this many percent (0: no alarm). Merged over { crash-consistent-timeout = 10 }: a rising share of timeouts says AWS Backup starts snapshots later than max_freeze_seconds allows in this account.
    - consistency_share_alarm_hours: the window those shares are measured over (1-168 hours).
  EOT
  type = object({
    recovery_point_alarm_hours    = optional(map(number), {})
    consistency_share_alarms      = optional(map(number), {})
    consistency_share_alarm_hours = optional(number, 24)
  })
  default = {}

  validation {
    condition     = alltrue([for h in values(var.monitoring.recovery_point_alarm_hours) : h == 0 || (h >= 1 && h <= 168 && floor(h) == h)])
    error_message = "Each monitoring.recovery_point_alarm_hours value must be 0 (no alarm) or a whole number of hours from 1 to 168: CloudWatch evaluates an alarm over 7 days at most."
  }

  validation {
    condition     = alltrue([for name in keys(var.monitoring.recovery_point_alarm_hours) : contains(keys(var.schedules), name)])
    error_message = "monitoring.recovery_point_alarm_hours names a schedule that is not in var.schedules: a misspelt name would leave its schedule on the default."
  }

  validation {
    condition     = alltrue([for label, percent in var.monitoring.consistency_share_alarms : contains(["crash-consistent", "crash-consistent-watchdog", "crash-consistent-timeout", "stopped", "vss"], label) && percent >= 0 && percent <= 100])
    error_message = "monitoring.consistency_share_alarms: ${join(", ", [for label, percent in var.monitoring.consistency_share_alarms : "${jsonencode(label)} (${percent})" if !(contains(["crash-consistent", "crash-consistent-watchdog", "crash-consistent-timeout", "stopped", "vss"], label) && percent >= 0 && percent <= 100)])}: each key must be a label whose share can alarm (crash-consistent, crash-consistent-watchdog, crash-consistent-timeout, stopped, vss; application-consistent is the good news) and each value a percent from 0 (no alarm) to 100."
  }

  validation {
    condition     = var.monitoring.consistency_share_alarm_hours >= 1 && var.monitoring.consistency_share_alarm_hours <= 168 && floor(var.monitoring.consistency_share_alarm_hours) == var.monitoring.consistency_share_alarm_hours
    error_message = "monitoring.consistency_share_alarm_hours must be a whole number of hours from 1 to 168 (CloudWatch evaluates 7 days at most)."
  }
}

################################################################################
# Discovery function
################################################################################

variable "discovery" {
  description = <<-EOT
    The discovery Lambda function:
    - runtime / architecture: python3.12 or newer; arm64 (default) or x86_64.
    - memory_size (MB) and timeout (seconds, up to 900; a larger fleet is handed on to a continuation before time runs out).
    - max_concurrency: StartExecution calls in flight.
    - start_rate_per_second: client-side pace of StartExecution; null (default) derives it from api_budget (docs/fleet.md). A number overrides it, under the account's quota (300/s refill in large regions, 150/s elsewhere).
    - dry_run: discover and report without starting anything.
    - report_not_selected: report instances whose selection tag has a value no schedule selects (Nightly for nightly, a trailing space), once per cycle of not_selected_reporter.
    - not_selected_reporter: the schedule whose runs report them (null: the first enabled schedule in name order). Its runs list every instance carrying the selection tag key.
  EOT
  type = object({
    runtime               = optional(string, "python3.12")
    architecture          = optional(string, "arm64")
    memory_size           = optional(number, 256)
    timeout               = optional(number, 900)
    max_concurrency       = optional(number, 8)
    start_rate_per_second = optional(number)
    dry_run               = optional(bool, false)
    report_not_selected   = optional(bool, true)
    not_selected_reporter = optional(string)
  })
  default = {}

  validation {
    condition     = can(regex("^python3\\.(1[2-9]|[2-9][0-9])$", var.discovery.runtime))
    error_message = "discovery.runtime must be python3.12 or newer: the handler relies on that runtime's boto3 and standard library."
  }

  validation {
    condition     = contains(["arm64", "x86_64"], var.discovery.architecture)
    error_message = "discovery.architecture must be arm64 or x86_64."
  }

  validation {
    condition     = var.discovery.memory_size >= 128 && var.discovery.memory_size <= 10240
    error_message = "discovery.memory_size must be 128-10240 MB, Lambda's range."
  }

  validation {
    condition     = var.discovery.timeout >= 60 && var.discovery.timeout <= 900
    error_message = "discovery.timeout must be 60-900 seconds: under a minute leaves no room to discover a page and hand on the rest, and Lambda stops at 900."
  }

  validation {
    condition     = var.discovery.max_concurrency >= 1 && var.discovery.max_concurrency <= 64
    error_message = "discovery.max_concurrency must be 1-64: more threads than that only queue behind the StartExecution quota."
  }

  validation {
    condition     = var.discovery.start_rate_per_second == null || (coalesce(var.discovery.start_rate_per_second, 1) > 0 && coalesce(var.discovery.start_rate_per_second, 1) <= 300)
    error_message = "discovery.start_rate_per_second must be null (derived from api_budget) or above 0 and at most 300, the StartExecution refill rate of the largest regions; going faster only buys throttling."
  }

  validation {
    condition     = var.discovery.not_selected_reporter == null || contains(keys(var.schedules), coalesce(var.discovery.not_selected_reporter, "-"))
    error_message = "discovery.not_selected_reporter must be null or the name of one of the schedules (a key of schedules): only a schedule's runs report the instances no schedule selects."
  }
}

variable "api_budget" {
  description = <<-EOT
    The AWS API calls a fleet run may spend, so that the account's other tools keep working
    (docs/fleet.md). share_of_quota: every API's budget as a share of its quota (default 0.5).
    calls_per_second: one API's budget in calls per second, by key, for example
    { "ssm:SendCommand" = 4 }. quotas: the account's quota in calls per second where it is
    not the one the module assumes, by the same keys, for example { "ssm:SendCommand" = 20 }
    once AWS Support raised it (SSM's and AWS Backup's are assumptions: AWS does not publish
    them). The budgets set how many instances are frozen at once and discovery's start pace,
    so they set how long a fleet takes.
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
    condition = alltrue([for api in concat(keys(var.api_budget.calls_per_second), keys(var.api_budget.quotas)) : contains([
      "states:StartExecution", "states:StateTransition", "ec2:DescribeInstances", "ec2:DescribeSnapshots",
      "ec2:DescribeImages", "ec2:CreateTags", "ssm:SendCommand", "ssm:GetCommandInvocation",
      "ssm:DescribeInstanceInformation", "backup:StartBackupJob", "backup:DescribeBackupJob", "dynamodb:UpdateItem",
    ], api)]) && alltrue([for rate in concat(values(var.api_budget.calls_per_second), values(var.api_budget.quotas)) : try(rate > 0, false)])
    error_message = "api_budget.calls_per_second and api_budget.quotas: every key must name an API the module calls (docs/fleet.md lists them) and every rate be above 0; wrong: ${join(", ", [for api in distinct(concat(keys(var.api_budget.calls_per_second), keys(var.api_budget.quotas))) : api if !contains(["states:StartExecution", "states:StateTransition", "ec2:DescribeInstances", "ec2:DescribeSnapshots", "ec2:DescribeImages", "ec2:CreateTags", "ssm:SendCommand", "ssm:GetCommandInvocation", "ssm:DescribeInstanceInformation", "backup:StartBackupJob", "backup:DescribeBackupJob", "dynamodb:UpdateItem"], api) || !try(lookup(var.api_budget.calls_per_second, api, 1) > 0, false) || !try(lookup(var.api_budget.quotas, api, 1) > 0, false)])}."
  }
}

################################################################################
# Security and logs
################################################################################

variable "permissions_boundary_arn" {
  description = "IAM permissions boundary attached to every role the module creates (landing zones often require one)."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$", coalesce(var.permissions_boundary_arn, "x")))
    error_message = "permissions_boundary_arn must be an IAM policy ARN (arn:aws:iam::ACCOUNT:policy/NAME)."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's and the state machine's CloudWatch log groups."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch Logs' values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_kms_key_arn" {
  description = "Customer-managed KMS key ARN encrypting the module's log groups (its key policy must allow logs.REGION.amazonaws.com). Null uses CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", coalesce(var.log_kms_key_arn, "x")))
    error_message = "log_kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID): CloudWatch Logs takes no aliases."
  }
}
