provider "aws" {
  region = var.region
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
