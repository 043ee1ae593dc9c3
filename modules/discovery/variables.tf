################################################################################
# Naming
################################################################################

variable "name_prefix" {
  description = "Prefix of every resource name this module creates (function, roles, log group, queue, schedule group)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen, so that every derived name (function, role, queue) stays within AWS limits."
  }
}

variable "tags" {
  description = "Tags added to every resource this module creates."
  type        = map(string)
  default     = {}
}

################################################################################
# What the function talks to
################################################################################

variable "state_machine_arn" {
  description = "ARN of the per-instance state machine the function starts one execution of per instance (docs/contracts.md section 2)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_-]{1,80}$", var.state_machine_arn))
    error_message = "state_machine_arn must be a Step Functions state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME): the function may start executions of that state machine only."
  }
}

variable "notification_topic_arn" {
  description = "ARN of the SNS topic the function publishes failures to (instances it could not start, failed discoveries)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.notification_topic_arn))
    error_message = "notification_topic_arn must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME): the function may publish to that topic only."
  }
}

variable "notification_kms_key_arn" {
  description = "ARN of the KMS key encrypting the notification topic, if it is a customer-managed key: the function then gets kms:GenerateDataKey and kms:Decrypt on it, through SNS only. Null for an unencrypted topic or one using the AWS-managed key."
  type        = string
  default     = null

  validation {
    condition     = var.notification_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.notification_kms_key_arn))
    error_message = "notification_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID); an alias cannot be granted in IAM."
  }
}

variable "run_ledger" {
  description = <<-EOT
    The run ledger of the state-machine module (docs/contracts.md section 5b): the last hop of
    each run records there how many executions it started, publishes the schedule's previous
    run's summary if it never was, and this run's when every execution already reported; the
    state machine asks this function for the summary otherwise. Null: no run summaries.
    - table_arn: the ledger table's ARN (the function may GetItem and UpdateItem it, nothing else).
    - kms_key_arn: its customer-managed key, if any (kms:Decrypt/Encrypt/GenerateDataKey through DynamoDB).
    - ttl_seconds: how long after its scheduled time a run's item lives (the state machine's value).
    - storm_threshold: instances of one run reported one by one per reason before a storm (1..25; the state machine's value).
  EOT
  type = object({
    table_arn       = string
    kms_key_arn     = optional(string)
    ttl_seconds     = optional(number, 3196800)
    storm_threshold = optional(number, 1)
  })
  default = null

  validation {
    condition     = var.run_ledger == null || can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$", var.run_ledger.table_arn))
    error_message = "run_ledger.table_arn must be a DynamoDB table ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME)."
  }

  validation {
    condition     = var.run_ledger == null || try(var.run_ledger.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.run_ledger.kms_key_arn)), false)
    error_message = "run_ledger.kms_key_arn must be null or a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."
  }

  validation {
    condition     = var.run_ledger == null || try(var.run_ledger.ttl_seconds == floor(var.run_ledger.ttl_seconds) && var.run_ledger.ttl_seconds >= 86400 && var.run_ledger.ttl_seconds <= 31536000, false)
    error_message = "run_ledger.ttl_seconds must be a whole number of seconds from 86400 (a day) to 31536000 (a year)."
  }

  validation {
    condition     = var.run_ledger == null || try(var.run_ledger.storm_threshold == floor(var.run_ledger.storm_threshold) && var.run_ledger.storm_threshold >= 1 && var.run_ledger.storm_threshold <= 25, false)
    error_message = "run_ledger.storm_threshold must be a whole number from 1 to 25."
  }
}

################################################################################
# Which instances, when
################################################################################

variable "selection_tag_key" {
  description = "Tag key that selects instances: a schedule backs up the instances whose tag of this key equals its tag_value exactly."
  type        = string
  default     = "AppConsistentBackup"

  validation {
    condition     = can(regex("^[\\p{L}\\p{N}\\s_.:/=+@-]{1,128}$", var.selection_tag_key)) && !startswith(lower(var.selection_tag_key), "aws:")
    error_message = "selection_tag_key must be a valid EC2 tag key (1-128 letters, digits, spaces and _ . : / = + - @) and must not start with aws:, which AWS reserves."
  }
}

variable "opt_out_tag_key" {
  description = "Tag key that opts a selected instance out: set to true, the instance is counted as opted_out and never started. Must differ from selection_tag_key."
  type        = string
  default     = "AppConsistentBackupOptOut"

  validation {
    condition     = can(regex("^[\\p{L}\\p{N}\\s_.:/=+@-]{1,128}$", var.opt_out_tag_key)) && !startswith(lower(var.opt_out_tag_key), "aws:")
    error_message = "opt_out_tag_key must be a valid EC2 tag key (1-128 letters, digits, spaces and _ . : / = + - @) and must not start with aws:, which AWS reserves."
  }
}

