"""make smoke without Terraform or AWS: it refuses, cleans up and reports as it must.

The run against the emulator, Terraform included, is ``tests/e2e/test_smoke_e2e.py``.
Here the target's clients are mocks and Terraform is a stand-in recording its calls.
"""

from __future__ import annotations

import datetime as _dt
import json
import signal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar
from unittest import mock

import pytest

from smoke import run as smoke_run
from smoke.run import Smoke, SmokeResult, render, schedule_event
from smoke.targets import AwsTarget

ACCOUNT = "111122223333"


class FakeTerraform:
    instances: ClassVar[list[FakeTerraform]] = []

    def __init__(self, workdir: Path, say: Any, overlays: list[Path], variables: dict[str, str]):
        self.workdir, self.variables = workdir, variables
        self.calls: list[str] = []
        self.applied = False
        FakeTerraform.instances.append(self)

    def stage_module(self) -> None:
        self.calls.append("stage")

    def init(self) -> None:
        self.calls.append("init")

    def apply(self) -> None:
        self.applied = True
        self.calls.append("apply")

    def outputs(self) -> dict[str, Any]:
        return {
            "smoke_instance_id": "i-0123456789abcdef0",
            "smoke_queue_url": "https://sqs/queue",
            "state_machine_arn": "arn:aws:states:eu-west-1:111122223333:stateMachine:sm",
            "vault_name": "acb-smoke-vault",
            "ssm_document_name": "doc",
        }

    def destroy(self) -> None:
        self.applied = False
        self.calls.append("destroy")

    def state_resources(self) -> int:
        return 0

    def provider_version(self) -> str:
        return "5.100.0"


class FakeTarget(AwsTarget):
    name = "fake"
    poll_seconds = fast_poll_seconds = 0.0

    def __init__(self) -> None:  # no boto3 session
        self.region = "eu-west-1"
        self.clients: dict[str, mock.MagicMock] = {}

    def client(self, service: str, read_timeout: float | None = None) -> Any:
        return self.clients.setdefault(service, mock.MagicMock(name=service))

    def prepare(self, workdir: Path) -> dict[str, str]:
        return {}


@pytest.fixture
def target(monkeypatch: pytest.MonkeyPatch) -> FakeTarget:
    FakeTerraform.instances.clear()
    monkeypatch.setattr(smoke_run, "SmokeTerraform", FakeTerraform)
    deployment = SimpleNamespace(
        outputs=FakeTerraform.outputs(None),  # type: ignore[arg-type]
        function={"FunctionName": "f"},
        schedule={"Name": "smoke", "Target": {"Input": "{}"}},
    )
    monkeypatch.setattr(smoke_run, "read_deployment", lambda clients, outputs: deployment)
    fake = FakeTarget()
    fake.client("sts").get_caller_identity.return_value = {
        "Account": ACCOUNT,
        "Arn": f"arn:aws:iam::{ACCOUNT}:user/me",
    }
    backup = fake.client("backup")
    backup.list_recovery_points_by_backup_vault.side_effect = [
        {"RecoveryPointArns": [], "RecoveryPoints": [{"RecoveryPointArn": "arn:rp/ami-1"}]},
        {"RecoveryPoints": []},
    ]
    backup.describe_backup_job.return_value = {"State": "RUNNING"}
    backup.exceptions.InvalidRequestException = type("InvalidRequest", (Exception,), {})
    fake.client("stepfunctions").describe_execution.return_value = {"status": "RUNNING"}
    fake.client("ec2").describe_instances.return_value = {
        "Reservations": [{"Instances": [{"State": {"Name": "shutting-down"}}]}]
    }
    return fake


def test_refuses_without_a_confirmation(target: FakeTarget, tmp_path: Path):
    result = Smoke(target, "subnet-1", None, lambda _: None, report_path=tmp_path / "r").run()
    assert result.refused is not None
    assert f"SMOKE_CONFIRM_ACCOUNT={ACCOUNT}" in result.refused
    assert FakeTerraform.instances == []  # nothing staged, nothing created
    assert not (tmp_path / "r").exists()


def test_refuses_another_account(target: FakeTarget):
    result = Smoke(target, "subnet-1", "444455556666", lambda _: None).run()
    assert result.refused is not None
    assert "444455556666" in result.refused
    assert ACCOUNT in result.refused
    assert FakeTerraform.instances == []


