"""The figures of a fleet run (``make bench-fleet``), and the invariants a fleet must keep.

``figures(run, baseline)`` compares a run with quotas against the same fleet (same
seed, same start latencies and job durations) run with no quota at all, and reports
what issue 10 asks for. Budgets: the module's defaults (``api_budget``: half of each
quota, with the smaller regions' Step Functions figures, modules/state-machine/budget.tf);
half the account's quota instead where the run was given one (``quota_overrides``); an
API the module's table does not name gets half its emulated quota.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from .fleet import TRANSITIONS, FleetRun, InstanceResult

OUTCOME_RANK = {"succeeded": 0, "skipped": 1, "degraded": 2, "failed": 3, "not-started": 4}
LABEL_RANK = {
    "application-consistent": 0,
    "vss": 0,
    "stopped": 0,
    "crash-consistent": 1,
    "crash-consistent-watchdog": 1,
    "crash-consistent-timeout": 1,
}
BUDGET_SOURCE = (
    "the module's default api_budget: share_of_quota 0.5 of the quotas in "
    "modules/state-machine/budget.tf (Step Functions: the smaller regions' figures), or of "
    "the account's quota where quota_overrides gives one (api_budget.quotas); other APIs: "
    "half their emulated quota"
)
SHARE_OF_QUOTA = 0.5
# modules/state-machine/budget.tf's quotas (calls per second).
MODULE_QUOTAS = {
    "states:StartExecution": 150.0,
    "states:StateTransition": 500.0,
    "ec2:DescribeInstances": 20.0,
    "ec2:DescribeSnapshots": 20.0,
    "ec2:DescribeImages": 20.0,
    "ec2:CreateTags": 10.0,
    "ssm:SendCommand": 5.0,
    "ssm:GetCommandInvocation": 20.0,
    "ssm:DescribeInstanceInformation": 20.0,
    "backup:StartBackupJob": 5.0,
    "backup:DescribeBackupJob": 10.0,
    "dynamodb:UpdateItem": 4000.0,
}
PROJECTION_METHOD = (
    "for N instances: budget floor(N) = max over APIs of calls_per_instance x N / budget "
    "calls per second (calls per instance taken as independent of N); completion(N) = the "
    "measured completion + budget floor(N) - the measured budget floor (each instance's own "
    "time, its backup job included, does not grow with N; the extra instances' calls are "
    "served at the budget), never below budget floor(N) nor the discovery's start pace "
    "(N / START_RATE_PER_SECOND); freeze excess and degradation are not projected"
)


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (``share`` in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def label(instance: InstanceResult) -> str:
    """The label an instance's run ends with: its consistency, or how it failed."""
    if instance.outcome in ("failed", "not-started"):
        return instance.outcome
    return instance.consistency or instance.outcome


def worse(run: InstanceResult, baseline: InstanceResult) -> bool:
    """Whether ``run`` ended worse than ``baseline`` (outcome first, then label)."""
    a, b = OUTCOME_RANK.get(run.outcome, 4), OUTCOME_RANK.get(baseline.outcome, 4)
    if a != b:
        return a > b
    if run.outcome in ("failed", "not-started"):
        return False
    return LABEL_RANK.get(run.consistency or "", 2) > LABEL_RANK.get(baseline.consistency or "", 2)


def freeze_excess(instance: InstanceResult) -> float | None:
    """Freeze time not spent waiting for the snapshots to start.

    The freeze window minus the instance's snapshot start latency (StartBackupJob to
    the snapshots' start) when the snapshots started inside the freeze; the whole
    window when they did not (none of it bought consistency). None when not frozen.
    """
    windows = [f for f in instance.freezes if f["end"] is not None]
    if not windows:
        return None
    window = sum(f["end"] - f["start"] for f in windows)
    started = instance.snapshot_started
    covered = started is not None and any(f["start"] <= started <= f["end"] for f in windows)
    if covered and instance.snapshot_latency is not None:
        return round(window - instance.snapshot_latency, 3)
    return round(window, 3)


def freeze_excess_literal(instance: InstanceResult) -> float | None:
    """Issue 10's literal definition: the freeze window minus the snapshot start latency.

    Negative for a freeze that ended before the snapshots started (the
    crash-consistent-timeout runs: the latency is longer than the window), where
    ``freeze_excess`` counts the whole window. The window alone when the instance has no
    snapshot start latency (no job was started). None when not frozen.
    """
    windows = [f for f in instance.freezes if f["end"] is not None]
    if not windows:
        return None
    window = sum(f["end"] - f["start"] for f in windows)
    if instance.snapshot_latency is None:
        return round(window, 3)
    return round(window - instance.snapshot_latency, 3)


