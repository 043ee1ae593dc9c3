output "vault_name" {
  description = "Name of the backup vault recovery points are written to."
  value       = var.create_vault ? aws_backup_vault.this[0].name : data.aws_backup_vault.existing[0].name
}

output "vault_arn" {
  description = "ARN of the backup vault recovery points are written to."
  value       = var.create_vault ? aws_backup_vault.this[0].arn : data.aws_backup_vault.existing[0].arn
}

output "kms_key_arn" {
  description = "ARN of the vault's KMS key (the created key, the key given, or the existing vault's key). EC2 recovery points are not encrypted with it: they keep their EBS volumes' keys."
  value       = var.create_vault ? aws_backup_vault.this[0].kms_key_arn : data.aws_backup_vault.existing[0].kms_key_arn
}

output "backup_role_arn" {
  description = "ARN of the IAM role AWS Backup assumes for this module's jobs."
  value       = aws_iam_role.backup.arn
}

output "backup_role_name" {
  description = "Name of the IAM role AWS Backup assumes for this module's jobs."
  value       = aws_iam_role.backup.name
}

output "vault_lock_enabled" {
  description = "Whether this module configured AWS Backup Vault Lock on the vault."
  value       = length(aws_backup_vault_lock_configuration.this) > 0
}

output "access_policy_attached" {
  description = "Whether this module attached its access policy to the vault."
  value       = length(aws_backup_vault_policy.this) > 0
}

output "access_policy_json" {
  description = "The vault access policy document (attached or not): the Deny of recovery point deletion, lifecycle changes and vault deletion to all but the break-glass principals."
  value       = module.access_policy.json
}

output "access_policy_statements" {
  description = "The access policy's statements, to merge into the policy of a brought vault managed elsewhere."
  value       = module.access_policy.statements
}

output "report_plan_arn" {
  description = "ARN of the AWS Backup report plan, or null when none was asked for."
  value       = try(aws_backup_report_plan.this[0].arn, null)
}
