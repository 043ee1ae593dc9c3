"""The schedule's event (docs/contracts.md section 1) and a continuation's, validated;
and the state machine's request to summarize a run (section 5b).

Every problem is collected and reported at once, in words, so that a hand-written
event for a manual run is easy to fix. A problem quotes at most the first characters
of a value: a 300 KB value must not make the error, or its notification, 300 KB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

SCHEDULE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
INSTANCE_ID_RE = re.compile(r"^i-[0-9a-f]{8,17}$")
ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
# RFC 3339 section 5.6 date-time, nothing more: full-date "T" full-time, where
# full-time needs seconds and an offset ("Z" or +hh:mm / -hh:mm). "T" and "Z" may be
# lower case (the RFC's note). Python's datetime.fromisoformat also takes ISO 8601's
# basic format and week dates, which RFC 3339 excludes: it is not used.
RFC3339_RE = re.compile(
    r"^(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})[Tt]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.[0-9]+)?"
    r"(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
EXAMPLE_TIME = "2026-11-23T01:00:00Z"
VAULT_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:backup:[a-z0-9-]+:[0-9]{12}:backup-vault:[A-Za-z0-9_.-]{2,50}$"
)
PLACEHOLDER = "<aws.scheduler.scheduled-time>"

ON_FREEZE_FAILURE = ("crash-consistent", "skip", "fail")
STOPPED_INSTANCES = ("backup", "skip")
POLICY_DEFAULTS: dict[str, Any] = {
    "retention_days": 35,
    "max_freeze_seconds": 60,
    "on_freeze_failure": "crash-consistent",
    "stopped_instances": "backup",
    "copy_targets": [],
    "notify_on_success": False,
}
MAX_FREEZE_SECONDS = (15, 900)
EVENT_KEYS = {
    "schedule_name",
    "scheduled_time",
    "tag_value",
    "interval_seconds",
    "dry_run",
    "policy",
    "continuation",
}
CONTINUATION_KEYS = {
    "hop",
    "chain_started_at",
    "next_token",
    "listing_done",
    "pending",
    "totals",
    "overrun_reported",
}
# Written by the version before streaming; accepted, and the listing starts again.
LEGACY_CONTINUATION_KEYS = {"resume_from_instance_id", "retry_instance_ids"}
PLATFORMS = ("linux", "windows")
STARTABLE_STATES = ("running", "stopped")
# In practice the rest of one page (DescribeInstances returns at most 1,000
# instances) plus the starts in flight when time ran out (2 x MAX_CONCURRENCY, at
# most 128): 1,128. Accepted up to 3,000 (about 170 KB, under the 256 KB of an
# asynchronous payload), for an emulator whose pages are larger.
MAX_PENDING = 3000
MAX_NEXT_TOKEN = 8192


class EventError(ValueError):
    """The event is malformed; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("malformed event: " + "; ".join(problems))


# An instance read but not started yet: (instance_id, platform, state, owner account).
Pending = tuple[str, str, str, str]


@dataclass(frozen=True)
class Continuation:
    """Where the previous invocation stopped: the cursor of the listing and the
    instances it had read but not started."""

    hop: int
    chain_started_at: datetime
    next_token: str | None = None  # the next page; None: the first page (or none left)
    listing_done: bool = False
    pending: tuple[Pending, ...] = ()
    totals: dict[str, Any] = field(default_factory=dict)
    legacy: bool = False  # written by the version before streaming
    overrun_reported: bool = False  # a hop published the run's BackupRunOverrun

    def as_dict(self) -> dict[str, Any]:
        return {
            "hop": self.hop,
            "chain_started_at": format_time(self.chain_started_at),
            "next_token": self.next_token,
            "listing_done": self.listing_done,
            "pending": [list(p) for p in self.pending],
            "totals": self.totals,
            "overrun_reported": self.overrun_reported,
        }


