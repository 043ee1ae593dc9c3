provider "aws" {
  region = var.region
}

variable "region" {
  description = "Region to deploy into."
  type        = string
  default     = "eu-west-1"
}

variable "instance_role_arn" {
  description = "Role of the instances' instance profile (with AmazonSSMManagedInstanceCore): restored with them, so that their SSM agent answers."
  type        = string
  default     = "arn:aws:iam::111122223333:role/app-instance"
}

variable "test_subnet_id" {
  description = "Subnet the restored instances start in: one that reaches Systems Manager and nothing in production."
  type        = string
  default     = "subnet-0123456789abcdef0"
}

# Nightly application-consistent backups of the instances tagged AppConsistentBackup =
# nightly, and every Sunday at 05:00 UTC a restore test of each one's latest recovery
# point: AWS Backup restores it into the test subnet, the validation function checks
# that it boots, that its SSM agent answers, that its filesystems mount cleanly and that
# the checks in /etc/app-consistent-backup/restore-check.d pass, and reports the result
# to AWS Backup and, on failure, to the notification topic.
module "app_consistent_backup" {
  source = "../../"

  name_prefix = "acb-prod"

  restore_testing = {
    enabled                 = true
    schedule_expression     = "cron(0 5 ? * SUN *)"
    validation_window_hours = 2
    instance_role_arns      = [var.instance_role_arn]
    restore_metadata_overrides = {
      iamInstanceProfileName = "UseBackedUpValue"
      subnetId               = var.test_subnet_id
      instanceType           = "t3.medium"
    }
  }
}
