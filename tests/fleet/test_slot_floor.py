"""The slots' floor (emulator/README.md, "The fleet benchmark"): every freeze window of a
run held by one of the slots, back to back, bounds the last thaw from below whatever the
start pace; the figures put it beside the budget floor."""

from __future__ import annotations

from types import SimpleNamespace

from emulator.fleet import InstanceResult
from emulator.fleet_figures import slot_floor


def _instance(index: int, *windows: tuple[float, float | None]) -> InstanceResult:
    return InstanceResult(
        index=index,
        instance_id=f"i-{index:017x}",
        status="SUCCEEDED",
        outcome="succeeded",
        consistency="application-consistent",
        freezes=[{"start": start, "end": end} for start, end in windows],
    )


def _run(slots: int, *instances: InstanceResult) -> SimpleNamespace:
    return SimpleNamespace(instances=list(instances), config=SimpleNamespace(freeze_slots=slots))


def test_the_windows_of_every_frozen_instance_are_shared_among_the_slots() -> None:
    run = _run(
        2,
        _instance(0, (0.0, 20.0)),
        _instance(1, (5.0, 15.0), (40.0, 46.0)),  # frozen twice: both windows count
        _instance(2),  # never frozen (a stopped instance): neither in the mean nor the sum
    )
    assert slot_floor(run) == (18.0, 18.0)  # 36 s of windows: a mean of 18 over two, on 2 slots


def test_a_freeze_still_open_counts_nothing() -> None:
    run = _run(2, _instance(0, (0.0, None)), _instance(1, (3.0, 10.5)))
    assert slot_floor(run) == (7.5, 3.75)


def test_more_instances_frozen_at_once_than_slots_share_the_floor_among_them() -> None:
    # A slot handed back while its holder stays frozen (an invariant breach): three frozen
    # at once on one slot. Over the one slot the floor (36 s) would pass the last thaw (22 s).
    run = _run(1, _instance(0, (0.0, 12.0)), _instance(1, (5.0, 17.0)), _instance(2, (10.0, 22.0)))
    assert slot_floor(run) == (12.0, 12.0)


def test_a_run_that_froze_nothing_has_no_mean_and_a_zero_floor() -> None:
    assert slot_floor(_run(2, _instance(0))) == (None, 0.0)
