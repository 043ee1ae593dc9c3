"""Whole runs of the real definition in moto: what happens, in which order, with what."""

from __future__ import annotations

import json
import threading

import pytest
from botocore.exceptions import ClientError

import emulator
from emulator.statemachine import (
    ACCOUNT,
    DEFAULT_POLICY,
    DR_VAULT_ARN,
    GUARD_TABLE,
    REGION,
    VAULT,
    World,
)

MAX_FREEZE = DEFAULT_POLICY["max_freeze_seconds"]
THAW_MARGIN = 8


def snapshots_of(world: World, recovery_point_arn: str) -> list[dict]:
    image_id = recovery_point_arn.rsplit("/", 1)[-1]
    image = world.ec2.describe_images(ImageIds=[image_id])["Images"][0]
    ids = [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"]]
    return world.ec2.describe_snapshots(SnapshotIds=ids)["Snapshots"]


def test_linux_backup_is_application_consistent(world: World) -> None:
    instance_id = world.instance()
    run = world.run(instance_id)

    assert run.status == "SUCCEEDED"
    assert run.output["outcome"] == "succeeded"
    assert run.output["consistency"] == "application-consistent"
    assert run.notifications == []  # nothing to report, nothing to clear

    # One job, asked for as docs/contracts.md section 4 says.
    (job,) = run.jobs
    assert job.vault_name == VAULT
    assert job.iam_role_arn == f"arn:aws:iam::{ACCOUNT}:role/acb-backup"
    assert job.resource_arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}"
    assert job.token == run.run_id
    assert job.start_window_minutes == 60
    assert job.complete_window_minutes == 10080
    assert job.lifecycle == {"DeleteAfterDays": 35}
    assert job.backup_options == {"WindowsVSS": "disabled"}
    assert job.recovery_point_tags == {
        "app-consistent-backup:run-id": run.run_id,
        "app-consistent-backup:schedule": "nightly",
    }
    assert run.output["recovery_point_arn"] == job.recovery_point_arn

    # Frozen before and thawed after every snapshot's start (the volumes' snapshots start
    # together, a fraction of a second apart).
    (interval,) = run.intervals
    assert interval.ended_by == "thaw"
    snapshots = snapshots_of(world, job.recovery_point_arn)
    assert len(snapshots) == 2
    starts = sorted(emulator.parse_iso(emulator.iso_millis(s["StartTime"])) for s in snapshots)
    assert (starts[-1] - starts[0]).total_seconds() <= 1
    start = starts[-1]
    assert all(interval.start <= s <= interval.end for s in starts)
    assert (interval.end - interval.start).total_seconds() <= MAX_FREEZE - THAW_MARGIN + 4
    assert (
        world.image_tags(job.recovery_point_arn)["app-consistent-backup:consistency"]
        == "application-consistent"
    )

    # The commands: a freeze then a thaw, with the document's parameters.
    freeze, thaw = run.commands
    assert (freeze.kind, thaw.kind) == ("freeze", "thaw")
    assert freeze.parameters == {
        "Command": ["freeze"],
        "RunId": [run.run_id],
        "MaxFreezeSeconds": [str(MAX_FREEZE)],
    }
    assert thaw.sent_at >= start

    # The guard is released and remembers the outcome.
    item = world.guard_item(instance_id)
    assert "execution_arn" not in item
    assert item["last_outcome"]["S"] == "succeeded"
    assert item["last_consistency"]["S"] == "application-consistent"
    assert int(item["expires_at"]["N"]) == 1795395600 + 2592000

    # The freeze window the instance measured reaches CloudWatch.
    cloudwatch = boto3_client("cloudwatch")
    points = cloudwatch.get_metric_statistics(
        Namespace="AppConsistentBackup",
        MetricName="FreezeWindow",
        Dimensions=[{"Name": "StateMachine", "Value": "acb-backup-instance"}],
        StartTime=interval.start.replace(year=2000),
        EndTime=interval.end.replace(year=2100),
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    measured = (interval.end - interval.start).total_seconds() * 1000
    assert [round(p["Maximum"]) for p in points] == [int(measured)]

    # No error anywhere in the history: no retry was needed, nothing was caught.
    assert not [e for e in run.events if e["type"] in ("TaskFailed", "ExecutionFailed")]


def boto3_client(service: str):
    from emulator.statemachine import client

    return client(service)


# The thaw deadline counts from the freeze command (time, not polls): with max_freeze_seconds
# 60 and the 8 s margin, snapshots starting up to about 48 s after StartBackupJob make it on
# an idle host. The emulated clock also moves with real time, so keep a few seconds of slack.
@pytest.mark.parametrize("snapshot_after", [1, 5, 10, 12])
def test_thaw_follows_the_snapshot_start(world: World, snapshot_after: int) -> None:
    instance_id = world.instance()
    emulator.backup.plan(instance_id, start_after=snapshot_after)
    run = world.run(instance_id)
    (job,) = run.jobs
    (interval,) = run.intervals
    assert run.output["consistency"] == "application-consistent"
    # Thawed within two polls (2 s) and a command (1 s) of the snapshots' start.
    after_start = (interval.end - job.started_at).total_seconds()
    assert 0 <= after_start <= 2 * 2 + 1 + 1
    assert (interval.end - interval.start).total_seconds() <= MAX_FREEZE


def test_windows_is_backed_up_with_vss_and_no_command(world: World) -> None:
    instance_id = world.instance(platform="windows")
    run = world.run(instance_id, platform="windows")
    assert run.status == "SUCCEEDED"
    assert run.output["consistency"] == "vss"
    (job,) = run.jobs
    assert job.backup_options == {"WindowsVSS": "enabled"}
    assert run.commands == []
    assert "DescribeSsmAgent" not in run.states
    assert world.image_tags(job.recovery_point_arn)["app-consistent-backup:consistency"] == "vss"


def test_stopped_instance_is_backed_up_without_freeze(world: World) -> None:
    instance_id = world.instance(state="stopped")
    run = world.run(instance_id)
    assert run.status == "SUCCEEDED"
    assert run.output["consistency"] == "stopped"
    assert run.commands == []
    (job,) = run.jobs
    assert job.backup_options == {"WindowsVSS": "disabled"}


def test_copies_are_started_and_followed(world: World) -> None:
    instance_id = world.instance()
    second = DR_VAULT_ARN.replace("eu-central-1", "eu-north-1")
    policy = {
        "copy_targets": [
            {"destination_vault_arn": DR_VAULT_ARN, "retention_days": 90},
            {"destination_vault_arn": second, "retention_days": 30},
        ]
    }
    run = world.run(instance_id, policy=policy)
    assert run.status == "SUCCEEDED"
    copies = sorted(emulator.backup.copy_jobs(), key=lambda c: c.token)
    assert [(c.token, c.destination_vault_arn, c.state) for c in copies] == [
        (f"{run.run_id}-copy-0", DR_VAULT_ARN, "COMPLETED"),
        (f"{run.run_id}-copy-1", second, "COMPLETED"),
    ]
    assert {c.source_recovery_point_arn for c in copies} == {run.output["recovery_point_arn"]}


def test_a_retried_run_does_nothing_twice(world: World) -> None:
    instance_id = world.instance()
    execution_input = world.execution_input(instance_id)
    first = world.finish(world.start(execution_input), execution_input)
    assert first.status == "SUCCEEDED"
    # The scheduler or discovery retries: the same execution name is refused.
    with pytest.raises(ClientError) as refused:
        world.start(execution_input)
    assert refused.value.response["Error"]["Code"] == "ExecutionAlreadyExists"
    # Under another execution name the run id no longer matches it: refused at once, before
    # the guard, so a caller cannot relabel an earlier recovery point through its token.
    again = world.finish(world.start(execution_input, name="manual-rerun"), execution_input)
    assert (again.status, again.error) == ("FAILED", "InvalidInput")
    assert "run_id must equal the execution name" in again.cause
    assert len(emulator.ssm.commands(instance_id)) == 2  # the first run's freeze and thaw
    assert len(emulator.backup.jobs()) == 1


def test_a_success_after_a_failure_clears_the_alert(world: World) -> None:
    instance_id = world.instance()
    emulator.backup.plan(instance_id, outcome="FAILED", status_message="disk error")
    failed = world.run(instance_id, run_id=f"nightly-{instance_id}-20261123T010000Z")
    assert failed.status == "FAILED"
    (alert,) = failed.notifications
    assert alert["message"]["severity"] == "2"

    emulator.backup.plan(instance_id, outcome="COMPLETED")
    cleared = world.run(instance_id, run_id=f"nightly-{instance_id}-20261124T010000Z")
    assert cleared.status == "SUCCEEDED"
    (clear,) = cleared.notifications
    message = clear["message"]
    assert message["severity"] == "0"
    assert message["resolution_state"] == "Closing"
    assert message["type"] == "BackupSucceeded"
    assert message["message_key"] == alert["message"]["message_key"]
    assert clear["subject"] == f"[Clear] app-consistent-backup succeeded {instance_id}"

    quiet = world.run(instance_id, run_id=f"nightly-{instance_id}-20261125T010000Z")
    assert quiet.status == "SUCCEEDED"
    assert quiet.notifications == []


def test_notify_on_success_reports_every_success_as_ok(world: World) -> None:
    instance_id = world.instance()
    run = world.run(instance_id, policy={"notify_on_success": True})
    (event,) = run.notifications
    assert event["message"]["severity"] == "5"
    assert event["subject"] == f"[OK] app-consistent-backup succeeded {instance_id}"
    info = json.loads(event["message"]["additional_info"])
    assert info["consistency"] == "application-consistent"


def test_a_day_long_backup_stays_far_below_the_history_limit(world: World) -> None:
    instance_id = world.instance()
    emulator.backup.plan(instance_id, run_seconds=24 * 3600)
    run = world.run(instance_id)
    assert run.status == "SUCCEEDED"
    assert len(run.events) < 2500  # the hard limit is 25,000
    waits = [s.seconds for s in emulator.clock.sleeps if s.kind == "wait" and s.seconds >= 30]
    # The interval doubles up to 1,200 s, each wait up to a quarter longer at random
    # (jitter). The wait ends at the second its gate reserved, counted from the whole second
    # the gate was entered in (section 9): up to a second short of the interval.
    for wait, interval in zip(waits[:6], [60, 120, 240, 480, 960, 1200], strict=True):
        assert interval - 1 <= wait <= interval * 1.25
    assert 1199 <= max(waits) <= 1500


def test_two_runs_never_freeze_the_same_instance_at_once(world: World) -> None:
    instance_id = world.instance()
    frozen, release = threading.Event(), threading.Event()

    def hold_first_run_while_frozen(param) -> bool:
        frozen.set()
        release.wait(20)
        return False  # not a fault: only a pause

    emulator.faults.inject("backup", "StartBackupJob", "Unused", when=hold_first_run_while_frozen)
    first_input = world.execution_input(instance_id)
    first = world.start(first_input)
    assert frozen.wait(20)
    second_input = world.execution_input(instance_id, schedule="weekly")
    second = world.finish(world.start(second_input), second_input)
    release.set()
    first_run = world.finish(first, first_input)

    assert second.status == "SUCCEEDED"
    assert second.output["outcome"] == "skipped"
    assert second.commands == []
    assert second.jobs == []
    (event,) = second.notifications
    assert event["message"]["metric_name"] == "preflight"
    assert "holds this instance's guard" in event["message"]["description"]
    assert first_run.output["consistency"] == "application-consistent"
    item = world.guard_item(instance_id)
    assert "execution_arn" not in item
    assert item["open_alert"]["BOOL"] is False


@pytest.mark.parametrize("holder", ["finished", "missing"])
def test_a_dead_holder_does_not_block_the_instance(world: World, holder: str) -> None:
    other = world.instance()
    if holder == "finished":
        holder_arn = world.run(other).execution_arn
    else:
        holder_arn = world.state_machine_arn.replace(":stateMachine:", ":execution:") + ":gone"
    instance_id = world.instance()
    world.ddb.put_item(
        TableName=GUARD_TABLE,
        Item={"instance_id": {"S": instance_id}, "execution_arn": {"S": holder_arn}},
    )
    run = world.run(instance_id)
    assert run.status == "SUCCEEDED"
    assert run.output["consistency"] == "application-consistent"
    assert "TakeOverGuard" in run.states
    assert "execution_arn" not in world.guard_item(instance_id)


def test_an_input_without_the_contract_fields_is_rejected(world: World) -> None:
    instance_id = world.instance()
    execution_input = world.execution_input(instance_id)
    del execution_input["policy"]["max_freeze_seconds"]
    run = world.finish(world.start(execution_input), execution_input)
    assert run.status == "FAILED"
    assert run.error == "InvalidInput"
    assert run.commands == []
    assert world.guard_item(instance_id) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_freeze_seconds", "30"),  # a number as a string: MathAdd would fail while frozen
        ("max_freeze_seconds", 0),  # outside the module's and the document's 15..900
        ("retention_days", "35"),
        ("notify_on_success", "false"),
    ],
)
def test_an_input_with_a_mistyped_policy_is_rejected_before_any_freeze(
    world: World, field: str, value: object
) -> None:
    instance_id = world.instance()
    execution_input = world.execution_input(instance_id)
    execution_input["policy"][field] = value
    run = world.finish(world.start(execution_input), execution_input)
    assert (run.status, run.error) == ("FAILED", "InvalidInput"), run.states
    assert run.commands == []
    assert world.guard_item(instance_id) is None
