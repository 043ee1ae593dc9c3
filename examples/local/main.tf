# The module applied to a local AWS emulator (moto's server with this project's
# extensions): what `make demo` deploys. Not for a real account.
provider "aws" {
  region                      = var.region
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  # The account id is asked of the emulator's STS: without it the provider writes ARNs
  # with an empty account (e.g. the SSM document's), which the module's validations refuse.
  skip_requesting_account_id = false
  skip_metadata_api_check    = true
  s3_use_path_style          = true
  # The emulator answers at once or not at all: retrying a 500 for minutes helps nobody.
  max_retries = 2

  endpoints {
    backup         = var.endpoint
    cloudwatch     = var.endpoint
    cloudwatchlogs = var.endpoint
    dynamodb       = var.endpoint
    ec2            = var.endpoint
    iam            = var.endpoint
    kms            = var.endpoint
    lambda         = var.endpoint
    scheduler      = var.endpoint
    sfn            = var.endpoint
    sns            = var.endpoint
    sqs            = var.endpoint
    ssm            = var.endpoint
    sts            = var.endpoint
  }
}

module "app_consistent_backup" {
  source = "../../"

  name_prefix        = "acb-demo"
  max_freeze_seconds = 30

  schedules = {
    demo = {
      schedule_expression = "rate(1 day)"
      retention_days      = 7
    }
  }

  vault = {
    force_destroy = true
  }

  # The delivery component, pointed at the demo's local ServiceNow.
  servicenow = var.servicenow_secret_arn == null ? null : {
    instance_url = var.servicenow_url
    secret_arn   = var.servicenow_secret_arn
  }
}
