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

# The run ledger (docs/contracts.md section 5b).

run "ledger_table_expires_its_items_and_encrypts" {
  command = plan
  variables {
    guard_table_kms_key_arn   = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    run_summary_function_name = "acb-discovery"
  }
  assert {
    condition     = aws_dynamodb_table.run_ledger.name == "acb-run-ledger" && aws_dynamodb_table.run_ledger.hash_key == "ledger_key" && aws_dynamodb_table.run_ledger.billing_mode == "PAY_PER_REQUEST"
    error_message = "The ledger is acb-run-ledger, on demand, keyed by ledger_key."
  }
  assert {
    condition     = aws_dynamodb_table.run_ledger.ttl[0].enabled && aws_dynamodb_table.run_ledger.ttl[0].attribute_name == "expires_at"
    error_message = "Ledger items must expire (TTL on expires_at)."
  }
  assert {
    condition     = aws_dynamodb_table.run_ledger.server_side_encryption[0].kms_key_arn == "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "The ledger must be encrypted with the guard table's customer-managed key when one is given."
  }
  assert {
    condition     = output.run_ledger_kms_key_arn == "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "Discovery must be told the ledger's key."
  }
  assert {
    condition     = output.run_ledger_ttl_seconds == 3196800
    error_message = "A run's item lives 30 days (the longest execution) plus a week (a weekly schedule's next run)."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Action if s.Sid == "CountRunOutcomes"]) == ["dynamodb:UpdateItem"]
    error_message = "Executions only update their run's item."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] if s.Sid == "CountRunOutcomes"]) == ["run/*"]
    error_message = "Executions may touch only run/ items of the ledger (the schedule items are discovery's)."
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if contains(flatten([s.Action]), "lambda:InvokeFunction")] == ["arn:aws:lambda:eu-west-1:111122223333:function:acb-discovery"]
    error_message = "The state machine may invoke the summary function only."
  }
  assert {
    condition     = strcontains(aws_sfn_state_machine.this.definition, "arn:aws:lambda:eu-west-1:111122223333:function:acb-discovery") && strcontains(aws_sfn_state_machine.this.definition, "'TableName': 'acb-run-ledger'")
    error_message = "The definition must record into the ledger and ask the summary function."
  }
}

run "no_summary_function_no_invoke" {
  command = plan
  variables {
    storm_threshold = 3
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if contains(flatten([s.Action]), "lambda:InvokeFunction")]) == 0
    error_message = "Without a summary function the role invokes nothing."
  }
  assert {
    condition     = strcontains(aws_sfn_state_machine.this.definition, "$number('3')")
    error_message = "The storm threshold must reach the definition."
  }
  assert {
    condition     = output.run_ledger_kms_key_arn == null
    error_message = "Without a customer-managed key the ledger uses the AWS-managed one."
  }
}

run "rejects_storm_threshold_zero" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    storm_threshold = 0
  }
  expect_failures = [var.storm_threshold]
}

run "rejects_fractional_storm_threshold" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    storm_threshold = 1.5
  }
  expect_failures = [var.storm_threshold]
}

run "rejects_a_summary_function_arn" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    run_summary_function_name = "arn:aws:lambda:eu-west-1:111122223333:function:acb-discovery"
  }
  expect_failures = [var.run_summary_function_name]
}
