output "vault_arn" {
  description = "Vault the recovery points are made in (source account)."
  value       = module.app_consistent_backup.vault_arn
}

output "dr_vault_arn" {
  description = "Vault every recovery point is copied to (destination account)."
  value       = module.dr_vault.vault_arn
}

output "volume_kms_key_arn" {
  description = "Key to encrypt the instances' EBS volumes with, so that their recovery points can be copied."
  value       = aws_kms_key.volumes.arn
}
