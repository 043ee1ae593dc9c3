# make smoke's end-to-end test only: the AWS provider of examples/minimal pointed at
# the local emulator (moto's server with this project's extensions). On AWS the
# smoke copies neither this file nor emulator_endpoint.tf: the provider is the
# example's own.
provider "aws" {
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = false
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  max_retries                 = 2

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
