locals {
  function_name  = "${var.name_prefix}-restore-validation"
  package        = "${path.module}/package/restore_validation.zip"
  function_arn   = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.function_name}"
  log_group_name = "/aws/lambda/${local.function_name}"
  log_group_arn  = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"
  dlq_name       = "${var.name_prefix}-restore-validation-dlq"
  dlq_arn        = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${local.dlq_name}"
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Encrypted by CloudWatch Logs by default; a customer-managed key is used when log_kms_key_arn is set.
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

# Invocations that failed after Lambda's two retries: a restore test nobody validated.
resource "aws_sqs_queue" "dead_letter" {
  name                      = local.dlq_name
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
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

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The function only calls AWS APIs (Backup, EC2, SSM, SNS, Lambda); a VPC would add NAT or endpoints and no protection.
  #checkov:skip=CKV_AWS_272:The package is built reproducibly from this repository and committed; code signing needs a signing profile the caller does not have.
  #checkov:skip=CKV_AWS_173:The environment holds ARNs, names and numbers, no secrets; Lambda encrypts it at rest with its service key.
  #checkov:skip=CKV_AWS_115:At most one invocation per restored instance; reserving concurrency would take from the account's pool.
  function_name    = local.function_name
  description      = "Validates each instance the ${local.plan_name} restore testing plan restores and reports the result to AWS Backup and the notification topic."
  role             = aws_iam_role.function.arn
  filename         = local.package
  source_code_hash = filebase64sha256(local.package)
  handler          = "restore_validation.handler.handler"
  runtime          = var.runtime
  architectures    = [var.architecture]
  memory_size      = 256
  timeout          = 900

  environment {
    variables = {
      NAME_PREFIX              = var.name_prefix
      NOTIFICATION_TOPIC_ARN   = var.notification_topic_arn
      RESTORE_TESTING_PLAN_ARN = aws_backup_restore_testing_plan.this.arn
      VALIDATION_DOCUMENT_NAME = aws_ssm_document.validation.name
      VALIDATION_WINDOW_HOURS  = tostring(var.validation_window_hours)
      AGENT_WAIT_SECONDS       = tostring(var.agent_wait_seconds)
      CHECK_TIMEOUT_SECONDS    = tostring(var.check_timeout_seconds)
      NOTIFY_ON_SUCCESS        = tostring(var.notify_on_success)
    }
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = "INFO"
    system_log_level      = "WARN"
  }

  tracing_config {
    mode = "PassThrough"
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letter.arn
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.function, aws_cloudwatch_log_group.this]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 21600
}

################################################################################
# AWS Backup's "Restore Job State Change" events (AWS Backup guide, "Restore testing
# validation"): the function keeps its plan's jobs and ignores the others.
################################################################################

resource "aws_cloudwatch_event_rule" "restore_jobs" {
  name        = "${var.name_prefix}-restore-jobs"
  description = "Restore jobs that ended, for the ${local.function_name} function."
  event_pattern = jsonencode({
    source        = ["aws.backup"]
    "detail-type" = ["Restore Job State Change"]
    detail        = { status = ["COMPLETED", "FAILED", "ABORTED"] }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "function" {
  rule = aws_cloudwatch_event_rule.restore_jobs.name
  arn  = aws_lambda_function.this.arn
}

resource "aws_lambda_permission" "events" {
  statement_id  = "RestoreJobEvents"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.restore_jobs.arn
}
