variable "endpoint" {
  description = "URL of the local AWS emulator, e.g. http://127.0.0.1:5000."
  type        = string
  default     = "http://127.0.0.1:5000"

  validation {
    condition     = can(regex("^http://(127\\.[0-9]+\\.[0-9]+\\.[0-9]+|localhost|\\[::1\\]):[0-9]+$", var.endpoint))
    error_message = "endpoint must be a loopback URL (http://127.0.0.1:PORT): this example is only for the local emulator."
  }
}

variable "region" {
  description = "Region the emulator pretends to be."
  type        = string
  default     = "eu-west-1"
}

variable "servicenow_url" {
  description = "The local ServiceNow the demo starts (a loopback URL), e.g. http://127.0.0.1:8080."
  type        = string
  default     = "http://127.0.0.1:8080"

  validation {
    condition     = can(regex("^http://(127\\.[0-9]+\\.[0-9]+\\.[0-9]+|localhost):[0-9]+$", var.servicenow_url))
    error_message = "servicenow_url must be a loopback URL (http://127.0.0.1:PORT): this example is only for the local ServiceNow, not ${jsonencode(var.servicenow_url)}."
  }
}

variable "servicenow_secret_arn" {
  description = "The emulator's Secrets Manager secret holding the local ServiceNow's integration user, created before the apply (null: no ServiceNow delivery)."
  type        = string
  default     = null
}
