"""What the backup cycle did, read back from the emulated AWS APIs (``demo.render`` writes it).

Every fact comes from where an operator would read it: the executions from Step
Functions, the jobs from AWS Backup, the consistency label from the recovery point's
tags, the notifications from what the local ServiceNow accepted (delivered by the
deployed delivery function), the freeze windows from the freeze/thaw commands' output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import emulator
from demo import fleet
from demo.servicenow import Delivery, Drill
from emulator.real_agent import RealAgent

CONSISTENCY_TAG = "app-consistent-backup:consistency"


@dataclass
class Freeze:
    text: str  # as shown in the report
    milliseconds: float | None = None
    real: bool = False
    frozen_at: str | None = None  # real clock for a real freeze
    thawed_at: str | None = None
    watchdog: str | None = None
    filesystems: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class InstanceResult:
    name: str
    what: str
    instance_id: str
    expected: fleet.Expected
    live: bool
    execution_name: str | None = None
    execution_status: str | None = None
    outcome: str | None = None
    consistency: str | None = None
    reason: str | None = None
    job_id: str | None = None
    job_state: str | None = None
    recovery_point: str | None = None
    snapshots: int = 0
    freeze: Freeze = field(default_factory=lambda: Freeze("-"))
    notifications: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def as_expected(self) -> bool:
        return not self.problems

    @property
    def shown_outcome(self) -> str:
        if self.execution_name is None:
            return "not started"
        return self.outcome or (self.execution_status or "?").lower()


@dataclass
class Cycle:
    instances: list[InstanceResult]
    discovery: dict[str, Any]
    notifications: list[dict[str, Any]]
    destinations: list[str]
    dead_letters: int
    recovery_points: int
    live_note: str
    delivery: Delivery = field(default_factory=Delivery)
    alarms: list[str] = field(default_factory=list)
    drill: Drill = field(default_factory=Drill)
    writer_wait_ms: float | None = None
    problems: list[str] = field(default_factory=list)  # run-wide

    @property
    def as_expected(self) -> bool:
        return not self.problems and all(i.as_expected for i in self.instances)


# ---------------------------------------------------------------------- reading back
def _last_json(stdout: str) -> dict[str, Any] | None:
    lines = [line for line in (stdout or "").splitlines() if line.strip()]
    try:
        value = json.loads(lines[-1])
    except (ValueError, IndexError):
        return None
    return value if isinstance(value, dict) else None


def drain_queue(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message in the queue (raw SNS deliveries: the ServiceNow JSON)."""
    found: list[dict[str, Any]] = []
    for _ in range(50):  # bounded: 500 messages is far more than the demo sends
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=600,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            try:
                body = json.loads(message["Body"])
            except ValueError:
                body = {"description": message["Body"]}
            found.append(body)
    return found


def _freeze_emulated(member: fleet.Member, instance_id: str, account: str, region: str) -> Freeze:
    records = emulator.ssm.commands(instance_id, account=account, region=region)
    freezes = [r for r in records if r.kind == "freeze"]
    thaws = [r for r in records if r.kind == "thaw"]
    if member.platform == "windows":
        return Freeze("none: VSS")
    if member.stopped:
        return Freeze("none: stopped")
    if not freezes:
        return Freeze("none: offline" if member.agent.get("ping") else "-")
    if freezes[-1].exit_code != 0 or freezes[-1].status != "Success":
        return Freeze(f"none: exit {freezes[-1].exit_code}")
    thaw = _last_json(thaws[-1].stdout) if thaws else None
    if not thaw or thaw.get("freeze_duration_ms") is None:
        return Freeze("? (no thaw report)")
    ms = float(thaw["freeze_duration_ms"])
    return Freeze(
        f"{ms / 1000:.1f} s virtual",
        milliseconds=ms,
        frozen_at=thaw.get("frozen_at"),
        thawed_at=thaw.get("thawed_at"),
        watchdog=(thaw.get("watchdog") or {}).get("outcome"),
    )


