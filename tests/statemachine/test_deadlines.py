"""Deadlines inside the freeze window come from time: slow AWS calls never let the watchdog win."""

from __future__ import annotations

import pytest

import emulator
from emulator.statemachine import World, emulated_aws


@pytest.fixture(scope="module")
def slow_world(emulation: emulator.EmulatedClock):
    """Every AWS call a Task makes takes 0.5 s of emulated time; polls inside the window
    every 10 s, so that a 900 s freeze window stays a few hundred states."""
    import emulator.statemachine as machine

    saved = machine.WAIT_SECONDS
    machine.WAIT_SECONDS = 180.0  # a few hundred states: give a loaded host time
    with emulated_aws({"snapshot_poll_seconds": 10}) as world:
        emulator.sfn.set_call_latency(0.5)
        try:
            yield world
        finally:
            emulator.sfn.set_call_latency(0)
            machine.WAIT_SECONDS = saved


@pytest.mark.parametrize("cap", [15, 300, 900])
def test_the_thaw_beats_the_watchdog_whatever_the_call_latency(slow_world: World, cap: int) -> None:
    instance_id = slow_world.instance()
    emulator.backup.plan(instance_id, start_after=cap + 60)  # never inside the window
    run = slow_world.run(instance_id, policy={"max_freeze_seconds": cap})

    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert run.output["consistency"] == "crash-consistent-timeout"
    (interval,) = run.intervals
    thaw = next(c for c in run.commands if c.kind == "thaw")
    assert thaw.sent_at < interval.deadline, (thaw.sent_at, interval.deadline)
    assert interval.ended_by == "thaw"
    assert interval.end < interval.deadline
