"""Fleet benchmark: N instances backed up at once, on virtual time, inside AWS quotas.

    make bench-fleet INSTANCES=1000        # or: python bench/fleet.py --instances 1000
    make bench-fleet INSTANCES=1000 BENCH_FLEET_ARGS="--quota ssm:SendCommand=20 \
        --quota backup:StartBackupJob=20 --freeze-slots 10 --start-rate 0.33"

Runs the real discovery handler (src/discovery) and the real state machine definition
(as emulator.statemachine deploys it) for N instances, every execution concurrent on
the scheduler's virtual time, every API call against its quota with other tenants
taking 30 % of each bucket (emulator/README.md: Quotas, Fleet harness). It runs the same
fleet a second time with no quota at all (in a second process, at the same time) to
count the instances throttling degraded. The last line is one JSON object: the
figures of issue 10, the projection for 10,000 and 100,000 instances with its method,
and the harness's own cost (wall and CPU seconds, peak memory).

``--quota API=RATE`` (repeatable) runs an account whose quota for an API differs from
the module's assumption (a quota AWS Support raised: the module's api_budget.quotas).
The freeze slots and start pace follow from the quotas in Terraform, not here: with a
``--quota`` give ``--freeze-slots`` and ``--start-rate`` as the module derives them
(``terraform output admission``, or docs/fleet.md).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from emulator.fleet import FleetConfig, FleetRun, run_fleet  # noqa: E402
from emulator.fleet_figures import figures, invariant_breaches  # noqa: E402
from emulator.quotas import account_quotas  # noqa: E402
from emulator.statemachine import REGION  # noqa: E402

DEFAULTS = FleetConfig()
# The module's derivation gives at least 0.01 (budget.tf), and the discovery module takes
# at most 300 (modules/discovery/variables.tf, the largest regions' StartExecution refill).
START_RATES = (0.01, 300.0)


def _baseline(config: FleetConfig) -> FleetRun:
    return run_fleet(replace(config, quotas=False))


def _quota(text: str) -> tuple[str, float]:
    key, equals, rate_text = text.partition("=")
    if not equals:
        raise argparse.ArgumentTypeError(f"{text!r} is not API=RATE (ssm:SendCommand=20)")
    try:
        rate = float(rate_text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: {rate_text!r} is not a number") from None
    try:
        account_quotas({key: rate}, REGION)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return key, rate


def _whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` (up to ``high``)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number {bound}")
        return value

    return parse


_slots = _whole_number(1, 500)  # budget.tf derives no more and no fewer
_gate_calls = _whole_number(1)  # budget.tf's max(1, floor(budget))


def _start_rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        rate = 0.0
    if not START_RATES[0] <= rate <= START_RATES[1]:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a rate from {START_RATES[0]} to {START_RATES[1]:g} a second"
        )
    return rate


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--other-tenants", type=float, default=0.3)
    parser.add_argument(
        "--serial", action="store_true", help="run the baseline after the run, in this process"
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the no-quota run")
    parser.add_argument(
        "--quota",
        type=_quota,
        action="append",
        default=[],
        metavar="API=RATE",
        help="the account's quota for an API, calls a second (repeatable), e.g. "
        "ssm:SendCommand=20; needs --freeze-slots and --start-rate",
    )
    parser.add_argument(
        "--freeze-slots",
        type=_slots,
        help="instances frozen at once, as the module derives it "
        f"(default {DEFAULTS.freeze_slots})",
    )
    parser.add_argument(
        "--job-poll-gate-calls",
        type=_gate_calls,
        metavar="N",
        help="DescribeBackupJob polls a second, as the module derives it; needed with a "
        f"--quota for backup:DescribeBackupJob (default {DEFAULTS.job_poll_gate_calls})",
    )
    parser.add_argument(
        "--start-rate",
        type=_start_rate,
        metavar="R",
        help="discovery's starts a second, as the module derives it "
        f"(default {DEFAULTS.start_rate_per_second})",
    )
    return parser


def config_of(argv: list[str] | None = None) -> tuple[FleetConfig, argparse.Namespace]:
    """The run's configuration from the command line (argparse exits on a wrong one)."""
    arguments = parser()
    args = arguments.parse_args(argv)
    quotas = dict(args.quota)
    if len(quotas) < len(args.quota):
        arguments.error("argument --quota: an API is given twice")
    if quotas and (args.freeze_slots is None or args.start_rate is None):
        # The derivation lives in Terraform (modules/state-machine/budget.tf): a copy here
        # would drift from it, and the defaults would run the raised quotas at the
        # default admission.
        arguments.error(
            "--quota needs --freeze-slots and --start-rate: the module's derived values for "
            "that api_budget (terraform output admission, or docs/fleet.md)"
        )
    if "backup:DescribeBackupJob" in quotas and args.job_poll_gate_calls is None:
        arguments.error(
            "--quota backup:DescribeBackupJob needs --job-poll-gate-calls: the module's "
            "derived value for that api_budget (terraform output admission)"
        )
    config = FleetConfig(
        instances=args.instances,
        seed=args.seed,
        other_tenants=args.other_tenants,
        quota_overrides=quotas,
        freeze_slots=DEFAULTS.freeze_slots if args.freeze_slots is None else args.freeze_slots,
        job_poll_gate_calls=(
            DEFAULTS.job_poll_gate_calls
            if args.job_poll_gate_calls is None
            else args.job_poll_gate_calls
        ),
        start_rate_per_second=(
            DEFAULTS.start_rate_per_second if args.start_rate is None else args.start_rate
        ),
    )
    return config, args


def main(argv: list[str] | None = None) -> int:
    config, args = config_of(argv)

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
        f"seed {run.config.seed}, {run.config.freeze_slots} freeze slots, "
        f"{run.config.start_rate_per_second} starts a second"
    )
    if run.config.quota_overrides:
        print(f"the account's quotas (calls a second): {result['quota_overrides']}")
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
