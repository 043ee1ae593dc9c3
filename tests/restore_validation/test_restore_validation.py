"""The restore validation against the emulator: it passes and fails as it should
(docs/contracts.md section 6)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import emulator
from tests.restore_validation.conftest import PLAN_ARN, PREFIX, World


def _message(notification: dict) -> dict:
    return notification["message"]


def _info(notification: dict) -> dict[str, str]:
    return json.loads(_message(notification)["additional_info"])


def test_booted_and_healthy_instance_passes(world: World) -> None:
    source = world.instance()
    point = world.recovery_point(source)
    job = world.restore_test(point)

    result = world.invoke(world.event(job))

    assert result["status"] == "SUCCESSFUL", result
    assert world.validations(job) == ["VALIDATING", "SUCCESSFUL"]
    assert job.validation_message.startswith("SUCCESSFUL: ")
    assert "labelled application-consistent" in job.validation_message
    assert result["checks"] == "restore-job=passed;boot=passed;ssm-agent=passed;filesystems=passed"
    assert world.notifications(source) == [], "a first success is silent without notify_on_success"
    assert job.deletion_status == "SUCCESSFUL", "AWS deletes the restored instance once validated"
    # The command ran on the restored instance, with the contract's parameters.
    (command,) = emulator.restore.commands(job.instance_id)
    assert command.parameters == {
        "RestoreJobId": [job.restore_job_id],
        "CheckTimeoutSeconds": ["300"],
    }
    # The agent came online 120 s after the restore: the command waited for it.
    assert command.sent_at >= job.completed_at + dt.timedelta(seconds=120)


def test_failed_user_check_then_a_clear(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    source = world.instance()
    emulator.restore.plan(source, user_checks=[("10-app-opens", 3, "table orders is missing")])
    first = world.restore_test(world.recovery_point(source, label="crash-consistent-timeout"))

    failed = world.invoke(world.event(first))

    assert failed["status"] == "FAILED"
    assert world.validations(first)[-1] == "FAILED"
    assert "user:10-app-opens: exit 3: table orders is missing" in first.validation_message
    (alert,) = world.notifications(source)
    message = _message(alert)
    assert message["type"] == "RestoreTestFailed"
    assert message["severity"] == "2"
    assert message["resolution_state"] == "New"
    assert message["metric_name"] == "restore-test"
    assert message["node"] == source
    assert message["resource"].endswith(f":instance/{source}")
    assert message["message_key"] == f"{PREFIX}:restore-test:{source}"
    assert alert["attributes"] == {
        "severity": "2",
        "stage": "restore-test",
        "outcome": "failed",
        "instance_id": source,
    }
    info = _info(alert)
    assert info["consistency"] == "crash-consistent-timeout"
    assert info["validation_status"] == "FAILED"
    assert info["restored_instance_id"] == first.instance_id
    assert info["restore_testing_plan_arn"] == PLAN_ARN
    assert info["checks"] == (
        "restore-job=passed;boot=passed;ssm-agent=passed;filesystems=passed;user:10-app-opens=failed"
    )
    assert all(isinstance(v, str) for v in info.values())

    # The application is fixed; the next test of the same instance clears the alert.
    emulator.restore.plan(source, user_checks=[("10-app-opens", 0, "orders: 1204 rows")])
    second = world.restore_test(world.recovery_point(source))
    assert world.invoke(world.event(second))["status"] == "SUCCESSFUL"
    clear = world.notifications(source)[-1]
    assert _message(clear)["severity"] == "0"
    assert _message(clear)["resolution_state"] == "Closing"
    assert _message(clear)["type"] == "RestoreTestSucceeded"
    assert _message(clear)["message_key"] == message["message_key"]


def test_success_notified_on_request(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_ON_SUCCESS", "true")
    source = world.instance()
    job = world.restore_test(world.recovery_point(source))

    world.invoke(world.event(job))

    (ok,) = world.notifications(source)
    assert _message(ok)["severity"] == "5"
    assert ok["attributes"]["outcome"] == "succeeded"


def test_agent_never_online_fails(world: World) -> None:
    source = world.instance()
    emulator.restore.plan(source, agent_online_after=None)
    job = world.restore_test(world.recovery_point(source))

    result = world.invoke(world.event(job))

    assert result["status"] == "FAILED"
    assert result["checks"] == "restore-job=passed;boot=passed;ssm-agent=failed;filesystems=skipped"
    assert "did not come online within 15 minutes" in job.validation_message
    assert world.validations(job) == ["VALIDATING", "FAILED"]
    assert emulator.restore.commands(job.instance_id) == [], "nothing was sent"
    (alert,) = world.notifications(source)
    assert _message(alert)["severity"] == "2"


def test_filesystem_failing_its_check_fails(world: World) -> None:
    source = world.instance()
    emulator.restore.plan(source, filesystems="/data is mounted read-only (fstab: rw)")
    job = world.restore_test(world.recovery_point(source))

    result = world.invoke(world.event(job))

    assert result["status"] == "FAILED"
    assert job.validation_message.startswith(
        "FAILED: filesystems: /data is mounted read-only (fstab: rw)"
    )
    assert _info(world.notifications(source)[0])["checks"].endswith("filesystems=failed")


def test_instance_that_does_not_boot_fails(world: World) -> None:
    source = world.instance()
    emulator.restore.plan(source, boot="impaired", agent_online_after=None)
    job = world.restore_test(world.recovery_point(source))

    result = world.invoke(world.event(job))

    assert result["status"] == "FAILED"
    assert (
        "boot: its instance status check is impaired (reachability failed)"
        in job.validation_message
    )
    assert result["checks"].startswith("restore-job=passed;boot=failed;ssm-agent=skipped")


def test_validation_window_running_out_times_out(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VALIDATION_WINDOW_HOURS", "1")
    source = world.instance()
    # The checks would run two hours; the window is one hour (50 minutes with the margin).
    emulator.restore.plan(source, command_seconds=7200)
    job = world.restore_test(world.recovery_point(source), window_hours=1)

    result = world.invoke(world.event(job))

    assert result["status"] == "TIMED_OUT"
    assert world.validations(job) == ["VALIDATING", "TIMED_OUT"]
    assert job.deletion_status == "SUCCESSFUL"
    # A 15-minute Lambda cannot wait 50 minutes: it handed on, command id and all.
    assert world.invocations >= 4
    hops = [event["continuation"] for event in world.handed_on]
    assert [h["hop"] for h in hops] == list(range(1, len(hops) + 1))
    assert all(h["restore_job_id"] == job.restore_job_id for h in hops)
    sent = emulator.restore.commands(job.instance_id)
    assert len(sent) == 1, "a continuation follows the command it was given, never sends another"
    assert {h["command_id"] for h in hops[1:]} == {sent[0].command_id}
    (alert,) = world.notifications(source)
    assert _message(alert)["severity"] == "3"
    assert alert["attributes"]["outcome"] == "timed-out"
    # It finished before AWS deleted the instance at the window's end.
    assert job.validations[-1][0] < job.completed_at + dt.timedelta(hours=1)


def test_failed_restore_job_is_reported_without_a_validation(world: World) -> None:
    source = world.instance()
    emulator.restore.plan(source, outcome="FAILED", status_message="Insufficient capacity")
    job = world.restore_test(world.recovery_point(source))

    result = world.invoke(world.event(job))

    assert result["status"] == "RESTORE_FAILED"
    assert world.validations(job) == [], "there is nothing to validate"
    (alert,) = world.notifications(source)
    assert _message(alert)["severity"] == "2"
    assert "the restore job ended FAILED: Insufficient capacity" in _message(alert)["description"]
    assert _info(alert)["validation_status"] == ""


def test_other_restores_are_ignored(world: World) -> None:
    source = world.instance()
    point = world.recovery_point(source)
    other = world.restore_test(point, plan_arn=PLAN_ARN.replace("acb_restore_test", "someone_else"))
    on_demand = world.backup.start_restore_job(
        RecoveryPointArn=point, IamRoleArn="arn:aws:iam::123456789012:role/r", Metadata={}
    )["RestoreJobId"]
    world.clock.advance(400)

    for job_id in (other.restore_job_id, on_demand):
        event = dict(world.event(other), detail={"restoreJobId": job_id, "status": "COMPLETED"})
        assert world.invoke(event)["status"] == "ignored"
    assert world.notifications(source) == []
    assert other.validations == []


def test_repeated_event_after_the_result_is_ignored(world: World) -> None:
    job = world.restore_test(world.recovery_point(world.instance()))
    event = world.event(job)
    assert world.invoke(event)["status"] == "SUCCESSFUL"

    assert world.invoke(event) == {"status": "ignored", "reason": "already validated"}
    assert world.validations(job) == ["VALIDATING", "SUCCESSFUL"]


def test_aws_error_fails_the_validation_and_is_heard(world: World) -> None:
    source = world.instance()
    job = world.restore_test(world.recovery_point(source))
    emulator.faults.inject("ssm", "SendCommand", "AccessDeniedException", "not allowed")

    result = world.invoke(world.event(job))

    assert result["status"] == "FAILED"
    assert "validation could not run: AccessDeniedException: not allowed" in job.validation_message
    assert _message(world.notifications(source)[0])["severity"] == "2"


def test_malformed_event_is_rejected_and_heard(world: World) -> None:
    result = world.invoke({"source": "aws.backup", "detail-type": "Backup Job State Change"})

    assert result["status"] == "rejected"
    alert = world.notifications("restore-test")[-1]
    assert _message(alert)["severity"] == "2"
    assert _message(alert)["type"] == "RestoreTestFailed"
