"""What state machine v2 fixed (issue 9), each on the real definition in the emulated world."""

from __future__ import annotations

import json

import pytest

import emulator
from emulator import Outcome
from emulator.statemachine import ACCOUNT, REGION, Run, World


def info(run: Run) -> dict:
    (notification,) = run.notifications
    return json.loads(notification["message"]["additional_info"])


# ------------------------------------------------------------------ deadlines from time
def test_slow_pre_freeze_hooks_are_waited_for_and_still_give_a_consistent_backup(
    world: World,
) -> None:
    instance_id = world.instance()
    # The freeze command spends 70 s in its pre-freeze hooks, longer than max_freeze_seconds:
    # the watchdog is armed only when the freeze begins, and the instance reports it.
    emulator.ssm.plan(instance_id, freeze=Outcome(seconds=70))
    run = world.run(instance_id)
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert run.output["consistency"] == "application-consistent"
    (interval,) = run.intervals
    assert interval.ended_by == "thaw"


def test_an_invocation_not_yet_visible_is_retried(world: World) -> None:
    instance_id = world.instance()
    emulator.ssm.plan(instance_id, invocation_delay=3)  # longer than the first poll (2 s)
    run = world.run(instance_id)
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert run.output["consistency"] == "application-consistent"
    retried = [
        e
        for e in run.events
        if e["type"] == "TaskFailed"
        and "InvocationDoesNotExist" in e["taskFailedEventDetails"]["error"]
    ]
    assert retried


# ------------------------------------------------------------------ causes accumulate
def test_an_instance_terminated_while_frozen_reports_every_cause_in_order(world: World) -> None:
    instance_id = world.instance()

    def terminate(param) -> bool:
        world.ec2.terminate_instances(InstanceIds=[instance_id])
        return True

    emulator.faults.inject(
        "backup", "StartBackupJob", "InvalidParameterValueException", when=terminate
    )
    run = world.run(instance_id)

    assert run.status == "FAILED"
    (notification,) = run.notifications
    message = notification["message"]
    assert (message["metric_name"], message["severity"]) == ("thaw", "1")
    description = message["description"]
    first, then = description.index("StartBackupJob failed"), description.index("the thaw did not")
    assert first < then
    assert "InvalidInstanceId" in description
    details = info(run)
    assert details["first_cause"].startswith("StartBackupJob failed")
    assert details["causes"] == "2"


# ------------------------------------------------------------------ post-thaw hooks
def test_a_failed_post_thaw_hook_is_a_warning_not_a_silent_success(world: World) -> None:
    instance_id = world.instance()
    emulator.ssm.plan(
        instance_id, thaw=Outcome.hook_failed("post-thaw hook 10-mysql exited 1: UNLOCK failed")
    )
    run = world.run(instance_id)
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert run.output["outcome"] == "degraded"
    assert run.output["consistency"] == "application-consistent"
    (notification,) = run.notifications
    message = notification["message"]
    assert (message["type"], message["severity"], message["metric_name"]) == (
        "BackupDegraded",
        "4",
        "thaw",
    )
    assert notification["subject"].startswith("[Warning] ")
    assert "UNLOCK failed" in message["description"]
    assert world.guard_item(instance_id)["open_alert"]["BOOL"] is True


# ------------------------------------------------------------------ refused before delivery
@pytest.mark.parametrize(
    "code", ["AccessDeniedException", "InvalidInstanceId", "InvalidParameters"]
)
def test_a_send_command_refused_before_delivery_is_not_frozen_and_follows_the_policy(
    world: World, code: str
) -> None:
    instance_id = world.instance()
    # The selection tag was removed: the freeze and every thaw are refused alike.
    emulator.faults.inject("ssm", "SendCommand", code, times=50)
    run = world.run(instance_id)
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert run.output["consistency"] == "crash-consistent"
    assert run.intervals == []
    (notification,) = run.notifications
    message = notification["message"]
    assert (message["metric_name"], message["severity"]) == ("freeze", "3")
    assert "nothing was frozen" in message["description"]
    assert "the thaw did not succeed" not in message["description"]
    (job,) = run.jobs
    assert job.state == "COMPLETED"


def test_a_refused_freeze_under_policy_fail_is_a_major_failure_without_backup(
    world: World,
) -> None:
    instance_id = world.instance()
    emulator.faults.inject("ssm", "SendCommand", "AccessDeniedException", times=50)
    run = world.run(instance_id, policy={"on_freeze_failure": "fail"})
    assert run.status == "FAILED"
    message = run.notifications[0]["message"]
    assert (message["metric_name"], message["severity"]) == ("freeze", "2")
    assert run.jobs == []


