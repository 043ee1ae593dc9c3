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
  create_kms_key           = var.vault.create_kms_key
  vault_lock               = var.vault.lock
  force_destroy            = var.vault.force_destroy
  access_policy            = var.vault.access_policy
  report_plan              = var.report_plan
  permissions_boundary_arn = var.permissions_boundary_arn
}

module "notifications" {
  source = "./modules/notifications"

  name_prefix     = var.name_prefix
  tags            = var.tags
  create_topic    = var.notifications.create_topic
  topic_arn       = var.notifications.topic_arn
  kms_key_arn     = var.notifications.kms_key_arn
  create_kms_key  = var.notifications.create_kms_key
  alarm_topic_arn = var.notifications.alarm_topic_arn
  subscriptions   = var.notifications.subscriptions
}

locals {
  # Every alarm of the module publishes ALARM and OK here (docs/contracts.md section 8).
  alarm_actions = [module.notifications.alarm_topic_arn]
  # The topics the ServiceNow delivery reads: the alarm topic only when it is another one.
  delivered_topics = merge(
    { notifications = module.notifications.topic_arn },
    var.notifications.create_topic || var.notifications.alarm_topic_arn != null ? { alarms = module.notifications.alarm_topic_arn } : {},
  )
}

module "servicenow_delivery" {
  source = "./modules/servicenow-delivery"
  count  = var.servicenow == null ? 0 : 1

  name_prefix              = var.name_prefix
  tags                     = var.tags
  instance_url             = var.servicenow.instance_url
  secret_arn               = var.servicenow.secret_arn
  secret_kms_key_arn       = var.servicenow.secret_kms_key_arn
  queue_kms_key_arn        = var.servicenow.queue_kms_key_arn
  topic_arns               = local.delivered_topics
  alarm_actions            = local.alarm_actions
  max_receive_count        = var.servicenow.max_receive_count
  batch_size               = var.servicenow.batch_size
  maximum_concurrency      = var.servicenow.maximum_concurrency
  max_attempts             = var.servicenow.max_attempts
  request_timeout_seconds  = var.servicenow.request_timeout_seconds
  memory_size              = var.servicenow.memory_size
  timeout                  = var.servicenow.timeout
  runtime                  = var.discovery.runtime
  architecture             = var.discovery.architecture
  log_retention_days       = var.log_retention_days
  log_kms_key_arn          = var.log_kms_key_arn
  permissions_boundary_arn = var.permissions_boundary_arn
}

module "instance_documents" {
  source = "./modules/instance-documents"

  name_prefix = var.name_prefix
  tags        = var.tags
  # The bound of a command sent by hand (the state machine always passes the schedule's).
  default_max_freeze_seconds = var.max_freeze_seconds
  pre_freeze_hook_dir        = var.instance_hooks.pre_freeze_dir
  post_thaw_hook_dir         = var.instance_hooks.post_thaw_dir
  auto_selection_exclusions  = var.auto_selection_exclusions
}

locals {
  # The discovery function publishes run summaries; the state machine asks it to by name
  # (modules/discovery names it so; its ARN would make the two modules depend on each
  # other: discovery starts the state machine's executions).
  discovery_function_name = "${var.name_prefix}-discovery"
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
  ssm_document_version        = module.instance_documents.document_version
  selection_tag_key           = var.selection_tag_key
  notification_topic_arn      = module.notifications.topic_arn
  notification_kms_key_arn    = module.notifications.kms_key_arn
  copy_destination_vault_arns = [for c in var.copy_destinations : c.destination_vault_arn]
  notify_on_success           = var.notifications.notify_on_success
  storm_threshold             = var.notifications.storm_threshold
  run_summary_function_name   = var.discovery.dry_run ? null : local.discovery_function_name
  log_retention_days          = var.log_retention_days
  log_kms_key_arn             = var.log_kms_key_arn
  permissions_boundary_arn    = var.permissions_boundary_arn
  alarm_actions               = local.alarm_actions
  api_budget                  = var.api_budget

  consistency_share_alarms      = var.monitoring.consistency_share_alarms
  consistency_share_alarm_hours = var.monitoring.consistency_share_alarm_hours
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
  start_rate_per_second    = coalesce(var.discovery.start_rate_per_second, module.state_machine.admission.start_rate_per_second)
  # No burst: every execution makes its once-per-instance calls (SendCommand, StartBackupJob,
  # ...) within seconds of its start, so a burst of starts is a burst of those (docs/fleet.md).
  start_burst                = 1
  dry_run                    = var.discovery.dry_run
  report_not_selected        = var.discovery.report_not_selected
  not_selected_reporter      = var.discovery.not_selected_reporter
  alarm_actions              = local.alarm_actions
  recovery_point_alarm_hours = var.monitoring.recovery_point_alarm_hours
  log_retention_days         = var.log_retention_days
  log_kms_key_arn            = var.log_kms_key_arn
  permissions_boundary_arn   = var.permissions_boundary_arn

  run_ledger = {
    table_arn       = module.state_machine.run_ledger_table_arn
    kms_key_arn     = module.state_machine.run_ledger_kms_key_arn
    ttl_seconds     = module.state_machine.run_ledger_ttl_seconds
    storm_threshold = var.notifications.storm_threshold
  }
}

module "restore_testing" {
  source = "./modules/restore-testing"
  count  = var.restore_testing.enabled ? 1 : 0

  name_prefix                  = var.name_prefix
  tags                         = var.tags
  vault_arn                    = module.vault.vault_arn
  selection_tag_key            = var.selection_tag_key
  tag_values                   = [for name in coalesce(var.restore_testing.schedules, keys(var.schedules)) : local.schedules[name].tag_value]
  schedule_expression          = var.restore_testing.schedule_expression
  schedule_expression_timezone = var.restore_testing.timezone
  start_window_hours           = var.restore_testing.start_window_hours
  algorithm                    = var.restore_testing.algorithm
  selection_window_days        = var.restore_testing.selection_window_days
  validation_window_hours      = var.restore_testing.validation_window_hours
  restore_metadata_overrides   = var.restore_testing.restore_metadata_overrides
  instance_role_arns           = var.restore_testing.instance_role_arns
  agent_wait_seconds           = var.restore_testing.agent_wait_seconds
  check_timeout_seconds        = var.restore_testing.check_timeout_seconds
  check_dir                    = var.restore_testing.check_dir
  notification_topic_arn       = module.notifications.topic_arn
  notification_kms_key_arn     = module.notifications.kms_key_arn
  notify_on_success            = var.notifications.notify_on_success
  log_retention_days           = var.log_retention_days
  log_kms_key_arn              = var.log_kms_key_arn
  permissions_boundary_arn     = var.permissions_boundary_arn
}
