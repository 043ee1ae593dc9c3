# The runs that only expect a variable's failure plan tests/fixtures/variables: symbolic links
# to this module's variables.tf and budget.tf (the locals api_budget's validations read), the
# same validations without the resources and the rendered definition (about 0.03 s of CPU a
# plan against 0.2 s). A validation that read anything else would not load in the fixture, and
# those runs would fail.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333", arn = "arn:aws:iam::111122223333:user/test" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111122223333:role/acb-backup-instance-sfn" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/vendedlogs/states/acb-backup-instance" }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/acb-instance-guard" }
  }
  mock_resource "aws_sfn_state_machine" {
    defaults = { arn = "arn:aws:states:eu-west-1:111122223333:stateMachine:acb-backup-instance" }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = { arn = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:acb-backup-instance" }
  }
}

variables {
  name_prefix            = "acb"
  vault_name             = "acb-vault"
  vault_arn              = "arn:aws:backup:eu-west-1:111122223333:backup-vault:acb-vault"
  backup_role_arn        = "arn:aws:iam::111122223333:role/acb-backup"
  ssm_document_name      = "acb-freeze-thaw"
  ssm_document_arn       = "arn:aws:ssm:eu-west-1:111122223333:document/acb-freeze-thaw"
  ssm_document_version   = "3"
  notification_topic_arn = "arn:aws:sns:eu-west-1:111122223333:acb-events"
}

################################################################################
# What the module creates
################################################################################

run "state_machine_logs_traces_and_renders_its_definition" {
  command = plan

  assert {
    condition     = aws_sfn_state_machine.this.name == "acb-backup-instance" && aws_sfn_state_machine.this.type == "STANDARD"
    error_message = "The state machine must be a STANDARD workflow named <name_prefix>-backup-instance (discovery derives the ARN from it)."
  }
  assert {
    condition     = aws_sfn_state_machine.this.logging_configuration[0].level == "ERROR" && aws_sfn_state_machine.this.logging_configuration[0].include_execution_data
    error_message = "Executions must log (ERROR by default) with their data."
  }
  assert {
    condition     = aws_sfn_state_machine.this.tracing_configuration[0].enabled
    error_message = "Tracing must be on by default."
  }
  assert {
    # "$" and "{" joined: checkov's HCL parser hangs on an escaped "$${" literal.
    condition     = !strcontains(aws_sfn_state_machine.this.definition, join("", ["$", "{"]))
    error_message = "The rendered definition must leave no placeholder."
  }
  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.AcquireInstanceGuard.Arguments.TableName == "acb-instance-guard" && jsondecode(aws_sfn_state_machine.this.definition).States.CheckInput.Assign.commandRequest.DocumentName == "{% \"acb-freeze-thaw\" %}" && jsondecode(aws_sfn_state_machine.this.definition).States.NotifyOperators.Arguments.TopicArn == "arn:aws:sns:eu-west-1:111122223333:acb-events"
    error_message = "The definition must be rendered with the module's table, document and topic."
  }
  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.CheckInput.Assign.commandRequest.DocumentVersion == "{% \"3\" %}"
    error_message = "SendCommand must pin DocumentVersion to var.ssm_document_version."
  }
  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.CheckInput.Assign.cfg.job_poll_initial_seconds == "{% $number('60') %}" && jsondecode(aws_sfn_state_machine.this.definition).States.CheckInput.Assign.cfg.thaw_margin_seconds == "{% $number('8') %}" && jsondecode(aws_sfn_state_machine.this.definition).States.CheckInput.Assign.cfg.command_wait_max_seconds == "{% $number('120') %}" && jsondecode(aws_sfn_state_machine.this.definition).States.CheckInput.Assign.cfg.notify_on_success == "{% 'false' = 'true' %}"
    error_message = "Timings must be rendered from var.timings' defaults (job poll 60 s, thaw margin 8 s, command wait 120 s) and notify_on_success as a JSON boolean."
  }
  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).StartAt == "CheckInput" && jsondecode(aws_sfn_state_machine.this.definition).QueryLanguage == "JSONata"
    error_message = "The rendered definition must be valid JSON, in JSONata."
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/vendedlogs/states/acb-backup-instance" && aws_cloudwatch_log_group.this.retention_in_days == 365
    error_message = "The log group must use the vendedlogs prefix and keep a year by default."
  }
}

