provider "aws" {
  region = var.region
}

data "aws_caller_identity" "current" {}

# The vault's own key. EC2 recovery points keep their EBS volumes' keys: what a
# cross-account copy needs is the volumes on customer-managed keys shared with the
# destination account (see examples/cross-account).
resource "aws_kms_key" "backup" {
  description         = "Vault of the app-consistent backups"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministers"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

module "app_consistent_backup" {
  source = "../../"

  name_prefix       = "acb-prod"
  selection_tag_key = "backup-policy"
  opt_out_tag_key   = "backup-opt-out"

  schedules = {
    # backup-policy = nightly
    nightly = {
      schedule_expression     = "cron(0 1 * * ? *)"
      timezone                = "Europe/Paris"
      retention_days          = 35
      flexible_window_minutes = 30
    }
    # backup-policy = hourly-db: databases, short freeze, no backup without a freeze
    hourly-db = {
      schedule_expression = "rate(1 hour)"
      retention_days      = 7
      max_freeze_seconds  = 30
      on_freeze_failure   = "fail"
    }
    # backup-policy = monthly: kept a year
    monthly = {
      schedule_expression = "cron(0 3 1 * ? *)"
      retention_days      = 365
      stopped_instances   = "skip"
    }
  }

  max_freeze_seconds = 60
  on_freeze_failure  = "crash-consistent"

  vault = {
    name = "acb-prod"
    # The key above: its ARN is known only after apply, so say at plan that the module
    # creates no key of its own.
    create_kms_key = false
    kms_key_arn    = aws_kms_key.backup.arn
    lock = {
      min_retention_days = 7
      max_retention_days = 400
    }
  }

  copy_destinations = [
    { destination_vault_arn = var.dr_vault_arn, retention_days = 90 },
  ]

  notifications = {
    subscriptions = {
      # Severities 1 and 2 of the backup events, and every alarm (alarms have their
      # own topic, which this address is subscribed to unfiltered).
      on-call = {
        protocol      = "email"
        endpoint      = "backup-oncall@example.com"
        filter_policy = jsonencode({ severity = ["1", "2"] })
      }
    }
  }

  # Every event and alarm, through a queue and a function, to Event Management.
  servicenow = {
    instance_url = var.servicenow_instance_url
    secret_arn   = var.servicenow_secret_arn
  }

  # The hourly databases: alarm after 4 hours without a recovery point (default 2).
  monitoring = {
    recovery_point_alarm_hours = { hourly-db = 4 }
  }

  discovery = {
    memory_size           = 512
    start_rate_per_second = 100
  }

  permissions_boundary_arn = var.permissions_boundary_arn
  log_retention_days       = 400

  tags = {
    Owner   = "platform-team"
    Account = data.aws_caller_identity.current.account_id
  }
}
