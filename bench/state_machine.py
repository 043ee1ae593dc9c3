"""Benchmark of the per-instance state machine, measured on real execution histories in moto.

    python bench/state_machine.py            # or: make bench

Runs asl/backup_instance.asl.json (rendered with the module's default timings) in moto
with the emulator, whose clock turns every Wait into emulated time, and prints, for the
current definition and, when git can show it, the one before state machine v2 (commit
BASELINE, JSONPath):

1. states (Map and Parallel children included), state transitions of a successful run
   per backup job duration (1 hour, 24 hours, 7 days) and history events against Step
   Functions' limit of 25,000, and the states entered between the freeze being confirmed
   (GetFreezeResult) and StartBackupJob;
2. for the current definition, the freeze window (freeze confirmed -> thaw confirmed, from
   the history's own timestamps, in emulated seconds) and the window the instance measured
   (frozen -> thawed), for jobs whose snapshots start S seconds after StartBackupJob;
3. what the copy preflight (issue 13) costs: transitions of a 1-hour run with one copy
   target, in this account (no preflight) or another (volumes and keys read first).

Figures are emulated seconds: SSM commands take 1 s, every API call takes no time.
Targets (issue 9): at most 60 states, 70 transitions for a 1-hour job, 350 for 24 hours,
and 1 state between the freeze confirmed and StartBackupJob.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import emulator  # noqa: E402
import emulator.statemachine  # noqa: E402
from emulator.statemachine import (  # noqa: E402
    AWS_EBS,
    DEFAULT_POLICY,
    DR_VAULT_ARN,
    OTHER_ACCOUNT_VAULT_ARN,
    TEMPLATE_VARIABLES,
    Run,
    emulated_aws,
)

HISTORY_LIMIT = 25_000
MAX_FREEZE = DEFAULT_POLICY["max_freeze_seconds"]  # the module's default, 60
BASELINE = "2df33b2"
# What the baseline's template took instead of v2's time-based settings.
BASELINE_VARIABLES = {
    **{k: v for k, v in TEMPLATE_VARIABLES.items() if k not in ("ssm_document_version",)},
    "command_max_polls": 30,
}
DURATIONS = (("1 hour", 3600), ("24 hours", 86400), ("7 days", 7 * 86400))


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


def api_calls(run: Run) -> Counter[str]:
    """Service API calls of a run's Task states, by service:Action (retries included)."""
    calls: Counter[str] = Counter()
    for event in run.events:
        if event["type"] == "TaskScheduled":
            details = event["taskScheduledEventDetails"]
            service = details["resourceType"].removeprefix("aws-sdk:")
            action = details["resource"].removesuffix(".sync").removesuffix(".waitForTaskToken")
            calls[f"{service}:{action[:1].upper()}{action[1:]}"] += 1
    return calls


def count_states(definition: dict[str, Any]) -> int:
    total = 0
    for state in definition["States"].values():
        total += 1
        for body in [
            *state.get("Branches", []),
            state.get("ItemProcessor") or state.get("Iterator"),
        ]:
            if body:
                total += count_states(body)
    return total


def hops(run: Run) -> int:
    names = run.states
    start = names.index("StartBackupJob")
    confirmed = max(i for i, n in enumerate(names[:start]) if n == "GetFreezeResult")
    return start - confirmed - 1


def measure(text: str | None, variables: dict[str, Any] | None) -> dict[str, Any]:
    with emulated_aws(variables, text) as world:
        definition = json.loads(
            world.sfn.describe_state_machine(stateMachineArn=world.state_machine_arn)["definition"]
        )
        world.run(world.instance())  # warm-up: parse and client caches
        rows, calls = [], {}
        for label, seconds in DURATIONS:
            instance_id = world.instance()
            emulator.backup.plan(instance_id, run_seconds=seconds)
            started = time.perf_counter()
            run = world.run(instance_id)
            wall = time.perf_counter() - started
            if run.status != "SUCCEEDED":
                raise SystemExit(f"{label} backup run ended {run.status}: {run.error} {run.cause}")
            rows.append((label, len(run.events), transitions(run), wall, hops(run)))
            calls[label] = api_calls(run)
    return {"states": count_states(definition), "rows": rows, "calls": calls}


def freeze_windows() -> list[tuple[int, str, float, float]]:
    rows = []
    with emulated_aws() as world:
        for snapshot_after in (1, 5, 10, 15, 20, 30, 45, 60):
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


