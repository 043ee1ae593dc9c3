"""A run still starting instances when its schedule's next run is due (docs/contracts.md
section 5, ``BackupRunOverrun``).

The schedule's fleet is then larger than its interval times the start pace: the next
run's discovery paces alongside this one, and both runs' instances queue for the same
freeze slots, where the longest waits end unfrozen. Those instances are reported one by
one (or as a storm), each naming a symptom; this event names the cause, once a run,
unless Lambda retries the hop that published it (then again, under the same
``message_key``: the same alert).

A run whose first hop began already past its interval is a late start (a delivery
retried or redriven, a backlog in Lambda's asynchronous queue, a flexible window, a
replay), not an overrun: its fleet's size is not the cause, and it publishes nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from discovery import notify
from discovery.config import Config
from discovery.events import Request


def past_interval(request: Request, moment: datetime) -> int | None:
    """Whole seconds from the run's scheduled time to ``moment``, when more than its
    interval: a hop's end past it is an overrun, the first hop's start past it a late
    start. None within the interval, or when the interval is not known."""
    if request.interval_seconds is None:
        return None
    seconds = (moment - request.scheduled_time).total_seconds()
    return int(seconds) if seconds > request.interval_seconds else None


def capacity(interval_seconds: int, start_rate_per_second: float) -> int:
    """Instances one run starts in its interval: the module's ``schedule_capacity``,
    which Terraform computes in decimal (``floor(86400 * 0.35)`` is 30240, where binary
    floats give 30239). The rate is the decimal text of START_RATE_PER_SECOND, which
    ``str`` of its float gives back."""
    return int(Decimal(str(start_rate_per_second)) * interval_seconds)


def _pace(rate: float) -> str:
    return f"{rate:g}"


def notification(
    cfg: Config,
    request: Request,
    *,
    elapsed: int,
    totals: dict[str, Any],
    hop: int,
    listing_done: bool,
) -> dict[str, Any]:
    """The run's BackupRunOverrun event (a PublishBatch entry)."""
    name, when = request.schedule_name, request.scheduled_time_text
    interval = request.interval_seconds
    assert interval is not None  # noqa: S101 - past_interval found it past the interval
    rate = cfg.start_rate_per_second
    room = capacity(interval, rate)
    started = int(totals.get("started", 0))
    description = (
        f"Run of schedule {name} at {when} has been starting instances for {elapsed} s, "
        f"longer than the schedule's interval of {interval} s: {started} started so far, "
        f"at {_pace(rate)} a second, a capacity of {room} instances a run (interval x pace). "
        "The schedule's next run overlaps this one: both start at the full pace, their "
        "instances queue for the freeze slots, and those still waiting after "
        "timings.slot_wait_max_seconds end unfrozen, reported one by one or as storms. "
        "Lengthen the schedule's interval, declare the account's quotas or raise the "
        "budgets (api_budget, docs/fleet.md), or split the fleet across schedules."
    )
    return notify.notification(
        cfg,
        node=f"schedule/{name}",
        resource=cfg.state_machine_arn,
        event_type="BackupRunOverrun",
        stage="discovery",
        outcome="overrun",
        severity="3",
        description=description,
        message_key=f"{cfg.name_prefix}:overrun:{name}",
        additional={
            "schedule_name": name,
            "scheduled_time": when,
            "interval_seconds": interval,
            "elapsed_seconds": elapsed,
            "started": started,
            "already_started": int(totals.get("already_started", 0)),
            "start_rate_per_second": _pace(rate),
            "capacity": room,
            "hop": hop,
            "listing_done": "true" if listing_done else "false",
        },
    )
