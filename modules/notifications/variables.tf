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

variable "create_kms_key" {
  description = "Create the KMS key of the created topics. Null (default): create one when kms_key_arn is null. Set false when kms_key_arn is the ARN of a key created in the same configuration: that ARN is unknown until apply, and Terraform must know at plan whether this module creates a key."
  type        = bool
  default     = null

  validation {
    condition     = var.create_kms_key != true || var.kms_key_arn == null
    error_message = "create_kms_key = true creates the topics' key, so kms_key_arn must be null: set one or the other."
  }

  validation {
    condition     = var.create_kms_key != false || !var.create_topic || var.kms_key_arn != null
    error_message = "create_kms_key = false needs kms_key_arn: the created topics are encrypted with a customer-managed key that lets CloudWatch alarms publish (the AWS managed alias/aws/sns key cannot)."
  }
}

variable "alarm_topic_arn" {
  description = "With a brought topic (create_topic = false): the topic the module's CloudWatch alarms publish to. Null: the brought topic itself (alarm messages carry no message attributes, so subscriptions filtering on them miss alarms). With a created topic the module creates the alarm topic and this must be null."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", coalesce(var.alarm_topic_arn, "x")))
    error_message = "alarm_topic_arn must be a standard SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)."
  }

  validation {
    condition     = var.alarm_topic_arn == null || !var.create_topic
    error_message = "alarm_topic_arn is for a brought topic only: with create_topic the module creates the alarm topic beside the notifications topic."
  }
}

variable "subscriptions" {
  description = <<-EOT
    Subscriptions to the created topics, by a name of your choice:
    - protocol: email, email-json, https, sqs or lambda; endpoint: the address, URL or ARN.
    - filter_policy (JSON): filters the notifications on their message attributes severity, stage, outcome and instance_id.
    - alarms: also subscribe the endpoint to the alarm topic, unfiltered (default true): alarm messages carry no message attributes.
    - raw_message_delivery: sqs and https only.
    - grant_access (sqs and lambda): the module writes the queue's policy (it replaces any policy the queue has) or adds the Lambda permission SNS needs to deliver (default true); false when you grant sns.amazonaws.com yourself, which a queue or function in another account or region needs.
    - content_type, delivery_policy (JSON), confirmation_timeout_in_minutes, endpoint_auto_confirms: https only. SNS posts text/plain unless content_type says application/json or application/xml.
    ServiceNow's jsonv2 is not subscribed directly (it cannot confirm a subscription): use the root module's servicenow setting.
  EOT
  type = map(object({
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
  }))
  default = {}

  validation {
    condition     = alltrue([for k in keys(var.subscriptions) : can(regex("^[A-Za-z0-9_-]{1,40}$", k))])
    error_message = "Subscription names must be 1-40 letters, digits, hyphens or underscores: they name the Lambda permissions the module adds."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : contains(["email", "email-json", "https", "sqs", "lambda"], s.protocol)])
    error_message = "Subscription ${join(", ", [for k, s in var.subscriptions : k if !(contains(["email", "email-json", "https", "sqs", "lambda"], s.protocol))])}: each subscription's protocol must be one of email, email-json, https, sqs, lambda. Plain http is refused: the messages name instances and failures and must not cross the network in clear text."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : s.protocol != "https" || can(regex("^https://[^\\s]+$", s.endpoint))])
    error_message = "Subscription ${join(", ", [for k, s in var.subscriptions : k if !(s.protocol != "https" || can(regex("^https://[^\\s]+$", s.endpoint)))])}: an https subscription's endpoint must be an https:// URL."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : !can(regex("(?i)/api/global/em/jsonv2|/em_event\\.do", s.endpoint))])
    error_message = "ServiceNow's jsonv2 web service cannot be an SNS subscription: it cannot answer SNS's SubscriptionConfirmation (the subscription stays pending and nothing is delivered), and it wants {\"records\": [...]} as application/json with credentials. Set the root module's servicenow = { instance_url, secret_arn } instead: it delivers through a queue and a function."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : !startswith(s.protocol, "email") || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", s.endpoint))])
    error_message = "Subscription ${join(", ", [for k, s in var.subscriptions : k if !(!startswith(s.protocol, "email") || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", s.endpoint)))])}: an email subscription's endpoint must be an email address."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : s.protocol != "sqs" || can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}$", s.endpoint))])
    error_message = "An sqs subscription's endpoint must be a standard queue's ARN (arn:aws:sqs:REGION:ACCOUNT:NAME); SNS standard topics cannot deliver to FIFO queues."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : s.protocol != "lambda" || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$", s.endpoint))])
    error_message = "A lambda subscription's endpoint must be a function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME, optionally :ALIAS or :VERSION)."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : s.filter_policy == null || can(jsondecode(s.filter_policy))])
    error_message = "Subscription ${join(", ", [for k, s in var.subscriptions : k if !(s.filter_policy == null || can(jsondecode(s.filter_policy)))])}: filter_policy must be a JSON object such as {\"severity\": [\"1\", \"2\"]}; SNS rejects anything else at apply time."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : !s.raw_message_delivery || contains(["sqs", "https"], s.protocol)])
    error_message = "raw_message_delivery applies to sqs and https subscriptions only (SNS refuses it for email and lambda)."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : s.protocol == "https" || (s.content_type == null && s.delivery_policy == null && !s.endpoint_auto_confirms)])
    error_message = "content_type, delivery_policy and endpoint_auto_confirms apply to https subscriptions only."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : s.content_type == null || contains(["text/plain", "application/json", "application/xml"], coalesce(s.content_type, "x"))])
    error_message = "content_type must be text/plain, application/json or application/xml, the request content types an SNS delivery policy accepts."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : s.delivery_policy == null || can(keys(jsondecode(s.delivery_policy)))])
    error_message = "delivery_policy must be a JSON object such as {\"healthyRetryPolicy\": {\"numRetries\": 5}} (SNS's subscription DeliveryPolicy)."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : s.confirmation_timeout_in_minutes >= 1 && s.confirmation_timeout_in_minutes <= 60])
    error_message = "confirmation_timeout_in_minutes must be 1-60: how long an apply with endpoint_auto_confirms waits for the endpoint to confirm."
  }

  validation {
    condition     = length(distinct([for s in values(var.subscriptions) : s.endpoint])) == length(var.subscriptions)
    error_message = "Subscription ${join(", ", [for k, s in var.subscriptions : k if length([for o in values(var.subscriptions) : o if o.endpoint == s.endpoint]) > 1])}: two subscriptions name the same endpoint. SNS keeps one subscription per topic and endpoint (a second one with other attributes is refused): merge them into one."
  }

  validation {
    condition     = var.create_topic || length(var.subscriptions) == 0
    error_message = "subscriptions are only managed on a topic this module creates; subscribe to a brought topic where that topic is managed."
  }
}
