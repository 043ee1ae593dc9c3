variable "name_prefix" {
  description = "Prefix of the document's name (`<name_prefix>-freeze-thaw`). Letters, digits, `_`, `-` and `.`, at most 100 characters, not starting with `aws` or `amazon` (reserved by SSM)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,100}$", var.name_prefix))
    error_message = "name_prefix must be 1 to 100 characters of letters, digits, '_', '-' and '.' (SSM document names allow no others)."
  }

  validation {
    condition     = !can(regex("^(?i)(aws|amazon)", var.name_prefix))
    error_message = "name_prefix must not start with 'aws' or 'amazon': SSM reserves those document name prefixes."
  }
}

variable "tags" {
  description = "Tags for the SSM document."
  type        = map(string)
  default     = {}
}

variable "pre_freeze_hook_dir" {
  description = "Directory of the executables run before the freeze, fixed in the document (no command can choose another). Every path leading to it and to each hook must be root's alone on the instance, or no hook runs and the freeze fails."
  type        = string
  default     = "/etc/app-consistent-backup/pre-freeze.d"

  validation {
    condition     = can(regex("^(/[.]?[A-Za-z0-9_-][A-Za-z0-9._-]*)+$", var.pre_freeze_hook_dir))
    error_message = "pre_freeze_hook_dir must be an absolute path of letters, digits, '.', '_' and '-', without '.' or '..' components or a trailing '/'."
  }

  validation {
    condition     = !can(regex("^/([^/]+|(usr/(local/)?)?(s?bin|lib(exec|64)?))$", var.pre_freeze_hook_dir))
    error_message = "pre_freeze_hook_dir must not be a top-level directory or a system program directory such as /usr/sbin: the freeze runs every executable in it as root."
  }
}

variable "post_thaw_hook_dir" {
  description = "Directory of the executables run after the thaw, fixed in the document. A post-thaw hook runs only when the pre-freeze hook of the same name ran for that freeze."
  type        = string
  default     = "/etc/app-consistent-backup/post-thaw.d"

  validation {
    condition     = can(regex("^(/[.]?[A-Za-z0-9_-][A-Za-z0-9._-]*)+$", var.post_thaw_hook_dir))
    error_message = "post_thaw_hook_dir must be an absolute path of letters, digits, '.', '_' and '-', without '.' or '..' components or a trailing '/'."
  }

  validation {
    condition     = !can(regex("^/([^/]+|(usr/(local/)?)?(s?bin|lib(exec|64)?))$", var.post_thaw_hook_dir))
    error_message = "post_thaw_hook_dir must not be a top-level directory or a system program directory such as /usr/sbin: the thaw runs every executable in it as root."
  }
}

variable "auto_selection_exclusions" {
  description = "Paths whose filesystems a freeze leaves out when it chooses the filesystems itself (no IncludeMountpoints): services keep writing there, and auditd can halt the system when it cannot (CIS/STIG layouts mount /var/log/audit, /tmp and /var/tmp apart). A path that does not exist on an instance excludes nothing. Fixed in the document."
  type        = list(string)
  default     = ["/var/log/audit", "/tmp", "/var/tmp"]

  validation {
    condition     = alltrue([for p in var.auto_selection_exclusions : can(regex("^(/[.]?[A-Za-z0-9_-][A-Za-z0-9._-]*)+$", p))])
    error_message = "Each of auto_selection_exclusions must be an absolute path of letters, digits, '.', '_' and '-', without '.' or '..' components or a trailing '/'."
  }

  validation {
    condition     = length(join(":", var.auto_selection_exclusions)) <= 4096
    error_message = "auto_selection_exclusions must fit in 4096 characters (joined with ':')."
  }
}

variable "default_max_freeze_seconds" {
  description = "Default of the document's MaxFreezeSeconds parameter: the watchdog thaws everything this many seconds after the freeze began. The state machine always passes its own value."
  type        = number
  default     = 60

  validation {
    condition     = var.default_max_freeze_seconds >= 15 && var.default_max_freeze_seconds <= 900 && floor(var.default_max_freeze_seconds) == var.default_max_freeze_seconds
    error_message = "default_max_freeze_seconds must be a whole number from 15 to 900 (the module's max_freeze_seconds range)."
  }
}

variable "default_hook_timeout_seconds" {
  description = "Default of the document's HookTimeoutSeconds parameter: how long each hook may run before it is killed."
  type        = number
  default     = 30

  validation {
    condition     = var.default_hook_timeout_seconds >= 1 && var.default_hook_timeout_seconds <= 999 && floor(var.default_hook_timeout_seconds) == var.default_hook_timeout_seconds
    error_message = "default_hook_timeout_seconds must be a whole number from 1 to 999."
  }
}

variable "execution_timeout_seconds" {
  description = "timeoutSeconds of the document's aws:runShellScript step: the longest one freeze or thaw command may run, hooks included."
  type        = number
  default     = 600

  validation {
    condition     = var.execution_timeout_seconds >= 30 && var.execution_timeout_seconds <= 172800 && floor(var.execution_timeout_seconds) == var.execution_timeout_seconds
    error_message = "execution_timeout_seconds must be a whole number from 30 to 172800 (48 hours, the SSM maximum)."
  }
}
