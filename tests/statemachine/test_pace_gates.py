"""The pace gates (docs/contracts.md section 9): calls counted per second in the guard table.

SendCommand: the freeze takes its place in the current second together with its freeze
slot (one transaction), or waits unfrozen; the thaw takes this second or books one of
the next three and waits for it, and past that goes at once. DescribeBackupJob: a poll
reserves its second a poll interval ahead and waits until it. The tests fill the gate's
items as other executions would and look at when the calls were made.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator

import pytest

import emulator
from emulator.statemachine import GUARD_TABLE, TEMPLATE_VARIABLES, World, emulated_aws

SEND_COMMAND = "ssm:SendCommand"
DESCRIBE_BACKUP_JOB = "backup:DescribeBackupJob"


def _second(moment: _dt.datetime) -> int:
    return int(moment.timestamp())


def _now() -> int:
    return _second(emulator.clock.now())


def _key(api: str, second: int) -> dict:
    return {"instance_id": {"S": f"pace#{api}@{second}"}}


def _fill(world: World, api: str, seconds: Iterable[int], calls: int) -> None:
    for second in seconds:
        world.ddb.put_item(
            TableName=GUARD_TABLE,
            Item={**_key(api, second), "calls": {"N": str(calls)}},
        )


def _calls(world: World, api: str, second: int) -> int:
    item = world.ddb.get_item(TableName=GUARD_TABLE, Key=_key(api, second), ConsistentRead=True)
    return int(item.get("Item", {}).get("calls", {}).get("N", "0"))


def _placed(world: World, api: str, moment: _dt.datetime) -> int:
    """The second whose place a call made at ``moment`` took: its own, or the one before
    (a call made without a wait lands within a second of taking its place)."""
    second = _second(moment)
    return second if _calls(world, api, second) else second - 1


@pytest.fixture
def world(emulation: emulator.EmulatedClock) -> Iterator[World]:
    with emulated_aws() as fresh:
        yield fresh


def test_defaults_one_send_command_and_five_polls_a_second() -> None:
    # modules/state-machine/budget.tf with the default budget (its terraform test agrees).
    assert TEMPLATE_VARIABLES["send_command_gate_calls"] == 1
    assert TEMPLATE_VARIABLES["job_poll_gate_calls"] == 5


def test_each_command_takes_its_place_in_the_second_it_is_sent(world: World) -> None:
    run = world.run(world.instance())
    assert run.output["consistency"] == "application-consistent"
    freeze, thaw = run.commands
    for command in (freeze, thaw):
        assert _calls(world, SEND_COMMAND, _placed(world, SEND_COMMAND, command.sent_at)) == 1


def test_a_freeze_waits_unfrozen_while_its_seconds_are_full(world: World) -> None:
    start = _now()
    _fill(world, SEND_COMMAND, range(start, start + 90), 1)
    instance_id = world.instance()
    run = world.run(instance_id)
    assert run.output["consistency"] == "application-consistent"
    assert len(run.entered("WaitForFreezeSlot")) >= 5
    freeze = run.commands[0]
    assert _second(freeze.sent_at) >= start + 90
    (interval,) = run.intervals
    assert _second(interval.start) >= start + 90  # waited unfrozen, never frozen first
    placed = _placed(world, SEND_COMMAND, freeze.sent_at)
    assert placed >= start + 90
    assert _calls(world, SEND_COMMAND, placed) == 1


def _fill_from_the_freeze(world: World) -> list[int]:
    """When the instance freezes, fill the next two minutes of SendCommand seconds."""
    filled: list[int] = []

    def fill(param) -> bool:
        if param("Parameters", {}).get("Command") == ["freeze"] and not filled:
            start = _now() + 1  # the freeze command's own second keeps its place
            seconds = range(start, start + 120)
            _fill(world, SEND_COMMAND, seconds, 1)
            filled.extend(seconds)
        return False  # not a fault: only a hook

    emulator.faults.inject("ssm", "SendCommand", "Unused", times=1, when=fill)
    return filled


def test_the_thaw_books_the_next_second_with_room_and_waits_for_it(world: World) -> None:
    instance_id = world.instance()
    probes: list[int] = []

    def fill_this_second_and_the_next(param) -> bool:
        # Each snapshot probe fills its own second and the next: the thaw that follows
        # the last probe finds them full, and the one after free.
        second = _now()
        probes.append(second)
        _fill(world, SEND_COMMAND, [second, second + 1], 1)
        return False  # not a fault: only a hook

    emulator.faults.inject("ec2", "DescribeSnapshots", "Unused", when=fill_this_second_and_the_next)
    run = world.run(instance_id)
    assert run.output["consistency"] == "application-consistent"
    thaw = run.commands[1]
    assert thaw.kind == "thaw"
    booked = probes[-1] + 2
    assert _calls(world, SEND_COMMAND, booked) == 1
    assert len(run.entered("ReserveThawCommand")) in (2, 3)  # full, (full,) booked
    assert len(run.entered("WaitForThawCommand")) == 1
    assert _second(thaw.sent_at) in (booked, booked + 1)  # not before its second
    assert thaw.sent_at >= _dt.datetime.fromtimestamp(booked, _dt.UTC)


def test_the_thaw_is_held_at_most_three_seconds_on_then_goes_at_once(world: World) -> None:
    instance_id = world.instance()
    filled = _fill_from_the_freeze(world)
    run = world.run(instance_id)
    assert filled
    assert run.output["consistency"] == "application-consistent"
    thaw = run.commands[1]
    # The current second and the next two were full: the fourth try goes ungated, now.
    assert len(run.entered("ReserveThawCommand")) == 4
    placed = _second(thaw.sent_at)
    placed = placed if _calls(world, SEND_COMMAND, placed) == 2 else placed - 1
    assert placed in filled
    assert _calls(world, SEND_COMMAND, placed) == 2  # counted all the same
    frozen = run.intervals[0]
    assert frozen.ended_by == "thaw"


def test_a_gate_that_cannot_be_written_sends_the_thaw_at_once(world: World) -> None:
    instance_id = world.instance()
    emulator.faults.inject(
        "dynamodb",
        "UpdateItem",
        "InternalServerError",
        times=5,
        when=lambda param: (
            param("Key", {}).get("instance_id", {}).get("S", "").startswith("pace#ssm:SendCommand")
        ),
    )
    run = world.run(instance_id)
    assert run.output["consistency"] == "application-consistent"
    assert len(run.entered("ReserveThawCommand")) == 1
    assert run.entered("WaitForThawCommand") == []
    assert run.intervals[0].ended_by == "thaw"


def test_a_poll_waits_for_a_second_with_room(world: World) -> None:
    start = _now()
    # Every second of the next half hour already holds the budget's five polls, but one
    # in seven (the unpaced polls would land on a multiple of the interval from here).
    full = [s for s in range(start, start + 1800) if s % 7 != 3]
    _fill(world, DESCRIBE_BACKUP_JOB, full, 5)
    instance_id = world.instance()
    emulator.backup.plan(instance_id, run_seconds=900)
    run = world.run(instance_id)
    assert run.status == "SUCCEEDED"
    polls = [
        _dt.datetime.fromisoformat(str(event["timestamp"]))
        for event in run.entered("DescribeBackupJob")
    ]
    assert len(polls) >= 3
    for poll in polls:
        # The wait ends at the start of the reserved second; the call follows at once.
        placed = _second(poll) if _second(poll) % 7 == 3 else _second(poll) - 1
        assert placed % 7 == 3, poll
        assert _calls(world, DESCRIBE_BACKUP_JOB, placed) == 1
    assert {_calls(world, DESCRIBE_BACKUP_JOB, second) for second in full} == {5}
