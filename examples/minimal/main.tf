provider "aws" {
  region = var.region
}

# Every Linux instance tagged AppConsistentBackup = nightly is frozen, backed up
# into a new KMS-encrypted vault at 01:00 UTC, kept 35 days; failures go to a new
# encrypted SNS topic.
module "app_consistent_backup" {
  source = "../../"
}
