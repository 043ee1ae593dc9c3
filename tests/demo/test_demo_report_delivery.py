"""The demo's delivery check tells a run's own events (node ``schedule/<name>``) from
events about instances outside the fleet. Fast: fed hand-made events, no emulator runs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from demo.report import Cycle, check_delivery
from demo.servicenow import Delivery

INSTANCE = "i-0123456789abcdef0"
RUN_NODE = "schedule/nightly"


def _event(node: str, event_type: str) -> dict[str, Any]:
    return {"source": "app-consistent-backup", "node": node, "type": event_type}


def _checked(events: list[dict[str, Any]]) -> list[str]:
    cycle = Cycle(
        instances=[],
        discovery={},
        notifications=events,
        destinations=[],
        dead_letters=0,
        recovery_points=0,
        live_note="",
        delivery=Delivery(
            accepted=events,
            bodies=[json.dumps({"records": [e]}) for e in events],
            statuses=[200] * len(events),
        ),
    )
    check_delivery(cycle, {INSTANCE})
    return cycle.problems


@pytest.mark.parametrize("run_event", ["BackupStorm", "BackupRunOverrun"])
def test_a_runs_own_events_are_no_strangers(run_event: str) -> None:
    events = [
        _event(INSTANCE, "BackupFailed"),
        _event(RUN_NODE, run_event),
        _event(RUN_NODE, "BackupRunSummary"),
    ]

    assert _checked(events) == []


def test_an_event_for_no_instance_of_the_fleet_is_still_reported() -> None:
    events = [_event("i-0fffffffffffffff0", "BackupFailed"), _event(RUN_NODE, "BackupRunSummary")]

    (problem,) = _checked(events)

    assert problem.startswith("ServiceNow received events for no instance of the fleet")
    assert "i-0fffffffffffffff0" in problem
