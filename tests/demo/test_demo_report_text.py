"""The demo's report and closing lines fit 100 columns, tell one clock story, and show a
ServiceNow body exactly as received. Fast: the renderer is fed a recorded result (the
bodies of ``recorded_bodies.json`` came from a run of `make demo`), no emulator runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo import fleet, next_steps, render, text
from demo.report import Cycle, Freeze, InstanceResult
from demo.run import Clock, fitted
from demo.servicenow import Delivery, Drill
from emulator.cloudwatch import Transition

RECORDED = json.loads((Path(__file__).parent / "recorded_bodies.json").read_text())["bodies"]
FREEZES = {
    "app-1": Freeze("8.5 s virtual", milliseconds=8500),
    "db-1": Freeze("8.1 s virtual", milliseconds=8100),
    "live-1": Freeze("0.37 s real", milliseconds=367, real=True),
    "win-1": Freeze("none: VSS"),
    "stopped-1": Freeze("none: stopped"),
    "offline-1": Freeze("none: offline"),
    "frzfail-1": Freeze("none: exit 13"),
    "jobfail-1": Freeze("8.2 s virtual", milliseconds=8200),
}
LONG_REASON = (
    "the freeze failed (exit code 13): fsfreeze /data: Operation not supported; backed up "
    "crash-consistent (recovery point labelled crash-consistent)"
)


def _instance(n: int, member: fleet.Member, events: list[dict]) -> InstanceResult:
    instance_id = f"i-{n:017x}"
    expected = member.expected
    result = InstanceResult(
        name=member.name,
        what=member.what,
        instance_id=instance_id,
        expected=expected,
        live=member.live,
        freeze=FREEZES.get(member.name, Freeze("-")),
    )
    if expected.started:
        result.execution_name = f"demo-{instance_id}-20261130T145329Z"
        result.execution_status = "FAILED" if expected.outcome == "failed" else "SUCCEEDED"
        result.outcome = expected.outcome
        result.reason = None if expected.outcome == "succeeded" else LONG_REASON
        result.job_id = "223887E5-9B83-461F-8D93-DB5625D744B1"
        result.job_state = "COMPLETED" if expected.recovery_point else "FAILED"
    if expected.recovery_point:
        result.recovery_point = f"ami-{n:017x}"
        result.snapshots = member.volumes
        result.consistency = expected.consistency
    result.notifications = [e for e in events if e["metric_name"] == expected.stage]
    return result


@pytest.fixture(scope="module")
def cycle() -> Cycle:
    events = [json.loads(b)["records"][0] for b in RECORDED[:3]]
    alarm_events = [json.loads(b)["records"][0] for b in RECORDED[3:]]
    instances = [_instance(n, m, events) for n, m in enumerate(fleet.FLEET)]
    instances[-1].problems.append(
        "notifications (severity, stage) [('3', 'preflight')], expected [] -- " + LONG_REASON
    )
    drill = Drill(
        crash="acb-demo-discovery failed (exit 1): KeyError: 'STATE_MACHINE_ARN'",
        transitions=[
            Transition(
                "acb-demo-discovery-errors",
                old,
                new,
                "Threshold Crossed",
                ("arn:aws:sns:eu-west-1:123456789012:acb-demo-alarms",),
            )
            for old, new in (("INSUFFICIENT_DATA", "ALARM"), ("ALARM", "OK"))
        ],
        delivery=Delivery(accepted=alarm_events, bodies=RECORDED[3:], statuses=[200, 200]),
    )
    return Cycle(
        instances=instances,
        discovery={
            "status": "done",
            "fleet_size": 9,
            "started": 8,
            "skipped": {"opted_out": 1},
            "skipped_total": 1,
        },
        notifications=events,
        destinations=["sqs: arn:aws:sqs:eu-west-1:123456789012:acb-demo-servicenow"],
        dead_letters=0,
        recovery_points=7,
        live_note=(
            "live-1 (i-4891457253036ce56): the deployed SSM document ran on this machine,\n"
            "confined to the demo's loop filesystems: /run/acb-demo-live-1lj9x1hh/mnt/data "
            "(ext4, /dev/loop0), /run/acb-demo-live-1lj9x1hh/mnt/logs (xfs, /dev/loop1)"
        ),
        delivery=Delivery(accepted=events, bodies=RECORDED[:3], statuses=[200, 200, 200]),
        alarms=[f"acb-demo-alarm-with-a-rather-long-name-{n}" for n in range(10)],
        drill=drill,
        problems=["discovery skipped {'opted_out': 2}, expected opted_out 1 -- " + LONG_REASON],
    )


@pytest.fixture(scope="module")
def report(cycle: Cycle) -> list[str]:
    return render.render(cycle)


def _widest(lines: list[str]) -> int:
    return max(len(line) for line in lines)


def test_the_report_fits_100_columns(report: list[str]) -> None:
    assert _widest(report) <= text.WIDTH, max(report, key=len)
    assert all("\n" not in line for line in report)


def test_the_table_comes_first_one_row_per_instance(report: list[str], cycle: Cycle) -> None:
    header = next(n for n, line in enumerate(report) if line.split()[:2] == ["INSTANCE", "OUTCOME"])
    rows = report[header + 2 : header + 2 + len(cycle.instances)]
    assert [row.split()[1] for row in rows] == [m.name for m in fleet.FLEET]
    assert rows[-1].startswith("XX")  # the instance with a problem is marked
    assert "NOT AS EXPECTED:" in report


def test_one_clock_story(report: list[str]) -> None:
    whole = "\n".join(report)
    assert " ".join(whole.split()).count(render.CLOCKS) == 1  # said once (wrapped)
    freezes = [f.text for f in FREEZES.values() if f.milliseconds]
    assert all(f.endswith((" s virtual", " s real")) for f in freezes)
    assert "emul." not in whole
    assert "REAL" not in whole


def test_a_servicenow_body_is_shown_as_received(report: list[str]) -> None:
    start = report.index(f"  {text.RFC8792_NOTE}") + 1
    end = next(n for n in range(start, len(report)) if not report[n].startswith("    "))
    shown = text.unfold(report[start:end], indent="    ")
    assert json.loads(shown) == json.loads(RECORDED[0])  # exactly the first instance's body
    assert shown == json.dumps(json.loads(RECORDED[0]), indent=2, ensure_ascii=False)
    assert end - start > 10  # pretty-printed, one key a line
    assert "The bodies ServiceNow received" in "\n".join(report)


@pytest.mark.parametrize("width", [40, 72, 100])
def test_fold_gives_back_the_text(width: int) -> None:
    original = json.dumps(
        {"a": "x" * 250, "b": "  spaces  " * 30, "c": json.dumps({"k": "v \\ w" * 40})}, indent=2
    )
    folded = text.fold(original, indent="  ", width=width)
    assert _widest(folded) <= width
    assert text.unfold(folded, indent="  ") == original


@pytest.mark.parametrize("kept", [False, True])
def test_next_steps(kept: bool) -> None:
    lines = next_steps.lines("/tmp/acb-demo-abc123", kept=kept)
    whole = "\n".join(lines)
    assert _widest(lines) <= text.WIDTH
    assert "examples/minimal" in whole
    assert "make smoke" in whole
    assert ("/tmp/acb-demo-abc123" in whole) is kept
    assert ("make demo KEEP_WORKDIR=1" in whole) is not kept
    for name in ("AppConsistentBackup", "Runs", "RecoveryPoints", "FreezeWindow", "Consistency"):
        assert name in whole


def test_every_progress_line_fits(tmp_path: Path) -> None:
    said: list[str] = []
    long = "terraform apply failed: " + "module.x.aws_sqs_queue.this: still creating " * 10
    Clock(fitted(said.append)).say(long)
    fitted(said.append)("line one\n" + "word " * 60)
    assert _widest(said) <= text.WIDTH
    assert said[0].startswith("[")
    assert " ".join(" ".join(said).split()).count("still creating") == 10
