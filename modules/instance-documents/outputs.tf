output "document_name" {
  description = "Name of the SSM Command document, for ssm:SendCommand's DocumentName."
  value       = aws_ssm_document.this.name
}

output "document_arn" {
  description = "ARN of the SSM Command document, for the state machine role's ssm:SendCommand permission."
  value       = aws_ssm_document.this.arn
}

output "document_version" {
  description = "Version of the SSM Command document that this module's content created: the state machine pins SendCommand's DocumentVersion to it, so changing the document's default version does not change what runs as root."
  value       = aws_ssm_document.this.latest_version
}

output "document_parameters" {
  description = "Names of the document's parameters (docs/contracts.md section 3)."
  value       = sort(keys(yamldecode(local.document_content).parameters))
}

output "document_content" {
  description = "The document as created (YAML): its parameters' defaults and the script it runs."
  value       = local.document_content
}
