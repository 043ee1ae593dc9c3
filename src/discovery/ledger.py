"""The run ledger (docs/contracts.md section 5b), as discovery writes and reads it.

One item per run (``run/<schedule>/<YYYYMMDDTHHMMSSZ>``) counts what the run's
executions recorded; discovery's last hop adds how many it started and its own counts.
One item per schedule (``schedule/<name>``) remembers the schedule's latest run and the
storms whose alert is open. Every write is one atomic UpdateItem; the summary is
claimed with a conditional write, so it is published once however many ask.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

RUN = "run/"
SCHEDULE = "schedule/"
MEMBER_CAP = 50  # group_members kept per reason (the state machine's cap)
DEFAULT_TTL_SECONDS = 3_196_800  # 37 days


def compact(moment: datetime) -> str:
    """The run's time as in its execution names: ``YYYYMMDDTHHMMSSZ``."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def from_compact(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def run_key(schedule_name: str, scheduled: datetime) -> str:
    return f"{RUN}{schedule_name}/{compact(scheduled)}"


def schedule_key(schedule_name: str) -> str:
    return f"{SCHEDULE}{schedule_name}"


def _number(item: dict[str, Any], name: str) -> int | None:
    value = item.get(name)
    if not isinstance(value, dict) or "N" not in value:
        return None
    return int(value["N"])