def _freeze_real(agent: RealAgent) -> Freeze:
    freezes = [c for c in agent.commands if c.kind == "freeze"]
    thaws = [c for c in agent.commands if c.kind == "thaw"]
    if not freezes:
        return Freeze("-", real=True)
    if freezes[-1].exit_code != 0:
        return Freeze(f"none: exit {freezes[-1].exit_code}", real=True)
    raw = thaws[-1].raw_report if thaws else None
    if not raw or raw.get("freeze_duration_ms") is None:
        return Freeze("? (no thaw report)", real=True)
    ms = float(raw["freeze_duration_ms"])
    return Freeze(
        f"{ms / 1000:.2f} s real",
        milliseconds=ms,
        real=True,
        frozen_at=(freezes[-1].raw_report or {}).get("frozen_at"),
        thawed_at=raw.get("thawed_at"),
        watchdog=(raw.get("watchdog") or {}).get("outcome"),
        filesystems=list((freezes[-1].raw_report or {}).get("filesystems") or []),
    )


def _read_execution(sfn: Any, executions: list[dict[str, Any]], result: InstanceResult) -> None:
    mine = [e for e in executions if result.instance_id in e["name"]]
    if not mine:
        return
    described = sfn.describe_execution(executionArn=mine[-1]["executionArn"])
    result.execution_name = described["name"]
    result.execution_status = described["status"]
    output = json.loads(described["output"]) if described.get("output") else {}
    result.outcome = output.get("outcome")
    result.consistency = output.get("consistency") or None
    result.reason = output.get("reason") or described.get("cause")
    if described["status"] == "FAILED" and not result.outcome:
        result.outcome = "failed"


def _read_backup(backup: Any, ec2: Any, arn: str, result: InstanceResult) -> None:
    """The job, and the recovery point with the label it carries (what a restore sees)."""
    jobs = backup.list_backup_jobs(ByResourceArn=arn)["BackupJobs"]
    if jobs:
        job = jobs[-1]
        result.job_id = job["BackupJobId"]
        result.job_state = job["State"]
        point = job.get("RecoveryPointArn") or ""
        image_id = point.rsplit("/", 1)[-1] if ":image/" in point else None
        found = []
        if image_id:
            found = ec2.describe_images(Filters=[{"Name": "image-id", "Values": [image_id]}])[
                "Images"
            ]
        if found:
            tags = {t["Key"]: t["Value"] for t in found[0].get("Tags", [])}
            result.recovery_point = image_id
            result.snapshots = len(found[0].get("BlockDeviceMappings", []))
            label = tags.get(CONSISTENCY_TAG)
            if result.consistency and label != result.consistency:
                result.problems.append(
                    f"recovery point labelled {label!r}, execution says {result.consistency!r}"
                )
            result.consistency = label
    if not result.recovery_point:
        result.consistency = None  # nothing was backed up: no consistency to claim


def collect(
    *,
    clients: dict[str, Any],
    account: str,
    region: str,
    instances: list[fleet.Instance],
    outputs: dict[str, Any],
    discovery: dict[str, Any],
    real_agent: RealAgent | None,
    live_note: str,
    delivery: Delivery,
    alarms: list[str],
    drill: Drill,
) -> Cycle:
    sfn, backup, ec2, sqs, sns = (
        clients[name] for name in ("stepfunctions", "backup", "ec2", "sqs", "sns")
    )
    executions = sfn.list_executions(stateMachineArn=outputs["state_machine_arn"])["executions"]
    messages = delivery.accepted
    by_node: dict[str, list[dict[str, Any]]] = {}
    for message in messages:
        by_node.setdefault(str(message.get("node")), []).append(message)

    results = []
    for instance in instances:
        member = instance.member
        result = InstanceResult(
            name=member.name,
            what=member.what,
            instance_id=instance.instance_id,
            expected=member.expected,
            live=member.live,
        )
        _read_execution(sfn, executions, result)
        _read_backup(backup, ec2, instance.arn, result)
        result.notifications = by_node.get(instance.instance_id, [])
        if result.execution_name is None:
            result.freeze = Freeze("-")
        elif member.live and real_agent is not None:
            result.freeze = _freeze_real(real_agent)
        else:
            if member.live:
                result.what = member.what.replace("real freeze", "real freeze skipped")
            result.freeze = _freeze_emulated(member, instance.instance_id, account, region)
        check(result, member)
        results.append(result)

    subscriptions = sns.list_subscriptions_by_topic(TopicArn=outputs["sns_topic_arn"])
    dead_letter_url = sqs.get_queue_url(
        QueueName=outputs["dead_letter_queue_arn"].rsplit(":", 1)[-1]
    )["QueueUrl"]
    points = backup.list_recovery_points_by_backup_vault(BackupVaultName=outputs["vault_name"])
    cycle = Cycle(
        instances=results,
        discovery=discovery,
        notifications=messages,
        destinations=[
            f"{s['Protocol']}: {s['Endpoint']}" for s in subscriptions.get("Subscriptions", [])
        ],
        dead_letters=len(drain_queue(sqs, dead_letter_url)),
        recovery_points=len(points.get("RecoveryPoints", [])),
        live_note=live_note,
        delivery=delivery,
        alarms=alarms,
        drill=drill,
    )
    cycle.problems += [f"crash drill: {p}" for p in drill.problems]
    check_discovery(cycle)
    check_delivery(cycle, {i.instance_id for i in instances})
    return cycle


