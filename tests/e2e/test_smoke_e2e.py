"""make smoke end to end, against the local emulator: the same code as on AWS.

One run (about a minute on an idle machine, most of it Terraform's apply and destroy)
of ``smoke.run.Smoke`` with ``smoke.targets.EmulatorTarget``: examples/minimal and
``smoke/terraform`` applied, the instance ready, the schedule run at once, followed,
reported and destroyed. What differs from a run on AWS is listed in
``smoke/targets.py``. Marked ``e2e_smoke``: ``pytest -m "not e2e_smoke"`` leaves it out
locally; CI runs it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from emulator.server import LocalEmulator
from smoke.run import Smoke, SmokeResult
from smoke.targets import EmulatorTarget

pytestmark = [pytest.mark.timeout(900), pytest.mark.e2e_smoke]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[SmokeResult, dict[str, Any]]:
    if shutil.which("terraform") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("required under CI=true: terraform on PATH")
        pytest.skip("needs terraform on PATH")
    report = tmp_path_factory.mktemp("smoke") / "smoke-report.json"
    lines: list[str] = []
    aws = LocalEmulator(log_path=report.parent / "emulator.log").start()
    try:
        subnet = aws.client("ec2").describe_subnets()["Subnets"][0]["SubnetId"]
        result = Smoke(
            EmulatorTarget(aws), subnet, aws.account, lines.append, report_path=report
        ).run()
        ec2 = aws.client("ec2")
        after = {
            "instances": [
                i["State"]["Name"]
                for r in ec2.describe_instances()["Reservations"]
                for i in r["Instances"]
            ],
            "vaults": aws.client("backup").list_backup_vaults()["BackupVaultList"],
            "queues": aws.client("sqs").list_queues().get("QueueUrls", []),
            "lines": lines,
            "file": json.loads(report.read_text()),
        }
    finally:
        aws.stop()
    return result, after


def test_the_smoke_runs_to_the_end_and_finds_nothing_wrong(smoke):
    result, after = smoke
    output = "\n".join(after["lines"])
    assert result.error is None, output[-5000:]
    assert result.refused is None
    assert not result.interrupted
    assert result.report["problems"] == [], output[-5000:]
    assert result.cleanup_problems == [], output[-5000:]
    assert result.ok


def test_it_reports_what_the_emulator_can_only_assume(smoke):
    report = smoke[0].report
    assert report["smoke"]["target"] == "emulator"
    assert report["smoke"]["provider"] == "5.100.0"
    assert report["instance"]["readiness_command"] == "Success"
    assert report["discovery"]["summary"]["started"] == 1
    assert report["discovery"]["event"]["schedule_name"] == "smoke"
    assert report["execution"]["status"] == "SUCCEEDED"
    job = report["backup_job"]
    assert job["state"] == "COMPLETED"
    assert [s["state"] for s in job["states_seen"]][-1] == "COMPLETED"
    assert job["recovery_point_first_seen"]["job_state"] in ("CREATED", "PENDING", "RUNNING")
    assert job["recovery_point_first_seen"]["seen_after_created_s"] >= 0
    assert report["snapshots"]
    assert all(s["started_after_job_created_s"] is not None for s in report["snapshots"])
    assert report["freeze"]["status"] == "Success"
    assert report["thaw"]["status"] == "Success"
    window = report["freeze_window"]
    assert window["seconds"] > 0
    assert window["snapshots_started_inside"] is True
    assert report["label"] == "application-consistent"
    notification = report["notification"]
    assert notification["severity"] == "5"
    assert notification["message"]["node"] == report["instance"]["id"]


def test_it_leaves_nothing_behind(smoke):
    result, after = smoke
    assert result.report["destroy"]["left_in_state"] == 0
    assert set(after["instances"]) <= {"terminated", "shutting-down"}
    assert not [v for v in after["vaults"] if v["BackupVaultName"].startswith("acb-smoke-")]
    assert not [q for q in after["queues"] if "acb-smoke-" in q]


def test_the_report_is_printed_narrow_and_written_whole(smoke):
    result, after = smoke
    assert result.lines[0].startswith("SMOKE REPORT")
    assert max(len(line) for line in result.lines) <= 100
    assert after["file"]["execution"]["status"] == "SUCCEEDED"
    assert after["file"]["label"] == result.report["label"]
    assert Path(after["file"]["smoke"]["run_id"]).name.startswith("acb-smoke-")
