"""Benchmark of ssm/scripts/freeze-thaw.sh on real loop filesystems (needs root).

Prints:
- the wall time of the freeze command and of the thaw command for 8 loop filesystems
  (4 ext4, 4 xfs), and the freeze window the script reports (first freeze to all frozen,
  and first freeze to last thaw), next to bare `fsfreeze -f`/`-u` loops for comparison;
- the watchdog's lateness: how long after its deadline it had thawed, from its own record
  and from a separate writer process blocked on a frozen filesystem.

Run: sudo .venv/bin/python bench/freeze_thaw.py [--rounds 5] [--watchdog-rounds 3]
Only filesystems that this script mounts under its own temporary directory are frozen; that
directory lies below directories only root can change (the script refuses any other), and
the script runs in the form the SSM document ships it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ssm"))

from acb_harness import Acb, Mounts, Writer, secure_parent, sh

ISO_MS = "%Y-%m-%dT%H:%M:%S.%fZ"


def epoch(value: str) -> float:
    return datetime.strptime(value, ISO_MS).replace(tzinfo=UTC).timestamp()


def summary(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):7.1f}  min {min(values):7.1f}  max {max(values):7.1f}"
    )


def check(condition: bool, what: object) -> None:
    if not condition:
        raise RuntimeError(f"benchmark run went wrong: {what}")


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def bench(rounds: int, watchdog_rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="acb-bench-", dir=secure_parent()) as d:
        base = Path(d)
        base.chmod(0o755)
        acb = Acb(base=base, mount_root=base / "mnt")
        mounts = Mounts(base)
        try:
            fss = [mounts.ext4(f"e{i}") for i in range(4)] + [mounts.xfs(f"x{i}") for i in range(4)]
            include = [str(p) for p in fss]

            probe = acb.dry_run(include)  # once: the candidates are exactly our mounts
            check(sorted(probe.mountpoints) == sorted(include), probe)

            raw_freeze, raw_thaw = [], []
            freeze_cmd, thaw_cmd, window_frozen, window_total = [], [], [], []
            for i in range(rounds):  # bare and scripted rounds alternate, on equal terms
                ms, _ = timed(lambda: [sh("fsfreeze", "-f", p) for p in include])
                raw_freeze.append(ms)
                ms, _ = timed(lambda: [sh("fsfreeze", "-u", p) for p in reversed(include)])
                raw_thaw.append(ms)

                env = acb.env("freeze", f"bench-{i}", ACB_INCLUDE_MOUNTPOINTS=",".join(include))
                ms, res = timed(lambda env=env: acb.run(env))
                check(res.rc == 0, res)
                freeze_cmd.append(ms)
                ms, res = timed(lambda i=i: acb.thaw(run_id=f"bench-{i}"))
                check(res.rc == 0, res)
                thaw_cmd.append(ms)
                out = res.out
                window_frozen.append(
                    (epoch(out["frozen_at"]) - epoch(out["freeze_started_at"])) * 1000
                )
                window_total.append(out["freeze_duration_ms"])

            late_record, late_writer = [], []
            for i in range(watchdog_rounds):
                env = acb.env(
                    "freeze",
                    f"wd-{i}",
                    ACB_INCLUDE_MOUNTPOINTS=",".join(include),
                    ACB_MAX_FREEZE_SECONDS="1",
                )
                res = acb.run(env)
                check(res.rc == 0, res)
                deadline = epoch(res.out["watchdog"]["deadline"])
                writer = Writer(fss[-1])
                done = writer.wait_done(timeout=10)
                late_writer.append((done - deadline) * 1000)
                res = acb.thaw(run_id=f"wd-{i}")
                check(res.out["watchdog"]["outcome"] == "thawed_first", res)
                late_record.append((epoch(res.out["watchdog"]["thawed_at"]) - deadline) * 1000)
                writer.path.unlink()
        finally:
            acb.kill_watchdogs()
            mounts.cleanup()

    report(
        rounds,
        watchdog_rounds,
        {
            "bare fsfreeze -f x8": raw_freeze,
            "bare fsfreeze -u x8": raw_thaw,
            "freeze command (wall)": freeze_cmd,
            "thaw command (wall)": thaw_cmd,
            "first freeze -> all frozen": window_frozen,
            "first freeze -> last thaw (*)": window_total,
        },
        {"watchdog's own record": late_record, "blocked writer released": late_writer},
    )


def report(
    rounds: int,
    watchdog_rounds: int,
    timings: dict[str, list[float]],
    lateness: dict[str, list[float]],
) -> None:
    print(f"freeze/thaw of 8 loop filesystems (4 ext4 64 MiB, 4 xfs 300 MiB), {rounds} rounds, ms")
    for name, values in timings.items():
        print(f"  {name:30} {summary(values)}")
    print("  (*) includes the gap between the two commands")
    print(
        f"watchdog lateness after its deadline (MaxFreezeSeconds=1), {watchdog_rounds} rounds, ms"
    )
    for name, values in lateness.items():
        print(f"  {name:30} {summary(values)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--watchdog-rounds", type=int, default=3)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/freeze_thaw.py needs root (loop mounts and fsfreeze)")
    bench(args.rounds, args.watchdog_rounds)


if __name__ == "__main__":
    main()
