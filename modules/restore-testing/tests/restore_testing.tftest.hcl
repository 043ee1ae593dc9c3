# Restore testing: what is restored, what validates it, and what that may do.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_resource "aws_backup_restore_testing_plan" {
    defaults = { arn = "arn:aws:backup:eu-west-1:111122223333:restore-testing-plan:acb_restore_test-0a1b2c3d" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111122223333:role/acb-restore-testing" }
  }
  mock_resource "aws_ssm_document" {
    defaults = { arn = "arn:aws:ssm:eu-west-1:111122223333:document/acb-restore-validation" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:111122223333:function:acb-restore-validation" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:111122223333:acb-restore-validation-dlq" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:111122223333:rule/acb-restore-jobs" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/acb-restore-validation" }
  }
}

variables {
  name_prefix            = "acb"
  vault_arn              = "arn:aws:backup:eu-west-1:111122223333:backup-vault:acb"
  selection_tag_key      = "AppConsistentBackup"
  tag_values             = ["nightly", "hourly-db"]
  notification_topic_arn = "arn:aws:sns:eu-west-1:111122223333:acb-events"
}

run "restores_only_the_module_vaults_points_of_the_selected_instances" {
  command = apply

  assert {
    condition = (
      aws_backup_restore_testing_plan.this.recovery_point_selection[0].include_vaults == toset([var.vault_arn]) &&
      aws_backup_restore_testing_plan.this.recovery_point_selection[0].recovery_point_types == toset(["SNAPSHOT"]) &&
      aws_backup_restore_testing_plan.this.recovery_point_selection[0].algorithm == "LATEST_WITHIN_WINDOW"
    )
    error_message = "The plan restores the latest snapshot recovery points of the module's vault only."
  }

  assert {
    condition = (
      keys(aws_backup_restore_testing_selection.this) == ["hourly-db", "nightly"] &&
      one(aws_backup_restore_testing_selection.this["nightly"].protected_resource_conditions[0].string_equals).key == "aws:ResourceTag/AppConsistentBackup" &&
      one(aws_backup_restore_testing_selection.this["nightly"].protected_resource_conditions[0].string_equals).value == "nightly" &&
      aws_backup_restore_testing_selection.this["hourly-db"].name == "acb_hourly_db" &&
      aws_backup_restore_testing_selection.this["nightly"].protected_resource_type == "EC2"
    )
    error_message = "One EC2 selection per tag value, by the module's selection tag, under a name AWS accepts."
  }

  assert {
    condition     = aws_backup_restore_testing_selection.this["nightly"].restore_metadata_overrides == tomap({ iamInstanceProfileName = "UseBackedUpValue" }) && aws_backup_restore_testing_selection.this["nightly"].validation_window_hours == 4
    error_message = "The instance profile is restored (the SSM agent needs it) and the instance is kept 4 hours for validation."
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables.RESTORE_TESTING_PLAN_ARN == aws_backup_restore_testing_plan.this.arn &&
      aws_lambda_function.this.environment[0].variables.VALIDATION_WINDOW_HOURS == "4" &&
      aws_lambda_function.this.environment[0].variables.VALIDATION_DOCUMENT_NAME == "acb-restore-validation" &&
      aws_lambda_function.this.handler == "restore_validation.handler.handler"
    )
    error_message = "The function knows its plan, window and document (docs/contracts.md section 6)."
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.restore_jobs.event_pattern) == {
      source        = ["aws.backup"]
      "detail-type" = ["Restore Job State Change"]
      detail        = { status = ["COMPLETED", "FAILED", "ABORTED"] }
    }
    error_message = "The function hears every restore job that ended, as AWS documents the event."
  }

  assert {
    condition     = aws_lambda_permission.events.principal == "events.amazonaws.com" && aws_lambda_permission.events.source_arn == aws_cloudwatch_event_rule.restore_jobs.arn
    error_message = "Only the rule may invoke the function."
  }
}

