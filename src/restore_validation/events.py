"""What the function is invoked with (docs/contracts.md section 6): AWS Backup's "Restore Job
State Change" event, delivered by EventBridge, or a continuation written by the function."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

RESTORE_JOB_ID_RE = re.compile(r"^[A-Za-z0-9-]{1,80}$")
COMMAND_ID_RE = re.compile(r"^[A-Za-z0-9-]{36}$")
MAX_HOPS = 20


class EventError(ValueError):
    """The event is not one this function handles."""


@dataclass(frozen=True)
class Request:
    restore_job_id: str
    hop: int = 0
    command_id: str | None = None

    @property
    def continued(self) -> bool:
        return self.hop > 0


def parse(event: Any) -> Request:
    if not isinstance(event, dict):
        raise EventError("the event is not a JSON object")
    if "continuation" in event:
        return _continuation(event["continuation"])
    if (
        event.get("source") != "aws.backup"
        or event.get("detail-type") != "Restore Job State Change"
    ):
        raise EventError(
            "not an AWS Backup Restore Job State Change event: "
            f"source={event.get('source')!r} detail-type={event.get('detail-type')!r}"
        )
    detail = event.get("detail")
    job_id = detail.get("restoreJobId") if isinstance(detail, dict) else None
    if not isinstance(job_id, str) or not RESTORE_JOB_ID_RE.match(job_id):
        raise EventError(f"detail.restoreJobId is missing or malformed: {job_id!r}")
    return Request(restore_job_id=job_id)


def _continuation(body: Any) -> Request:
    if not isinstance(body, dict):
        raise EventError("continuation is not a JSON object")
    job_id, hop, command_id = body.get("restore_job_id"), body.get("hop"), body.get("command_id")
    if not isinstance(job_id, str) or not RESTORE_JOB_ID_RE.match(job_id):
        raise EventError(f"continuation.restore_job_id is malformed: {job_id!r}")
    if not isinstance(hop, int) or isinstance(hop, bool) or not 1 <= hop <= MAX_HOPS:
        raise EventError(f"continuation.hop must be a whole number from 1 to {MAX_HOPS}: {hop!r}")
    if command_id is not None and (
        not isinstance(command_id, str) or not COMMAND_ID_RE.match(command_id)
    ):
        raise EventError(f"continuation.command_id is malformed: {command_id!r}")
    return Request(restore_job_id=job_id, hop=hop, command_id=command_id)


def continuation(request: Request, command_id: str | None) -> dict[str, Any]:
    """The event handing a validation on to the next invocation."""
    return {
        "continuation": {
            "restore_job_id": request.restore_job_id,
            "hop": request.hop + 1,
            "command_id": command_id,
        }
    }