run "guard_table_is_on_demand_with_ttl_pitr_and_encryption" {
  command = plan

  assert {
    condition     = aws_dynamodb_table.guard.name == "acb-instance-guard" && aws_dynamodb_table.guard.billing_mode == "PAY_PER_REQUEST" && aws_dynamodb_table.guard.hash_key == "instance_id"
    error_message = "The guard table must be on demand, keyed by instance_id."
  }
  assert {
    condition     = aws_dynamodb_table.guard.ttl[0].enabled && aws_dynamodb_table.guard.ttl[0].attribute_name == "expires_at"
    error_message = "The guard table must expire items through expires_at."
  }
  assert {
    condition     = aws_dynamodb_table.guard.point_in_time_recovery[0].enabled && aws_dynamodb_table.guard.server_side_encryption[0].enabled
    error_message = "The guard table must have point-in-time recovery and server-side encryption."
  }
}

run "alarms_notify_the_topic_and_a_dashboard_exists" {
  command = plan

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.executions)) == toset(["failed", "timed-out"])
    error_message = "There must be one alarm on failed and one on timed-out executions."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.executions["failed"].metric_name == "ExecutionsFailed" && aws_cloudwatch_metric_alarm.executions["timed-out"].metric_name == "ExecutionsTimedOut"
    error_message = "The alarms must watch ExecutionsFailed and ExecutionsTimedOut."
  }
  assert {
    condition     = alltrue([for alarm in aws_cloudwatch_metric_alarm.executions : alarm.alarm_actions == toset(["arn:aws:sns:eu-west-1:111122223333:acb-events"]) && alarm.threshold == 1 && alarm.namespace == "AWS/States"])
    error_message = "Each alarm must fire on one execution and notify the topic."
  }
  assert {
    condition     = aws_cloudwatch_dashboard.this.dashboard_name == "acb-backup-instance" && length(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets) == 4
    error_message = "The dashboard must show runs, failures, the freeze window and the recovery points by consistency label."
  }
}

################################################################################
# Least privilege
################################################################################

run "role_trusts_only_this_state_machine" {
  command = plan

  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal.Service == "states.amazonaws.com" && jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition.ArnLike["aws:SourceArn"] == "arn:aws:states:eu-west-1:111122223333:stateMachine:acb-backup-instance"
    error_message = "Only Step Functions, for this state machine, may assume the role."
  }
  assert {
    condition     = aws_iam_role.this.permissions_boundary == null
    error_message = "No permissions boundary unless one is given."
  }
}

run "no_action_is_a_wildcard_and_star_resources_are_describe_calls_only" {
  command = plan

  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : alltrue([for a in flatten([s.Action]) : !strcontains(a, "*")])])
    error_message = "No IAM action may contain a wildcard."
  }
  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : contains([
      "InspectInstancesAndSnapshots", "ReadAgentsAndCommands", "FollowJobs", "RunMetrics", "DeliverLogs", "WriteTraces", "ReadVolumesForTheCopyPreflight"
    ], s.Sid) if contains(flatten([s.Resource]), "*")])
    error_message = "Only Describe/Get calls without resource-level permissions, metrics, log delivery and traces may use Resource \"*\"."
  }
}

run "send_command_only_the_document_to_tagged_instances" {
  command = plan

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if contains(flatten([s.Action]), "ssm:SendCommand")]) == 2
    error_message = "ssm:SendCommand must be granted in exactly two statements (document, instances)."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "SendFreezeThawDocument"]) == "arn:aws:ssm:eu-west-1:111122223333:document/acb-freeze-thaw"
    error_message = "The only document the state machine may send is the module's."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "SendToSelectedInstances"]) == "arn:aws:ec2:eu-west-1:111122223333:instance/*" && one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Condition.StringLike["ssm:resourceTag/AppConsistentBackup"] if s.Sid == "SendToSelectedInstances"]) == "*"
    error_message = "Instances may receive the document only if they carry the selection tag key."
  }
}

