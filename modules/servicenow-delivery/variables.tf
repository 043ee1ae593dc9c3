################################################################################
# Naming
################################################################################

variable "name_prefix" {
  description = "Prefix of every resource name this module creates; also the event_class and message_key prefix of the alarm events it maps."
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

################################################################################
# ServiceNow
################################################################################

variable "instance_url" {
  description = "The ServiceNow instance, https://INSTANCE.service-now.com (no path: the function POSTs to /api/global/em/jsonv2). http:// is accepted to a loopback address only, for the local ServiceNow of the tests and the demo."
  type        = string

  validation {
    condition     = can(regex("^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$", var.instance_url)) || can(regex("^http://(127\\.[0-9]+\\.[0-9]+\\.[0-9]+|localhost|\\[::1\\]):[0-9]{1,5}/?$", var.instance_url))
    error_message = "instance_url must be the instance's https:// address without a path, e.g. https://acme.service-now.com (not .../api/global/em/jsonv2): events name instances and failures, and the credentials must not cross the network in clear text."
  }
}

variable "secret_arn" {
  description = "ARN of the Secrets Manager secret holding the credentials, a JSON object with username and password (a user with the evt_mgmt_integration role) or with api_key (sent as x-sn-apikey). The function reads it at run time: the credentials are never in the plan or the state."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", var.secret_arn))
    error_message = "secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-SUFFIX): the function's role is granted GetSecretValue on that secret alone."
  }
}

variable "secret_kms_key_arn" {
  description = "Customer-managed KMS key encrypting the secret, if any: the role gets kms:Decrypt on it through Secrets Manager only. Null when the secret uses the AWS managed key aws/secretsmanager."
  type        = string
  default     = null

  validation {
    condition     = var.secret_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", coalesce(var.secret_kms_key_arn, "x")))
    error_message = "secret_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID): IAM policies cannot name a key by alias."
  }
}

################################################################################
# What is delivered
################################################################################

variable "topic_arns" {
  description = "SNS topics whose messages are delivered, by a name of your choice (the names must be known at plan time): usually notifications and alarms. The queue subscribes to each with raw message delivery off."
  type        = map(string)

  validation {
    condition     = length(var.topic_arns) > 0
    error_message = "topic_arns must name at least one topic: without one nothing is delivered."
  }

  validation {
    condition     = alltrue([for arn in values(var.topic_arns) : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", arn))])
    error_message = "Each of topic_arns must be a standard SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)."
  }
}

variable "alarm_actions" {
  description = "Where the component's own alarms (dead letters, a stalled queue, function errors) publish on ALARM and OK: the module's alarm topic. Empty: the alarms exist without actions."
  type        = list(string)
  default     = []
}

################################################################################
# Queue and retries
################################################################################

variable "max_receive_count" {
  description = "Receives of a message before SQS moves it to the dead-letter queue. Each failed receive keeps the message away longer (1 minute, doubling, at most an hour): the default 20 rides out about 15 hours of ServiceNow being unreachable."
  type        = number
  default     = 20

  validation {
    condition     = var.max_receive_count >= 3 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count must be a whole number from 3 to 1000 (SQS allows 1-1000; fewer than 3 gives a short ServiceNow outage no chance)."
  }
}

variable "queue_kms_key_arn" {
  description = "Customer-managed KMS key encrypting both queues; its key policy must let sns.amazonaws.com use it (kms:GenerateDataKey*, kms:Decrypt). Null: SQS-managed encryption (SSE-SQS), which SNS can always write to."
  type        = string
  default     = null

  validation {
    condition     = var.queue_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", coalesce(var.queue_kms_key_arn, "x")))
    error_message = "queue_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."
  }
}

variable "batch_size" {
  description = "Messages per invocation (1-10). Each message is one POST; a transient failure stops the batch and returns the rest to the queue."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10 && floor(var.batch_size) == var.batch_size
    error_message = "batch_size must be a whole number from 1 to 10: larger batches need a batching window and make one slow POST delay more events."
  }
}

variable "maximum_concurrency" {
  description = "Concurrent invocations the queue may drive (2-1000): how hard a backlog hits ServiceNow's rate limits after an outage."
  type        = number
  default     = 2

  validation {
    condition     = var.maximum_concurrency >= 2 && var.maximum_concurrency <= 1000 && floor(var.maximum_concurrency) == var.maximum_concurrency
    error_message = "maximum_concurrency must be a whole number from 2 to 1000 (the event source mapping's range)."
  }
}

variable "max_attempts" {
  description = "POST attempts per message within one invocation on 429, 5xx or no answer, with exponential back-off (Retry-After honoured up to 20 s); then the message goes back to the queue."
  type        = number
  default     = 3

  validation {
    condition     = var.max_attempts >= 1 && var.max_attempts <= 10 && floor(var.max_attempts) == var.max_attempts
    error_message = "max_attempts must be a whole number from 1 to 10."
  }
}

variable "request_timeout_seconds" {
  description = "Timeout of one POST to ServiceNow, in seconds."
  type        = number
  default     = 10

  validation {
    condition     = var.request_timeout_seconds >= 1 && var.request_timeout_seconds <= 60
    error_message = "request_timeout_seconds must be 1-60 seconds."
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
  description = "Instruction set of the function: arm64 or x86_64 (the package is pure Python)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64, the two Lambda offers."
  }
}

variable "memory_size" {
  description = "Memory of the function in MB."
  type        = number
  default     = 128

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB from 128 to 10240, Lambda's range."
  }
}

variable "timeout" {
  description = "Timeout of one invocation in seconds; the queue's visibility timeout is six times this, as AWS recommends for an SQS event source."
  type        = number
  default     = 120

  validation {
    condition     = var.timeout >= 30 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be 30-900 seconds: a batch of POSTs with their retries needs half a minute at least."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing of the function: Active or PassThrough."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough, the two modes Lambda offers."
  }
}

variable "log_level" {
  description = "Application log level of the function (JSON logs): one line per message delivered, retried or dead-lettered."
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
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", coalesce(var.log_kms_key_arn, "x")))
    error_message = "log_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."
  }
}

variable "permissions_boundary_arn" {
  description = "IAM permissions boundary attached to the function's role (landing zones often require one)."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$", coalesce(var.permissions_boundary_arn, "x")))
    error_message = "permissions_boundary_arn must be null or an IAM policy ARN (arn:aws:iam::ACCOUNT:policy/NAME)."
  }
}
