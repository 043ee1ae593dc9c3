# Plan-level tests of the instance document (offline: mock_provider).
# Run: terraform init -plugin-dir=/opt/tf-plugins -backend=false && terraform test

mock_provider "aws" {
  mock_resource "aws_ssm_document" {
    defaults = {
      arn = "arn:aws:ssm:eu-west-1:111122223333:document/acb-test-freeze-thaw"
    }
  }
}

variables {
  name_prefix = "acb-test"
}

run "document_renders_with_contract_parameters" {
  command = plan

  assert {
    condition     = aws_ssm_document.this.name == "acb-test-freeze-thaw"
    error_message = "document name is not <name_prefix>-freeze-thaw"
  }

  assert {
    condition     = aws_ssm_document.this.document_type == "Command" && aws_ssm_document.this.document_format == "YAML"
    error_message = "the document must be a YAML Command document"
  }

  assert {
    condition     = yamldecode(aws_ssm_document.this.content).schemaVersion == "2.2"
    error_message = "schemaVersion must be 2.2"
  }

  assert {
    condition = sort(keys(yamldecode(aws_ssm_document.this.content).parameters)) == sort([
      "Command", "RunId", "MaxFreezeSeconds", "IncludeMountpoints", "ExcludeMountpoints",
      "HookTimeoutSeconds",
    ])
    error_message = "the document's parameters differ from docs/contracts.md section 3"
  }

  assert {
    condition = alltrue([
      for name, p in yamldecode(aws_ssm_document.this.content).parameters :
      p.type == "String" && length(try(p.description, "")) > 20 && length(try(p.allowedPattern, "")) > 5
    ])
    error_message = "every parameter must be a described String with an allowedPattern"
  }

  assert {
    condition = {
      for name, p in yamldecode(aws_ssm_document.this.content).parameters : name => p.allowedPattern
      } == {
      Command            = "^(freeze|thaw|dry-run)$"
      RunId              = "^[A-Za-z0-9_-]{1,80}$"
      MaxFreezeSeconds   = "^(1[5-9]|[2-9][0-9]|[1-8][0-9]{2}|900)$"
      IncludeMountpoints = "^((/[.]?[A-Za-z0-9_-][A-Za-z0-9._-]*)+(,(/[.]?[A-Za-z0-9_-][A-Za-z0-9._-]*)+)*)?$"
      ExcludeMountpoints = "^((/[.]?[A-Za-z0-9_-][A-Za-z0-9._-]*)+(,(/[.]?[A-Za-z0-9_-][A-Za-z0-9._-]*)+)*)?$"
      HookTimeoutSeconds = "^[1-9][0-9]{0,2}$"
    }
    error_message = "allowedPattern values differ from the contract"
  }

  assert {
    condition = alltrue([
      for name, p in yamldecode(aws_ssm_document.this.content).parameters :
      can(regex(p.allowedPattern, p.default)) if can(p.default)
    ])
    error_message = "every default must match its own allowedPattern"
  }

  assert {
    condition     = !can(yamldecode(aws_ssm_document.this.content).parameters.RunId.default)
    error_message = "RunId must be required (no default)"
  }

  assert {
    condition = (
      yamldecode(aws_ssm_document.this.content).parameters.MaxFreezeSeconds.default == "60" &&
      yamldecode(aws_ssm_document.this.content).parameters.HookTimeoutSeconds.default == "30" &&
      yamldecode(aws_ssm_document.this.content).parameters.Command.default == "dry-run"
    )
    error_message = "parameter defaults differ from the contract"
  }

  assert {
    condition = alltrue([
      for line in [
        "ACB_PRE_FREEZE_HOOK_DIR='/etc/app-consistent-backup/pre-freeze.d'",
        "ACB_POST_THAW_HOOK_DIR='/etc/app-consistent-backup/post-thaw.d'",
        "ACB_AUTO_EXCLUDE_PATHS='/var/log/audit:/tmp:/var/tmp'",
      ] : strcontains(yamldecode(aws_ssm_document.this.content).mainSteps[0].inputs.runCommand[0], "\n${line}\n")
    ])
    error_message = "hook directories and automatic-selection exclusions must be fixed in the document (docs/contracts.md section 3)"
  }

  assert {
    condition = (
      yamldecode(aws_ssm_document.this.content).mainSteps[0].action == "aws:runShellScript" &&
      yamldecode(aws_ssm_document.this.content).mainSteps[0].precondition.StringEquals == ["platformType", "Linux"] &&
      yamldecode(aws_ssm_document.this.content).mainSteps[0].inputs.timeoutSeconds == "600"
    )
    error_message = "the document must run one aws:runShellScript step, Linux only"
  }

  assert {
    condition     = startswith(yamldecode(aws_ssm_document.this.content).mainSteps[0].inputs.runCommand[0], "#!/bin/bash\n")
    error_message = "the shell step must start with a bash shebang"
  }

  assert {
    condition = alltrue([
      for pair in [
        ["ACB_COMMAND", "Command"], ["ACB_RUN_ID", "RunId"], ["ACB_MAX_FREEZE_SECONDS", "MaxFreezeSeconds"],
        ["ACB_INCLUDE_MOUNTPOINTS", "IncludeMountpoints"], ["ACB_EXCLUDE_MOUNTPOINTS", "ExcludeMountpoints"],
        ["ACB_HOOK_TIMEOUT_SECONDS", "HookTimeoutSeconds"],
      ] :
      strcontains(yamldecode(aws_ssm_document.this.content).mainSteps[0].inputs.runCommand[0], "\n${pair[0]}='{{ ${pair[1]} }}'\n")
    ])
    error_message = "each parameter must reach the script through a single-quoted assignment"
  }

  assert {
    condition = endswith(
      yamldecode(aws_ssm_document.this.content).mainSteps[0].inputs.runCommand[0],
      replace(file("${path.module}/../../ssm/scripts/freeze-thaw.sh"), "/(?m)^[ \\t]*((#([^!\\n][^\\n]*)?)?\\n)?/", "")
    )
    error_message = "the shell step must end with ssm/scripts/freeze-thaw.sh, less its comments, blank lines and indentation"
  }

  assert {
    condition     = length(aws_ssm_document.this.content) < 56000
    error_message = "SSM documents are limited to 64 KB: keep a margin"
  }

  assert {
    condition     = output.document_parameters == sort(keys(yamldecode(aws_ssm_document.this.content).parameters))
    error_message = "document_parameters output is wrong"
  }
}

