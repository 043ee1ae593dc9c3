"""The bench's freeze-excess figures (emulator/README.md, "The fleet benchmark"): the
current key counts a timed-out freeze whole, the literal one (issue 10's definition) goes
negative for it."""

from __future__ import annotations

from emulator.fleet import InstanceResult
from emulator.fleet_figures import freeze_excess, freeze_excess_literal


def _instance(freeze: tuple[float, float] | None, latency: float | None) -> InstanceResult:
    return InstanceResult(
        index=0,
        instance_id="i-0123456789abcdef0",
        status="SUCCEEDED",
        outcome="degraded",
        consistency=None,
        freezes=[] if freeze is None else [{"start": freeze[0], "end": freeze[1]}],
        snapshot_latency=latency,
        snapshot_started=None if latency is None or freeze is None else freeze[0] + latency,
    )


def test_a_freeze_that_covered_the_snapshots_start_counts_its_surplus_in_both() -> None:
    covered = _instance((10.0, 24.5), 12.0)
    assert freeze_excess(covered) == 2.5
    assert freeze_excess_literal(covered) == 2.5


def test_a_timed_out_freeze_is_whole_in_one_and_negative_in_the_literal() -> None:
    timed_out = _instance((10.0, 70.0), 75.0)  # the snapshots started 15 s after the thaw
    assert freeze_excess(timed_out) == 60.0
    assert freeze_excess_literal(timed_out) == -15.0


def test_an_instance_never_frozen_has_no_excess() -> None:
    assert freeze_excess(_instance(None, 12.0)) is None
    assert freeze_excess_literal(_instance(None, 12.0)) is None
