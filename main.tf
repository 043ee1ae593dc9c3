locals {
  # Each schedule carries its full policy, module-wide settings filled in, so the
  # discovery function and the state machine never guess a default.
  schedules = {
    for name, s in var.schedules : name => {
      schedule_expression     = s.schedule_expression
      timezone                = s.timezone
      enabled                 = s.enabled
      tag_value               = coalesce(s.tag_value, name)
      flexible_window_minutes = s.flexible_window_minutes
      policy = {
        retention_days     = s.retention_days
        max_freeze_seconds = coalesce(s.max_freeze_seconds, var.max_freeze_seconds)
        on_freeze_failure  = coalesce(s.on_freeze_failure, var.on_freeze_failure)
        stopped_instances  = coalesce(s.stopped_instances, var.stopped_instances)
        copy_targets = [for c in var.copy_destinations : {
          destination_vault_arn = c.destination_vault_arn
          retention_days        = coalesce(c.retention_days, s.retention_days)
        }]
        notify_on_success = var.notifications.notify_on_success
      }
    }
  }
}

module "vault" {
  source = "./modules/vault"

  name_prefix              = var.name_prefix
  tags                     = var.tags
  create_vault             = var.vault.create
  vault_name               = var.vault.name
  kms_key_arn              = var.vault.kms_key_arn
  vault_lock               = var.vault.lock
  force_destroy            = var.vault.force_destroy
  permissions_boundary_arn = var.permissions_boundary_arn
}

module "notifications" {
  source = "./modules/notifications"

  name_prefix   = var.name_prefix
  tags          = var.tags
  create_topic  = var.notifications.create_topic
  topic_arn     = var.notifications.topic_arn
  kms_key_arn   = var.notifications.kms_key_arn
  subscriptions = var.notifications.subscriptions
}

module "instance_documents" {
  source = "./modules/instance-documents"

  name_prefix = var.name_prefix
  tags        = var.tags
  # The bound of a command sent by hand (the state machine always passes the schedule's).
  default_max_freeze_seconds = var.max_freeze_seconds
}

module "state_machine" {
  source = "./modules/state-machine"

  name_prefix                 = var.name_prefix
  tags                        = var.tags
  vault_name                  = module.vault.vault_name
  vault_arn                   = module.vault.vault_arn
  backup_role_arn             = module.vault.backup_role_arn
  ssm_document_name           = module.instance_documents.document_name
  ssm_document_arn            = module.instance_documents.document_arn
  selection_tag_key           = var.selection_tag_key
  notification_topic_arn      = module.notifications.topic_arn
  notification_kms_key_arn    = module.notifications.kms_key_arn
  copy_destination_vault_arns = [for c in var.copy_destinations : c.destination_vault_arn]
  notify_on_success           = var.notifications.notify_on_success
  log_retention_days          = var.log_retention_days
  log_kms_key_arn             = var.log_kms_key_arn
  permissions_boundary_arn    = var.permissions_boundary_arn
}

module "discovery" {
  source = "./modules/discovery"

  name_prefix              = var.name_prefix
  tags                     = var.tags
  state_machine_arn        = module.state_machine.state_machine_arn
  selection_tag_key        = var.selection_tag_key
  opt_out_tag_key          = var.opt_out_tag_key
  notification_topic_arn   = module.notifications.topic_arn
  notification_kms_key_arn = module.notifications.kms_key_arn
  schedules                = local.schedules
  runtime                  = var.discovery.runtime
  architecture             = var.discovery.architecture
  memory_size              = var.discovery.memory_size
  timeout                  = var.discovery.timeout
  max_concurrency          = var.discovery.max_concurrency
  start_rate_per_second    = var.discovery.start_rate_per_second
  dry_run                  = var.discovery.dry_run
  report_not_selected      = var.discovery.report_not_selected
  not_selected_reporter    = var.discovery.not_selected_reporter
  log_retention_days       = var.log_retention_days
  log_kms_key_arn          = var.log_kms_key_arn
  permissions_boundary_arn = var.permissions_boundary_arn
}