run "validation_function_is_least_privilege" {
  command = apply

  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : alltrue([for a in flatten([s.Action]) : !strcontains(a, "*")])])
    error_message = "No wildcard action."
  }

  assert {
    condition = toset(flatten([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Action])) == toset([
      "backup:DescribeRestoreJob", "backup:ListRestoreJobs", "backup:PutRestoreValidationResult",
      "ec2:DescribeInstances", "ec2:DescribeInstanceStatus", "ec2:DescribeImages", "ssm:DescribeInstanceInformation",
      "ssm:SendCommand", "ssm:GetCommandInvocation", "sns:Publish", "lambda:InvokeFunction",
      "logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage",
    ])
    error_message = "The function may do what it does and nothing else: no backup deletion, no instance changes, no other SSM call."
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Resource if s.Sid == "RunValidationDocument"] == [[
      "arn:aws:ssm:eu-west-1:111122223333:document/acb-restore-validation",
      "arn:aws:ec2:eu-west-1:111122223333:instance/*",
    ]]
    error_message = "SendCommand only of the read-only validation document, only to this account's instances."
  }

  assert {
    condition = (
      [for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Resource if s.Sid == "PublishResults"] == [var.notification_topic_arn] &&
      [for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s.Resource if s.Sid == "HandOnToItself"] == [[
        "arn:aws:lambda:eu-west-1:111122223333:function:acb-restore-validation",
        "arn:aws:lambda:eu-west-1:111122223333:function:acb-restore-validation:*",
      ]]
    )
    error_message = "Publish only to the topic; invoke only itself."
  }

  assert {
    condition     = jsondecode(aws_iam_role.restore.assume_role_policy).Statement[0].Principal == { Service = "backup.amazonaws.com" } && length(aws_iam_role_policy.restore_pass_role) == 0
    error_message = "Only AWS Backup assumes the restore role, which passes no role unless given instance roles."
  }
}

run "restore_role_passes_only_the_instance_roles" {
  command = plan

  variables {
    instance_role_arns = ["arn:aws:iam::111122223333:role/app-instance"]
  }

  assert {
    condition = jsondecode(aws_iam_role_policy.restore_pass_role[0].policy).Statement == [{
      Sid       = "PassInstanceProfileRoles"
      Effect    = "Allow"
      Action    = "iam:PassRole"
      Resource  = ["arn:aws:iam::111122223333:role/app-instance"]
      Condition = { StringEquals = { "iam:PassedToService" = "ec2.amazonaws.com" } }
    }]
    error_message = "The restore role passes the instance roles, to EC2 only."
  }
}

run "document_matches_the_contract" {
  command = plan

  variables {
    check_dir             = "/opt/app/restore-checks"
    check_timeout_seconds = 120
  }

  assert {
    condition = (
      yamldecode(output.document_content).parameters.RestoreJobId.allowedPattern == "^[A-Za-z0-9-]{1,80}$" &&
      yamldecode(output.document_content).parameters.CheckTimeoutSeconds.allowedPattern == "^[1-9][0-9]{0,2}$" &&
      yamldecode(output.document_content).parameters.CheckTimeoutSeconds.default == "120"
    )
    error_message = "The document's parameters are those of docs/contracts.md section 6."
  }

  assert {
    condition     = strcontains(yamldecode(output.document_content).mainSteps[0].inputs.runCommand[0], "ACB_CHECK_DIR='/opt/app/restore-checks'")
    error_message = "The check directory is rendered into the document, not a parameter anyone could send."
  }
}

run "rejects_check_dir_that_could_break_out" {
  command = plan
  variables { check_dir = "/etc/checks'; rm -rf /" }
  expect_failures = [var.check_dir]
}

run "rejects_unknown_metadata_override" {
  command = plan
  variables { restore_metadata_overrides = { InstanceType = "t3.nano", userData = "x" } }
  expect_failures = [var.restore_metadata_overrides]
}

run "rejects_no_validation_window" {
  command = plan
  variables { validation_window_hours = 0 }
  expect_failures = [var.validation_window_hours]
}

run "rejects_repeated_tag_value" {
  command = plan
  variables { tag_values = ["nightly", "nightly"] }
  expect_failures = [var.tag_values]
}
