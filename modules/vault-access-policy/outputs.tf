output "json" {
  description = "The vault access policy document (JSON): the copy grants, if any, and the Deny statement."
  value       = jsonencode({ Version = "2012-10-17", Statement = local.statements })
}

output "statements" {
  description = "The policy's statements, to merge into a vault policy managed elsewhere."
  value       = local.statements
}

output "denied_actions" {
  description = "The AWS Backup actions denied to everyone but the break-glass principals."
  value       = local.denied_actions
}
