variable "region" {
  description = "Region of the instances and of the source vault."
  type        = string
  default     = "eu-west-1"
}

variable "dr_region" {
  description = "Region of the destination vault (may equal region)."
  type        = string
  default     = "eu-central-1"
}

variable "dr_role_arn" {
  description = "Role Terraform assumes in the destination account."
  type        = string
  default     = "arn:aws:iam::999988887777:role/terraform"
}

variable "dr_break_glass_role_arn" {
  description = "Role in the destination account allowed to delete copies early (null: nobody)."
  type        = string
  default     = null
}
