# The app-consistent-backup SSM Command document: ssm/app-consistent-backup.yaml.tftpl with
# ssm/scripts/freeze-thaw.sh inserted as its shell step. docs/contracts.md section 3 defines
# its parameters, output and exit codes.

locals {
  ssm_dir       = "${path.module}/../../ssm"
  document_name = "${var.name_prefix}-freeze-thaw"

  # The document carries the script without its comment lines (except `#!`), blank lines and
  # leading indentation: SSM documents are limited to 64 KB. The tests run the script in this
  # form, and check that it defines exactly what the commented script defines.
  comment_blank_or_indent = "/(?m)^[ \\t]*((#([^!\\n][^\\n]*)?)?\\n)?/"

  document_content = templatefile("${local.ssm_dir}/app-consistent-backup.yaml.tftpl", {
    script                    = replace(file("${local.ssm_dir}/scripts/freeze-thaw.sh"), local.comment_blank_or_indent, "")
    max_freeze_seconds        = var.default_max_freeze_seconds
    hook_timeout_seconds      = var.default_hook_timeout_seconds
    pre_freeze_hook_dir       = var.pre_freeze_hook_dir
    post_thaw_hook_dir        = var.post_thaw_hook_dir
    auto_exclude_paths        = join(":", var.auto_selection_exclusions)
    execution_timeout_seconds = var.execution_timeout_seconds
  })
}

resource "aws_ssm_document" "this" {
  name            = local.document_name
  document_type   = "Command"
  document_format = "YAML"
  target_type     = "/AWS::EC2::Instance"
  content         = local.document_content

  tags = var.tags
}
