"""Helpers for the discovery tests: a scripted Lambda context and a schedule's event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.discovery import fleet

REGION = fleet.REGION
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{fleet.ACCOUNT}:function:acb-discovery"


@dataclass
class FakeContext:
    """A Lambda context whose remaining time is scripted.

    ``budget_calls``: after that many calls to get_remaining_time_in_millis the time
    left drops below any margin (None: plenty of time for ever).
    """

    budget_calls: int | None = None
    calls: int = 0
    invoked_function_arn: str = FUNCTION_ARN
    aws_request_id: str = "00000000-0000-0000-0000-00000000abcd"

    def get_remaining_time_in_millis(self) -> int:
        self.calls += 1
        if self.budget_calls is not None and self.calls > self.budget_calls:
            return 1_000
        return 900_000


def schedule_event(**overrides: Any) -> dict[str, Any]:
    """A schedule's input as the module writes it (docs/contracts.md section 1)."""
    event: dict[str, Any] = {
        "schedule_name": "nightly",
        "scheduled_time": "2026-11-23T01:00:00Z",
        "tag_value": "nightly",
        "dry_run": False,
        "policy": {
            "retention_days": 35,
            "max_freeze_seconds": 30,
            "on_freeze_failure": "crash-consistent",
            "stopped_instances": "backup",
            "copy_targets": [],
            "notify_on_success": False,
        },
    }
    event.update(overrides)
    return event
