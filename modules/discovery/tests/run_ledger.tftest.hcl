# The runs that only expect a variable's failure plan tests/fixtures/variables, whose
# variables.tf is a symbolic link to this module's: the same validations without the resources
# (about 0.03 s of CPU a plan against 0.15 s). Every validation here reads variables only; one
# that read anything else would not load in the fixture, and those runs would fail.

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
    defaults = { arn = "arn:aws:iam::111122223333:role/acb-discovery" }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn           = "arn:aws:lambda:eu-west-1:111122223333:function:acb-discovery"
      invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:acb-discovery/invocations"
      qualified_arn = "arn:aws:lambda:eu-west-1:111122223333:function:acb-discovery:1"
    }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:111122223333:acb-discovery-dlq"
      id  = "https://sqs.eu-west-1.amazonaws.com/111122223333/acb-discovery-dlq"
      url = "https://sqs.eu-west-1.amazonaws.com/111122223333/acb-discovery-dlq"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/acb-discovery" }
  }
  mock_resource "aws_scheduler_schedule_group" {
    defaults = { arn = "arn:aws:scheduler:eu-west-1:111122223333:schedule-group/acb" }
  }
  mock_resource "aws_scheduler_schedule" {
    defaults = { arn = "arn:aws:scheduler:eu-west-1:111122223333:schedule/acb/nightly" }
  }
}

# The run ledger's side of discovery (docs/contracts.md section 5b).

variables {
  name_prefix            = "acb"
  state_machine_arn      = "arn:aws:states:eu-west-1:111122223333:stateMachine:acb-backup-instance"
  notification_topic_arn = "arn:aws:sns:eu-west-1:111122223333:acb-notifications"
  schedules = {
    nightly = {
      schedule_expression = "cron(0 1 * * ? *)"
      policy = {
        retention_days     = 35
        max_freeze_seconds = 30
        on_freeze_failure  = "crash-consistent"
        stopped_instances  = "backup"
        copy_targets       = []
        notify_on_success  = false
      }
    }
  }
  run_ledger = {
    table_arn       = "arn:aws:dynamodb:eu-west-1:111122223333:table/acb-run-ledger"
    ttl_seconds     = 3196800
    storm_threshold = 2
  }
}

run "ledger_reaches_the_function_and_only_its_items" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.environment[0].variables.RUN_LEDGER_TABLE == "acb-run-ledger"
    error_message = "RUN_LEDGER_TABLE must be the ledger table's name."
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables.RUN_LEDGER_TTL_SECONDS == "3196800" && aws_lambda_function.this.environment[0].variables.STORM_THRESHOLD == "2"
    error_message = "The ledger's TTL and the storm threshold must reach the function as the state machine has them."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s if s.Sid == "RunLedger"]).Resource == "arn:aws:dynamodb:eu-west-1:111122223333:table/acb-run-ledger"
    error_message = "The ledger must be granted on its table only."
  }
  assert {
    condition     = jsonencode(sort(one([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s if s.Sid == "RunLedger"]).Action)) == jsonencode(["dynamodb:GetItem", "dynamodb:UpdateItem"])
    error_message = "Discovery reads and updates ledger items; it never scans, deletes or puts whole items."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s if s.Sid == "RunLedger"]).Condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["run/*", "schedule/*"]
    error_message = "Discovery may touch only the ledger's run/ and schedule/ items."
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s if s.Sid == "EncryptRunLedger"]) == 0
    error_message = "No KMS grant without a customer-managed ledger key."
  }
}

run "ledger_key_only_through_dynamodb" {
  command = plan
  variables {
    run_ledger = {
      table_arn   = "arn:aws:dynamodb:eu-west-1:111122223333:table/acb-run-ledger"
      kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    }
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s if s.Sid == "EncryptRunLedger"]).Condition.StringEquals["kms:ViaService"] == "dynamodb.eu-west-1.amazonaws.com"
    error_message = "The ledger's key must be usable only through DynamoDB."
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables.STORM_THRESHOLD == "1"
    error_message = "The storm threshold defaults to 1."
  }
}

run "no_ledger_no_ledger_access" {
  command = plan
  variables {
    run_ledger = null
  }
  assert {
    condition     = !contains(keys(aws_lambda_function.this.environment[0].variables), "RUN_LEDGER_TABLE")
    error_message = "Without a ledger the function must not be told of one."
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.function.policy).Statement : s if anytrue([for a in flatten([s.Action]) : startswith(a, "dynamodb:")])]) == 0
    error_message = "Without a ledger the function gets no DynamoDB access."
  }
}

run "rejects_a_ledger_that_is_not_a_table_arn" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    run_ledger = { table_arn = "acb-run-ledger" }
  }
  expect_failures = [var.run_ledger]
}

run "rejects_a_ledger_key_alias" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    run_ledger = { table_arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/acb-run-ledger", kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:alias/acb" }
  }
  expect_failures = [var.run_ledger]
}

run "rejects_a_ttl_under_a_day" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    run_ledger = { table_arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/acb-run-ledger", ttl_seconds = 3600 }
  }
  expect_failures = [var.run_ledger]
}

run "rejects_a_storm_threshold_out_of_range" {
  command = plan
  module {
    source = "./tests/fixtures/variables"
  }
  variables {
    run_ledger = { table_arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/acb-run-ledger", storm_threshold = 26 }
  }
  expect_failures = [var.run_ledger]
}
