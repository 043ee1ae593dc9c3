# Realistic values for the mocked AWS provider: the provider still validates ARNs
# and policy documents at plan time.
mock_data "aws_caller_identity" {
  defaults = { account_id = "111122223333", arn = "arn:aws:iam::111122223333:user/test" }
}

mock_data "aws_partition" {
  defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
}

mock_data "aws_region" {
  defaults = { name = "eu-west-1", region = "eu-west-1" }
}

mock_data "aws_backup_vault" {
  defaults = {
    arn         = "arn:aws:backup:eu-west-1:111122223333:backup-vault:existing"
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000001"
  }
}

mock_resource "aws_kms_key" {
  defaults = { arn = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000", key_id = "00000000-0000-0000-0000-000000000000" }
}

mock_resource "aws_backup_vault" {
  defaults = { arn = "arn:aws:backup:eu-west-1:111122223333:backup-vault:app-consistent-backup" }
}

mock_resource "aws_iam_role" {
  defaults = { arn = "arn:aws:iam::111122223333:role/app-consistent-backup-role" }
}

mock_resource "aws_iam_policy" {
  defaults = { arn = "arn:aws:iam::111122223333:policy/app-consistent-backup-policy" }
}

mock_resource "aws_sns_topic" {
  defaults = { arn = "arn:aws:sns:eu-west-1:111122223333:app-consistent-backup-notifications" }
}

mock_resource "aws_sns_topic_subscription" {
  defaults = {
    arn = "arn:aws:sns:eu-west-1:111122223333:app-consistent-backup-notifications:00000000-0000-0000-0000-000000000000"
    # What SNS reports for an e-mail or https endpoint that has not confirmed yet.
    pending_confirmation = true
  }
}

mock_resource "aws_ssm_document" {
  defaults = { arn = "arn:aws:ssm:eu-west-1:111122223333:document/app-consistent-backup-freeze", latest_version = "1" }
}

mock_resource "aws_sfn_state_machine" {
  defaults = { arn = "arn:aws:states:eu-west-1:111122223333:stateMachine:app-consistent-backup" }
}

mock_resource "aws_dynamodb_table" {
  defaults = { arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/app-consistent-backup-guard" }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/app-consistent-backup" }
}

mock_resource "aws_cloudwatch_metric_alarm" {
  defaults = { arn = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:app-consistent-backup" }
}

mock_resource "aws_cloudwatch_dashboard" {
  defaults = { dashboard_arn = "arn:aws:cloudwatch::111122223333:dashboard/app-consistent-backup" }
}

mock_resource "aws_lambda_function" {
  defaults = {
    arn           = "arn:aws:lambda:eu-west-1:111122223333:function:app-consistent-backup-discovery"
    invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:app-consistent-backup-discovery/invocations"
    qualified_arn = "arn:aws:lambda:eu-west-1:111122223333:function:app-consistent-backup-discovery:1"
  }
}

mock_resource "aws_sqs_queue" {
  defaults = {
    arn = "arn:aws:sqs:eu-west-1:111122223333:app-consistent-backup-dlq"
    url = "https://sqs.eu-west-1.amazonaws.com/111122223333/app-consistent-backup-dlq"
  }
}

mock_resource "aws_scheduler_schedule" {
  defaults = { arn = "arn:aws:scheduler:eu-west-1:111122223333:schedule/default/app-consistent-backup-nightly" }
}
