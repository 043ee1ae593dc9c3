"""A whole fleet in one emulator: N instances, the real discovery handler, the real definition.

    from emulator.fleet import FleetConfig, run_fleet

    run = run_fleet(FleetConfig(instances=1000, other_tenants=0.3))
    run.instances[0].outcome, run.instances[0].consistency, run.apis["ssm:SendCommand"]

One run: a fresh moto account with the module's resources and the state machine as
``emulator.statemachine`` deploys them (whatever definition that renders: the
harness reads only docs/contracts.md's boundaries: the schedule's event, the
execution's input and summary, the SSM document's commands, the guard table), N
instances tagged for the schedule, AWS Backup start latencies and job durations
drawn per instance, then the discovery handler invoked at the scheduled time on the
scheduler's virtual time, every execution it starts running concurrently, every API
call metered against its quota with other tenants taking their share. The driver
waits until every execution has ended, then reads back what happened.

Deterministic: the same ``FleetConfig`` (seed included) gives the same run.
"""

from __future__ import annotations

import datetime as _dt
import gc
import json
import logging
import os
import random
import resource
import time
from dataclasses import dataclass, field
from typing import Any

import emulator

from . import backup_realism, concurrency, fleet_discovery, indexes, metering
from . import scheduler as _scheduler
from .backup_realism import JobDuration, StartLatency
from .latency import LatencyModel
from .metering import ApiLog, Meter
from .quotas import Quotas, account_quotas

FLEET_TAG = ("AppConsistentBackup", "nightly")
TRANSITIONS = "states:StateTransition"
BATCH = 250  # instances per RunInstances call


@dataclass(frozen=True)
class FleetConfig:
    """What to run. Every figure marked assumption in emulator/README.md is a field here."""

    instances: int = 1000
    seed: int = 1
    quotas: bool = True  # False: no throttling at all (the baseline)
    other_tenants: float = 0.3  # share of every bucket the rest of the account uses
    start_latency: StartLatency = field(default_factory=StartLatency)
    job_duration: JobDuration = field(default_factory=JobDuration)
    latency_scale: float = 1.0  # API latencies (emulator/latency.py); 0 = instant
    volumes: int = 2  # EBS volumes per instance
    policy: dict[str, Any] = field(default_factory=dict)  # the schedule's policy (defaults)
    discovery_environment: dict[str, str] = field(default_factory=dict)  # overrides
    # What the module derives from its default API budget (modules/state-machine/budget.tf,
    # asserted by its terraform test): instances frozen at once, discovery's start pace.
    freeze_slots: int = 2
    start_rate_per_second: float = 0.06
    job_poll_gate_calls: int = 5  # DescribeBackupJob polls a second (admission.job_poll_gate_calls)
    # The account's own quotas (calls a second by "service:Action", the module's
    # api_budget.quotas), where they differ from the table's: a raised quota. The three
    # fields above must then be what the module derives for them.
    quota_overrides: dict[str, float] = field(default_factory=dict)
    discovery_timeout: float = 900.0  # the function's timeout (module default)
    stall_seconds: float = 300.0  # real seconds without progress before giving up


@dataclass
class InstanceResult:
    """One instance: how its run ended and what its freeze was."""

    index: int
    instance_id: str
    status: str  # SUCCEEDED, FAILED, ..., or "NOT_STARTED"
    outcome: str  # succeeded, degraded, skipped, failed, not-started
    consistency: str | None
    error: str | None = None
    started: float | None = None  # virtual seconds since the scheduled time
    stopped: float | None = None
    freezes: list[dict[str, Any]] = field(default_factory=list)  # start, end, ended_by, bound
    snapshot_latency: float | None = None  # StartBackupJob -> snapshots' start
    snapshot_started: float | None = None
    guard_held: bool = False  # the guard item still names an execution

    @property
    def frozen_seconds(self) -> float:
        return sum(f["end"] - f["start"] for f in self.freezes if f["end"] is not None)


@dataclass
class FleetRun:
    config: FleetConfig
    instances: list[InstanceResult]
    apis: dict[str, ApiLog]
    quotas: Quotas
    discovery: fleet_discovery.DiscoveryRun
    virtual_seconds: float
    wall_seconds: float
    cpu_seconds: float
    max_rss_mb: float
    peak_participants: int
    handoffs: int
    slots_held: list[str] = field(default_factory=list)  # freeze slots still held at the end

    @property
    def throttled_calls(self) -> int:
        """API calls answered with a throttling error (state transitions only wait)."""
        return sum(log.throttled for api, log in self.apis.items() if api != TRANSITIONS)