# ---------------------------------------------------------------------- expectations
def check(result: InstanceResult, member: fleet.Member) -> None:
    """Compare what happened with ``member.expected``; differences go to ``problems``."""
    expected = member.expected
    problems = result.problems
    if not expected.started:
        if result.execution_name is not None:
            problems.append(f"an execution was started ({result.execution_name})")
        if result.job_id is not None or result.notifications:
            problems.append("a backup job or a notification about it")
        return
    if result.execution_name is None:
        problems.append("no execution was started")
        return
    if result.outcome != expected.outcome:
        problems.append(f"outcome {result.outcome!r}, expected {expected.outcome!r}")
    if expected.consistency and result.consistency != expected.consistency:
        problems.append(f"consistency {result.consistency!r}, expected {expected.consistency!r}")
    if bool(result.recovery_point) != expected.recovery_point:
        problems.append(
            f"recovery point {result.recovery_point!r}, expected "
            f"{'one' if expected.recovery_point else 'none'}"
        )
    elif expected.recovery_point and result.snapshots != member.volumes:
        problems.append(f"{result.snapshots} snapshots for {member.volumes} volumes")
    _check_notifications(result, expected)


def _check_notifications(result: InstanceResult, expected: fleet.Expected) -> None:
    got = [(n.get("severity"), n.get("metric_name")) for n in result.notifications]
    want = [] if expected.severity is None else [(expected.severity, expected.stage)]
    if got != want:
        result.problems.append(f"notifications (severity, stage) {got}, expected {want}")


def check_discovery(cycle: Cycle) -> None:
    summary = cycle.discovery
    tagged = [m for m in fleet.FLEET if m.tagged]
    started = [m for m in fleet.FLEET if m.expected.started]
    opted_out = [m for m in fleet.FLEET if m.expected.skip_reason == "opted_out"]
    want = {
        "fleet_size": len(tagged),
        "started": len(started),
        "failed": 0,
    }
    for key, value in want.items():
        if summary.get(key) != value:
            cycle.problems.append(f"discovery {key} = {summary.get(key)!r}, expected {value}")
    skipped = summary.get("skipped") or {}
    if skipped.get("opted_out") != len(opted_out):
        cycle.problems.append(f"discovery skipped {skipped}, expected opted_out {len(opted_out)}")
    if cycle.dead_letters:
        cycle.problems.append(f"{cycle.dead_letters} message(s) in the dead-letter queue")


# A run's own events (docs/contracts.md 5 and 5b): node schedule/<name>, not an instance.
RUN_EVENT_TYPES = ("BackupRunSummary", "BackupStorm", "BackupRunOverrun")


def check_delivery(cycle: Cycle, instance_ids: set[str]) -> None:
    """Every event reached ServiceNow once, in a body it accepted; nothing else, nothing lost."""
    delivered = cycle.delivery
    cycle.problems += delivered.problems
    run_events = [n for n in cycle.notifications if n.get("type") in RUN_EVENT_TYPES]
    summaries = [n for n in run_events if n.get("type") == "BackupRunSummary"]
    if len(summaries) != 1:
        cycle.problems.append(f"{len(summaries)} run summaries, expected one (contracts 5b)")
    strangers = [
        n.get("node")
        for n in cycle.notifications
        if n.get("node") not in instance_ids and n not in run_events
    ]
    if strangers:
        cycle.problems.append(
            f"ServiceNow received events for no instance of the fleet: {strangers}"
        )
    refused = [s for s in delivered.statuses if not 200 <= s < 300]
    if refused:
        cycle.problems.append(f"ServiceNow refused requests: {refused}")
    if len(delivered.bodies) != len(cycle.notifications):
        cycle.problems.append(
            f"{len(delivered.bodies)} bodies for {len(cycle.notifications)} events"
        )
