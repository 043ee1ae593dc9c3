################################################################################
# How many instances a schedule's run can start before the schedule fires again
# (docs/fleet.md, "How long a fleet takes"): its interval times discovery's start
# pace. A larger fleet's runs overlap; its instances then queue for the freeze slots,
# and those still waiting after slot_wait_max_seconds are backed up unfrozen and
# reported. Read only where the interval is plain: rate(...), and cron(...) firing at
# one minute of the hour every day.
################################################################################

locals {
  run_interval_seconds = { for name, s in var.schedules : name => (
    local.interval_hours[name] != null && (local.rate_fields[name] != null || can(regex("^[0-9]+$", try(local.cron_fields[name][0], ""))))
    ? local.interval_hours[name] * 3600 : null
  ) }

  schedule_capacity = { for name, seconds in local.run_interval_seconds : name => (
    seconds == null ? null : floor(seconds * var.start_rate_per_second)
  ) if var.schedules[name].enabled }
}