variable "schedules" {
  description = <<-EOT
    EventBridge Scheduler schedules, by name (1-32 lower-case letters, digits, hyphens; part of every execution name). Each invokes the function with its own input (docs/contracts.md section 1):
    - schedule_expression: cron(...), rate(...) or at(...); timezone: IANA name the expression is read in.
    - enabled: false keeps the schedule but stops it firing.
    - tag_value: the selection tag value the schedule backs up (null: the schedule's name).
    - flexible_window_minutes: let the scheduler start up to this many minutes late (null: on time).
    - policy: what the state machine does for each instance (every field required; the root module fills them).
  EOT
  type = map(object({
    schedule_expression     = string
    timezone                = optional(string, "UTC")
    enabled                 = optional(bool, true)
    tag_value               = optional(string)
    flexible_window_minutes = optional(number)
    policy = object({
      retention_days     = number
      max_freeze_seconds = number
      on_freeze_failure  = string
      stopped_instances  = string
      copy_targets = list(object({
        destination_vault_arn = string
        retention_days        = number
      }))
      notify_on_success = bool
    })
  }))

  validation {
    condition     = length(var.schedules) > 0
    error_message = "schedules must hold at least one schedule: without one the function is never invoked and nothing is backed up."
  }

  validation {
    condition     = alltrue([for name in keys(var.schedules) : can(regex("^[a-z0-9][a-z0-9-]{0,31}$", name))])
    error_message = "Schedule names must be 1-32 lower-case letters, digits or hyphens, starting with a letter or digit: they become part of Step Functions execution names (80 characters at most). Not so: ${join(", ", [for name in keys(var.schedules) : jsonencode(name) if !can(regex("^[a-z0-9][a-z0-9-]{0,31}$", name))])}."
  }

  validation {
    condition = alltrue([for s in values(var.schedules) : (
      can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)$", s.schedule_expression)) ||
      can(regex("^rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)$", s.schedule_expression)) ||
      can(regex("^at\\([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\)$", s.schedule_expression))
    )])
    error_message = "Schedule ${join(", ", [for k, s in var.schedules : "${k} (${jsonencode(s.schedule_expression)})" if !(can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)$", s.schedule_expression)) || can(regex("^rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)$", s.schedule_expression)) || can(regex("^at\\([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\)$", s.schedule_expression)))])}: each schedule_expression must be one EventBridge Scheduler accepts: cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 1 * * ? *); rate(N minutes|hours|days); or at(yyyy-mm-ddThh:mm:ss)."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : can(regex("^(UTC|[A-Za-z]+(/[A-Za-z0-9_+-]+){1,2})$", s.timezone))])
    error_message = "Schedule ${join(", ", [for k, s in var.schedules : k if !(can(regex("^(UTC|[A-Za-z]+(/[A-Za-z0-9_+-]+){1,2})$", s.timezone)))])}: each timezone must be UTC or an IANA time zone name such as Europe/Paris."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : s.tag_value == null || can(regex("^[\\p{L}\\p{N}\\s_.:/=+@-]{1,256}$", s.tag_value))])
    error_message = "Schedule ${join(", ", [for k, s in var.schedules : k if !(s.tag_value == null || can(regex("^[\\p{L}\\p{N}\\s_.:/=+@-]{1,256}$", s.tag_value)))])}: each tag_value must be null (the schedule's name) or a valid EC2 tag value: 1-256 letters, digits, spaces and _ . : / = + - @."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : s.flexible_window_minutes == null || try(s.flexible_window_minutes >= 1 && s.flexible_window_minutes <= 1440, false)])
    error_message = "Schedule ${join(", ", [for k, s in var.schedules : k if !(s.flexible_window_minutes == null || try(s.flexible_window_minutes >= 1 && s.flexible_window_minutes <= 1440, false))])}: each flexible_window_minutes must be null (start on time) or 1-1440 minutes, EventBridge Scheduler's range."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : s.policy.retention_days >= 1 && s.policy.retention_days <= 36500 && floor(s.policy.retention_days) == s.policy.retention_days])
    error_message = "Schedule ${join(", ", [for k, s in var.schedules : k if !(s.policy.retention_days >= 1 && s.policy.retention_days <= 36500 && floor(s.policy.retention_days) == s.policy.retention_days)])}: each policy.retention_days must be a whole number of days from 1 to 36500 (AWS Backup's lifecycle range)."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : s.policy.max_freeze_seconds >= 15 && s.policy.max_freeze_seconds <= 900 && floor(s.policy.max_freeze_seconds) == s.policy.max_freeze_seconds])
    error_message = "Schedule ${join(", ", [for k, s in var.schedules : k if !(s.policy.max_freeze_seconds >= 15 && s.policy.max_freeze_seconds <= 900 && floor(s.policy.max_freeze_seconds) == s.policy.max_freeze_seconds)])}: each policy.max_freeze_seconds must be a whole number from 15 to 900: the state machine keeps seconds to thaw before the bound, so less leaves AWS Backup no time to start the snapshots, and more stalls applications."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : contains(["crash-consistent", "skip", "fail"], s.policy.on_freeze_failure)])
    error_message = "Schedule ${join(", ", [for k, s in var.schedules : k if !(contains(["crash-consistent", "skip", "fail"], s.policy.on_freeze_failure))])}: each policy.on_freeze_failure must be crash-consistent (back up anyway, labelled so), skip (no backup, reported) or fail (no backup, reported as a failure)."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : contains(["backup", "skip"], s.policy.stopped_instances)])
    error_message = "Schedule ${join(", ", [for k, s in var.schedules : k if !(contains(["backup", "skip"], s.policy.stopped_instances))])}: each policy.stopped_instances must be backup (no freeze needed) or skip (counted and reported as skipped)."
  }

  validation {
    condition = alltrue(flatten([for s in values(var.schedules) : [for c in s.policy.copy_targets : (
      can(regex("^arn:aws[a-z-]*:backup:[a-z0-9-]+:[0-9]{12}:backup-vault:[A-Za-z0-9_.-]{2,50}$", c.destination_vault_arn)) &&
      c.retention_days >= 1 && c.retention_days <= 36500 && floor(c.retention_days) == c.retention_days
    )]]))
    error_message = "Schedule ${join(", ", [for k, s in var.schedules : k if !alltrue([for c in s.policy.copy_targets : can(regex("^arn:aws[a-z-]*:backup:[a-z0-9-]+:[0-9]{12}:backup-vault:[A-Za-z0-9_.-]{2,50}$", c.destination_vault_arn)) && c.retention_days >= 1 && c.retention_days <= 36500 && floor(c.retention_days) == c.retention_days])])}: each policy.copy_targets entry needs a backup vault ARN (arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME) and a whole number of retention_days from 1 to 36500."
  }
}

