"""Fleet benchmark: N instances backed up at once, on virtual time, inside AWS quotas.

    make bench-fleet INSTANCES=1000        # or: python bench/fleet.py --instances 1000

Runs the real discovery handler (src/discovery) and the real state machine definition
(as emulator.statemachine deploys it) for N instances, every execution concurrent on
the scheduler's virtual time, every API call against its quota with other tenants
taking 30 % of each bucket (emulator/README.md: Quotas, Fleet harness). It runs the same
fleet a second time with no quota at all (in a second process, at the same time) to
count the instances throttling degraded. The last line is one JSON object: the
figures of issue 10, the projection for 10,000 and 100,000 instances with its method,
and the harness's own cost (wall and CPU seconds, peak memory).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from emulator.fleet import FleetConfig, FleetRun, run_fleet  # noqa: E402
from emulator.fleet_figures import figures, invariant_breaches  # noqa: E402


def _baseline(config: FleetConfig) -> FleetRun:
    return run_fleet(replace(config, quotas=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--other-tenants", type=float, default=0.3)
    parser.add_argument(
        "--serial", action="store_true", help="run the baseline after the run, in this process"
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the no-quota run")
    args = parser.parse_args(argv)
    config = FleetConfig(instances=args.instances, seed=args.seed, other_tenants=args.other_tenants)

    baseline: FleetRun | None = None
    pending = None
    if not args.no_baseline and not args.serial:
        # Forked before any thread exists; the two runs share nothing.
        pool = multiprocessing.get_context("fork").Pool(1)
        pending = pool.apply_async(_baseline, (config,))
    run = run_fleet(config)
    if pending is not None:
        baseline = pending.get()
        pool.close()
    elif not args.no_baseline:
        baseline = _baseline(config)

    result = figures(run, baseline)
    breaches = invariant_breaches(run)
    result["invariant_breaches"] = len(breaches)
    if baseline is not None:
        result["harness"]["baseline_wall_seconds"] = round(baseline.wall_seconds, 1)
        result["harness"]["baseline_cpu_seconds"] = round(baseline.cpu_seconds, 1)
        result["harness"]["baseline_max_rss_mb"] = round(baseline.max_rss_mb, 1)
    print(
        f"{run.config.instances} instances, other tenants {run.config.other_tenants:.0%}, "
        f"seed {run.config.seed}"
    )
    print(
        f"completion {result['completion_seconds']} s (virtual); budget floor "
        f"{result['budget_floor_seconds']} s ({result['budget_floor_api']})"
    )
    print(f"outcomes {result['outcomes']}")
    if baseline is not None:
        print(f"outcomes with no quota {result['baseline_outcomes']}")
    print(
        f"degraded by throttling {result['degraded_by_throttling']}; "
        f"throttled calls {result['throttled_calls']}"
    )
    print(
        f"freeze excess p50 {result['freeze_excess_p50_seconds']} s, p99 "
        f"{result['freeze_excess_p99_seconds']} s, max {result['freeze_excess_max_seconds']} s"
    )
    print(f"{'api':42} {'calls/inst':>10} {'throttled':>9} {'peak/s':>7} {'budget/s':>9}")
    for api, calls in result["calls_per_instance"].items():
        print(
            f"{api:42} {calls:>10} {result['throttled_by_api'].get(api, 0):>9} "
            f"{result['peak_calls_per_second'][api]:>7} {result['budget_calls_per_second'][api]:>9}"
        )
    for breach in breaches[:10]:
        print(f"invariant breach: {breach}")
    print(
        f"harness: {result['harness']['wall_seconds']} s wall "
        f"({result['harness']['wall_ms_per_instance']} ms per instance), "
        f"{result['harness']['cpu_seconds']} s CPU, {result['harness']['max_rss_mb']} MB peak"
    )
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
