################################################################################
# The API budget of a fleet run, and the admission it implies (docs/fleet.md).
#
# Each API's budget is a share of its quota (api_budget.share_of_quota, 0.5 by default),
# unless api_budget.calls_per_second sets it. A quota is the account's where
# api_budget.quotas gives it, else the module's below: the refill rates per second
# of the account's token buckets, in the regions with the smaller figures, with their
# sources in emulator/README.md (Quotas): EC2 request throttling (non-mutating 20/s,
# CreateTags 10/s), Step Functions service quotas (StartExecution 150/s, StateTransition
# 500/s), DynamoDB on-demand (4,000 writes/s). AWS Backup's and SSM's figures are
# assumptions (emulator/README.md says why): StartBackupJob 5/s, DescribeBackupJob 10/s,
# SendCommand 5/s, GetCommandInvocation and DescribeInstanceInformation 20/s.
################################################################################

locals {
  default_api_quotas = {
    "states:StartExecution"           = 150
    "states:StateTransition"          = 500
    "ec2:DescribeInstances"           = 20
    "ec2:DescribeSnapshots"           = 20
    "ec2:DescribeImages"              = 20
    "ec2:CreateTags"                  = 10
    "ssm:SendCommand"                 = 5
    "ssm:GetCommandInvocation"        = 20
    "ssm:DescribeInstanceInformation" = 20
    "backup:StartBackupJob"           = 5
    "backup:DescribeBackupJob"        = 10
    "dynamodb:UpdateItem"             = 4000
  }

  api_quotas = merge(local.default_api_quotas, var.api_budget.quotas)

  api_budget = {
    for api, quota in local.api_quotas :
    api => lookup(var.api_budget.calls_per_second, api, quota * var.api_budget.share_of_quota)
  }

  # Inside the freeze window an instance makes one call at a time, at least a second
  # apart for each API: its polls (the freeze command's GetCommandInvocation, then
  # DescribeSnapshots) and its SendCommand (the freeze, the thaw at least one command poll
  # later, the next holder's freeze after the thaw is confirmed) and StartBackupJob. A
  # slot costs at most one call per second of each, so no more slots than any of these
  # budgets allows: no second holds more calls than the budget, and nothing frozen ever
  # waits for the budget (docs/fleet.md).
  freeze_slots = max(1, min(500, floor(min(
    local.api_budget["ec2:DescribeSnapshots"],
    local.api_budget["ssm:GetCommandInvocation"],
    local.api_budget["ssm:SendCommand"],
    local.api_budget["backup:StartBackupJob"],
  ))))

  # Assumption (docs/fleet.md): a freeze window lasts about 30 s (command delivery, AWS
  # Backup's snapshot start latency, the thaw). Starting faster than the slots turn over
  # only makes instances wait for a slot.
  typical_freeze_window_seconds = 30

  # Calls every instance makes once per run, so the start pace bounds their rate:
  # two SendCommand (freeze, thaw), one of each other, about fourteen guard, slot and
  # job-poll gate writes, about 80 state transitions (bench/state_machine.py counts them).
  start_rate_per_second = max(0.01, floor(100 * min(
    local.api_budget["states:StartExecution"],
    local.api_budget["ec2:DescribeInstances"],
    local.api_budget["ssm:DescribeInstanceInformation"],
    local.api_budget["ssm:SendCommand"] / 2,
    local.api_budget["backup:StartBackupJob"],
    local.api_budget["ec2:DescribeImages"],
    local.api_budget["ec2:CreateTags"],
    local.api_budget["dynamodb:UpdateItem"] / 14,
    local.api_budget["states:StateTransition"] / 80,
    local.freeze_slots / local.typical_freeze_window_seconds,
  )) / 100)

  # DescribeBackupJob's pace gate (docs/contracts.md section 9) counts the polls of each
  # second in the guard table; a poll waits until the start of its reserved second, so a
  # second holds at most the gate's count: the whole budget.
  job_poll_gate_calls = max(1, floor(local.api_budget["backup:DescribeBackupJob"]))
}