variable "dry_run" {
  description = "Every schedule only lists what it would back up and why the other instances are skipped, starting nothing (the summary log line and the function's return value say)."
  type        = bool
  default     = false
}

variable "report_not_selected" {
  description = "Report the instances that carry selection_tag_key with a value no schedule selects (Nightly for nightly, a trailing space): one BackupNotSelected notification (severity 3) per instance per cycle of not_selected_reporter, and the NotSelected metric. That schedule's runs list by the tag key alone, which costs (instances carrying the key) / 1,000 DescribeInstances calls per cycle instead of its own instances / 1,000."
  type        = bool
  default     = true
}

variable "not_selected_reporter" {
  description = "The schedule (a key of schedules) whose runs report the instances no schedule selects. Null: the first enabled schedule in name order (the first schedule when none is enabled). Pick the one that runs most often to hear soonest."
  type        = string
  default     = null

  validation {
    condition     = var.not_selected_reporter == null || can(regex("^[a-z0-9][a-z0-9-]{0,31}$", coalesce(var.not_selected_reporter, "-")))
    error_message = "not_selected_reporter must be null or a schedule name (1-32 lower-case letters, digits, hyphens), one of the keys of schedules."
  }
}

variable "scheduler_retry" {
  description = "EventBridge Scheduler's retry policy when it cannot invoke the function: how long an invocation may be retried (seconds, 60-86400) and how often (0-185). What still fails goes to the dead-letter queue."
  type = object({
    maximum_event_age_in_seconds = optional(number, 3600)
    maximum_retry_attempts       = optional(number, 5)
  })
  default = {}

  validation {
    condition     = var.scheduler_retry.maximum_event_age_in_seconds >= 60 && var.scheduler_retry.maximum_event_age_in_seconds <= 86400
    error_message = "scheduler_retry.maximum_event_age_in_seconds must be 60-86400 (EventBridge Scheduler's range)."
  }

  validation {
    condition     = var.scheduler_retry.maximum_retry_attempts >= 0 && var.scheduler_retry.maximum_retry_attempts <= 185
    error_message = "scheduler_retry.maximum_retry_attempts must be 0-185 (EventBridge Scheduler's range)."
  }
}

################################################################################
# The function
################################################################################

variable "runtime" {
  description = "Lambda runtime of the function: python3.12 or newer."
  type        = string
  default     = "python3.12"

  validation {
    condition     = can(regex("^python3\\.(1[2-9]|[2-9][0-9])$", var.runtime))
    error_message = "runtime must be python3.12 or newer: the handler relies on that runtime's boto3 and standard library."
  }
}

variable "architecture" {
  description = "Instruction set of the function: arm64 (cheaper per GB-second) or x86_64. The package is pure Python and runs on both."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64, the two Lambda offers."
  }
}