# ------------------------------------------------------------------ the input means what it says
def _rejected(world: World, execution_input: dict, name: str | None = None) -> Run:
    run = world.finish(world.start(execution_input, name=name), execution_input)
    assert (run.status, run.error) == ("FAILED", "InvalidInput"), run.states
    assert run.commands == []
    assert run.jobs == []
    assert world.guard_item(execution_input["instance_id"]) is None
    return run


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"instance_arn": "other-instance"}, "instance_arn"),
        ({"instance_arn": "other-account"}, "instance_arn"),
        ({"instance_arn": "other-region"}, "instance_arn"),
        ({"run_id": "nightly-i-0000000000000000f-20261123T010000Z"}, "run_id"),
        ({"schedule_name": "Nightly"}, "schedule_name"),
        ({"platform": "macos"}, "platform"),
        ({"max_freeze_seconds": 3600}, "max_freeze_seconds"),
        ({"max_freeze_seconds": 10}, "max_freeze_seconds"),
        ({"max_freeze_seconds": 30.5}, "max_freeze_seconds"),
        ({"retention_days": 0}, "retention_days"),
        ({"on_freeze_failure": "ignore"}, "on_freeze_failure"),
        ({"stopped_instances": "start"}, "stopped_instances"),
        (
            {"copy_targets": [{"destination_vault_arn": "arn:aws:s3:::b", "retention_days": 9}]},
            "copy_targets",
        ),
    ],
)
def test_an_input_that_does_not_mean_this_run_is_rejected_before_the_guard(
    world: World, change: dict, field: str
) -> None:
    instance_id = world.instance()
    execution_input = world.execution_input(instance_id)
    other = world.instance() if change.get("instance_arn") == "other-instance" else instance_id
    arns = {
        "other-instance": f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{other}",
        "other-account": f"arn:aws:ec2:{REGION}:210987654321:instance/{instance_id}",
        "other-region": f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{instance_id}",
    }
    for key, value in change.items():
        if key == "instance_arn":
            execution_input[key] = arns[value]
        elif key in execution_input["policy"]:
            execution_input["policy"][key] = value
        else:
            execution_input[key] = value
    run = _rejected(world, execution_input, name=execution_input["run_id"])
    assert field in run.cause


def test_the_platform_is_read_from_ec2_not_trusted_from_the_input(world: World) -> None:
    instance_id = world.instance()  # Linux
    run = world.run(instance_id, platform="windows")
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert run.output["consistency"] == "application-consistent"
    assert [c.kind for c in run.commands] == ["freeze", "thaw"]
    (job,) = run.jobs
    assert job.backup_options == {"WindowsVSS": "disabled"}


# ------------------------------------------------------------------ the watchdog and every snapshot
def test_a_watchdog_between_the_first_and_the_last_snapshot_start_is_not_consistent(
    world: World,
) -> None:
    instance_id = world.instance()
    # Two volumes whose snapshots start 4 s apart; the watchdog fires between the two.
    emulator.backup.plan(instance_id, start_after=5, snapshot_spread=4)
    emulator.ssm.plan(instance_id, watchdog_fires_after=8.5)
    run = world.run(instance_id)
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    (job,) = run.jobs
    (interval,) = run.intervals
    assert interval.ended_by == "watchdog"
    first_start = job.started_at
    assert first_start < interval.end  # the first snapshot did start while frozen
    assert run.output["consistency"] == "crash-consistent-watchdog"


# ------------------------------------------------------------------ metrics
def _datapoints(metric: str, dimensions: dict[str, str]) -> float:
    from emulator.statemachine import client

    points = client("cloudwatch").get_metric_statistics(
        Namespace="AppConsistentBackup",
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=emulator.clock.now().replace(year=2000),
        EndTime=emulator.clock.now().replace(year=2100),
        Period=86400,
        Statistics=["Sum"],
    )["Datapoints"]
    return sum(p["Sum"] for p in points)


def test_every_run_publishes_its_metrics(world: World) -> None:
    machine = {"StateMachine": "acb-backup-instance"}
    good = world.instance()
    world.run(good)
    failed = world.instance()
    emulator.backup.plan(failed, outcome="FAILED", status_message="disk error")
    world.run(failed)
    assert _datapoints("Runs", {**machine, "Outcome": "succeeded"}) == 1
    assert _datapoints("Runs", {**machine, "Outcome": "failed"}) == 1
    assert _datapoints("RecoveryPoints", {**machine, "Consistency": "application-consistent"}) == 1
    assert _datapoints("RecoveryPoints", {**machine, "Schedule": "nightly"}) == 1


def test_a_metrics_failure_loses_neither_the_run_nor_its_notification(world: World) -> None:
    instance_id = world.instance()
    emulator.ssm.plan(instance_id, ping="ConnectionLost")
    emulator.faults.inject("cloudwatch", "PutMetricData", "AccessDenied", times=10)
    run = world.run(instance_id)
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert run.output["outcome"] == "degraded"
    assert len(run.notifications) == 1


# ------------------------------------------------------------------ the document version
def test_send_command_pins_the_document_version(world: World) -> None:
    instance_id = world.instance()
    run = world.run(instance_id)
    assert {c.document_version for c in run.commands} == {"1"}