def test_an_interrupt_after_the_apply_destroys_everything(
    target: FakeTarget, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    def interrupted(self: Smoke) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Smoke, "wait_for_instance", interrupted)
    lines: list[str] = []
    result = Smoke(target, "subnet-1", ACCOUNT, lines.append, report_path=tmp_path / "r").run()
    assert result.interrupted
    assert not result.ok
    assert FakeTerraform.instances[0].calls == ["stage", "init", "apply", "destroy"]
    target.clients["backup"].delete_recovery_point.assert_called_once_with(
        BackupVaultName="acb-smoke-vault", RecoveryPointArn="arn:rp/ami-1"
    )
    assert json.loads((tmp_path / "r").read_text())["interrupted"] is True
    assert not Path(FakeTerraform.instances[0].workdir).exists()


def test_a_failure_while_following_stops_the_execution_and_the_job(
    target: FakeTarget, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(Smoke, "wait_for_instance", lambda self: None)
    monkeypatch.setattr(Smoke, "run_schedule", lambda self: {})

    def fails(self: Smoke, identity: dict[str, Any]) -> None:
        self.execution_arn, self.job_id = "arn:aws:states:execution:x", "job-1"
        raise RuntimeError("lost the execution")

    monkeypatch.setattr(Smoke, "follow", fails)
    result = Smoke(target, "subnet-1", ACCOUNT, lambda _: None).run()
    assert result.error == "RuntimeError: lost the execution"
    target.clients["stepfunctions"].stop_execution.assert_called_once()
    target.clients["backup"].stop_backup_job.assert_called_once_with(BackupJobId="job-1")
    assert FakeTerraform.instances[0].calls[-1] == "destroy"


def test_a_failing_cleanup_step_does_not_skip_the_others(
    target: FakeTarget, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(Smoke, "wait_for_instance", lambda self: None)
    monkeypatch.setattr(Smoke, "run_schedule", lambda self: (_ for _ in ()).throw(ValueError("x")))
    target.clients["backup"].list_recovery_points_by_backup_vault.side_effect = OSError("down")
    result = Smoke(target, "subnet-1", ACCOUNT, lambda _: None).run()
    assert any("_delete_recovery_points: OSError: down" in p for p in result.cleanup_problems)
    assert FakeTerraform.instances[0].calls[-1] == "destroy"


def test_sigterm_is_an_interrupt(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    class Interrupted:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def run(self) -> SmokeResult:
            try:
                signal.raise_signal(signal.SIGTERM)
            except KeyboardInterrupt:
                return SmokeResult(interrupted=True, lines=["SMOKE REPORT"])
            return SmokeResult()

    saved = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(smoke_run, "Smoke", Interrupted)
    try:
        code = smoke_run.main(["--region", "eu-west-1", "--subnet", "subnet-1"])
    finally:
        signal.signal(signal.SIGTERM, saved)
    assert code == 130
    assert "attach it to an issue" in capsys.readouterr().out


def test_the_region_and_subnet_are_required(monkeypatch: pytest.MonkeyPatch):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "SUBNET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        smoke_run.main([])
    assert exit_info.value.code == 2


def test_the_schedule_input_gets_the_time_of_the_run():
    schedule = {
        "Target": {
            "Input": '{"schedule_name": "smoke", '
            '"scheduled_time": "<aws.scheduler.scheduled-time>"}'
        }
    }
    when = _dt.datetime(2026, 11, 30, 12, 0, 5, tzinfo=_dt.UTC)
    assert schedule_event(schedule, when)["scheduled_time"] == "2026-11-30T12:00:05Z"
    with pytest.raises(RuntimeError, match="lacks the keyword"):
        schedule_event({"Target": {"Input": '{"scheduled_time": "x"}'}}, when)


def test_the_report_fits_in_100_columns():
    long = "x" * 300
    report = {
        "smoke": {"target": "aws", "account": ACCOUNT, "region": "ap-southeast-2", "clock": long},
        "backup_job": {
            "states_seen": [{"state": s, "seen_after_created_s": 1.5} for s in ["CREATED"] * 20],
            "recovery_point_first_seen": {"job_state": "RUNNING", "seen_after_created_s": 42.0},
        },
        "snapshots": [{"id": "snap-0123456789abcdef0", "start_time": "t"}],
        "notes": [long],
        "problems": [long],
        "error": long,
    }
    lines = render(report)
    assert lines[0].startswith("SMOKE REPORT")
    assert max(len(line) for line in lines) <= 100