run "custom_defaults_and_tags" {
  command = plan

  variables {
    name_prefix                  = "prod.backup_1"
    pre_freeze_hook_dir          = "/opt/acb/pre.d"
    post_thaw_hook_dir           = "/opt/acb/.post.d"
    auto_selection_exclusions    = []
    default_max_freeze_seconds   = 900
    default_hook_timeout_seconds = 999
    execution_timeout_seconds    = 1800
    tags                         = { team = "storage" }
  }

  assert {
    condition = (
      yamldecode(aws_ssm_document.this.content).parameters.MaxFreezeSeconds.default == "900" &&
      yamldecode(aws_ssm_document.this.content).parameters.HookTimeoutSeconds.default == "999" &&
      yamldecode(aws_ssm_document.this.content).mainSteps[0].inputs.timeoutSeconds == "1800"
    )
    error_message = "variables do not reach the document's defaults"
  }

  assert {
    condition = alltrue([
      for line in [
        "ACB_PRE_FREEZE_HOOK_DIR='/opt/acb/pre.d'",
        "ACB_POST_THAW_HOOK_DIR='/opt/acb/.post.d'",
        "ACB_AUTO_EXCLUDE_PATHS=''",
      ] : strcontains(yamldecode(aws_ssm_document.this.content).mainSteps[0].inputs.runCommand[0], "\n${line}\n")
    ])
    error_message = "hook directories and exclusions do not reach the document"
  }

  assert {
    condition     = aws_ssm_document.this.tags == tomap({ team = "storage" })
    error_message = "tags are not applied"
  }
}

run "outputs_after_apply" {
  command = apply

  assert {
    condition     = output.document_name == "acb-test-freeze-thaw"
    error_message = "document_name output is wrong"
  }

  assert {
    condition     = output.document_arn == "arn:aws:ssm:eu-west-1:111122223333:document/acb-test-freeze-thaw"
    error_message = "document_arn output is wrong"
  }
}

# --- every validation rejects what it should ---------------------------------------------

run "rejects_name_prefix_with_bad_characters" {
  command = plan
  variables { name_prefix = "my prefix;" }
  expect_failures = [var.name_prefix]
}

run "rejects_empty_name_prefix" {
  command = plan
  variables { name_prefix = "" }
  expect_failures = [var.name_prefix]
}

run "rejects_reserved_name_prefix" {
  command = plan
  variables { name_prefix = "AWS-mine" }
  expect_failures = [var.name_prefix]
}

run "rejects_relative_pre_freeze_hook_dir" {
  command = plan
  variables { pre_freeze_hook_dir = "etc/hooks" }
  expect_failures = [var.pre_freeze_hook_dir]
}

run "rejects_traversing_post_thaw_hook_dir" {
  command = plan
  variables { post_thaw_hook_dir = "/etc/../tmp/hooks" }
  expect_failures = [var.post_thaw_hook_dir]
}

run "rejects_system_program_directory_as_post_thaw_hook_dir" {
  command = plan
  variables { post_thaw_hook_dir = "/usr/sbin" }
  expect_failures = [var.post_thaw_hook_dir]
}

run "rejects_top_level_directory_as_pre_freeze_hook_dir" {
  command = plan
  variables { pre_freeze_hook_dir = "/etc" }
  expect_failures = [var.pre_freeze_hook_dir]
}

run "rejects_relative_auto_selection_exclusion" {
  command = plan
  variables { auto_selection_exclusions = ["/tmp", "var/tmp"] }
  expect_failures = [var.auto_selection_exclusions]
}

run "rejects_quote_in_auto_selection_exclusion" {
  command = plan
  variables { auto_selection_exclusions = ["/tmp'; reboot; '"] }
  expect_failures = [var.auto_selection_exclusions]
}

run "rejects_too_short_max_freeze_seconds" {
  command = plan
  variables { default_max_freeze_seconds = 14 }
  expect_failures = [var.default_max_freeze_seconds]
}

run "rejects_fractional_max_freeze_seconds" {
  command = plan
  variables { default_max_freeze_seconds = 1.5 }
  expect_failures = [var.default_max_freeze_seconds]
}

run "rejects_too_long_max_freeze_seconds" {
  command = plan
  variables { default_max_freeze_seconds = 901 }
  expect_failures = [var.default_max_freeze_seconds]
}

run "rejects_too_long_hook_timeout" {
  command = plan
  variables { default_hook_timeout_seconds = 1000 }
  expect_failures = [var.default_hook_timeout_seconds]
}

run "rejects_too_short_execution_timeout" {
  command = plan
  variables { execution_timeout_seconds = 10 }
  expect_failures = [var.execution_timeout_seconds]
}
