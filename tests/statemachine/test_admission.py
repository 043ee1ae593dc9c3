"""Admission control (issue 10): a freeze slot before the freeze, given back after the thaw.

A slot is an item of the guard table (``freeze-slot#<n>``) held by one execution. No
instance freezes without one; every path out of the freeze window gives it back; a
holder that outlived its lease is taken over; an instance that finds no slot within
``slot_wait_max_seconds`` is backed up unfrozen, and says so.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import emulator
from emulator.statemachine import GUARD_TABLE, World, emulated_aws

ONE_SLOT = {"freeze_slots": 1, "slot_wait_seconds": 5, "slot_wait_max_seconds": 60}
SLOT = {"instance_id": {"S": "freeze-slot#0"}}
FAR_FUTURE_MS = "4102444800000"  # 2100: a live holder's lease


@pytest.fixture
def one_slot(emulation: emulator.EmulatedClock) -> Iterator[World]:
    with emulated_aws(ONE_SLOT) as fresh:
        yield fresh


def _slot(world: World) -> dict:
    return world.ddb.get_item(TableName=GUARD_TABLE, Key=SLOT, ConsistentRead=True)["Item"]


def _hold(world: World, holder: str, lease_until_ms: str) -> None:
    world.ddb.put_item(
        TableName=GUARD_TABLE,
        Item={**SLOT, "holder": {"S": holder}, "lease_until": {"N": lease_until_ms}},
    )


def test_the_slot_is_taken_before_the_freeze_and_given_back_after_the_thaw(
    one_slot: World,
) -> None:
    run = one_slot.run(one_slot.instance())
    assert run.output["consistency"] == "application-consistent"
    states = run.states
    assert states.index("AcquireFreezeSlot") < states.index("SendFreezeCommand")
    assert states.index("SendThawCommand") < states.index("ReleaseFreezeSlot")
    assert "holder" not in _slot(one_slot)


def test_no_slot_free_means_no_freeze_and_a_truthful_label(one_slot: World) -> None:
    _hold(one_slot, "arn:aws:states:eu-west-1:123456789012:execution:other:live", FAR_FUTURE_MS)
    run = one_slot.run(one_slot.instance())
    assert run.commands == []  # never frozen, never queued while frozen
    assert run.intervals == []
    assert len(run.entered("WaitForFreezeSlot")) >= 2
    assert run.output["consistency"] == "crash-consistent"
    assert "no freeze slot came free within 60 s" in run.notifications[0]["message"]["description"]
    assert _slot(one_slot)["holder"]["S"].endswith(":live")  # the live holder keeps it


def test_a_slot_whose_holder_outlived_its_lease_is_taken_over(one_slot: World) -> None:
    _hold(one_slot, "arn:aws:states:eu-west-1:123456789012:execution:other:dead", "0")
    run = one_slot.run(one_slot.instance())
    assert run.output["consistency"] == "application-consistent"
    assert run.entered("WaitForFreezeSlot") == []
    assert "holder" not in _slot(one_slot)


def test_a_failed_freeze_gives_the_slot_back(one_slot: World) -> None:
    instance_id = one_slot.instance()
    emulator.ssm.plan(instance_id, freeze=emulator.ssm.Outcome.fail(13, "fsfreeze: not supported"))
    run = one_slot.run(instance_id)
    assert run.output["consistency"] == "crash-consistent"
    assert "ReleaseFreezeSlot" in run.states
    assert "holder" not in _slot(one_slot)
