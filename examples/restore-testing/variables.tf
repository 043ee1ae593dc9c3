variable "region" {
  description = "Region to deploy into."
  type        = string
  default     = "eu-west-1"
}

variable "instance_role_arn" {
  description = "Role of the instances' instance profile (with AmazonSSMManagedInstanceCore): restored with them, so that their SSM agent answers."
  type        = string
  default     = "arn:aws:iam::111122223333:role/app-instance"
}

variable "test_subnet_id" {
  description = "Subnet the restored instances start in: one that reaches Systems Manager and nothing in production."
  type        = string
  default     = "subnet-0123456789abcdef0"
}
