# make smoke's settings for examples/minimal's module call (a Terraform override file:
# these arguments replace or add to the example's, nothing else changes).
# - a name of its own, so that it never touches another deployment in the account;
# - one schedule, disabled: the smoke invokes it at once, it never fires by itself;
# - recovery points kept one day, and the vault deletable with them;
# - a notification for the success too, delivered to the smoke's queue.
module "app_consistent_backup" {
  #checkov:skip=CKV_TF_1:An override of examples/minimal's module call, which sets the source; not a module call of its own.
  #checkov:skip=CKV_TF_2:An override of examples/minimal's module call, which sets the source; not a module call of its own.
  name_prefix = var.smoke_run_id

  schedules = {
    smoke = {
      schedule_expression = "rate(1 day)"
      enabled             = false
      retention_days      = 1
    }
  }

  vault = {
    force_destroy = true
  }

  notifications = {
    notify_on_success = true
    subscriptions = {
      smoke = {
        protocol             = "sqs"
        endpoint             = aws_sqs_queue.smoke.arn
        raw_message_delivery = true
      }
    }
  }

  tags = {
    acb-smoke = var.smoke_run_id
  }
}
