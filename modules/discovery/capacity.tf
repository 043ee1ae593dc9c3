################################################################################
# How many instances a schedule's run can start before the schedule fires again
# (docs/fleet.md, "How long a fleet takes"): its interval times discovery's start
# pace. A larger fleet's runs overlap; its instances then queue for the freeze slots,
# and those still waiting after slot_wait_max_seconds end unfrozen, reported.
#
# Only where every interval between two firings is the same, in whole seconds:
# rate(...), and cron(...) firing every day at one minute of the hour, every hour, at
# one hour, or every n hours where n divides 24. A list or a range of hours has unequal
# gaps (the alarm in monitoring.tf reads its longest; an overrun needs the shortest):
# none. Daylight saving makes a zoned daily cron's day 23 or 25 hours twice a year.
################################################################################

locals {
  rate_seconds = { for name, f in local.rate_fields : name => f == null ? null : (
    tonumber(f[0]) * (startswith(f[1], "minute") ? 60 : startswith(f[1], "hour") ? 3600 : 86400)
  ) }

  cron_hour_step = { for name, f in local.cron_fields : name => try(tonumber(regex("^(?:\\*|0)/([0-9]+)$", f[1])[0]), null) }

  cron_seconds = { for name, f in local.cron_fields : name => (
    f == null || !local.cron_every_day[name] || !can(regex("^[0-9]+$", f[0])) ? null :
    can(regex("^[0-9]+$", f[1])) ? 86400 :
    f[1] == "*" ? 3600 :
    try(local.cron_hour_step[name] >= 1 && 24 % local.cron_hour_step[name] == 0, false) ? local.cron_hour_step[name] * 3600 : null
  ) }

  run_interval_seconds = { for name, s in var.schedules : name => coalesce(local.rate_seconds[name], local.cron_seconds[name], -1) }

  schedule_capacity = { for name, seconds in local.run_interval_seconds : name => (
    seconds < 0 ? null : floor(seconds * var.start_rate_per_second)
  ) if var.schedules[name].enabled }
}