@dataclass(frozen=True)
class Request:
    schedule_name: str
    scheduled_time: datetime
    tag_value: str
    dry_run: bool
    policy: dict[str, Any]
    continuation: Continuation | None = None
    interval_seconds: int | None = None  # None: absent, or ignored (interval_problem)
    interval_problem: str | None = None  # why a malformed interval_seconds was ignored

    @property
    def scheduled_time_text(self) -> str:
        return format_time(self.scheduled_time)

    def as_event(self, continuation: Continuation | None = None) -> dict[str, Any]:
        """The event that reproduces this request (with a continuation, if given)."""
        event: dict[str, Any] = {
            "schedule_name": self.schedule_name,
            "scheduled_time": self.scheduled_time_text,
            "tag_value": self.tag_value,
            "dry_run": self.dry_run,
            "policy": self.policy,
        }
        if self.interval_seconds is not None:
            event["interval_seconds"] = self.interval_seconds
        if continuation is not None:
            event["continuation"] = continuation.as_dict()
        return event


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def show(value: Any, limit: int = 60) -> str:
    """A value as a problem quotes it: its repr, cut to ``limit`` characters."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f" ({len(value)} characters)" if isinstance(value, str | list | dict) else ""
    return f"{text[:limit]}...{size}"


def parse_time(raw: Any, name: str, problems: list[str]) -> datetime | None:
    """An RFC 3339 date-time, in UTC, to the second (docs/contracts.md section 1)."""
    if raw == PLACEHOLDER:
        problems.append(
            f"{name} is the unfilled placeholder {PLACEHOLDER}: EventBridge Scheduler fills it; "
            f"for a manual run, give an RFC 3339 UTC time such as {EXAMPLE_TIME}"
        )
        return None
    if not isinstance(raw, str):
        problems.append(f"{name} must be an RFC 3339 time string such as {EXAMPLE_TIME}")
        return None
    match = RFC3339_RE.match(raw)
    if match is None:
        problems.append(
            f"{name}={show(raw)} is not an RFC 3339 date-time such as {EXAMPLE_TIME} "
            "(YYYY-MM-DDTHH:MM:SS, then Z or an offset such as +01:00; ISO 8601's basic "
            "format, week and ordinal dates are not RFC 3339)"
        )
        return None
    parts = {key: int(value) for key, value in match.groupdict().items() if key != "offset"}
    offset = match["offset"].upper()
    try:
        if parts["second"] == 60:
            raise ValueError("a leap second cannot name a backup run")
        moment = datetime(tzinfo=UTC, **parts)
        if offset != "Z":
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            if hours > 23 or minutes > 59:
                raise ValueError("the offset must be at most 23:59")
            shift = timedelta(hours=hours, minutes=minutes)
            moment = moment - shift if offset[0] == "+" else moment + shift
    except ValueError as error:
        problems.append(f"{name}={show(raw)} is not a valid time: {error}")
        return None
    return moment


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _whole(policy: dict[str, Any], key: str, low: int, high: int, problems: list[str]) -> None:
    value = policy[key]
    if not _is_int(value) or not low <= value <= high:
        problems.append(f"policy.{key}={show(value)} must be a whole number from {low} to {high}")


def parse_policy(raw: Any, problems: list[str]) -> dict[str, Any]:
    """The policy with every field present (defaults filled), as the state machine expects."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.append("policy must be an object")
        return dict(POLICY_DEFAULTS)
    unknown = sorted(set(raw) - set(POLICY_DEFAULTS))
    if unknown:
        problems.append(
            f"policy has unknown fields {show(unknown)}; known: {sorted(POLICY_DEFAULTS)}"
        )
    policy = {key: raw.get(key, default) for key, default in POLICY_DEFAULTS.items()}
    _whole(policy, "retention_days", 1, 36500, problems)
    _whole(policy, "max_freeze_seconds", *MAX_FREEZE_SECONDS, problems)
    if policy["on_freeze_failure"] not in ON_FREEZE_FAILURE:
        problems.append(
            f"policy.on_freeze_failure={show(policy['on_freeze_failure'])} must be one of "
            f"{list(ON_FREEZE_FAILURE)}"
        )
    if policy["stopped_instances"] not in STOPPED_INSTANCES:
        problems.append(
            f"policy.stopped_instances={show(policy['stopped_instances'])} must be one of "
            f"{list(STOPPED_INSTANCES)}"
        )
    if not isinstance(policy["notify_on_success"], bool):
        problems.append("policy.notify_on_success must be true or false")
    policy["copy_targets"] = _parse_copy_targets(policy["copy_targets"], problems)
    return policy


