################################################################################
# The per-instance state machine: freeze, back up, thaw as soon as the snapshots
# exist, follow the job and its copies, label the recovery point, report.
# Definition: asl/backup_instance.asl.json (JSONata with workflow variables), rendered
# with templatefile.
################################################################################

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name

  state_machine_name = "${var.name_prefix}-backup-instance"
  state_machine_arn  = "arn:${local.partition}:states:${local.region}:${local.account}:stateMachine:${local.state_machine_name}"
  execution_arns     = "arn:${local.partition}:states:${local.region}:${local.account}:execution:${local.state_machine_name}:*"
  guard_table_name   = "${var.name_prefix}-instance-guard"
  guard_table_arn    = "arn:${local.partition}:dynamodb:${local.region}:${local.account}:table/${local.guard_table_name}"
  run_ledger_name    = "${var.name_prefix}-run-ledger"
  run_ledger_arn     = "arn:${local.partition}:dynamodb:${local.region}:${local.account}:table/${local.run_ledger_name}"
  # A run's ledger item outlives its longest execution (30 days) and the next run of a
  # weekly schedule, which publishes a summary the run never completed.
  run_ledger_ttl_seconds   = max(var.timings.guard_ttl_seconds, 2592000) + 604800
  run_summary_function_arn = var.run_summary_function_name == null ? "" : "arn:${local.partition}:lambda:${local.region}:${local.account}:function:${var.run_summary_function_name}"
  log_group_name           = "/aws/vendedlogs/states/${local.state_machine_name}"

  # At most 36 history events per job poll (its gate tried three times, then moved on and
  # tried three times more, then ungated: 27; Wait, Task, Choice: 9) and 9 per copy poll at
  # the maximum interval, plus ~250 for everything else (bench/state_machine.py measures them).
  worst_case_history_events = 250 + 36 * ceil(var.timings.job_wait_max_seconds / var.timings.job_poll_max_seconds) + 9 * max(1, length(var.copy_destination_vault_arns)) * ceil(var.timings.copy_wait_max_seconds / var.timings.copy_poll_max_seconds)

  # Every ${...} of the template, and nothing else (tests/statemachine checks both ways).
  definition_variables = {
    vault_name                = var.vault_name
    backup_role_arn           = var.backup_role_arn
    ssm_document_name         = var.ssm_document_name
    ssm_document_version      = var.ssm_document_version
    notification_topic_arn    = var.notification_topic_arn
    guard_table_name          = local.guard_table_name
    name_prefix               = var.name_prefix
    notify_on_success         = var.notify_on_success
    command_poll_seconds      = var.timings.command_poll_seconds
    command_wait_max_seconds  = var.timings.command_wait_max_seconds
    snapshot_poll_seconds     = var.timings.snapshot_poll_seconds
    thaw_margin_seconds       = var.timings.thaw_margin_seconds
    thaw_max_attempts         = var.timings.thaw_max_attempts
    clock_skew_margin_seconds = var.timings.clock_skew_margin_seconds
    job_poll_initial_seconds  = var.timings.job_poll_initial_seconds
    job_poll_max_seconds      = var.timings.job_poll_max_seconds
    job_wait_max_seconds      = var.timings.job_wait_max_seconds
    complete_window_minutes   = var.timings.complete_window_minutes
    copy_poll_initial_seconds = var.timings.copy_poll_initial_seconds
    copy_poll_max_seconds     = var.timings.copy_poll_max_seconds
    copy_wait_max_seconds     = var.timings.copy_wait_max_seconds
    guard_ttl_seconds         = var.timings.guard_ttl_seconds
    freeze_slots              = local.freeze_slots
    job_poll_gate_calls       = local.job_poll_gate_calls
    slot_wait_seconds         = var.timings.slot_wait_seconds
    slot_wait_max_seconds     = var.timings.slot_wait_max_seconds
    run_ledger_table_name     = local.run_ledger_name
    run_ledger_ttl_seconds    = local.run_ledger_ttl_seconds
    run_summary_function_arn  = local.run_summary_function_arn
    storm_threshold           = var.storm_threshold
  }
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_dynamodb_table" "guard" {
  #checkov:skip=CKV_AWS_119:A customer-managed key is optional (guard_table_kms_key_arn); the table holds instance ids, run ids and outcomes, encrypted with the AWS-managed key otherwise.
  name         = local.guard_table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "instance_id"

  attribute {
    name = "instance_id"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.guard_table_kms_key_arn
  }

  tags = var.tags
}

# One item per run and per schedule (docs/contracts.md section 5b): each execution counts
# its outcome there, so the run ends with one summary and a mass failure with one alert.
resource "aws_dynamodb_table" "run_ledger" {
  #checkov:skip=CKV_AWS_119:A customer-managed key is optional (guard_table_kms_key_arn); the table holds schedule names, instance ids and counts, encrypted with the AWS-managed key otherwise.
  name         = local.run_ledger_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "ledger_key"

  attribute {
    name = "ledger_key"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  # Kept on (docs/contracts.md section 5b, checkov CKV_AWS_28) though the ledger holds only
  # counts that live 37 days: its cost is that of a few small items per run, and a table
  # deleted by mistake in the middle of a run would otherwise lose that run's summary.
  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.guard_table_kms_key_arn
  }

  tags = var.tags
}

resource "aws_sfn_state_machine" "this" {
  name       = local.state_machine_name
  type       = "STANDARD"
  role_arn   = aws_iam_role.this.arn
  definition = templatefile("${path.module}/../../asl/backup_instance.asl.json", local.definition_variables)

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.this.arn}:*"
    include_execution_data = true
    level                  = var.log_level
  }

  tracing_configuration {
    enabled = var.tracing_enabled
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.this]

  lifecycle {
    precondition {
      condition     = local.worst_case_history_events <= 24000
      error_message = "With these timings and ${length(var.copy_destination_vault_arns)} copy destination(s), a run that waits the full job_wait_max_seconds and copy_wait_max_seconds could write ${local.worst_case_history_events} history events; Step Functions stops an execution at 25,000. Raise job_poll_max_seconds / copy_poll_max_seconds or lower the waits."
    }
  }
}
