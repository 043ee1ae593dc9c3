"""Helpers for the discovery tests: virtual time, a Lambda context, a schedule's event."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.discovery import fleet

REGION = fleet.REGION
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{fleet.ACCOUNT}:function:acb-discovery"
MARGIN_SECONDS = 30  # CONTINUATION_MARGIN_SECONDS in the tests' environment


class VirtualClock:
    """discovery.clock's seam in virtual time: sleeping advances the clock at once.

    Thread-safe, as the seam requires (the StartExecution pool sleeps too). ``slept``
    records every wait asked for. ``now()`` stays real unless ``start`` is given:
    moto stamps an execution's startDate with real time, and the handler compares the
    two.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._seconds = 0.0
        self._start = start
        self.slept: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._seconds

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self._seconds += max(0.0, seconds)

    def now(self) -> datetime:
        if self._start is None:
            return datetime.now(UTC)
        with self._lock:
            return self._start + timedelta(seconds=self._seconds)

    def advance(self, seconds: float) -> None:
        self.sleep(seconds)


@dataclass
class FakeContext:
    """A Lambda context; the handler reads its remaining time once, at the start.

    ``seconds``: the invocation's remaining time. With the pace at one start a
    virtual second (``paced`` fixture), an invocation makes about
    ``seconds - MARGIN_SECONDS`` starts before it hands the rest on.
    """

    seconds: float = 900
    invoked_function_arn: str = FUNCTION_ARN
    aws_request_id: str = "00000000-0000-0000-0000-00000000abcd"

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def budget(starts: int) -> FakeContext:
    """A context with time for about ``starts`` paced starts."""
    return FakeContext(seconds=MARGIN_SECONDS + starts)


def schedule_event(**overrides: Any) -> dict[str, Any]:
    """A schedule's input as the module writes it (docs/contracts.md section 1)."""
    event: dict[str, Any] = {
        "schedule_name": "nightly",
        "scheduled_time": "2026-11-23T01:00:00Z",
        "tag_value": "nightly",
        "dry_run": False,
        "policy": {
            "retention_days": 35,
            "max_freeze_seconds": 60,
            "on_freeze_failure": "crash-consistent",
            "stopped_instances": "backup",
            "copy_targets": [],
            "notify_on_success": False,
        },
    }
    event.update(overrides)
    return event
