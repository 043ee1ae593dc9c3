# AWS Backup restore testing of the module's recovery points, and the function that
# validates each restored instance (docs/contracts.md section 6).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  # Restore testing names take letters, digits and underscores only.
  plan_name = "${replace(var.name_prefix, "-", "_")}_restore_test"
  selections = {
    for v in var.tag_values : v => substr("${replace(var.name_prefix, "-", "_")}_${replace(v, "/[^A-Za-z0-9_]/", "_")}", 0, 50)
  }
}

################################################################################
# What AWS Backup restores, and when
################################################################################

resource "aws_backup_restore_testing_plan" "this" {
  name                         = local.plan_name
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_expression_timezone
  start_window_hours           = var.start_window_hours

  recovery_point_selection {
    algorithm = var.algorithm
    # Only the module's vault: its recovery points carry the consistency label the
    # validation reports. AWS Backup selects recovery points by vault, type and age, not
    # by their tags, so a crash-consistent point can still be the one tested (the
    # result says which label it had).
    include_vaults        = [var.vault_arn]
    recovery_point_types  = ["SNAPSHOT"]
    selection_window_days = var.selection_window_days
  }

  tags = var.tags
}

resource "aws_backup_restore_testing_selection" "this" {
  for_each = local.selections

  name                       = each.value
  restore_testing_plan_name  = aws_backup_restore_testing_plan.this.name
  protected_resource_type    = "EC2"
  iam_role_arn               = aws_iam_role.restore.arn
  validation_window_hours    = var.validation_window_hours
  restore_metadata_overrides = var.restore_metadata_overrides

  protected_resource_conditions {
    string_equals {
      key   = "aws:ResourceTag/${var.selection_tag_key}"
      value = each.key
    }
  }

  lifecycle {
    precondition {
      condition     = length(distinct(values(local.selections))) == length(local.selections)
      error_message = "Two tag_values give the same selection name once reduced to letters, digits and underscores (at most 50): give them values that differ in those characters."
    }
  }
}

################################################################################
# The document run on each restored instance (ssm/restore-validation.yaml.tftpl)
################################################################################

locals {
  ssm_dir       = "${path.module}/../../ssm"
  document_name = "${var.name_prefix}-restore-validation"
  # Comments (but #!) and blank lines out, as in modules/instance-documents.
  comment_or_blank_line = "/(?m)^[ \\t]*(#([^!\\n][^\\n]*)?)?\\n/"

  document_content = templatefile("${local.ssm_dir}/restore-validation.yaml.tftpl", {
    script                    = replace(file("${local.ssm_dir}/scripts/restore-validation.sh"), local.comment_or_blank_line, "")
    check_dir                 = var.check_dir
    check_timeout_seconds     = var.check_timeout_seconds
    execution_timeout_seconds = 3600
  })
}

resource "aws_ssm_document" "validation" {
  name            = local.document_name
  document_type   = "Command"
  document_format = "YAML"
  target_type     = "/AWS::EC2::Instance"
  content         = local.document_content
  tags            = var.tags
}
