data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id    = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  region        = data.aws_region.current.name
  function_name = "${var.name_prefix}-servicenow"
  package       = "${path.module}/package/servicenow.zip"
  instance_url  = trimsuffix(var.instance_url, "/")

  # ARNs built from names, so that the policies are known at plan time and none
  # depends on the resource it grants access to.
  queue_name     = "${var.name_prefix}-servicenow"
  queue_arn      = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${local.queue_name}"
  dlq_name       = "${var.name_prefix}-servicenow-dlq"
  dlq_arn        = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${local.dlq_name}"
  log_group_name = "/aws/lambda/${local.function_name}"
  log_group_arn  = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"

  deny_insecure_transport = {
    Sid       = "DenyInsecureTransport"
    Effect    = "Deny"
    Principal = "*"
    Action    = "sqs:*"
    Condition = { Bool = { "aws:SecureTransport" = "false" } }
  }
}

################################################################################
# Queues: the topics feed the queue (raw delivery off), which feeds the function.
# A message ServiceNow will never take is dead-lettered by the function with its
# reason; one that keeps failing for a transient reason, by SQS after
# max_receive_count receives.
################################################################################

resource "aws_sqs_queue" "dead_letter" {
  name                      = local.dlq_name
  message_retention_seconds = 1209600 # 14 days, SQS's maximum: time to fix the cause and redrive
  sqs_managed_sse_enabled   = var.queue_kms_key_arn == null ? true : null
  kms_master_key_id         = var.queue_kms_key_arn
  # Inline: a separate aws_sqs_queue_policy makes the provider wait ~25 s to settle.
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [merge(local.deny_insecure_transport, { Resource = local.dlq_arn })]
  })
  tags = var.tags
}

resource "aws_sqs_queue" "events" {
  name                       = local.queue_name
  message_retention_seconds  = 1209600
  visibility_timeout_seconds = var.timeout * 6 # AWS's advice for an SQS event source
  sqs_managed_sse_enabled    = var.queue_kms_key_arn == null ? true : null
  kms_master_key_id          = var.queue_kms_key_arn
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = var.max_receive_count
  })
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "TopicsSendEvents"
        Effect    = "Allow"
        Principal = { Service = "sns.amazonaws.com" }
        Action    = "sqs:SendMessage"
        Resource  = local.queue_arn
        Condition = { ArnEquals = { "aws:SourceArn" = sort(values(var.topic_arns)) } }
      },
      merge(local.deny_insecure_transport, { Resource = local.queue_arn }),
    ]
  })
  tags = var.tags
}

resource "aws_sns_topic_subscription" "events" {
  for_each = var.topic_arns

  topic_arn = each.value
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.events.arn
  # Off, as docs/contracts.md section 7 says: the function reads the SNS envelope.
  raw_message_delivery = false
}

################################################################################
# The function
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Encrypted by CloudWatch Logs by default; a customer-managed key is used when log_kms_key_arn is set.
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The function calls ServiceNow over the internet and AWS APIs; a VPC would add NAT and no protection.
  #checkov:skip=CKV_AWS_272:The package is built reproducibly from this repository and committed; code signing needs a signing profile the caller does not have.
  #checkov:skip=CKV_AWS_173:The environment holds a URL, ARNs and numbers; the credentials stay in Secrets Manager and are read at run time.
  #checkov:skip=CKV_AWS_115:The queue's event source mapping bounds concurrency (maximum_concurrency); reserving would take from the account's pool.
  #checkov:skip=CKV_AWS_116:The SQS queue is the function's source and has its own dead-letter queue; a Lambda DLQ applies to asynchronous invocations only.
  function_name    = local.function_name
  description      = "Delivers the backup notifications and alarms queued from SNS to ServiceNow Event Management (jsonv2)."
  role             = aws_iam_role.function.arn
  filename         = local.package
  source_code_hash = filebase64sha256(local.package)
  handler          = "servicenow.handler.handler"
  runtime          = var.runtime
  architectures    = [var.architecture]
  memory_size      = var.memory_size
  timeout          = var.timeout

  environment {
    variables = {
      SERVICENOW_URL          = local.instance_url
      SERVICENOW_SECRET_ARN   = var.secret_arn
      DEAD_LETTER_QUEUE_URL   = aws_sqs_queue.dead_letter.url
      QUEUE_URL               = aws_sqs_queue.events.url
      NAME_PREFIX             = var.name_prefix
      MAX_ATTEMPTS            = tostring(var.max_attempts)
      REQUEST_TIMEOUT_SECONDS = tostring(var.request_timeout_seconds)
    }
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = var.log_level
    system_log_level      = "WARN"
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.function, aws_cloudwatch_log_group.this]
}

resource "aws_lambda_event_source_mapping" "this" {
  event_source_arn                   = aws_sqs_queue.events.arn
  function_name                      = aws_lambda_function.this.arn
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = 0
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.maximum_concurrency
  }

  tags = var.tags
}
