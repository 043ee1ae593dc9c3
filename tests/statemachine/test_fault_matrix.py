"""The fault matrix: each fault injected into the emulated world, the real definition run in moto.

Every case asserts the invariants of docs/DESIGN.md on what really happened:
- nothing is left frozen: a thaw was sent after any freeze attempt, and every freeze the
  emulated instance saw ended (by our thaw, or by its watchdog when the thaw is the fault);
- exactly one notification, with the right stage, severity and reason (none on success);
- the consistency label tells the truth (execution output or the event's additional_info,
  and the tag on the recovery point);
- the guard is released;
- the execution ends in the expected state, never with an uncaught runtime error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

import emulator
from emulator import Outcome
from emulator.statemachine import DR_VAULT_ARN, PREFIX, Run, World


def freeze_only(param: Callable[..., Any]) -> bool:
    """A fault matcher: only SendCommand calls that send the freeze."""
    return (param("Parameters", {}) or {}).get("Command") == ["freeze"]


SEVERITY_NAMES = {"0": "Clear", "1": "Critical", "2": "Major", "3": "Minor"}


@dataclass(frozen=True)
class Fault:
    name: str
    arrange: Callable[[World, str], None]
    status: str
    consistency: str
    stage: str | None = None  # None: no notification at all
    severity: str | None = None
    reason: str | None = None  # a fragment of the event's description
    policy: dict[str, Any] = field(default_factory=dict)
    platform: str = "linux"
    instance_state: str = "running"
    freeze_sent: bool = True  # the freeze command reached the instance
    thaw_sent: bool = True  # a thaw was sent (required after any freeze attempt)
    backup: bool = True  # a recovery point exists and carries the label
    ended_by: str | None = "thaw"  # how each freeze the instance saw ended


def nothing(world: World, instance_id: str) -> None:
    del world, instance_id


def ssm_plan(**settings: Any) -> Callable[[World, str], None]:
    return lambda world, instance_id: emulator.ssm.plan(instance_id, **settings)


def backup_plan(**settings: Any) -> Callable[[World, str], None]:
    return lambda world, instance_id: emulator.backup.plan(instance_id, **settings)


def api_fault(
    service: str, action: str, code: str, times: int = 1, when: Callable[..., bool] | None = None
) -> Callable[[World, str], None]:
    return lambda world, instance_id: emulator.faults.inject(
        service, action, code, times=times, when=when
    )


def both(*steps: Callable[[World, str], None]) -> Callable[[World, str], None]:
    def arrange(world: World, instance_id: str) -> None:
        for step in steps:
            step(world, instance_id)

    return arrange


COPY = {"copy_targets": [{"destination_vault_arn": DR_VAULT_ARN, "retention_days": 90}]}

FAULTS = [
    # --- preflight: the SSM agent
    Fault(
        "agent-connection-lost",
        ssm_plan(ping="ConnectionLost"),
        "SUCCEEDED",
        "crash-consistent",
        "preflight",
        "3",
        "the SSM agent is ConnectionLost; backed up crash-consistent",
        freeze_sent=False,
        thaw_sent=False,
        ended_by=None,
    ),
    Fault(
        "agent-not-managed-policy-fail",
        ssm_plan(ping="unregistered"),
        "FAILED",
        "none",
        "preflight",
        "2",
        "not managed by SSM",
        policy={"on_freeze_failure": "fail"},
        freeze_sent=False,
        thaw_sent=False,
        backup=False,
        ended_by=None,
    ),
    Fault(
        "agent-offline-policy-skip",
        ssm_plan(ping="ConnectionLost"),
        "SUCCEEDED",
        "none",
        "preflight",
        "3",
        "the policy skips the backup",
        policy={"on_freeze_failure": "skip"},
        freeze_sent=False,
        thaw_sent=False,
        backup=False,
        ended_by=None,
    ),
    Fault(
        "agent-lookup-access-denied",
        api_fault("ssm", "DescribeInstanceInformation", "AccessDeniedException", times=20),
        "SUCCEEDED",
        "crash-consistent",
        "preflight",
        "3",
        "DescribeInstanceInformation failed",
        freeze_sent=False,
        thaw_sent=False,
        ended_by=None,
    ),
    # --- freeze
    Fault(
        "pre-freeze-hook-failed-exit-12",
        ssm_plan(freeze=Outcome.fail(12, "pre-freeze hook 10-mysql timed out")),
        "SUCCEEDED",
        "crash-consistent",
        "freeze",
        "3",
        "(exit code 12): pre-freeze hook 10-mysql timed out",
        ended_by=None,
    ),
    Fault(
        "fsfreeze-failed-exit-13-policy-fail",
        ssm_plan(freeze=Outcome.fail(13, "fsfreeze /data: Operation not supported")),
        "FAILED",
        "none",
        "freeze",
        "2",
        "Operation not supported; the policy fails the backup",
        policy={"on_freeze_failure": "fail"},
        backup=False,
        ended_by=None,
    ),
    Fault(
        "other-freeze-active-exit-11-policy-skip",
        ssm_plan(freeze=Outcome.fail(11, "another run's freeze is active: weekly-run")),
        "SUCCEEDED",
        "none",
        "freeze",
        "3",
        "another run's freeze is active",
        policy={"on_freeze_failure": "skip"},
        backup=False,
        ended_by=None,
    ),
    Fault(
        "freeze-timed-out-after-freezing",
        ssm_plan(freeze=Outcome.timed_out(froze=True)),
        "SUCCEEDED",
        "crash-consistent",
        "freeze",
        "3",
        "ended TimedOut",
    ),
    # Polled for command_wait_max_seconds (120 s), longer than the freeze may last: the
    # watchdog ends it at 30 s.
    Fault(
        "freeze-command-hangs",
        ssm_plan(freeze=Outcome.hangs(froze=True)),
        "SUCCEEDED",
        "crash-consistent",
        "freeze",
        "3",
        "the freeze command was still InProgress after",
        ended_by="watchdog",
    ),
    Fault(
        "freeze-output-unreadable",
        ssm_plan(freeze=Outcome.garbage("Segmentation fault\n")),
        "SUCCEEDED",
        "crash-consistent",
        "freeze",
        "3",
        "no JSON report",
    ),
    Fault(
        "nothing-to-freeze",
        ssm_plan(filesystems=[]),
        "SUCCEEDED",
        "crash-consistent",
        "freeze",
        "3",
        "no eligible filesystem to freeze",
        ended_by=None,
    ),
    Fault(
        "freeze-send-throttled",
        api_fault("ssm", "SendCommand", "ThrottlingException", times=2, when=freeze_only),
        "SUCCEEDED",
        "application-consistent",
    ),
    Fault(
        "freeze-send-access-denied",
        api_fault("ssm", "SendCommand", "AccessDeniedException", times=20, when=freeze_only),
        "SUCCEEDED",
        "crash-consistent",
        "freeze",
        "3",
        "SendCommand (freeze) failed",
        freeze_sent=False,
        ended_by=None,
    ),
    # --- the backup job
    Fault(
        "start-backup-job-access-denied",
        api_fault("backup", "StartBackupJob", "AccessDeniedException", times=20),
        "FAILED",
        "none",
        "backup-job",
        "2",
        "StartBackupJob failed",
        backup=False,
    ),
    Fault(
        "start-backup-job-throttled",
        api_fault("backup", "StartBackupJob", "ThrottlingException", times=2),
        "SUCCEEDED",
        "application-consistent",
    ),
    Fault(
        "job-never-starts-expired",
        backup_plan(start_after=None),
        "FAILED",
        "crash-consistent-timeout",
        "backup-job",
        "2",
        "EXPIRED",
        backup=False,
    ),
    Fault(
        "snapshot-starts-after-freeze-window",
        backup_plan(start_after=75),  # the world's max_freeze_seconds is 60
        "SUCCEEDED",
        "crash-consistent-timeout",
        "snapshot-wait",
        "3",
        "had not started",
    ),
    Fault(
        "snapshot-late-policy-fail",
        backup_plan(start_after=75),
        "FAILED",
        "crash-consistent-timeout",
        "snapshot-wait",
        "3",
        "the policy requires application-consistent backups",
        policy={"on_freeze_failure": "fail"},
    ),
    Fault(
        "job-failed-after-snapshot",
        backup_plan(outcome="FAILED", status_message="Insufficient privileges to create AMI"),
        "FAILED",
        "application-consistent",
        "backup-job",
        "2",
        "FAILED: Insufficient privileges to create AMI",
        backup=False,
    ),
    Fault(
        "job-aborted-before-snapshot",
        backup_plan(outcome="ABORTED", before_start=True, start_after=10),
        "FAILED",
        # Inside the window only EC2 is watched (no snapshot ever starts): as for a job that
        # never starts, the freeze ends at its deadline and says so.
        "crash-consistent-timeout",
        "backup-job",
        "2",
        "was ABORTED",
        backup=False,
    ),
    Fault(
        "job-partial",
        backup_plan(outcome="PARTIAL", status_message="1 of 2 volumes"),
        "FAILED",
        "application-consistent",
        "backup-job",
        "2",
        "ended PARTIAL",
    ),
    Fault(
        "describe-backup-job-throttled",
        api_fault("backup", "DescribeBackupJob", "ThrottlingException", times=3),
        "SUCCEEDED",
        "application-consistent",
    ),
    Fault(
        "describe-snapshots-throttled",
        api_fault("ec2", "DescribeSnapshots", "RequestLimitExceeded", times=3),
        "SUCCEEDED",
        "application-consistent",
    ),
    Fault(
        "copy-job-failed",
        backup_plan(copy_outcome="FAILED"),
        "FAILED",
        "application-consistent",
        "copy-job",
        "3",
        "not every copy job completed",
        policy=COPY,
    ),
    # --- thaw
    Fault(
        "thaw-fails-once",
        ssm_plan(thaw=[Outcome.fail(14, "thaw /data: Invalid argument")]),
        "SUCCEEDED",
        "application-consistent",
    ),
    Fault(
        "thaw-always-fails",
        ssm_plan(thaw=[Outcome.fail(14, "thaw /data: Input/output error")] * 3),
        "FAILED",
        "application-consistent",
        "thaw",
        "1",
        "a filesystem may stay frozen",
        backup=False,
        ended_by="watchdog",
    ),
    Fault(
        "thaw-never-delivered",
        ssm_plan(thaw=[Outcome.never_delivered()] * 3),
        "FAILED",
        "application-consistent",
        "thaw",
        "1",
        "a filesystem may stay frozen",
        backup=False,
        ended_by="watchdog",
    ),
    Fault(
        "thaw-unanswered-after-failed-freeze",
        ssm_plan(
            freeze=Outcome.fail(13, "fsfreeze /data: Operation not supported"),
            thaw=[Outcome.never_delivered()] * 3,
        ),
        "FAILED",
        "none",
        "thaw",
        "2",
        "the freeze had frozen nothing",
        backup=False,
        ended_by=None,
    ),
    Fault(
        "watchdog-thawed-before-snapshot",
        ssm_plan(watchdog_fires_after=3),
        "SUCCEEDED",
        "crash-consistent-watchdog",
        "thaw",
        "3",
        "watchdog thawed the filesystems",
        ended_by="watchdog",
    ),
    Fault(
        "watchdog-thawed-after-snapshot",
        ssm_plan(thaw=[Outcome(seconds=70)]),
        "SUCCEEDED",
        "application-consistent",
        ended_by="watchdog",
    ),
    # --- guard, notification, instance
    Fault(
        "guard-table-throttled",
        api_fault("dynamodb", "UpdateItem", "ProvisionedThroughputExceededException", times=2),
        "SUCCEEDED",
        "application-consistent",
    ),
    Fault(
        "notification-publish-throttled",
        both(ssm_plan(ping="ConnectionLost"), api_fault("sns", "Publish", "Throttled")),
        "SUCCEEDED",
        "crash-consistent",
        "preflight",
        "3",
        "ConnectionLost",
        freeze_sent=False,
        thaw_sent=False,
        ended_by=None,
    ),
    Fault(
        "instance-terminated",
        lambda world, i: world.ec2.terminate_instances(InstanceIds=[i]),
        "FAILED",
        "none",
        "preflight",
        "2",
        "the instance is terminated",
        freeze_sent=False,
        thaw_sent=False,
        backup=False,
        ended_by=None,
    ),
    Fault(
        "instance-stopped-policy-skip",
        nothing,
        "SUCCEEDED",
        "none",
        policy={"stopped_instances": "skip"},
        instance_state="stopped",
        freeze_sent=False,
        thaw_sent=False,
        backup=False,
        ended_by=None,
    ),
    Fault(
        "windows-backup-job-denied",
        api_fault("backup", "StartBackupJob", "AccessDeniedException", times=20),
        "FAILED",
        "vss",
        "backup-job",
        "2",
        "StartBackupJob failed",
        platform="windows",
        freeze_sent=False,
        thaw_sent=False,
        backup=False,
        ended_by=None,
    ),
]


def consistency_of(run: Run) -> str:
    if run.output is not None:
        return run.output["consistency"]
    assert run.notifications, "a failed run must say what it achieved in its event"
    return json.loads(run.notifications[0]["message"]["additional_info"])["consistency"]


def assert_event_format(notification: dict[str, Any], run: Run) -> None:
    message = notification["message"]
    assert set(message) == {
        "source",
        "event_class",
        "node",
        "resource",
        "type",
        "metric_name",
        "message_key",
        "severity",
        "resolution_state",
        "time_of_event",
        "description",
        "additional_info",
    }
    assert message["source"] == "app-consistent-backup"
    assert message["event_class"] == PREFIX
    assert message["node"] == run.instance_id
    assert message["resource"].endswith(f":instance/{run.instance_id}")
    assert message["message_key"] == f"{PREFIX}:{run.instance_id}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", message["time_of_event"])
    info = json.loads(message["additional_info"])
    assert all(isinstance(value, str) for value in info.values())
    assert info["execution_arn"] == run.execution_arn
    assert info["run_id"] == run.run_id
    assert info["stage"] == message["metric_name"]
    severity_name = SEVERITY_NAMES[message["severity"]]
    assert notification["subject"].startswith(f"[{severity_name}] app-consistent-backup ")
    assert notification["attributes"] == {
        "severity": message["severity"],
        "stage": message["metric_name"],
        "outcome": info["outcome"],
        "instance_id": run.instance_id,
    }


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault(world: World, fault: Fault) -> None:
    instance_id = world.instance(platform=fault.platform, state=fault.instance_state)
    fault.arrange(world, instance_id)
    policy = {**fault.policy}
    run = world.run(instance_id, platform=fault.platform, policy=policy)

    # The execution ends as expected, never through an uncaught runtime error.
    assert run.status == fault.status, (run.error, run.cause)
    assert run.error in (None, "BackupFailed"), (run.error, run.cause)

    # Nothing is left frozen.
    kinds = [command.kind for command in run.commands]
    assert ("freeze" in kinds) == fault.freeze_sent, kinds
    assert ("thaw" in kinds) == fault.thaw_sent, kinds
    if "freeze" in kinds:
        assert "thaw" in kinds[kinds.index("freeze") :], "a freeze without a later thaw"
    max_freeze = {**world.execution_input(instance_id)["policy"], **policy}["max_freeze_seconds"]
    emulator.clock.advance(max_freeze + 1)  # let any watchdog still armed do its work
    intervals = run.intervals
    if fault.ended_by is None:
        assert intervals == []
    else:
        assert intervals, "the instance should have been frozen"
        for interval in intervals:
            assert interval.ended_by == fault.ended_by, interval
            assert (interval.end - interval.start).total_seconds() <= max_freeze

    # Exactly one notification, with the right stage, severity and reason.
    if fault.stage is None:
        assert run.notifications == []
    else:
        assert len(run.notifications) == 1, [n["subject"] for n in run.notifications]
        notification = run.notifications[0]
        assert_event_format(notification, run)
        message = notification["message"]
        assert message["metric_name"] == fault.stage
        assert message["severity"] == fault.severity
        assert fault.reason in message["description"], message["description"]

    # The label tells the truth, on the run and on the recovery point.
    assert consistency_of(run) == fault.consistency
    completed = [job for job in run.jobs if job.state in ("COMPLETED", "PARTIAL")]
    if fault.backup:
        assert len(completed) == 1
        tags = world.image_tags(completed[0].recovery_point_arn)
        assert tags["app-consistent-backup:consistency"] == fault.consistency
        assert tags["app-consistent-backup:run-id"] == run.run_id
    else:
        assert completed == []

    # The guard is released, and remembers whether an alert is open.
    item = world.guard_item(instance_id)
    assert item is not None
    assert "execution_arn" not in item
    assert item["open_alert"]["BOOL"] == (fault.stage is not None)


def test_the_matrix_has_at_least_twenty_faults() -> None:
    assert len(FAULTS) >= 20
    assert len({f.name for f in FAULTS}) == len(FAULTS)


# ------------------------------------------------------------------ the label cannot be set
def _tagging_denied(world: World, instance_id: str) -> None:
    del world, instance_id
    emulator.faults.inject("ec2", "CreateTags", "UnauthorizedOperation", times=20)


def test_label_that_cannot_be_set_is_reported_minor(world: World) -> None:
    instance_id = world.instance()
    _tagging_denied(world, instance_id)
    run = world.run(instance_id)
    assert run.status == "FAILED", (run.error, run.cause)
    assert len(run.notifications) == 1
    message = run.notifications[0]["message"]
    assert (message["metric_name"], message["severity"]) == ("tagging", "3")
    assert "could not be tagged application-consistent" in message["description"]


def test_label_failure_does_not_hide_a_partial_job(world: World) -> None:
    """A PARTIAL job is a Major failure (no full backup); a failed label must not turn it
    into a Minor one, nor drop its reason."""
    instance_id = world.instance()
    emulator.backup.plan(instance_id, outcome="PARTIAL", status_message="1 of 2 volumes")
    _tagging_denied(world, instance_id)
    run = world.run(instance_id)
    assert run.status == "FAILED", (run.error, run.cause)
    assert len(run.notifications) == 1
    message = run.notifications[0]["message"]
    assert (message["metric_name"], message["severity"]) == ("backup-job", "2")
    assert "ended PARTIAL" in message["description"]
    info = json.loads(message["additional_info"])
    assert "could not be tagged" in info["reason"]