def install() -> None:
    """The emulator plus the fleet's hooks (idempotent; ``emulator.uninstall()`` undoes all)."""
    emulator.install()
    from moto.core.responses import BaseResponse

    if not getattr(BaseResponse.call_action, "_acb_metering", False):
        concurrency.install(emulator.clock)
        backup_realism.install()
        indexes.install()
        metering.install()


def _scheduled_start() -> _dt.datetime:
    from .statemachine import SCHEDULED_TIME

    return _dt.datetime.fromisoformat(SCHEDULED_TIME.replace("Z", "+00:00"))


def _create_fleet(world: Any, config: FleetConfig) -> list[str]:
    devices = ["/dev/xvda"] + [f"/dev/xvd{chr(ord('f') + i)}" for i in range(config.volumes - 1)]
    mappings = [
        {"DeviceName": d, "Ebs": {"VolumeSize": 8 if i == 0 else 100}}
        for i, d in enumerate(devices)
    ]
    ids: list[str] = []
    while len(ids) < config.instances:
        count = min(BATCH, config.instances - len(ids))
        reservation = world.ec2.run_instances(
            ImageId=world.images["linux"],
            MinCount=count,
            MaxCount=count,
            BlockDeviceMappings=mappings,
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": FLEET_TAG[0], "Value": FLEET_TAG[1]}]}
            ],
        )
        ids.extend(i["InstanceId"] for i in reservation["Instances"])
    return ids


def _plan_backups(ids: list[str], config: FleetConfig) -> None:
    generator = random.Random(config.seed)  # noqa: S311 - a simulation, not security
    for instance_id in ids:
        emulator.backup.plan(
            instance_id,
            start_after=config.start_latency.sample(generator),
            run_seconds=config.job_duration.sample(generator),
        )


def _environment(world: Any, config: FleetConfig) -> dict[str, str]:
    from .statemachine import PREFIX, REGION, TOPIC_ARN

    return {
        "AWS_DEFAULT_REGION": REGION,
        "STATE_MACHINE_ARN": world.state_machine_arn,
        "NOTIFICATION_TOPIC_ARN": TOPIC_ARN,
        "NAME_PREFIX": PREFIX,
        "START_RATE_PER_SECOND": str(config.start_rate_per_second),
        "START_BURST": "1",  # the root module's (main.tf)
        **config.discovery_environment,
    }


def run_fleet(config: FleetConfig) -> FleetRun:
    """Run one fleet (see the module's docstring)."""
    from moto.stepfunctions.parser.utils import TMP_THREADS

    from .statemachine import ACCOUNT, PREFIX, REGION, emulated_aws

    overrides = account_quotas(config.quota_overrides, REGION)  # a wrong key fails here
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    install()
    concurrency.seed(config.seed)
    wall, cpu = time.perf_counter(), time.process_time()
    saved_environment = dict(os.environ)
    try:
        admission = {
            "freeze_slots": config.freeze_slots,
            "job_poll_gate_calls": config.job_poll_gate_calls,
        }
        with emulated_aws(admission) as world:
            ids = _create_fleet(world, config)
            _plan_backups(ids, config)
            scheduler = _scheduler.Scheduler(_scheduled_start(), stall_seconds=config.stall_seconds)
            quotas = Quotas(region=REGION, other_tenants=config.other_tenants, overrides=overrides)
            meter = Meter(
                quotas if config.quotas else None,
                LatencyModel(config.seed, config.latency_scale),
                scheduler.now,
            )
            event = {
                "schedule_name": FLEET_TAG[1],
                "scheduled_time": scheduler.datetime().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "tag_value": FLEET_TAG[1],
                "dry_run": False,
                "policy": dict(config.policy),
            }
            emulator.clock.attach(scheduler)
            metering.activate(meter)
            collector = gc.get_threshold()
            gc.freeze()  # the setup's objects are not garbage: keep the collector off them
            gc.set_threshold(50_000, 50, 100)
            try:
                with scheduler.driving():
                    discovery = fleet_discovery.run(
                        scheduler,
                        event,
                        _environment(world, config),
                        function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{PREFIX}-discovery",
                        timeout=config.discovery_timeout,
                        seed=config.seed,
                    )
            finally:
                gc.set_threshold(*collector)
                gc.unfreeze()
                metering.deactivate()
                end = scheduler.datetime()
                emulator.clock.detach()
                TMP_THREADS.clear()  # moto keeps every interpreter thread object
            instances = _collect(world, ids, scheduler.start, end)
            slots_held = _slots_held(world)
            wall_seconds = time.perf_counter() - wall
            return FleetRun(
                config=config,
                instances=instances,
                apis=meter.apis,
                quotas=quotas,
                discovery=discovery,
                virtual_seconds=(end - scheduler.start).total_seconds(),
                wall_seconds=wall_seconds,
                cpu_seconds=time.process_time() - cpu,
                max_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                peak_participants=scheduler.peak_participants,
                handoffs=scheduler.handoffs,
                slots_held=slots_held,
            )
    finally:
        os.environ.clear()
        os.environ.update(saved_environment)


