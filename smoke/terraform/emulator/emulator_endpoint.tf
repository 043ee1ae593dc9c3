# make smoke's end-to-end test only (with emulator_override.tf): where the emulator listens.
variable "endpoint" {
  description = "URL of the local AWS emulator (a loopback address)."
  type        = string

  validation {
    condition     = can(regex("^http://(127\\.[0-9]+\\.[0-9]+\\.[0-9]+|localhost):[0-9]+$", var.endpoint))
    error_message = "endpoint must be a loopback URL (http://127.0.0.1:PORT), not ${jsonencode(var.endpoint)}: this file is for the local emulator only."
  }
}
