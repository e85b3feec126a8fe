variable "name" {
  description = "Prefix of every resource name (function, table, role, API)"
  type        = string
  default     = "sfgen-item-user"
}

variable "region" {
  description = "AWS region to deploy to"
  type        = string
  default     = "us-east-1"
}

variable "timeout" {
  description = "Function timeout in seconds (keep it below lease_seconds)"
  type        = number
  default     = 30
}

variable "memory_size" {
  description = "Function memory in MB"
  type        = number
  default     = 256
}

variable "lease_seconds" {
  description = "How long a request's lease on an entity lasts; a crashed invocation's leases are free again after it"
  type        = number
  default     = 40
}

variable "lease_wait_seconds" {
  description = "How long a request waits for entities leased by other requests before it answers 503 EntityBusy"
  type        = number
  default     = 10
}

variable "result_ttl_seconds" {
  description = "How long the response of a request with an x-request-id is kept for retries"
  type        = number
  default     = 86400
}
