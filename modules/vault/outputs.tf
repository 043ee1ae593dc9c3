output "vault_name" {
  description = "Name of the backup vault recovery points are written to."
  value       = var.create_vault ? aws_backup_vault.this[0].name : data.aws_backup_vault.existing[0].name
}

output "vault_arn" {
  description = "ARN of the backup vault recovery points are written to."
  value       = var.create_vault ? aws_backup_vault.this[0].arn : data.aws_backup_vault.existing[0].arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the vault (the created key, the key given, or the existing vault's key)."
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