run "pass_only_the_backup_role_only_to_backup" {
  command = plan

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if contains(flatten([s.Action]), "iam:PassRole")]) == 1
    error_message = "iam:PassRole must appear once."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if contains(flatten([s.Action]), "iam:PassRole")]) == "arn:aws:iam::111122223333:role/acb-backup" && one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Condition.StringEquals["iam:PassedToService"] if contains(flatten([s.Action]), "iam:PassRole")]) == "backup.amazonaws.com"
    error_message = "Only the backup role may be passed, and only to backup.amazonaws.com."
  }
}

run "backup_jobs_into_the_vault_events_to_the_topic_guard_on_the_table" {
  command = plan

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if contains(flatten([s.Action]), "backup:StartBackupJob")] == ["arn:aws:backup:eu-west-1:111122223333:backup-vault:acb-vault"]
    error_message = "backup:StartBackupJob must be granted on the vault only."
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if contains(flatten([s.Action]), "sns:Publish")] == ["arn:aws:sns:eu-west-1:111122223333:acb-events"]
    error_message = "sns:Publish must be granted on the topic only."
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : contains(["arn:aws:dynamodb:eu-west-1:111122223333:table/acb-instance-guard", "arn:aws:dynamodb:eu-west-1:111122223333:table/acb-run-ledger"], s.Resource) if anytrue([for a in flatten([s.Action]) : startswith(a, "dynamodb:")])])
    error_message = "DynamoDB actions must be granted on the guard table and the run ledger only."
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if contains(flatten([s.Action]), "states:DescribeExecution")] == ["arn:aws:states:eu-west-1:111122223333:execution:acb-backup-instance:*"]
    error_message = "states:DescribeExecution must be granted on this state machine's executions only."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Condition["ForAllValues:StringEquals"]["aws:TagKeys"] if s.Sid == "LabelRecoveryPoints"]) == ["app-consistent-backup:consistency"]
    error_message = "ec2:CreateTags may only set the consistency tag."
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if anytrue([for a in flatten([s.Action]) : startswith(a, "backup:StartCopyJob") || startswith(a, "kms:")])]) == 0
    error_message = "Without copy targets or a topic key, no copy or KMS permission."
  }
}

run "copies_only_into_the_listed_vaults_and_keys_only_through_their_services" {
  command = plan

  variables {
    copy_destination_vault_arns = ["arn:aws:backup:eu-central-1:111122223333:backup-vault:acb-dr"]
    notification_kms_key_arn    = "arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"
    permissions_boundary_arn    = "arn:aws:iam::111122223333:policy/landing-zone-boundary"
    guard_table_kms_key_arn     = "arn:aws:kms:eu-west-1:111122223333:key/1a2b3c4d-1a2b-1a2b-1a2b-1a2b3c4d5e6f"
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if contains(flatten([s.Action]), "backup:CopyIntoBackupVault")] == [["arn:aws:backup:eu-central-1:111122223333:backup-vault:acb-dr"]]
    error_message = "Copies may go to the listed vaults only."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Condition.StringEquals["kms:ViaService"] if s.Sid == "EncryptEvents"]) == "sns.eu-west-1.amazonaws.com"
    error_message = "The topic's key may be used through SNS only."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Condition.StringEquals["kms:ViaService"] if s.Sid == "EncryptGuardTable"]) == "dynamodb.eu-west-1.amazonaws.com" && aws_dynamodb_table.guard.server_side_encryption[0].kms_key_arn == "arn:aws:kms:eu-west-1:111122223333:key/1a2b3c4d-1a2b-1a2b-1a2b-1a2b3c4d5e6f"
    error_message = "A customer-managed guard table key must encrypt the table and be usable through DynamoDB only."
  }
  assert {
    condition     = aws_iam_role.this.permissions_boundary == "arn:aws:iam::111122223333:policy/landing-zone-boundary"
    error_message = "The permissions boundary must be set on the role."
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if anytrue([for a in flatten([s.Action]) : contains(["ec2:DescribeVolumes", "kms:DescribeKey"], a)]) && !contains(["EncryptGuardTable"], s.Sid)]) == 0
    error_message = "Copies within this account (another Region) need no copy preflight: no ec2:DescribeVolumes, no kms:DescribeKey beyond the guard table's key."
  }
}

