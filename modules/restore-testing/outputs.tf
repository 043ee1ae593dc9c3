output "restore_testing_plan_arn" {
  description = "ARN of the AWS Backup restore testing plan."
  value       = aws_backup_restore_testing_plan.this.arn
}

output "restore_testing_plan_name" {
  description = "Name of the AWS Backup restore testing plan."
  value       = aws_backup_restore_testing_plan.this.name
}

output "restore_testing_selection_names" {
  description = "Names of the restore testing selections, by selection tag value."
  value       = { for v, s in aws_backup_restore_testing_selection.this : v => s.name }
}

output "restore_role_arn" {
  description = "ARN of the IAM role AWS Backup restores with."
  value       = aws_iam_role.restore.arn
}

output "function_name" {
  description = "Name of the restore validation function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the restore validation function."
  value       = aws_lambda_function.this.arn
}

output "function_role_arn" {
  description = "ARN of the restore validation function's IAM role."
  value       = aws_iam_role.function.arn
}

output "validation_document_name" {
  description = "Name of the SSM document the function runs on each restored instance."
  value       = aws_ssm_document.validation.name
}

output "document_content" {
  description = "The rendered validation document (YAML)."
  value       = local.document_content
}

output "dead_letter_queue_arn" {
  description = "ARN of the SQS queue receiving restore events the function failed to handle after Lambda's retries."
  value       = aws_sqs_queue.dead_letter.arn
}
