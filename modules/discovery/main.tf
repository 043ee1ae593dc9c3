data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id    = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  region        = data.aws_region.current.name
  function_name = "${var.name_prefix}-discovery"
  package       = "${path.module}/package/discovery.zip"
  margin        = coalesce(var.continuation_margin_seconds, min(60, floor(var.timeout / 4)))

  # Instances no schedule selects: every schedule's tag value, and the one schedule
  # whose runs report them (docs/contracts.md sections 1 and 5).
  tag_values_by_schedule = { for name, s in var.schedules : name => coalesce(s.tag_value, name) }
  reporter_candidates    = sort([for name, s in var.schedules : name if s.enabled])
  reporter = !var.report_not_selected ? "" : coalesce(
    var.not_selected_reporter,
    try(local.reporter_candidates[0], sort(keys(var.schedules))[0]),
  )

  function_environment = merge({
    STATE_MACHINE_ARN           = var.state_machine_arn
    BACKUP_TAG_KEY              = var.selection_tag_key
    OPT_OUT_TAG_KEY             = var.opt_out_tag_key
    NOTIFICATION_TOPIC_ARN      = var.notification_topic_arn
    NAME_PREFIX                 = var.name_prefix
    MAX_CONCURRENCY             = tostring(var.max_concurrency)
    START_RATE_PER_SECOND       = tostring(var.start_rate_per_second)
    START_BURST                 = tostring(var.start_burst)
    CONTINUATION_MARGIN_SECONDS = tostring(local.margin)
    SCHEDULE_TAG_VALUES         = jsonencode(local.tag_values_by_schedule)
    NOT_SELECTED_REPORTER       = local.reporter
    }, var.run_ledger == null ? {} : {
    RUN_LEDGER_TABLE       = element(split("/", var.run_ledger.table_arn), 1)
    RUN_LEDGER_TTL_SECONDS = tostring(var.run_ledger.ttl_seconds)
    STORM_THRESHOLD        = tostring(var.run_ledger.storm_threshold)
  })
  # Lambda allows 4 KB of environment variables in all; the JSON of the map is a
  # little more than what Lambda counts (names and values), so it errs on the safe side.
  function_environment_bytes = length(jsonencode(local.function_environment))

  # ARNs built from names, so that the IAM policies are known at plan time and no
  # policy depends on the resource it grants access to.
  function_arn   = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.function_name}"
  log_group_name = "/aws/lambda/${local.function_name}"
  log_group_arn  = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"
  dlq_name       = "${var.name_prefix}-discovery-dlq"
  dlq_arn        = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${local.dlq_name}"
}

################################################################################
# Logs
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Encrypted by CloudWatch Logs by default; a customer-managed key is used when log_kms_key_arn is set.
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

################################################################################
# Dead-letter queue: schedule invocations the scheduler could not deliver, and
# invocations of the function that failed after Lambda's own retries
################################################################################

resource "aws_sqs_queue" "dead_letter" {
  name                      = local.dlq_name
  message_retention_seconds = 1209600 # 14 days, SQS's maximum: time to look at a failed night
  sqs_managed_sse_enabled   = var.dead_letter_kms_key_arn == null ? true : null
  kms_master_key_id         = var.dead_letter_kms_key_arn
  # Inline rather than an aws_sqs_queue_policy: the provider waits for a separate
  # queue policy to settle (about 25 s on create and on destroy) for nothing.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "sqs:*"
      Resource  = local.dlq_arn
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
  tags = var.tags
}

################################################################################
# Function
################################################################################

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The function only calls AWS APIs (EC2, Step Functions, SNS, Lambda); a VPC would add NAT or endpoints and no protection.
  #checkov:skip=CKV_AWS_272:The package is built reproducibly from this repository and committed; code signing needs a signing profile the caller does not have.
  #checkov:skip=CKV_AWS_173:The environment holds ARNs, tag keys and numbers, no secrets; Lambda encrypts it at rest with its service key.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is the caller's choice (reserved_concurrent_executions); reserving by default would take from the account's pool.
  function_name                  = local.function_name
  description                    = "Finds the instances each backup schedule selects and starts one consistent-backup execution per instance."
  role                           = aws_iam_role.function.arn
  filename                       = local.package
  source_code_hash               = filebase64sha256(local.package)
  handler                        = "discovery.handler.handler"
  runtime                        = var.runtime
  architectures                  = [var.architecture]
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions

  environment {
    variables = local.function_environment
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

  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letter.arn
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.margin * 2 < var.timeout
      error_message = "continuation_margin_seconds must be under half the timeout: each invocation must have time to start executions before it hands the rest on."
    }

    precondition {
      condition     = var.opt_out_tag_key != var.selection_tag_key
      error_message = "opt_out_tag_key must differ from selection_tag_key: one tag cannot both select and exclude an instance."
    }

    precondition {
      condition     = var.not_selected_reporter == null || contains(keys(var.schedules), coalesce(var.not_selected_reporter, "-"))
      error_message = "not_selected_reporter must name one of the schedules (a key of schedules): only a schedule's runs can report the instances no schedule selects."
    }

    precondition {
      condition     = local.function_environment_bytes <= 4096
      error_message = "The function's environment would exceed Lambda's 4 KB: the schedules' tag values (SCHEDULE_TAG_VALUES) take too much room. Use fewer schedules or shorter tag values."
    }
  }

  depends_on = [aws_iam_role_policy.function, aws_cloudwatch_log_group.this]
}

# Asynchronous invocations (the scheduler's and the function's own continuations):
# Lambda retries a failed one twice, then sends it to the dead-letter queue. A
# retried invocation is harmless: execution names are idempotent.
resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 21600
}
