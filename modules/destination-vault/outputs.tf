output "vault_arn" {
  description = "ARN of the destination vault: an entry of the source module's copy_destinations."
  value       = aws_backup_vault.this.arn
}

output "vault_name" {
  description = "Name of the destination vault."
  value       = aws_backup_vault.this.name
}

output "kms_key_arn" {
  description = "ARN of the destination vault's key (created or given), with which AWS Backup re-encrypts the copies."
  value       = aws_backup_vault.this.kms_key_arn
}

output "kms_key_policy" {
  description = "The created key's policy (null when a key was given): what the source accounts may do with it."
  value       = local.create_key ? local.key_policy : null
}

output "access_policy_json" {
  description = "The vault's access policy: CopyIntoBackupVault for the sources, and the Deny of deleting copies, shortening their lifecycle and deleting the vault."
  value       = module.access_policy.json
}

output "vault_lock_enabled" {
  description = "Whether this module configured AWS Backup Vault Lock on the vault."
  value       = length(aws_backup_vault_lock_configuration.this) > 0
}