def _parse_copy_targets(raw: Any, problems: list[str]) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        problems.append("policy.copy_targets must be a list")
        return []
    targets = []
    for index, target in enumerate(raw):
        where = f"policy.copy_targets[{index}]"
        if not isinstance(target, dict) or set(target) != {
            "destination_vault_arn",
            "retention_days",
        }:
            problems.append(f"{where} must be {{destination_vault_arn, retention_days}}")
            continue
        arn, days = target["destination_vault_arn"], target["retention_days"]
        if not isinstance(arn, str) or not VAULT_ARN_RE.match(arn):
            problems.append(f"{where}.destination_vault_arn={show(arn)} is not a backup vault ARN")
        if not _is_int(days) or not 1 <= days <= 36500:
            problems.append(
                f"{where}.retention_days={show(days)} must be a whole number from 1 to 36500"
            )
        targets.append({"destination_vault_arn": arn, "retention_days": days})
    return targets


def parse_interval(event: dict[str, Any]) -> tuple[int | None, str | None]:
    """``interval_seconds``: the value, or None with why it was ignored. Never a
    problem: it only informs the overrun report, which must not cost the run."""
    if "interval_seconds" not in event:
        return None, None
    raw = event["interval_seconds"]
    if _is_int(raw) and raw >= 1:
        return raw, None
    return None, (
        f"interval_seconds={show(raw)} ignored: must be a whole number of seconds >= 1 "
        "(the run goes on without overrun reporting)"
    )


def _parse_pending(raw: Any, problems: list[str]) -> tuple[Pending, ...]:
    def valid(entry: Any) -> bool:
        return (
            isinstance(entry, list)
            and len(entry) == 4
            and all(isinstance(part, str) for part in entry)
            and INSTANCE_ID_RE.match(entry[0]) is not None
            and entry[1] in PLATFORMS
            and entry[2] in STARTABLE_STATES
            and ACCOUNT_RE.match(entry[3]) is not None
        )

    if not isinstance(raw, list) or len(raw) > MAX_PENDING or not all(map(valid, raw)):
        problems.append(
            f"continuation.pending must be at most {MAX_PENDING} entries "
            "[instance_id, linux|windows, running|stopped, account]"
        )
        return ()
    return tuple((e[0], e[1], e[2], e[3]) for e in raw)


def _parse_continuation(raw: Any, problems: list[str]) -> Continuation | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append("continuation must be an object")
        return None
    unknown = sorted(set(raw) - CONTINUATION_KEYS - LEGACY_CONTINUATION_KEYS)
    if unknown:
        problems.append(f"continuation has unknown fields {show(unknown)}")
    hop = raw.get("hop")
    if not _is_int(hop) or hop < 1:
        problems.append("continuation.hop must be a whole number >= 1")
    started = parse_time(raw.get("chain_started_at"), "continuation.chain_started_at", problems)
    token = raw.get("next_token")
    if token is not None and (not isinstance(token, str) or not 1 <= len(token) <= MAX_NEXT_TOKEN):
        problems.append(f"continuation.next_token must be null or a token of 1-{MAX_NEXT_TOKEN}")
    listing_done = raw.get("listing_done", False)
    if not isinstance(listing_done, bool):
        problems.append("continuation.listing_done must be true or false")
    pending = _parse_pending(raw.get("pending", []), problems)
    totals = raw.get("totals", {})
    if not isinstance(totals, dict):
        problems.append("continuation.totals must be an object")
        totals = {}
    overrun_reported = raw.get("overrun_reported", False)
    if not isinstance(overrun_reported, bool):
        problems.append("continuation.overrun_reported must be true or false")
    legacy = bool(LEGACY_CONTINUATION_KEYS & set(raw))
    if legacy and set(raw) & {"next_token", "listing_done", "pending"}:
        problems.append("continuation mixes the fields of two versions")
    if problems or started is None:
        return None
    if legacy:  # no cursor to resume from: list again, idempotent names cover the overlap
        return Continuation(hop=hop, chain_started_at=started, totals=totals, legacy=True)
    return Continuation(
        hop=hop,
        chain_started_at=started,
        next_token=token,
        listing_done=listing_done,
        pending=pending,
        totals=totals,
        overrun_reported=overrun_reported,
    )


