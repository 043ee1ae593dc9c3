# make smoke: what it adds to a copy of examples/minimal (see smoke/__init__.py).
# One small Amazon Linux instance of its own, SSM-managed, with a data volume that
# the freeze really freezes, tagged for the smoke's schedule; an SQS queue subscribed
# to the notification topic, standing in for ServiceNow. Not a module to use alone.

variable "smoke_subnet_id" {
  description = "Subnet the smoke's instance is launched in. It needs a route to the SSM endpoints (internet or VPC endpoints)."
  type        = string

  validation {
    condition     = can(regex("^subnet-[0-9a-f]{8,17}$", var.smoke_subnet_id))
    error_message = "smoke_subnet_id must be a subnet ID such as subnet-0123456789abcdef0, not ${jsonencode(var.smoke_subnet_id)}."
  }
}

variable "smoke_run_id" {
  description = "Identifies this smoke run: the name prefix of everything it creates, and the value of its acb-smoke tag."
  type        = string

  validation {
    condition     = can(regex("^acb-smoke-[a-z0-9]{4,12}$", var.smoke_run_id))
    error_message = "smoke_run_id must look like acb-smoke-1a2b3c, not ${jsonencode(var.smoke_run_id)}."
  }
}

variable "smoke_instance_type" {
  description = "Instance type of the smoke's instance."
  type        = string
  default     = "t3.micro"
}

variable "smoke_ami_parameter" {
  description = "Public SSM parameter naming the Amazon Linux AMI to launch (its architecture must match smoke_instance_type)."
  type        = string
  default     = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

data "aws_ssm_parameter" "ami" {
  name = var.smoke_ami_parameter
}

data "aws_partition" "smoke" {}

data "aws_caller_identity" "smoke" {}

resource "aws_iam_role" "smoke_instance" {
  name        = "${var.smoke_run_id}-instance"
  description = "make smoke: the smoke instance's role (SSM agent only)."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = { acb-smoke = var.smoke_run_id }
}

resource "aws_iam_role_policy_attachment" "smoke_ssm" {
  role       = aws_iam_role.smoke_instance.name
  policy_arn = "arn:${data.aws_partition.smoke.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "smoke" {
  name = "${var.smoke_run_id}-instance"
  role = aws_iam_role.smoke_instance.name
  tags = { acb-smoke = var.smoke_run_id }
}

resource "aws_instance" "smoke" {
  #checkov:skip=CKV_AWS_126:A throw-away instance of a few minutes: detailed monitoring would only add cost.
  #checkov:skip=CKV_AWS_135:The instance types the smoke uses are EBS-optimized by default.
  #checkov:skip=CKV_AWS_8:The root volume is the AMI's as it is (throw-away, no data); the data volume is encrypted.
  #checkov:skip=CKV2_AWS_41:It has an instance profile (the SSM agent's); checkov cannot follow it here.
  ami                  = data.aws_ssm_parameter.ami.value
  instance_type        = var.smoke_instance_type
  subnet_id            = var.smoke_subnet_id
  iam_instance_profile = aws_iam_instance_profile.smoke.name

  metadata_options {
    http_tokens = "required"
  }

  # The data volume the freeze freezes (the root filesystem never is).
  ebs_block_device {
    device_name = "/dev/sdf"
    volume_size = 1
    volume_type = "gp3"
    encrypted   = true
  }

  user_data = <<-EOT
    #!/bin/bash
    set -euo pipefail
    for _ in $(seq 1 60); do [ -e /dev/sdf ] && break; sleep 2; done
    mkfs.xfs -q /dev/sdf
    mkdir -p /data
    mount /dev/sdf /data
    echo "acb-smoke $(date -u +%FT%TZ)" > /data/written-before-the-backup
  EOT

  tags = {
    Name                = var.smoke_run_id
    AppConsistentBackup = "smoke"
    acb-smoke           = var.smoke_run_id
  }

  depends_on = [aws_iam_role_policy_attachment.smoke_ssm]
}

# Stands in for ServiceNow: the notifications the smoke reads.
resource "aws_sqs_queue" "smoke" {
  name                    = "${var.smoke_run_id}-notifications"
  sqs_managed_sse_enabled = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "TopicSends"
      Effect    = "Allow"
      Principal = { Service = "sns.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = "arn:${data.aws_partition.smoke.partition}:sqs:${var.region}:${data.aws_caller_identity.smoke.account_id}:${var.smoke_run_id}-notifications"
      # The account's topics (naming the module's topic would make a cycle: the topic's
      # subscriptions depend on this queue).
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.smoke.account_id } }
    }]
  })
  tags = { acb-smoke = var.smoke_run_id }
}

output "smoke_instance_id" {
  description = "The smoke's instance."
  value       = aws_instance.smoke.id
}

output "smoke_ami_id" {
  description = "The AMI the smoke's instance runs."
  value       = nonsensitive(data.aws_ssm_parameter.ami.value) # an AMI ID, not a secret
}

output "smoke_queue_url" {
  description = "The queue subscribed to the notification topic."
  value       = aws_sqs_queue.smoke.url
}

output "discovery_function_name" {
  description = "The discovery function the smoke invokes."
  value       = module.app_consistent_backup.discovery_function_name
}

output "ssm_document_name" {
  description = "The freeze/thaw document."
  value       = module.app_consistent_backup.ssm_document_name
}

output "subscriptions" {
  description = "The topic's subscriptions (the smoke's queue)."
  value       = module.app_consistent_backup.subscriptions
}