def copy_preflight() -> list[tuple[str, int, int, str]]:
    rows = []
    with emulated_aws() as world:
        key = world.customer_key()
        cases = (
            ("no copy target", [None, None], None),
            ("this account, other Region", [AWS_EBS, None], DR_VAULT_ARN),
            ("other account, customer key", [key, None], OTHER_ACCOUNT_VAULT_ARN),
            ("other account, aws/ebs", [AWS_EBS, None], OTHER_ACCOUNT_VAULT_ARN),
        )
        for label, keys, vault in cases:
            instance_id = world.instance(volume_keys=keys)
            emulator.backup.plan(instance_id, run_seconds=3600)
            targets = [{"destination_vault_arn": vault, "retention_days": 30}] if vault else []
            run = world.run(instance_id, policy={"copy_targets": targets})
            if run.status != "SUCCEEDED":
                raise SystemExit(f"{label}: run ended {run.status}: {run.error} {run.cause}")
            rows.append((label, len(run.events), transitions(run), run.output["outcome"]))
    return rows


def baseline_text() -> str | None:
    try:
        return subprocess.run(  # noqa: S603 - a fixed git command on this repository
            ["git", "show", f"{BASELINE}:asl/backup_instance.asl.json"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None


def print_measure(title: str, figures: dict[str, Any]) -> None:
    print(f"{title}: {figures['states']} states")
    head = ("job", "events", "transitions", "of limit", "confirmed->StartBackupJob", "wall s")
    print("{:>10} {:>8} {:>12} {:>9} {:>26} {:>7}".format(*head))
    for label, events, states, wall, between in figures["rows"]:
        share = f"{events / HISTORY_LIMIT:.1%}"
        print(f"{label:>10} {events:>8} {states:>12} {share:>9} {between:>26} {wall:>7.2f}")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    # moto's interpreter logs every error a Catch handles on purpose: noise here.
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    emulator.statemachine.WAIT_SECONDS = 600.0  # a 7-day history takes a while to run
    old = baseline_text()
    before = measure(old, BASELINE_VARIABLES) if old else None
    after = measure(None, None)
    windows = freeze_windows()
    preflight = copy_preflight()

    print("History of one successful run, by backup job duration (default timings: job poll")
    print("60 s doubling to 1,200 s; limit 25,000 events per execution)")
    if before:
        print_measure(f"before (JSONPath, commit {BASELINE})", before)
    else:
        print(f"before (commit {BASELINE}): not in this clone's history; recorded at the time:")
        print("  160 states; 1 hour 125 transitions, 24 hours 769; 8 states between the freeze")
        print("  confirmed and StartBackupJob")
    print_measure("after (JSONata with variables, state machine v2)", after)
    print()
    print("API calls of one successful run (the Task states' calls, retries included; the")
    print("notification's Publish only when it notifies), by job duration")
    names = sorted(set().union(*after["calls"].values()))
    print(f"{'call':>36} " + " ".join(f"{label:>9}" for label, _ in DURATIONS))
    for name in names:
        counts = " ".join(f"{after['calls'][label][name]:>9}" for label, _ in DURATIONS)
        print(f"{name:>36} {counts}")
    totals = " ".join(f"{sum(after['calls'][label].values()):>9}" for label, _ in DURATIONS)
    print(f"{'total':>36} {totals}")
    print()
    print(
        f"Freeze window for a snapshot that starts S s after StartBackupJob (max_freeze_seconds "
        f"{MAX_FREEZE}, thaw margin 8 s, polls every 2 s; the thaw deadline counts from the freeze"
    )
    print("command, in time)")
    print(f"{'S':>4} {'consistency':>26} {'history s':>10} {'instance s':>11}")
    for after_s, consistency, window, measured in windows:
        print(f"{after_s:>4} {consistency:>26} {window:>10.1f} {measured:>11.1f}")
    print()
    print("history s: freeze confirmed (GetCommandInvocation Success) -> thaw confirmed, from")
    print("the execution history's timestamps; instance s: frozen_at -> thawed on the emulated")
    print("instance (1 s command runtime each way).")
    print()
    print("Copy preflight: a 1-hour run (copy jobs take 1,800 s) with one copy target")
    print(f"{'copy target':>30} {'events':>7} {'transitions':>12} {'outcome':>10}")
    for label, events, states, outcome in preflight:
        print(f"{label:>30} {events:>7} {states:>12} {outcome:>10}")
    print("aws/ebs into another account: the copy is not started (outcome degraded, reported).")


if __name__ == "__main__":
    main()