def parse(event: Any) -> Request:
    """Validate the event; raise EventError listing every problem found."""
    if not isinstance(event, dict):
        raise EventError([f"the event must be a JSON object, not {type(event).__name__}"])
    problems: list[str] = []
    unknown = sorted(set(event) - EVENT_KEYS)
    if unknown:
        problems.append(f"unknown fields {show(unknown)}; known: {sorted(EVENT_KEYS)}")

    name = event.get("schedule_name")
    if not isinstance(name, str) or not SCHEDULE_NAME_RE.match(name):
        problems.append(
            f"schedule_name={show(name)} must match {SCHEDULE_NAME_RE.pattern} "
            "(lower-case letters, digits, '-'; at most 32)"
        )
    scheduled = parse_time(event.get("scheduled_time"), "scheduled_time", problems)
    tag_value = event.get("tag_value")
    if not isinstance(tag_value, str) or not 1 <= len(tag_value) <= 256:
        problems.append(f"tag_value={show(tag_value)} must be a string of 1-256 characters")
    dry_run = event.get("dry_run", False)
    if not isinstance(dry_run, bool):
        problems.append("dry_run must be true or false")
    policy = parse_policy(event.get("policy"), problems)
    continuation = _parse_continuation(event.get("continuation"), problems)
    interval, interval_problem = parse_interval(event)
    if problems:
        raise EventError(problems)
    assert scheduled is not None  # noqa: S101 - parse_time reported a problem otherwise
    return Request(
        schedule_name=name,
        scheduled_time=scheduled,
        tag_value=tag_value,
        dry_run=dry_run,
        policy=policy,
        continuation=continuation,
        interval_seconds=interval,
        interval_problem=interval_problem,
    )


@dataclass(frozen=True)
class SummaryRequest:
    """The state machine's request to publish a run's summary (section 5b)."""

    schedule_name: str
    scheduled_time: datetime


def is_summary_request(event: Any) -> bool:
    return isinstance(event, dict) and "run_summary" in event


def parse_summary_request(event: dict[str, Any]) -> SummaryRequest:
    """``{"run_summary": {"schedule_name", "scheduled_time"}}``, nothing else."""
    problems: list[str] = []
    unknown = sorted(set(event) - {"run_summary"})
    if unknown:
        problems.append(f"a run_summary request has no other fields: {show(unknown)}")
    body = event.get("run_summary")
    if not isinstance(body, dict) or set(body) != {"schedule_name", "scheduled_time"}:
        raise EventError(
            [*problems, "run_summary must be an object of schedule_name and scheduled_time"]
        )
    name = body["schedule_name"]
    if not isinstance(name, str) or not SCHEDULE_NAME_RE.match(name):
        problems.append(
            f"run_summary.schedule_name={show(name)} must match {SCHEDULE_NAME_RE.pattern}"
        )
    scheduled = parse_time(body["scheduled_time"], "run_summary.scheduled_time", problems)
    if problems or scheduled is None:
        raise EventError(problems)
    return SummaryRequest(schedule_name=name, scheduled_time=scheduled)
