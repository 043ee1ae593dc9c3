# Optional AWS Backup Audit Manager report plan: a daily job report an auditor can
# keep. Job reports cover every job of the account and Region; the module's are those
# whose vault is this one (docs/compliance.md).

locals {
  # Report plan names take letters, digits and underscores only.
  report_plan_name = "${replace(var.name_prefix, "-", "_")}_${lower(try(var.report_plan.report_template, "none"))}"
}

resource "aws_backup_report_plan" "this" {
  count = var.report_plan == null ? 0 : 1

  name        = local.report_plan_name
  description = "${var.name_prefix}: ${var.report_plan.report_template} for the jobs of the ${local.vault_name} vault and the rest of the account and Region."

  report_delivery_channel {
    s3_bucket_name = var.report_plan.s3_bucket_name
    s3_key_prefix  = var.report_plan.s3_key_prefix
    formats        = var.report_plan.formats
  }

  report_setting {
    report_template = var.report_plan.report_template
  }

  tags = var.tags
}