def budgets(run: FleetRun) -> dict[str, float]:
    overrides = run.config.quota_overrides
    return {
        api: SHARE_OF_QUOTA * overrides.get(api, MODULE_QUOTAS.get(api, log.quota.rate))
        for api, log in run.apis.items()
    }


def completion_seconds(run: FleetRun) -> float:
    ends = [i.stopped for i in run.instances if i.stopped is not None]
    return round(max(ends, default=run.discovery.ended_at) - run.discovery.started_at, 3)


def budget_floor(run: FleetRun) -> tuple[float, str]:
    rates = budgets(run)
    floors = {api: log.accepted / rates[api] for api, log in run.apis.items() if rates[api] > 0}
    api = max(floors, key=lambda k: (floors[k], k)) if floors else ""
    return round(floors.get(api, 0.0), 3), api


def slot_floor(run: FleetRun) -> tuple[float | None, float]:
    """The frozen instances' mean time frozen (all of an instance's windows), and the
    slots' floor.

    An instance is frozen only once it holds a slot and never waits for the budget while
    frozen, so the slots must hold every freeze window of the run one after another: the
    run cannot have its last thaw sooner than the windows' sum over the slots, whatever
    the start pace. Over the slots, or over the most instances frozen at once where that
    is more (a slot handed back while its holder stays frozen: an invariant breach, but
    the floor still holds).
    """
    frozen = [
        i.frozen_seconds for i in run.instances if any(f["end"] is not None for f in i.freezes)
    ]
    mean = round(sum(frozen) / len(frozen), 3) if frozen else None
    at_once = max(1, run.config.freeze_slots, peak_frozen(run))
    return mean, round(sum(frozen) / at_once, 3)


