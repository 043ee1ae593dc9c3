variable "region" {
  description = "Region to deploy into."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS Region name such as eu-west-1, not ${jsonencode(var.region)}."
  }
}
