variable "region" {
  description = "Region to deploy into."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS Region name such as eu-west-1, not ${jsonencode(var.region)}."
  }
}

variable "dr_vault_arn" {
  description = "Vault in another region or account that every recovery point is copied to (its access policy must allow this account)."
  type        = string
  default     = "arn:aws:backup:eu-central-1:111122223333:backup-vault:dr-copies"
}

variable "servicenow_instance_url" {
  description = "Your ServiceNow instance (no path): events are POSTed to its Event Management jsonv2 web service."
  type        = string
  default     = "https://example.service-now.com"
}

variable "servicenow_secret_arn" {
  description = "Secrets Manager secret holding {\"username\", \"password\"} of a user with evt_mgmt_integration (or {\"api_key\"}); created outside Terraform, so the credentials never enter the state."
  type        = string
  default     = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:acb-prod/servicenow-AbCdEf"
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary your landing zone requires on every role, if any."
  type        = string
  default     = null
}
