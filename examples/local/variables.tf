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