def _slots_held(world: Any) -> list[str]:
    """Freeze slots (guard-table items ``freeze-slot#<n>``) that still name a holder."""
    from .statemachine import GUARD_TABLE

    held = []
    for page in world.ddb.get_paginator("scan").paginate(TableName=GUARD_TABLE):
        for item in page["Items"]:
            key = item["instance_id"]["S"]
            if key.startswith("freeze-slot#") and "holder" in item:
                held.append(key)
    return sorted(held)


def _seconds(value: Any, start: _dt.datetime) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = emulator.parse_iso(value)
    return round((value - start).total_seconds(), 3)


def _collect(
    world: Any, ids: list[str], start: _dt.datetime, end: _dt.datetime
) -> list[InstanceResult]:
    """Read back each instance's run (harness reads: unmetered, after the run)."""
    from .statemachine import GUARD_TABLE, REGION

    executions: dict[str, dict[str, Any]] = {}
    pages = world.sfn.get_paginator("list_executions").paginate(
        stateMachineArn=world.state_machine_arn
    )
    for page in pages:
        for item in page["executions"]:
            described = world.sfn.describe_execution(executionArn=item["executionArn"])
            instance_id = json.loads(described["input"]).get("instance_id")
            executions[instance_id] = described
    guards = {}
    for page in world.ddb.get_paginator("scan").paginate(TableName=GUARD_TABLE):
        for item in page["Items"]:
            guards[item["instance_id"]["S"]] = item
    jobs: dict[str, Any] = {}
    for job in emulator.backup.jobs(region=REGION):
        jobs.setdefault(job.instance_id, job)

    results = []
    for index, instance_id in enumerate(ids):
        described = executions.get(instance_id)
        agent = emulator.ssm.agent(instance_id, region=REGION)
        agent.settle(end)
        bounds = {
            c.run_id: float((c.parameters.get("MaxFreezeSeconds") or ["nan"])[0])
            for c in agent.commands
            if c.kind == "freeze"
        }
        freezes = [
            {
                "start": _seconds(i.start, start),
                "end": _seconds(i.end, start),
                "ended_by": i.ended_by,
                "bound": bounds.get(i.run_id),
            }
            for i in agent.intervals
        ]
        job = jobs.get(instance_id)
        guard = guards.get(instance_id)
        result = InstanceResult(
            index=index,
            instance_id=instance_id,
            status="NOT_STARTED",
            outcome="not-started",
            consistency=None,
            freezes=freezes,
            guard_held=bool(guard and "execution_arn" in guard),
        )
        if job is not None and job.started_at is not None:
            result.snapshot_latency = round((job.started_at - job.created_at).total_seconds(), 3)
            result.snapshot_started = _seconds(job.started_at, start)
        if described is not None:
            result.status = described["status"]
            result.started = _seconds(described.get("startDate"), start)
            result.stopped = _seconds(described.get("stopDate"), start)
            output = json.loads(described["output"]) if described.get("output") else {}
            if described["status"] == "SUCCEEDED":
                result.outcome = output.get("outcome") or "succeeded"
                result.consistency = output.get("consistency")
            else:
                result.outcome = "failed"
                result.error = f"{described.get('error')}: {described.get('cause')}"
        results.append(result)
    return results
