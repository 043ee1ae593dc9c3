"""Execution names and inputs (docs/contracts.md section 2).

Both are pure functions of the schedule's event and the instance, so a retried or
re-run event produces the same name and byte-identical input: Step Functions then
answers ExecutionAlreadyExists (or returns the running execution) and nothing is
started twice.
"""

from __future__ import annotations

import json
import re
from typing import Any

from discovery.events import Request
from discovery.inventory import Instance

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def execution_name(request: Request, instance_id: str) -> str:
    stamp = request.scheduled_time.strftime("%Y%m%dT%H%M%SZ")
    name = f"{request.schedule_name}-{instance_id}-{stamp}"
    if not NAME_RE.match(name):  # pragma: no cover - guaranteed by the event's validation
        raise ValueError(f"execution name {name!r} breaks the 80-character [A-Za-z0-9_-] rule")
    return name


def execution_input(request: Request, instance: Instance) -> dict[str, Any]:
    return {
        "instance_id": instance.instance_id,
        "instance_arn": instance.arn,
        "platform": instance.platform,
        "instance_state": instance.state,
        "run_id": execution_name(request, instance.instance_id),
        "schedule_name": request.schedule_name,
        "scheduled_time": request.scheduled_time_text,
        # The state machine cannot do date arithmetic: it sets the guard's expiry from this.
        "scheduled_epoch": int(request.scheduled_time.timestamp()),
        "policy": request.policy,
    }


def serialize(document: dict[str, Any]) -> str:
    """Canonical JSON: the same document always gives the same bytes."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))
