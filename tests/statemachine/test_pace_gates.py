"""DescribeBackupJob's pace gate (docs/contracts.md section 9): polls counted per second.

A poll reserves its second in the guard table (``pace#backup:DescribeBackupJob@<second>``)
a poll interval ahead and waits until it starts. A full second moves it one second on,
twice; then a quarter of the interval on; then one interval on, doubling up to eight;
then it goes ungated. The tests fill the gate's items as other executions would and look
at when the polls were made.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator

import pytest

import emulator
from emulator.statemachine import GUARD_TABLE, TEMPLATE_VARIABLES, World, emulated_aws

DESCRIBE_BACKUP_JOB = "backup:DescribeBackupJob"
GATE = TEMPLATE_VARIABLES["job_poll_gate_calls"]  # what the default budget derives


def _second(moment: _dt.datetime) -> int:
    return int(moment.timestamp())


def _now() -> int:
    return _second(emulator.clock.now())


def _key(second: int) -> dict:
    return {"instance_id": {"S": f"pace#{DESCRIBE_BACKUP_JOB}@{second}"}}


def _fill(world: World, seconds: Iterable[int]) -> None:
    items = [
        {"PutRequest": {"Item": {**_key(second), "calls": {"N": str(GATE)}}}} for second in seconds
    ]
    for start in range(0, len(items), 25):  # BatchWriteItem's most
        world.ddb.batch_write_item(RequestItems={GUARD_TABLE: items[start : start + 25]})


def _calls(world: World, second: int) -> int:
    item = world.ddb.get_item(TableName=GUARD_TABLE, Key=_key(second), ConsistentRead=True)
    return int(item.get("Item", {}).get("calls", {}).get("N", "0"))


def _stamp(event: dict) -> _dt.datetime:
    return _dt.datetime.fromisoformat(str(event["timestamp"]))


def _polls(run) -> list[_dt.datetime]:
    return [_stamp(event) for event in run.entered("DescribeBackupJob")]


def _backed_up(world: World, job_seconds: int):
    """One instance's run with a job of ``job_seconds``, ended SUCCEEDED."""
    instance_id = world.instance()
    emulator.backup.plan(instance_id, run_seconds=job_seconds)
    run = world.run(instance_id)
    assert run.status == "SUCCEEDED"
    return run


def _alone_in_its_second(world: World, poll: _dt.datetime) -> bool:
    # The wait ends at the start of the reserved second, so the call lands in it or, a
    # truncated timestamp late, in the next.
    return _calls(world, _second(poll)) + _calls(world, _second(poll) - 1) == 1


@pytest.fixture
def world(emulation: emulator.EmulatedClock) -> Iterator[World]:
    with emulated_aws() as fresh:
        yield fresh


def test_every_poll_takes_its_place_in_its_second(world: World) -> None:
    run = _backed_up(world, 900)
    assert run.output["consistency"] == "application-consistent"
    polls = _polls(run)
    assert len(polls) >= 3
    assert all(_alone_in_its_second(world, p) for p in polls)


def test_a_poll_waits_for_a_second_with_room(world: World) -> None:
    start = _now()
    # Every second of the next half hour already holds the gate's five polls, but one in
    # three (the unpaced polls would land on a multiple of the interval from here).
    full = [s for s in range(start, start + 1800) if s % 3 != 1]
    _fill(world, full)
    polls = _polls(_backed_up(world, 900))
    assert len(polls) >= 3
    for poll in polls:
        placed = _second(poll) if _second(poll) % 3 == 1 else _second(poll) - 1
        assert placed % 3 == 1, poll
        assert _calls(world, placed) == 1
    assert {_calls(world, second) for second in full} == {GATE}  # none over the gate


def test_a_full_gate_thins_the_polls_out_rather_than_going_over_it(world: World) -> None:
    start = _now()
    # Every second of the next 400 s full: the first poll (60 s on, up to 15 s of jitter)
    # finds room only past a quarter of the interval, one interval, two and four on.
    full = range(start, start + 400)
    _fill(world, full)
    run = _backed_up(world, 900)
    polls = _polls(run)
    assert _second(polls[0]) >= start + 400  # past the full seconds, not through them
    assert {_calls(world, second) for second in full} == {GATE}  # none over the gate
    # Its entries: its own seconds, a quarter on, then one, two, four and eight intervals on.
    reserves = run.entered("ReserveJobPoll")
    first_poll_entries = [e for e in reserves if _stamp(e) <= polls[0]]
    assert len(first_poll_entries) == 6
    assert all(_alone_in_its_second(world, p) for p in polls if _second(p) >= start + 400)


def test_a_poll_that_finds_no_room_goes_ungated_and_is_counted(world: World) -> None:
    start = _now()
    _fill(world, range(start, start + 3600))  # every second full for an hour
    run = _backed_up(world, 300)
    assert run.output["consistency"] == "application-consistent"
    # Seven entries per poll: its own seconds, a quarter of the interval on, one, two,
    # four and eight intervals on, then ungated.
    polls = _polls(run)
    assert len(run.entered("ReserveJobPoll")) == 7 * len(polls)
    for poll in polls:
        second = _second(poll)
        assert GATE + 1 in (_calls(world, second), _calls(world, second - 1))