def figures(run: FleetRun, baseline: FleetRun | None) -> dict[str, Any]:
    """Issue 10's figures for ``run``, compared with ``baseline`` (no quotas) when given."""
    n = len(run.instances)
    rates = budgets(run)
    floor, floor_api = budget_floor(run)
    completion = completion_seconds(run)
    window_mean, floor_of_slots = slot_floor(run)
    last_thaw = round(
        max(
            (f["end"] for i in run.instances for f in i.freezes if f["end"] is not None),
            default=run.discovery.started_at,
        )
        - run.discovery.started_at,
        3,
    )
    excess = [e for e in (freeze_excess(i) for i in run.instances) if e is not None]
    literal = [e for e in (freeze_excess_literal(i) for i in run.instances) if e is not None]
    covered = [
        e
        for i in run.instances
        if (e := freeze_excess(i)) is not None and i.consistency == "application-consistent"
    ]
    degraded = None
    if baseline is not None:
        base = {b.instance_id: b for b in baseline.instances}
        degraded = sum(
            1 for i in run.instances if i.instance_id in base and worse(i, base[i.instance_id])
        )
    per_instance = {api: round(log.accepted / n, 3) for api, log in sorted(run.apis.items()) if n}
    start_rate = float(
        run.config.discovery_environment.get(
            "START_RATE_PER_SECOND", run.config.start_rate_per_second
        )
    )
    result: dict[str, Any] = {
        "instances": n,
        "completion_seconds": completion,
        "budget_floor_seconds": floor,
        # The part of the run the budget paces: until the last freeze ended (the backup
        # jobs then run on AWS Backup's time, not the budget's).
        "last_thaw_seconds": last_thaw,
        # After the last thaw: AWS Backup's jobs, and the job polls' wait to see them end
        # (the polls' interval grows to 20 minutes); no freeze slot or start pace shortens it.
        "job_tail_seconds": round(completion - last_thaw, 3),
        # The least time the slots need for every freeze window of the run, back to back
        # (slot_floor): against budget_floor_seconds it says what never freezing before a
        # slot is free costs, whatever the pace.
        "slot_floor_seconds": floor_of_slots,
        "freeze_window_mean_seconds": window_mean,
        # What the admission the budget derives allows at best: every instance started at
        # discovery's pace, the last one's freeze the same moment (last_thaw_seconds
        # against it says what the slots and the budget cost beyond the pace).
        "start_pace_floor_seconds": round(n / start_rate, 3) if start_rate else None,
        "budget_floor_api": floor_api,
        "budget_source": BUDGET_SOURCE,
        "quota_overrides": dict(sorted(run.config.quota_overrides.items())),
        "other_tenants": run.config.other_tenants,
        "calls_per_instance": per_instance,
        "throttled_calls": run.throttled_calls,
        "throttled_by_api": {
            api: log.throttled
            for api, log in sorted(run.apis.items())
            if log.throttled and api != TRANSITIONS
        },
        "delayed_state_transitions": run.apis[TRANSITIONS].throttled
        if TRANSITIONS in run.apis
        else 0,
        "degraded_by_throttling": degraded,
        "freeze_excess_p50_seconds": percentile(excess, 0.50),
        "freeze_excess_p99_seconds": percentile(excess, 0.99),
        "freeze_excess_max_seconds": max(excess, default=None),
        # Only the freezes that covered the snapshots' start (application-consistent): a
        # freeze that timed out counts whole above, whatever the budget.
        "freeze_excess_covered_p99_seconds": percentile(covered, 0.99),
        # Issue 10's literal definition (window minus start latency, negative for a freeze
        # that ended before its snapshots started): reported beside the keys above.
        "freeze_excess_literal_p99_seconds": percentile(literal, 0.99),
        "peak_calls_per_second": {api: log.peak() for api, log in sorted(run.apis.items())},
        "budget_calls_per_second": {api: round(rates[api], 3) for api in sorted(run.apis)},
        "outcomes": dict(sorted(Counter(label(i) for i in run.instances).items())),
        "peak_frozen": peak_frozen(run),
        "freeze_slots": run.config.freeze_slots,
        "job_poll_gate_calls": run.config.job_poll_gate_calls,
    }
    if baseline is not None:
        result["baseline_outcomes"] = dict(
            sorted(Counter(label(i) for i in baseline.instances).items())
        )
        result["baseline_completion_seconds"] = completion_seconds(baseline)
    projection = {}
    for size in (10_000, 100_000):
        floor_n = max(
            (per_instance[api] * size / rates[api] for api in per_instance if rates.get(api)),
            default=0.0,
        )
        projection[str(size)] = {
            "budget_floor_seconds": round(floor_n, 1),
            "completion_seconds": round(
                max(completion + floor_n - floor, floor_n, size / start_rate), 1
            ),
        }
    result["projection"] = {"method": PROJECTION_METHOD, **projection}
    result["harness"] = {
        "wall_seconds": round(run.wall_seconds, 1),
        "cpu_seconds": round(run.cpu_seconds, 1),
        "wall_ms_per_instance": round(run.wall_seconds * 1000 / n, 1) if n else None,
        "max_rss_mb": round(run.max_rss_mb, 1),
        "virtual_seconds": round(run.virtual_seconds, 1),
        "peak_threads": run.peak_participants,
    }
    return result


def most_at_once(intervals: list[tuple[float, float | None]]) -> int:
    """The most intervals open at the same moment (an open end: still open)."""
    edges = sorted(
        (moment, step)
        for start, end in intervals
        for moment, step in ((start, 1), (end if end is not None else math.inf, -1))
    )
    peak = current = 0
    for _, step in edges:  # at a tie an end (-1) sorts first: a slot handed on is not two
        current += step
        peak = max(peak, current)
    return peak


def peak_frozen(run: FleetRun) -> int:
    """The most instances frozen at the same moment."""
    return most_at_once([(f["start"], f["end"]) for i in run.instances for f in i.freezes])


def invariant_breaches(run: FleetRun) -> list[str]:
    """What breaks the invariants that hold even without admission control.

    Every freeze ended (nothing left frozen), by a thaw or the watchdog, within its
    bound (``MaxFreezeSeconds``); every guard and freeze slot released; every instance's execution
    started and ended.
    """
    breaches = [f"{slot}: freeze slot still held" for slot in run.slots_held]
    if peak_frozen(run) > run.config.freeze_slots:
        breaches.append(
            f"{peak_frozen(run)} instances frozen at once, {run.config.freeze_slots} slots"
        )
    for i in run.instances:
        if i.status in ("NOT_STARTED", "RUNNING"):
            breaches.append(f"{i.instance_id}: execution {i.status}")
        if i.guard_held:
            breaches.append(f"{i.instance_id}: guard still held")
        for f in i.freezes:
            if f["end"] is None:
                breaches.append(f"{i.instance_id}: still frozen since {f['start']}")
            elif f["bound"] is None or f["end"] - f["start"] > f["bound"] + 1e-6:
                breaches.append(
                    f"{i.instance_id}: frozen {f['end'] - f['start']:.3f} s, bound {f['bound']}"
                )
    return breaches
