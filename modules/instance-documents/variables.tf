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
  description = "Default of the document's PreFreezeHookDir parameter: the directory of executables run before the freeze."
  type        = string
  default     = "/etc/app-consistent-backup/pre-freeze.d"

  validation {
    condition     = can(regex("^(/[.]?[A-Za-z0-9_-][A-Za-z0-9._-]*)+$", var.pre_freeze_hook_dir))
    error_message = "pre_freeze_hook_dir must be an absolute path of letters, digits, '.', '_' and '-', without '.' or '..' components or a trailing '/' (the document's allowedPattern)."
  }
}

variable "post_thaw_hook_dir" {
  description = "Default of the document's PostThawHookDir parameter: the directory of executables run after the thaw."
  type        = string
  default     = "/etc/app-consistent-backup/post-thaw.d"

  validation {
    condition     = can(regex("^(/[.]?[A-Za-z0-9_-][A-Za-z0-9._-]*)+$", var.post_thaw_hook_dir))
    error_message = "post_thaw_hook_dir must be an absolute path of letters, digits, '.', '_' and '-', without '.' or '..' components or a trailing '/' (the document's allowedPattern)."
  }
}

variable "default_max_freeze_seconds" {
  description = "Default of the document's MaxFreezeSeconds parameter: the watchdog thaws everything this many seconds after the freeze began. The state machine normally passes its own value."
  type        = number
  default     = 30

  validation {
    condition     = var.default_max_freeze_seconds >= 1 && var.default_max_freeze_seconds <= 3600 && floor(var.default_max_freeze_seconds) == var.default_max_freeze_seconds
    error_message = "default_max_freeze_seconds must be a whole number from 1 to 3600."
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
