"""End to end: the run `make demo` does, as a test (two to three minutes, most of it Terraform).

The module is applied with the real Terraform into the local emulator, the fleet of
``demo.fleet`` goes through one backup cycle (the deployed discovery function, the
deployed state machine, the emulated SSM agents and, as root with loop devices, the
deployed SSM document freezing real filesystems), the failures are delivered to a local
ServiceNow through the deployed delivery function, a crash of the discovery function is
followed to ServiceNow through its alarm, and everything is destroyed. Each instance must
end as ``demo.fleet`` says; nothing may be left behind. Without
Terraform, or without root and loop devices for the real freeze, the parts that need
them skip with a reason, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest
from moto.core.config import default_user_config

import emulator
from demo import fleet, livefs
from demo.report import InstanceResult
from demo.run import DemoResult, run_demo

pytestmark = pytest.mark.timeout(600)


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"required under CI=true: {reason}")
    pytest.skip(reason)


BEFORE: dict[str, object] = {}


@pytest.fixture(scope="module")
def demo() -> tuple[DemoResult, list[str]]:
    _require(shutil.which("terraform") is not None, "needs terraform on PATH")
    BEFORE.update(
        installed=emulator.installed(),
        execute=default_user_config["stepfunctions"].get("execute_state_machine", False),
        moto_port=os.environ.get("MOTO_PORT"),
    )
    lines: list[str] = []
    result = run_demo(say=lines.append)
    return result, lines


def _instance(result: DemoResult, name: str) -> InstanceResult:
    assert result.cycle is not None
    return next(r for r in result.cycle.instances if r.name == name)


def test_the_demo_runs_to_the_end(demo: tuple[DemoResult, list[str]]) -> None:
    result, lines = demo
    output = "\n".join(lines)
    assert result.error is None, output[-6000:]
    assert not result.interrupted
    assert result.cycle is not None, output[-6000:]
    assert not result.cycle.problems, output[-6000:]
    assert "BACKUP CYCLE REPORT" in result.report_lines
    assert result.ok, output[-6000:]


@pytest.mark.parametrize("member", fleet.FLEET, ids=[m.name for m in fleet.FLEET])
def test_each_instance_ends_as_expected(
    demo: tuple[DemoResult, list[str]], member: fleet.Member
) -> None:
    result, lines = demo
    assert result.cycle is not None, "\n".join(lines[-80:])
    got = _instance(result, member.name)
    expected = member.expected
    assert got.problems == [], "\n".join(result.report_lines)
    if not expected.started:
        assert got.execution_name is None
        assert got.job_id is None
        assert got.notifications == []
        return
    assert got.outcome == expected.outcome
    assert got.execution_status == ("FAILED" if expected.outcome == "failed" else "SUCCEEDED")
    assert got.consistency == expected.consistency
    if expected.recovery_point:
        assert got.recovery_point is not None
        assert got.recovery_point.startswith("ami-")
        assert got.job_state == "COMPLETED"
        assert got.snapshots == member.volumes
    else:
        assert got.recovery_point is None
    severities = [(n["severity"], n["metric_name"]) for n in got.notifications]
    assert severities == (
        [] if expected.severity is None else [(expected.severity, expected.stage)]
    )
    for notification in got.notifications:  # ServiceNow Event Management's fields
        assert notification["node"] == got.instance_id
        assert notification["message_key"].endswith(got.instance_id)
        assert set(notification) >= {
            "source",
            "event_class",
            "resource",
            "type",
            "severity",
            "resolution_state",
            "time_of_event",
            "description",
            "additional_info",
        }


def test_discovery_counted_every_instance(demo: tuple[DemoResult, list[str]]) -> None:
    result, _ = demo
    assert result.cycle is not None
    summary = result.cycle.discovery
    assert summary["status"] == "done"
    assert summary["fleet_size"] == sum(1 for m in fleet.FLEET if m.tagged)
    assert summary["started"] == sum(1 for m in fleet.FLEET if m.expected.started)
    assert summary["skipped"] == {"opted_out": 1}
    assert result.cycle.dead_letters == 0
    assert result.cycle.recovery_points == sum(
        1 for m in fleet.FLEET if m.expected.started and m.expected.recovery_point
    )


def test_every_failure_reached_servicenow_once_in_a_body_it_accepted(
    demo: tuple[DemoResult, list[str]],
) -> None:
    result, _ = demo
    assert result.cycle is not None
    delivered = result.cycle.delivery
    expected = sorted(
        (i.instance_id, i.expected.severity, i.expected.stage)
        for i in result.cycle.instances
        if i.expected.severity is not None
    )
    summaries = [e for e in delivered.accepted if e["type"] == "BackupRunSummary"]
    assert len(summaries) == 1  # the run's one summary, beside its failures (contracts 5b)
    details = json.loads(summaries[0]["additional_info"])
    assert (details["status"], summaries[0]["severity"]) == ("complete", "5")
    assert details["expected"] == details["finished"] == str(result.cycle.discovery["started"])
    expected.append((summaries[0]["node"], "5", "run-summary"))
    expected.sort()
    got = sorted((e["node"], e["severity"], e["metric_name"]) for e in delivered.accepted)
    assert got == expected  # once each, nothing else (no storm: every failure differs)
    assert delivered.statuses == [200] * len(expected)  # one accepted request per event
    assert [json.loads(b)["records"] for b in delivered.bodies] == [[e] for e in delivered.accepted]
    assert delivered.dead_letters == []
    assert delivered.problems == []  # every alarm on the alarm route, the mapping reporting
    assert "The bodies ServiceNow received" in "\n".join(result.report_lines)


def test_a_crash_of_discovery_is_heard_in_servicenow(demo: tuple[DemoResult, list[str]]) -> None:
    result, _ = demo
    assert result.cycle is not None
    drill = result.cycle.drill
    assert drill.problems == []
    assert "exit 1" in drill.crash
    assert [(t.alarm_name, t.new_state) for t in drill.transitions] == [
        ("acb-demo-discovery-errors", "ALARM"),
        ("acb-demo-discovery-errors", "OK"),
    ]
    assert [(e["severity"], e["resolution_state"]) for e in drill.delivery.accepted] == [
        ("2", "New"),
        ("0", "Closing"),
    ]


def test_one_instance_froze_real_filesystems(demo: tuple[DemoResult, list[str]]) -> None:
    result, _ = demo
    _require(result.live_skipped is None, f"real freeze skipped: {result.live_skipped}")
    assert result.live
    live = next(r for r in result.cycle.instances if r.live) if result.cycle else None
    assert live is not None
    assert live.freeze.real
    assert live.freeze.milliseconds is not None
    assert 0 < live.freeze.milliseconds < 30_000  # well inside MaxFreezeSeconds
    assert live.freeze.watchdog == "cancelled"  # our thaw came first
    fstypes = sorted(fs["fstype"] for fs in live.freeze.filesystems)
    assert fstypes in (["ext4", "xfs"], ["ext4", "ext4"])  # xfs when mkfs.xfs exists
    assert live.consistency == "application-consistent"
    assert "inside the freeze window" in result.cycle.live_note
    assert "wrote again after the thaw" in result.cycle.live_note


def test_nothing_is_left_behind(demo: tuple[DemoResult, list[str]]) -> None:
    result, _ = demo
    assert result.cleanup_problems == []
    assert not Path(result.workdir).exists()
    assert result.workdir not in Path("/proc/self/mounts").read_text()
    if shutil.which("losetup") and os.geteuid() == 0:
        assert result.workdir not in livefs._sh("losetup", "-a", check=False).stdout
    watchdogs = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if result.workdir.encode() in cmdline:
                watchdogs.append(proc.name)
    assert watchdogs == []  # no watchdog, writer or script of the run still running
    assert "local-servicenow" not in {t.name for t in threading.enumerate()}
    # moto is as it was: no server, the configuration, the environment and the patches
    assert emulator.installed() == BEFORE["installed"]
    assert default_user_config["stepfunctions"]["execute_state_machine"] == BEFORE["execute"]
    assert os.environ.get("MOTO_PORT") == BEFORE["moto_port"]


def test_the_report_fits_100_columns(demo: tuple[DemoResult, list[str]]) -> None:
    result, lines = demo
    assert result.report_lines
    assert max(len(line) for line in result.report_lines) <= 100  # as rendered, unwrapped
    assert max(len(line) for line in lines) <= 100  # and every progress line