run "copy_preflight_reads_volumes_and_describes_keys_only_for_copies_into_another_account" {
  command = plan

  variables {
    copy_destination_vault_arns = [
      "arn:aws:backup:eu-central-1:111122223333:backup-vault:acb-dr",
      "arn:aws:backup:eu-west-1:444455556666:backup-vault:acb-dr",
    ]
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if contains(flatten([s.Action]), "ec2:DescribeVolumes")] == ["*"] && one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Action if s.Sid == "ReadVolumesForTheCopyPreflight"]) == ["ec2:DescribeVolumes"]
    error_message = "ec2:DescribeVolumes (no resource-level permissions: \"*\") must be granted once, alone in its statement."
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if contains(flatten([s.Action]), "kms:DescribeKey")] == ["arn:aws:kms:eu-west-1:*:key/*"]
    error_message = "kms:DescribeKey must be granted once, on keys (not aliases) of this Region in any account (a volume's key may be shared from another account)."
  }
  assert {
    condition     = flatten([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : [for a in flatten([s.Action]) : a if startswith(a, "kms:")]]) == ["kms:DescribeKey"]
    error_message = "Without a topic or table key, the only KMS action is kms:DescribeKey: the preflight never uses a key."
  }
}

run "tracing_off_removes_xray" {
  command = plan

  variables {
    tracing_enabled = false
    log_level       = "ALL"
  }

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if s.Sid == "WriteTraces"]) == 0 && !aws_sfn_state_machine.this.tracing_configuration[0].enabled
    error_message = "Without tracing, no X-Ray permission."
  }
  assert {
    condition     = aws_sfn_state_machine.this.logging_configuration[0].level == "ALL"
    error_message = "log_level must reach the state machine."
  }
}

run "timings_reach_the_definition" {
  command = plan

  variables {
    timings           = { job_poll_max_seconds = 1800, snapshot_poll_seconds = 1 }
    notify_on_success = true
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.CheckInput.Assign.cfg.job_poll_max_seconds == "{% $number('1800') %}" && jsondecode(aws_sfn_state_machine.this.definition).States.CheckInput.Assign.cfg.snapshot_poll_seconds == "{% $number('1') %}" && jsondecode(aws_sfn_state_machine.this.definition).States.CheckInput.Assign.cfg.notify_on_success == "{% 'true' = 'true' %}"
    error_message = "Overridden timings (and notify_on_success) must reach the rendered definition; the others keep their defaults."
  }
}

################################################################################
# Every validation rejects what it should
################################################################################

run "rejects_copy_polls_that_could_overflow_the_history" {
  command = plan
  variables {
    copy_destination_vault_arns = [for region in ["eu-central-1", "eu-north-1", "us-east-1", "us-west-2", "ap-southeast-2", "eu-south-1"] : "arn:aws:backup:${region}:111122223333:backup-vault:acb-dr"]
    timings                     = { copy_wait_max_seconds = 1209600, copy_poll_max_seconds = 1800 }
  }
  expect_failures = [aws_sfn_state_machine.this]
}

run "rejects_bad_name_prefix" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    name_prefix = "ACB_"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_bad_vault_name" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    vault_name = "a"
  }
  expect_failures = [var.vault_name]
}

run "rejects_bad_vault_arn" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    vault_arn = "arn:aws:backup:eu-west-1:111122223333:vault/acb-vault"
  }
  expect_failures = [var.vault_arn]
}

run "rejects_bad_backup_role_arn" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    backup_role_arn = "acb-backup"
  }
  expect_failures = [var.backup_role_arn]
}