def _text(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value.get("S") if isinstance(value, dict) else None


@dataclass(frozen=True)
class Group:
    """The executions of one run that would notify for one reason_code."""

    code: str
    count: int
    members: tuple[str, ...] = ()
    stage: str = ""
    type: str = ""
    severity: str = ""
    outcome: str = ""
    reason: str = ""


@dataclass(frozen=True)
class RunRecord:
    """A run item, read."""

    schedule_name: str
    scheduled: datetime
    finished: int = 0
    expected: int | None = None  # None: discovery's last hop never wrote
    discovery_state: str | None = None  # complete, incomplete; None: not reported
    discovery: dict[str, Any] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    consistency: dict[str, int] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    summary: str | None = None

    @classmethod
    def from_item(cls, schedule_name: str, scheduled: datetime, item: dict[str, Any]) -> RunRecord:
        outcomes: dict[str, int] = {}
        consistency: dict[str, int] = {}
        counts: dict[str, int] = {}
        for name, value in item.items():
            if "N" not in value:
                continue
            kind, _, rest = name.partition(":")
            if kind == "outcome":
                outcomes[rest] = int(value["N"])
            elif kind == "consistency":
                consistency[rest] = int(value["N"])
            elif kind == "group_count":
                counts[rest] = int(value["N"])
        groups = {}
        for code, count in counts.items():
            info = (item.get(f"group_info:{code}") or {}).get("M", {})
            members = (item.get(f"group_members:{code}") or {}).get("L", [])
            groups[code] = Group(
                code=code,
                count=count,
                members=tuple(m["S"] for m in members if "S" in m),
                **{
                    key: (info.get(key) or {}).get("S", "")
                    for key in ("stage", "type", "severity", "outcome", "reason")
                },
            )
        try:
            discovery = json.loads(_text(item, "discovery") or "{}")
        except ValueError:
            discovery = {}
        return cls(
            schedule_name=schedule_name,
            scheduled=scheduled,
            finished=_number(item, "finished") or 0,
            expected=_number(item, "expected"),
            discovery_state=_text(item, "discovery_state"),
            discovery=discovery if isinstance(discovery, dict) else {},
            outcomes=outcomes,
            consistency=consistency,
            groups=groups,
            summary=_text(item, "summary"),
        )

    @property
    def complete(self) -> bool:
        """Discovery's last hop reported, and every execution it started recorded."""
        return (
            self.discovery_state is not None
            and self.expected is not None
            and self.finished >= self.expected
        )

    @property
    def due(self) -> bool:
        return self.complete and self.summary is None

    def storms(self, threshold: int) -> dict[str, Group]:
        return {code: g for code, g in sorted(self.groups.items()) if g.count > threshold}


class Ledger:
    """The run ledger table, through a DynamoDB client."""

    def __init__(self, ddb: Any, table: str, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        self.ddb = ddb
        self.table = table
        self.ttl_seconds = ttl_seconds

    def _expires(self, scheduled: datetime) -> str:
        return str(int((scheduled + timedelta(seconds=self.ttl_seconds)).timestamp()))

    def record_discovery(
        self,
        schedule_name: str,
        scheduled: datetime,
        *,
        expected: int,
        state: str,
        counts: dict[str, Any],
        now: datetime,
    ) -> RunRecord:
        """Discovery's last hop: how many executions the run has, and its own counts.

        SET, not ADD: a retried last hop writes the same run's totals again."""
        response = self.ddb.update_item(
            TableName=self.table,
            Key={"ledger_key": {"S": run_key(schedule_name, scheduled)}},
            UpdateExpression=(
                "SET expected = :expected, discovery = :counts, discovery_state = :state, "
                "discovery_at = :now, schedule_name = if_not_exists(schedule_name, :schedule), "
                "scheduled_time = if_not_exists(scheduled_time, :time), "
                "expires_at = if_not_exists(expires_at, :expires)"
            ),
            ExpressionAttributeValues={
                ":expected": {"N": str(expected)},
                ":counts": {"S": json.dumps(counts, sort_keys=True)},
                ":state": {"S": state},
                ":now": {"S": _iso(now)},
                ":schedule": {"S": schedule_name},
                ":time": {"S": _iso(scheduled)},
                ":expires": {"N": self._expires(scheduled)},
            },
            ReturnValues="ALL_NEW",
        )
        return RunRecord.from_item(schedule_name, scheduled, response["Attributes"])

    def advance(self, schedule_name: str, scheduled: datetime) -> datetime | None:
        """Make this run the schedule's latest; the previous latest run, if this one is
        newer (an older or a repeated run moves nothing and returns None)."""
        this = compact(scheduled)
        try:
            response = self.ddb.update_item(
                TableName=self.table,
                Key={"ledger_key": {"S": schedule_key(schedule_name)}},
                UpdateExpression="SET last_run = :run, expires_at = :expires",
                ConditionExpression="attribute_not_exists(last_run) OR last_run < :run",
                ExpressionAttributeValues={
                    ":run": {"S": this},
                    ":expires": {"N": self._expires(scheduled)},
                },
                ReturnValues="UPDATED_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        previous = _text(response.get("Attributes", {}), "last_run")
        return from_compact(previous) if previous else None

    def claim(
        self, schedule_name: str, scheduled: datetime, kind: str, now: datetime, token: str
    ) -> RunRecord | None:
        """The run, claimed for its one summary; None when it was claimed already.
        ``token`` (unique to the claimer) lets the claim be given back."""
        try:
            response = self.ddb.update_item(
                TableName=self.table,
                Key={"ledger_key": {"S": run_key(schedule_name, scheduled)}},
                UpdateExpression=(
                    "SET summary = :kind, summary_at = :now, summary_token = :token, "
                    "schedule_name = if_not_exists(schedule_name, :schedule), "
                    "scheduled_time = if_not_exists(scheduled_time, :time), "
                    "expires_at = if_not_exists(expires_at, :expires)"
                ),
                ConditionExpression="attribute_not_exists(summary)",
                ExpressionAttributeValues={
                    ":kind": {"S": kind},
                    ":now": {"S": _iso(now)},
                    ":token": {"S": token},
                    ":schedule": {"S": schedule_name},
                    ":time": {"S": _iso(scheduled)},
                    ":expires": {"N": self._expires(scheduled)},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        return replace(
            RunRecord.from_item(schedule_name, scheduled, response["Attributes"]), summary=None
        )

    def withdraw(self, schedule_name: str, scheduled: datetime, token: str) -> None:
        """Give a claim back (its summary could not be published): the next asker may."""
        try:
            self.ddb.update_item(
                TableName=self.table,
                Key={"ledger_key": {"S": run_key(schedule_name, scheduled)}},
                UpdateExpression="REMOVE summary, summary_at, summary_token",
                ConditionExpression="summary_token = :token",
                ExpressionAttributeValues={":token": {"S": token}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def open_storms(self, schedule_name: str) -> set[str]:
        item = self.ddb.get_item(
            TableName=self.table,
            Key={"ledger_key": {"S": schedule_key(schedule_name)}},
            ConsistentRead=True,
        ).get("Item", {})
        return set((item.get("open_storms") or {}).get("SS", []))

    def set_open_storms(self, schedule_name: str, codes: set[str], scheduled: datetime) -> None:
        key = {"ledger_key": {"S": schedule_key(schedule_name)}}
        if codes:
            self.ddb.update_item(
                TableName=self.table,
                Key=key,
                UpdateExpression="SET open_storms = :codes, "
                "expires_at = if_not_exists(expires_at, :expires)",
                ExpressionAttributeValues={
                    ":codes": {"SS": sorted(codes)},
                    ":expires": {"N": self._expires(scheduled)},
                },
            )
        else:
            self.ddb.update_item(
                TableName=self.table, Key=key, UpdateExpression="REMOVE open_storms"
            )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
