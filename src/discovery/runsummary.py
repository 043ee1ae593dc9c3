"""A run's one summary event, and the Clear of the storms it ends (docs/contracts.md 5b).

Whoever completes a run's count asks for its summary: the state machine (an asynchronous
``{"run_summary": ...}`` invocation of this function) or discovery's own last hop. The
schedule's next run asks too, for a run that never completed. ``summarize`` claims the
run in the ledger before it publishes, so however many ask, one summary is published;
one that cannot be published is given back and the error raised (Lambda retries an
asynchronous invocation twice, then its dead-letter queue and alarm hear it).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from discovery import clock, notify
from discovery.config import Config
from discovery.events import format_time
from discovery.ledger import Group, Ledger, RunRecord

logger = logging.getLogger(__name__)

STAGE = "run-summary"
OUTCOMES = ("succeeded", "degraded", "skipped", "failed")
LABELS = (
    "application-consistent",
    "crash-consistent",
    "crash-consistent-watchdog",
    "crash-consistent-timeout",
    "stopped",
    "vss",
    "none",
)
NAMED_IN_DESCRIPTION = 3  # instances per storm named in the description (all 50 in additional_info)
MAX_DESCRIPTION = 4000  # ServiceNow's description field
RUN_COMPLETE = "run-complete"
NEXT_RUN = "next-run"


class SummaryError(RuntimeError):
    """The summary could not be published; the claim was given back."""


def summarize(
    cfg: Config,
    ledger: Ledger,
    sns: Any,
    schedule_name: str,
    scheduled: datetime,
    *,
    published_by: str,
) -> dict[str, Any]:
    """Publish the run's summary (and its storms' Clears) unless it was published."""
    token = str(uuid.uuid4())
    now = clock.now()
    kind = "complete" if published_by == RUN_COMPLETE else "overdue"
    record = ledger.claim(schedule_name, scheduled, kind, now, token)
    if record is None:
        return {"published": False, "why": "published already"}
    storms = record.storms(cfg.storm_threshold)
    try:
        opened = ledger.open_storms(schedule_name)
        sns.publish(TopicArn=cfg.notification_topic_arn, **summary_entry(cfg, record, published_by))
    except (ClientError, BotoCoreError) as error:
        ledger.withdraw(schedule_name, scheduled, token)
        raise SummaryError(
            f"the summary of {schedule_name} at {format_time(scheduled)} was not published: {error}"
        ) from error
    # A storm's alert closes only once a complete run shows its cause gone.
    cleared = sorted(opened - set(storms)) if record.complete else []
    clears = [storm_clear(cfg, record, code) for code in cleared]
    sent = notify.publish(sns, cfg.notification_topic_arn, clears)
    if sent < len(clears):  # which one failed is not known: every Clear is sent again later
        cleared = []
    ledger.set_open_storms(schedule_name, (opened - set(cleared)) | set(storms), scheduled)
    return {
        "published": True,
        "status": "complete" if record.complete else "incomplete",
        "published_by": published_by,
        "finished": record.finished,
        "expected": record.expected,
        "storms": sorted(storms),
        "storms_cleared": cleared,
    }


def _count(values: dict[str, int], key: str) -> str:
    return str(values.get(key, 0))


def _members(group: Group) -> str:
    more = group.count - len(group.members)
    named = ", ".join(group.members)
    return f"{named} (+{more} more)" if more > 0 else named


def _storm_text(group: Group) -> str:
    shown = list(group.members[:NAMED_IN_DESCRIPTION])
    rest = group.count - len(shown)
    names = ", ".join(shown) + (f" and {rest} more" if rest > 0 else "")
    return f"{group.code}: {group.count} instances ({names})"


def summary_entry(cfg: Config, record: RunRecord, published_by: str) -> dict[str, Any]:
    """The BackupRunSummary event as a Publish request (Subject, Message, attributes)."""
    name = record.schedule_name
    when = format_time(record.scheduled)
    complete = record.complete
    discovered = record.discovery
    skipped = {str(k): int(v) for k, v in dict(discovered.get("skipped") or {}).items()}
    storms = record.storms(cfg.storm_threshold)
    unfinished = "" if record.expected is None else str(max(0, record.expected - record.finished))

    if complete:
        status = f"complete: all {record.finished} executions reported"
    elif record.discovery_state is None:
        status = (
            "INCOMPLETE: discovery never reported the end of the run (see the discovery "
            f"function's alarms); {record.finished} executions reported"
        )
    else:
        status = (
            f"INCOMPLETE when the schedule's next run began: {record.finished} of "
            f"{record.expected} executions reported; {unfinished} did not (still running, or "
            "ended without reporting: see the state machine's failed and timed-out alarms)"
        )
    outcomes = ", ".join(f"{_count(record.outcomes, o)} {o}" for o in OUTCOMES)
    labels = ", ".join(
        f"{n} {label}" for label in LABELS[:-1] if (n := record.consistency.get(label, 0))
    )
    parts = [
        f"Backup run of schedule {name} at {when}: {status}.",
        f"Executions: {outcomes}.",
        f"Recovery points by consistency: {labels or 'none'}.",
    ]
    if storms:
        parts.append(
            "Storms (one alert each; their instances are not reported one by one): "
            + "; ".join(_storm_text(g) for g in storms.values())
            + "."
        )
    if record.discovery_state is not None:
        by_reason = ", ".join(f"{k} {v}" for k, v in sorted(skipped.items()))
        parts.append(
            f"Discovery ({record.discovery_state}): {discovered.get('discovered', 0)} "
            f"discovered, {discovered.get('started', 0)} started, "
            f"{discovered.get('already_started', 0)} already started, "
            f"{sum(skipped.values())} skipped{f' ({by_reason})' if by_reason else ''}, "
            f"{discovered.get('failed', 0)} failed to start, "
            f"{discovered.get('not_selected', 0)} not selected."
        )
    overran = discovered.get("overran")
    if overran is True:
        parts.append(
            "Discovery overran the schedule's interval: it was still starting instances when "
            "the schedule's next run was due (BackupRunOverrun)."
        )
    description = " ".join(parts)
    if len(description) > MAX_DESCRIPTION:
        description = description[: MAX_DESCRIPTION - 3] + "..."

    info: dict[str, Any] = {
        "schedule_name": name,
        "scheduled_time": when,
        "status": "complete" if complete else "incomplete",
        "published_by": published_by,
        "expected": "" if record.expected is None else str(record.expected),
        "finished": str(record.finished),
        "unfinished": unfinished,
        **{outcome: _count(record.outcomes, outcome) for outcome in OUTCOMES},
        **{f"consistency_{label}": _count(record.consistency, label) for label in LABELS},
        "reasons": "; ".join(f"{c}={g.count}" for c, g in sorted(record.groups.items())),
        "storms": "; ".join(f"{c}={g.count}" for c, g in storms.items()),
        "storm_instances": "; ".join(f"{c}: {_members(g)}" for c, g in storms.items()),
        "discovery": record.discovery_state or "not-reported",
        "discovered": str(discovered.get("discovered", "")),
        "started": str(discovered.get("started", "")),
        "already_started": str(discovered.get("already_started", "")),
        "failed_to_start": str(discovered.get("failed", "")),
        "skipped_by_discovery": str(sum(skipped.values())) if discovered else "",
        "skipped_by_reason": ", ".join(f"{k}={v}" for k, v in sorted(skipped.items())),
        "not_selected": str(discovered.get("not_selected", "")),
        "fleet_size": str(discovered.get("fleet_size", "")),
        "overran": "" if not isinstance(overran, bool) else str(overran).lower(),
        "storm_threshold": str(cfg.storm_threshold),
        "state_machine": cfg.name_prefix,
    }
    return notify.notification(
        cfg,
        node=f"schedule/{name}",
        resource=cfg.state_machine_arn,
        event_type="BackupRunSummary",
        stage=STAGE,
        outcome="complete" if complete else "incomplete",
        severity="5" if complete else "3",
        resolution_state="Closing" if complete else "New",
        description=description,
        message_key=f"{cfg.name_prefix}:run-summary:{name}",
        additional=info,
    )


def storm_clear(cfg: Config, record: RunRecord, code: str) -> dict[str, Any]:
    """The Clear of a storm alert: this complete run did not storm for ``code``."""
    name = record.schedule_name
    when = format_time(record.scheduled)
    count = record.groups[code].count if code in record.groups else 0
    return notify.notification(
        cfg,
        node=f"schedule/{name}",
        resource=cfg.state_machine_arn,
        event_type="BackupStorm",
        stage=code.split("/", 1)[0],
        outcome="cleared",
        severity="0",
        description=(
            f"No more storm of {code} in schedule {name}: its run at {when} completed with "
            f"{count} instance(s) ending that way (at most {cfg.storm_threshold} are reported "
            "one by one)."
        ),
        message_key=f"{cfg.name_prefix}:storm:{name}:{code}",
        additional={
            "reason_code": code,
            "schedule_name": name,
            "scheduled_time": when,
            "count": str(count),
        },
    )