run "rejects_bad_ssm_document_name" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    ssm_document_name = "a b"
  }
  expect_failures = [var.ssm_document_name]
}

run "rejects_bad_ssm_document_arn" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    ssm_document_arn = "arn:aws:ssm:eu-west-1:111122223333:parameter/acb"
  }
  expect_failures = [var.ssm_document_arn]
}

run "rejects_reserved_selection_tag_key" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    selection_tag_key = "aws:backup"
  }
  expect_failures = [var.selection_tag_key]
}

run "rejects_bad_notification_topic_arn" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    notification_topic_arn = "arn:aws:sqs:eu-west-1:111122223333:acb-events"
  }
  expect_failures = [var.notification_topic_arn]
}

run "rejects_kms_alias_for_the_topic" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    notification_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:alias/acb"
  }
  expect_failures = [var.notification_kms_key_arn]
}

run "rejects_bad_copy_destination" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    copy_destination_vault_arns = ["arn:aws:backup:eu-central-1:111122223333:backup-plan:x"]
  }
  expect_failures = [var.copy_destination_vault_arns]
}

run "rejects_fractional_timing" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    timings = { command_poll_seconds = 1.5 }
  }
  expect_failures = [var.timings]
}

run "rejects_slow_polls_inside_the_freeze_window" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    timings = { snapshot_poll_seconds = 30 }
  }
  expect_failures = [var.timings]
}

run "metrics_only_into_the_modules_namespace" {
  command = plan

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Condition.StringEquals["cloudwatch:namespace"] if contains(flatten([s.Action]), "cloudwatch:PutMetricData")] == ["AppConsistentBackup"]
    error_message = "cloudwatch:PutMetricData must be granted once, for the AppConsistentBackup namespace only."
  }
}

run "rejects_an_unpinned_document_version" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    ssm_document_version = "$DEFAULT"
  }
  expect_failures = [var.ssm_document_version]
}

run "rejects_a_thaw_margin_that_leaves_no_freeze_window" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    timings = { thaw_margin_seconds = 14 }
  }
  expect_failures = [var.timings]
}

run "rejects_a_command_wait_shorter_than_delivery" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    timings = { command_wait_max_seconds = 10 }
  }
  expect_failures = [var.timings]
}

run "rejects_too_many_thaw_attempts" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    timings = { thaw_max_attempts = 50 }
  }
  expect_failures = [var.timings]
}

run "rejects_initial_poll_above_maximum" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    timings = { job_poll_initial_seconds = 1500 }
  }
  expect_failures = [var.timings]
}

run "rejects_a_history_that_could_overflow" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    timings = { job_poll_max_seconds = 60 }
  }
  expect_failures = [var.timings]
}

run "rejects_waits_beyond_the_execution_timeout" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    timings = { job_wait_max_seconds = 2000000, copy_wait_max_seconds = 604800, job_poll_max_seconds = 3600, copy_poll_max_seconds = 3600 }
  }
  expect_failures = [var.timings]
}

run "rejects_a_complete_window_longer_than_the_wait" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    timings = { complete_window_minutes = 20000 }
  }
  expect_failures = [var.timings]
}

run "rejects_log_level_off" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    log_level = "OFF"
  }
  expect_failures = [var.log_level]
}

run "rejects_bad_log_retention" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    log_retention_days = 10
  }
  expect_failures = [var.log_retention_days]
}

run "rejects_bad_log_kms_key" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    log_kms_key_arn = "key/abc"
  }
  expect_failures = [var.log_kms_key_arn]
}

run "rejects_bad_guard_table_kms_key" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    guard_table_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:alias/acb"
  }
  expect_failures = [var.guard_table_kms_key_arn]
}

run "rejects_bad_permissions_boundary" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    permissions_boundary_arn = "arn:aws:iam::111122223333:role/boundary"
  }
  expect_failures = [var.permissions_boundary_arn]
}

run "rejects_bad_alarm_period" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    alarm_period_seconds = 120
  }
  expect_failures = [var.alarm_period_seconds]
}
