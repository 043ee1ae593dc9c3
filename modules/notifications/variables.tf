variable "name_prefix" {
  description = "Prefix of every resource name this module creates."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen, so that every derived name stays within AWS limits."
  }
}

variable "tags" {
  description = "Tags added to every resource this module creates."
  type        = map(string)
  default     = {}
}

variable "create_topic" {
  description = "Create the SNS topic failures are published to. When false, topic_arn names an existing topic."
  type        = bool
  default     = true
}

variable "topic_arn" {
  description = "ARN of an existing SNS topic to publish to (create_topic = false). Its key policy must let this account's roles use its KMS key, if it has one."
  type        = string
  default     = null

  validation {
    condition     = var.topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$", var.topic_arn))
    error_message = "topic_arn must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)."
  }

  validation {
    condition     = var.create_topic || var.topic_arn != null
    error_message = "topic_arn is required when create_topic is false: failures must be published somewhere."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key ARN encrypting the created topic. Null creates a key whose policy lets CloudWatch alarms publish. For a brought topic, the ARN of its key, so that publishers get kms:GenerateDataKey on it."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || !can(regex(":alias/aws/", var.kms_key_arn))
    error_message = "kms_key_arn must not be an AWS managed key (alias/aws/sns): CloudWatch alarms cannot publish to a topic encrypted with it, because its key policy cannot grant them access."
  }

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID), so IAM policies can name it."
  }
}

variable "subscriptions" {
  description = "Subscriptions to the created topic, by a name of your choice. protocol is email, email-json, https, sqs or lambda; https is how ServiceNow Event Management (or any ITSM webhook) subscribes. filter_policy (JSON) filters on the message attributes severity, stage, outcome and instance_id."
  type = map(object({
    protocol               = string
    endpoint               = string
    filter_policy          = optional(string)
    raw_message_delivery   = optional(bool, false)
    endpoint_auto_confirms = optional(bool, false)
  }))
  default = {}

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : contains(["email", "email-json", "https", "sqs", "lambda"], s.protocol)])
    error_message = "Subscription ${join(", ", [for k, s in var.subscriptions : k if !(contains(["email", "email-json", "https", "sqs", "lambda"], s.protocol))])}: each subscription's protocol must be one of email, email-json, https, sqs, lambda. Plain http is refused: the messages name instances and failures and must not cross the network in clear text."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : s.protocol != "https" || can(regex("^https://[^\\s]+$", s.endpoint))])
    error_message = "Subscription ${join(", ", [for k, s in var.subscriptions : k if !(s.protocol != "https" || can(regex("^https://[^\\s]+$", s.endpoint)))])}: an https subscription's endpoint must be an https:// URL (for ServiceNow: https://INSTANCE.service-now.com/api/...)."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : !startswith(s.protocol, "email") || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", s.endpoint))])
    error_message = "Subscription ${join(", ", [for k, s in var.subscriptions : k if !(!startswith(s.protocol, "email") || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", s.endpoint)))])}: an email subscription's endpoint must be an email address."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : s.filter_policy == null || can(jsondecode(s.filter_policy))])
    error_message = "Subscription ${join(", ", [for k, s in var.subscriptions : k if !(s.filter_policy == null || can(jsondecode(s.filter_policy)))])}: filter_policy must be a JSON object such as {\"severity\": [\"1\", \"2\"]}; SNS rejects anything else at apply time."
  }

  validation {
    condition     = var.create_topic || length(var.subscriptions) == 0
    error_message = "subscriptions are only managed on a topic this module creates; subscribe to a brought topic where that topic is managed."
  }
}