variable "memory_size" {
  description = "Memory of the function in MB (CPU grows with it)."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB from 128 to 10240, Lambda's range."
  }
}

variable "timeout" {
  description = "Timeout of one invocation in seconds. A fleet that needs longer is handed on to a new invocation continuation_margin_seconds before it ends."
  type        = number
  default     = 900

  validation {
    condition     = var.timeout >= 60 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be 60-900 seconds: under a minute leaves no room to discover and hand on the rest, and Lambda stops at 900."
  }
}

variable "continuation_margin_seconds" {
  description = "Time left in an invocation at which the function stops starting executions, lets the calls in flight finish and hands the rest on. Null: a quarter of the timeout, at most 60 seconds. Must be under half the timeout."
  type        = number
  default     = null

  validation {
    condition     = var.continuation_margin_seconds == null || try(var.continuation_margin_seconds >= 5 && var.continuation_margin_seconds <= 600, false)
    error_message = "continuation_margin_seconds must be null or 5-600: the calls in flight, their retries and the hand-on must fit in it."
  }
}

variable "max_concurrency" {
  description = "StartExecution calls in flight at once (the worker pool's size)."
  type        = number
  default     = 8

  validation {
    condition     = var.max_concurrency >= 1 && var.max_concurrency <= 64 && floor(var.max_concurrency) == var.max_concurrency
    error_message = "max_concurrency must be a whole number from 1 to 64: more threads than that only queue behind the StartExecution quota."
  }
}

variable "start_rate_per_second" {
  description = "Client-side pace of StartExecution calls, per second. The account's quota (1,300 burst refilling 300/s in the large regions, 800 and 150/s elsewhere) is shared with every other caller: stay under it."
  type        = number
  default     = 50

  validation {
    condition     = var.start_rate_per_second > 0 && var.start_rate_per_second <= 300
    error_message = "start_rate_per_second must be above 0 and at most 300, the StartExecution refill rate of the largest regions; going faster only buys throttling."
  }
}

variable "start_burst" {
  description = "StartExecution calls the pace lets through at once before settling to start_rate_per_second."
  type        = number
  default     = 100

  validation {
    condition     = var.start_burst >= 1 && var.start_burst <= 1300 && floor(var.start_burst) == var.start_burst
    error_message = "start_burst must be a whole number from 1 to 1300, the StartExecution burst of the largest regions."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrency reserved for the function (-1: none, it uses the account's unreserved pool). Each schedule and each continuation is one concurrent invocation."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions == -1 || var.reserved_concurrent_executions >= 1
    error_message = "reserved_concurrent_executions must be -1 (no reservation) or at least 1; 0 would stop the function."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing of the function: Active (traces every invocation and its AWS calls) or PassThrough."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough, the two modes Lambda offers."
  }
}

variable "log_level" {
  description = "Application log level of the function (its JSON logs): DEBUG, INFO, WARN or ERROR. The run summary is logged at INFO."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.log_level)
    error_message = "log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL (Lambda's application log levels)."
  }
}

################################################################################
# Security and logs
################################################################################

variable "log_retention_days" {
  description = "Retention of the function's CloudWatch log group, in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch Logs' values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key ARN encrypting the function's log group (its key policy must let CloudWatch Logs use it). Null: CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."
  }
}

variable "dead_letter_kms_key_arn" {
  description = "KMS key ARN encrypting the dead-letter queue; the function and the scheduler roles get kms:GenerateDataKey and kms:Decrypt on it. Null: SQS-managed encryption (SSE-SQS)."
  type        = string
  default     = null

  validation {
    condition     = var.dead_letter_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.dead_letter_kms_key_arn))
    error_message = "dead_letter_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."
  }
}

variable "permissions_boundary_arn" {
  description = "IAM permissions boundary attached to the roles this module creates (landing zones often require one)."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be null or an IAM policy ARN (arn:aws:iam::ACCOUNT:policy/NAME)."
  }
}

################################################################################
# Alarms (monitoring.tf)
################################################################################

variable "alarm_actions" {
  description = "Where the discovery, scheduler and no-recovery-point alarms publish on ALARM and OK: the module's alarm topic (docs/contracts.md section 8). Empty: the alarms exist without actions."
  type        = list(string)
  default     = []
}

variable "recovery_point_alarm_hours" {
  description = "Per schedule name: alarm when the schedule produced no recovery point in this many hours (1-168; 0: no alarm). Schedules not listed get their interval plus a quarter of it (at least an hour) plus their flexible window, when the interval can be read: rate(...), or cron(...) firing every day; else no alarm."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for h in values(var.recovery_point_alarm_hours) : h == 0 || (h >= 1 && h <= 168 && floor(h) == h)])
    error_message = "Each recovery_point_alarm_hours value must be 0 (no alarm) or a whole number of hours from 1 to 168: CloudWatch evaluates an alarm over 7 days at most."
  }
}
