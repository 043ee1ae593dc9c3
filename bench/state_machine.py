"""Benchmark of the per-instance state machine, measured on real execution histories in moto.

    python bench/state_machine.py            # or: make bench

Runs asl/backup_instance.asl.json (rendered with the module's default timings) in moto
with the emulator, whose clock turns every Wait into emulated time, and prints:

1. history events and state transitions of one run per backup job duration (1 hour,
   24 hours, 7 days), against Step Functions' hard limit of 25,000 events;
2. the freeze window (freeze confirmed -> thaw confirmed, from the history's own event
   timestamps, in emulated seconds) and the window the instance measured
   (frozen -> thawed), for jobs whose snapshots start S seconds after StartBackupJob.

Figures are emulated seconds: SSM commands take 1 s, every API call takes no time.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import emulator  # noqa: E402
from emulator.statemachine import Run, emulated_aws  # noqa: E402

HISTORY_LIMIT = 25_000
MAX_FREEZE = 30


def succeeded_task(run: Run, state: str) -> dict[str, Any] | None:
    """The last TaskSucceeded event of ``state`` whose command invocation reported Success."""
    current, found = None, None
    for event in run.events:
        if "stateEnteredEventDetails" in event:
            current = event["stateEnteredEventDetails"]["name"]
        elif event["type"] == "TaskSucceeded" and current == state:
            output = json.loads(event["taskSucceededEventDetails"]["output"])
            if output.get("Status") == "Success":
                found = event
    return found


def transitions(run: Run) -> int:
    return sum(1 for e in run.events if e["type"].endswith("StateEntered"))


def job_durations(world: Any) -> list[tuple[str, int, int, float]]:
    rows = []
    for label, seconds in (("1 hour", 3600), ("24 hours", 86400), ("7 days", 7 * 86400)):
        instance_id = world.instance()
        emulator.backup.plan(instance_id, run_seconds=seconds)
        started = time.perf_counter()
        run = world.run(instance_id)
        wall = time.perf_counter() - started
        if run.status != "SUCCEEDED":
            raise SystemExit(f"{label} backup run ended {run.status}: {run.error} {run.cause}")
        rows.append((label, len(run.events), transitions(run), wall))
    return rows


def freeze_windows(world: Any) -> list[tuple[int, str, float, float]]:
    rows = []
    for snapshot_after in (1, 5, 10, 20, 30, 45):
        instance_id = world.instance()
        emulator.backup.plan(instance_id, start_after=snapshot_after)
        run = world.run(instance_id)
        freeze_done = succeeded_task(run, "GetFreezeResult")
        thaw_done = succeeded_task(run, "GetThawResult")
        if freeze_done is None or thaw_done is None:
            raise SystemExit(f"no freeze or thaw confirmed in the history: {run.states}")
        window = (thaw_done["timestamp"] - freeze_done["timestamp"]).total_seconds()
        (interval,) = run.intervals
        measured = (interval.end - interval.start).total_seconds()
        rows.append((snapshot_after, run.output["consistency"], window, measured))
    return rows


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    # moto's interpreter logs every JSONPath miss a Choice handles on purpose: noise here.
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    with emulated_aws() as world:
        world.run(world.instance())  # warm-up: parse and client caches
        durations = job_durations(world)
        windows = freeze_windows(world)

    print("History of one run, by backup job duration (default timings: job poll 30 s doubling")
    print("to 900 s; limit 25,000 events per execution)")
    print(f"{'job':>10} {'events':>8} {'transitions':>12} {'of limit':>9} {'wall s':>7}")
    for label, events, states, wall in durations:
        print(f"{label:>10} {events:>8} {states:>12} {events / HISTORY_LIMIT:>8.1%} {wall:>7.2f}")
    print()
    print(
        f"Freeze window for a snapshot that starts S s after StartBackupJob (max_freeze_seconds "
        f"{MAX_FREEZE}, thaw margin 8 s, polls every 2 s)"
    )
    print(f"{'S':>4} {'consistency':>26} {'history s':>10} {'instance s':>11}")
    for after, consistency, window, measured in windows:
        print(f"{after:>4} {consistency:>26} {window:>10.1f} {measured:>11.1f}")
    print()
    print("history s: freeze confirmed (GetCommandInvocation Success) -> thaw confirmed, from")
    print("the execution history's timestamps; instance s: frozen_at -> thawed on the emulated")
    print("instance (1 s command runtime each way).")


if __name__ == "__main__":
    main()
