"""The schedule's event (docs/contracts.md section 1) and a continuation's, validated.

Every problem is collected and reported at once, in words, so that a hand-written
event for a manual run is easy to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SCHEDULE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
INSTANCE_ID_RE = re.compile(r"^i-[0-9a-f]{8,17}$")
VAULT_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:backup:[a-z0-9-]+:[0-9]{12}:backup-vault:[A-Za-z0-9_.-]{2,50}$"
)
PLACEHOLDER = "<aws.scheduler.scheduled-time>"

ON_FREEZE_FAILURE = ("crash-consistent", "skip", "fail")
STOPPED_INSTANCES = ("backup", "skip")
POLICY_DEFAULTS: dict[str, Any] = {
    "retention_days": 35,
    "max_freeze_seconds": 30,
    "on_freeze_failure": "crash-consistent",
    "stopped_instances": "backup",
    "copy_targets": [],
    "notify_on_success": False,
}
EVENT_KEYS = {"schedule_name", "scheduled_time", "tag_value", "dry_run", "policy", "continuation"}
CONTINUATION_KEYS = {
    "hop",
    "resume_from_instance_id",
    "retry_instance_ids",
    "chain_started_at",
    "totals",
}
MAX_RETRY_IDS = 1000


class EventError(ValueError):
    """The event is malformed; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("malformed event: " + "; ".join(problems))


@dataclass(frozen=True)
class Continuation:
    """Where the previous invocation stopped: the rest of the fleet is this hop's work."""

    hop: int
    chain_started_at: datetime
    resume_from_instance_id: str | None = None
    retry_instance_ids: tuple[str, ...] = ()
    totals: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "hop": self.hop,
            "chain_started_at": format_time(self.chain_started_at),
            "resume_from_instance_id": self.resume_from_instance_id,
            "retry_instance_ids": list(self.retry_instance_ids),
            "totals": self.totals,
        }


@dataclass(frozen=True)
class Request:
    schedule_name: str
    scheduled_time: datetime
    tag_value: str
    dry_run: bool
    policy: dict[str, Any]
    continuation: Continuation | None = None

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
        if continuation is not None:
            event["continuation"] = continuation.as_dict()
        return event


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(raw: Any, name: str, problems: list[str]) -> datetime | None:
    if raw == PLACEHOLDER:
        problems.append(
            f"{name} is the unfilled placeholder {PLACEHOLDER}: EventBridge Scheduler fills it; "
            "for a manual run, give an RFC 3339 UTC time such as 2026-11-23T01:00:00Z"
        )
        return None
    if not isinstance(raw, str):
        problems.append(f"{name} must be an RFC 3339 time string such as 2026-11-23T01:00:00Z")
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        problems.append(f"{name}={raw!r} is not an RFC 3339 time such as 2026-11-23T01:00:00Z")
        return None
    if moment.tzinfo is None:
        problems.append(f"{name}={raw!r} has no time zone: write it in UTC, ending in Z")
        return None
    return moment.astimezone(UTC).replace(microsecond=0)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _whole(policy: dict[str, Any], key: str, low: int, high: int, problems: list[str]) -> None:
    value = policy[key]
    if not _is_int(value) or not low <= value <= high:
        problems.append(f"policy.{key}={value!r} must be a whole number from {low} to {high}")


def parse_policy(raw: Any, problems: list[str]) -> dict[str, Any]:
    """The policy with every field present (defaults filled), as the state machine expects."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.append("policy must be an object")
        return dict(POLICY_DEFAULTS)
    unknown = sorted(set(raw) - set(POLICY_DEFAULTS))
    if unknown:
        problems.append(f"policy has unknown fields {unknown}; known: {sorted(POLICY_DEFAULTS)}")
    policy = {key: raw.get(key, default) for key, default in POLICY_DEFAULTS.items()}
    _whole(policy, "retention_days", 1, 36500, problems)
    _whole(policy, "max_freeze_seconds", 1, 3600, problems)
    if policy["on_freeze_failure"] not in ON_FREEZE_FAILURE:
        problems.append(
            f"policy.on_freeze_failure={policy['on_freeze_failure']!r} must be one of "
            f"{list(ON_FREEZE_FAILURE)}"
        )
    if policy["stopped_instances"] not in STOPPED_INSTANCES:
        problems.append(
            f"policy.stopped_instances={policy['stopped_instances']!r} must be one of "
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
            problems.append(f"{where}.destination_vault_arn={arn!r} is not a backup vault ARN")
        if not _is_int(days) or not 1 <= days <= 36500:
            problems.append(
                f"{where}.retention_days={days!r} must be a whole number from 1 to 36500"
            )
        targets.append({"destination_vault_arn": arn, "retention_days": days})
    return targets


def _parse_continuation(raw: Any, problems: list[str]) -> Continuation | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append("continuation must be an object")
        return None
    unknown = sorted(set(raw) - CONTINUATION_KEYS)
    if unknown:
        problems.append(f"continuation has unknown fields {unknown}")
    hop = raw.get("hop")
    if not _is_int(hop) or hop < 1:
        problems.append("continuation.hop must be a whole number >= 1")
    started = parse_time(raw.get("chain_started_at"), "continuation.chain_started_at", problems)
    resume = raw.get("resume_from_instance_id")
    if resume is not None and (not isinstance(resume, str) or not INSTANCE_ID_RE.match(resume)):
        problems.append("continuation.resume_from_instance_id must be an instance ID or null")
    retry = raw.get("retry_instance_ids", [])
    if (
        not isinstance(retry, list)
        or len(retry) > MAX_RETRY_IDS
        or not all(isinstance(i, str) and INSTANCE_ID_RE.match(i) for i in retry)
    ):
        problems.append(
            f"continuation.retry_instance_ids must be at most {MAX_RETRY_IDS} instance IDs"
        )
        retry = []
    totals = raw.get("totals", {})
    if not isinstance(totals, dict):
        problems.append("continuation.totals must be an object")
        totals = {}
    if problems or started is None:
        return None
    return Continuation(
        hop=hop,
        chain_started_at=started,
        resume_from_instance_id=resume,
        retry_instance_ids=tuple(retry),
        totals=totals,
    )


def parse(event: Any) -> Request:
    """Validate the event; raise EventError listing every problem found."""
    if not isinstance(event, dict):
        raise EventError([f"the event must be a JSON object, not {type(event).__name__}"])
    problems: list[str] = []
    unknown = sorted(set(event) - EVENT_KEYS)
    if unknown:
        problems.append(f"unknown fields {unknown}; known: {sorted(EVENT_KEYS)}")

    name = event.get("schedule_name")
    if not isinstance(name, str) or not SCHEDULE_NAME_RE.match(name):
        problems.append(
            f"schedule_name={name!r} must match {SCHEDULE_NAME_RE.pattern} "
            "(lower-case letters, digits, '-'; at most 32)"
        )
    scheduled = parse_time(event.get("scheduled_time"), "scheduled_time", problems)
    tag_value = event.get("tag_value")
    if not isinstance(tag_value, str) or not 1 <= len(tag_value) <= 256:
        problems.append(f"tag_value={tag_value!r} must be a string of 1-256 characters")
    dry_run = event.get("dry_run", False)
    if not isinstance(dry_run, bool):
        problems.append("dry_run must be true or false")
    policy = parse_policy(event.get("policy"), problems)
    continuation = _parse_continuation(event.get("continuation"), problems)
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
    )
