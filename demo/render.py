"""The backup cycle's report as text, every line at most ``demo.text.WIDTH`` columns.

A narrow table (one row per instance: did it end as expected, and how) comes first;
the details follow below it: each instance's identity, job, recovery point and reason,
the totals, what ServiceNow received (one body as it arrived), the alarms and the crash
drill, and the real freeze.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from demo import fleet
from demo.report import Cycle, InstanceResult
from demo.text import RFC8792_NOTE, fold, table, wrap
from emulator.backup import JobPlan

# One clock story, told once: which clock a time was read on.
CLOCKS = (
    "Times marked virtual are the emulator's clock (it skips waits and assumes AWS's "
    f"latencies, e.g. that AWS Backup starts the snapshots {JobPlan.start_after:.0f} s after "
    "StartBackupJob); times marked real were measured on this machine's loop-mounted "
    "filesystems."
)
ENDPOINT = "/api/global/em/jsonv2"


def _outcome(result: InstanceResult) -> str:
    if result.execution_name is None:
        reason = result.expected.skip_reason if not result.expected.started else None
        return {"opted_out": "skipped: opted out", fleet.NOT_SELECTED: "not selected"}.get(
            reason or "", "not started"
        )
    return result.shown_outcome


def _notified(result: InstanceResult) -> str:
    if not result.notifications:
        return "-"
    notes = result.notifications
    return ", ".join(f"sev {n.get('severity')} {n.get('metric_name')}" for n in notes)


def _table(cycle: Cycle) -> list[str]:
    rows = [["", "INSTANCE", "OUTCOME", "CONSISTENCY", "FREEZE", "NOTIFIED"]]
    for r in cycle.instances:
        rows.append(
            [
                "ok" if r.as_expected else "XX",
                r.name,
                _outcome(r),
                r.consistency or "-",
                r.freeze.text,
                _notified(r),
            ]
        )
    return table(rows)


def _details(cycle: Cycle) -> list[str]:
    lines = ["Each instance:"]
    width = max((len(r.name) for r in cycle.instances), default=0)
    for r in cycle.instances:
        lines.append(f"  {r.name:<{width}}  {r.instance_id}  {r.what}")
        hang = " " * (width + 4)
        facts = []
        if r.job_id:
            facts.append(f"backup job {r.job_state} {r.job_id[:8]}")
        if r.recovery_point:
            snaps = f"{r.snapshots} snapshot{'s' if r.snapshots != 1 else ''}"
            facts.append(f"recovery point {r.recovery_point} ({snaps})")
        if facts:
            lines += wrap(", ".join(facts), indent=hang)
        if r.outcome not in (None, "succeeded") and r.reason:
            lines += wrap(f"why: {r.reason}", indent=hang)
        for problem in r.problems:
            lines += wrap(f"NOT AS EXPECTED: {problem}", indent=hang)
    return lines


def _totals(cycle: Cycle) -> list[str]:
    summary = cycle.discovery
    outcomes = Counter(r.shown_outcome for r in cycle.instances if r.execution_name)
    skipped = summary.get("skipped") or {}
    untagged = sum(1 for m in fleet.FLEET if not m.tagged)
    ok = sum(1 for r in cycle.instances if r.as_expected)
    lines = ["Totals:"]
    lines += wrap(
        f"discovery: {summary.get('fleet_size')} tagged instances found ({untagged} untagged "
        f"not selected), {summary.get('started')} executions started, "
        f"{summary.get('skipped_total', 0)} skipped "
        f"({', '.join(f'{k}: {v}' for k, v in skipped.items()) or 'none'})",
        indent="  ",
    )
    lines += wrap(
        "executions: "
        + (", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())) or "none")
        + f"; {cycle.recovery_points} recovery points in the vault",
        indent="  ",
    )
    lines.append(f"  as expected: {ok} of {len(cycle.instances)} instances")
    return lines


def _record(body: str) -> dict[str, Any]:
    try:
        records = json.loads(body).get("records") or [{}]
    except (ValueError, AttributeError):
        return {}
    return records[0] if isinstance(records[0], dict) else {}


def sample_body(bodies: list[str]) -> str | None:
    """The body to show: the first about an instance (a backup's failure), else the first."""
    for body in bodies:
        if str(_record(body).get("node", "")).startswith("i-"):
            return body
    return bodies[0] if bodies else None


def body_lines(body: str, indent: str = "    ") -> list[str]:
    """One request body, pretty-printed and folded; ``demo.text.unfold`` gives it back."""
    try:
        pretty = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        pretty = body
    return fold(pretty, indent=indent)


def _servicenow(cycle: Cycle) -> list[str]:
    delivered = cycle.delivery
    lines = ["ServiceNow (a local server enforcing jsonv2's contract: emulator/servicenow.py):"]
    lines += wrap(
        "path: SNS topic -> SQS queue (raw delivery off) -> the deployed delivery function -> "
        f"POST {ENDPOINT}; the topic's subscribers: " + (", ".join(cycle.destinations) or "none"),
        indent="  ",
    )
    lines += wrap(
        f"{len(cycle.notifications)} event(s) accepted in {len(delivered.bodies)} request(s) "
        f"(answers: {', '.join(map(str, delivered.statuses)) or 'none'}); dead-lettered: "
        f"{len(delivered.dead_letters)}; discovery's dead-letter queue: {cycle.dead_letters}",
        indent="  ",
    )
    for n in cycle.notifications:
        lines.append(
            f"  [severity {n.get('severity')}] {n.get('node')} {n.get('type')} "
            f"metric_name={n.get('metric_name')}"
        )
        lines += wrap(str(n.get("description")), indent="      ")
    body = sample_body(delivered.bodies)
    if body is not None:
        lines.append("")
        lines += wrap(
            f"The bodies ServiceNow received: {len(delivered.bodies)} request(s), one event "
            f"each. The first, as received (POST {ENDPOINT}, application/json), "
            "pretty-printed; additional_info is a JSON string of string values:",
            indent="  ",
        )
        lines.append(f"  {RFC8792_NOTE}")
        lines += body_lines(body)
        info = _record(body).get("additional_info")
        try:
            keys = ", ".join(json.loads(info)) if isinstance(info, str) else ""
        except ValueError:
            keys = ""
        if keys:
            lines += wrap(f"additional_info's keys: {keys}", indent="  ")
    return lines


def _alarms_and_drill(cycle: Cycle) -> list[str]:
    lines = wrap(
        f"Alarms ({len(cycle.alarms)}, each publishing ALARM and OK to the alarm topic, which "
        "the delivery queue also reads): " + ", ".join(cycle.alarms)
    )
    drill = cycle.drill
    lines += wrap(
        "Crash drill: the deployed discovery code, run without its STATE_MACHINE_ARN, "
        f"failed ({drill.crash.split(':', 1)[0] or 'no failure'}); Lambda's Errors metric "
        "recorded, the deployed alarm evaluated as CloudWatch does:"
    )
    for transition in drill.transitions:
        topics = ", ".join(t.rsplit(":", 1)[-1] for t in transition.published)
        lines += wrap(
            f"{transition.alarm_name}: {transition.old_state} -> {transition.new_state}, "
            f"published to {topics or 'nothing'}",
            indent="  ",
        )
    lines.append("  and ServiceNow received, through the same queue and function:")
    for body in drill.delivery.bodies:
        record = _record(body)
        lines += wrap(
            f"[severity {record.get('severity')}, {record.get('resolution_state')}] "
            f"{record.get('node')} {record.get('type')} {record.get('metric_name')} "
            f"message_key={record.get('message_key')}",
            indent="    ",
        )
    return lines


def render(cycle: Cycle) -> list[str]:
    ok = sum(1 for r in cycle.instances if r.as_expected)
    lines = ["", "BACKUP CYCLE REPORT", ""]
    lines += _table(cycle)
    lines += wrap(
        "ok: ended as demo/fleet.py says it must. FREEZE: how long writes were blocked. " + CLOCKS
    )
    lines.append("")
    lines += _details(cycle)
    lines.append("")
    lines += _totals(cycle)
    lines.append("")
    lines += _servicenow(cycle)
    lines.append("")
    lines += _alarms_and_drill(cycle)
    lines.append("")
    lines.append("Real freeze:")
    for line in cycle.live_note.splitlines():
        lines += wrap(line, indent="  ")
    if cycle.problems or ok < len(cycle.instances):
        lines.append("")
        lines.append("NOT AS EXPECTED:")
        for problem in cycle.problems:
            lines += wrap(f"run: {problem}", indent="  ")
        for r in cycle.instances:
            for problem in r.problems:
                lines += wrap(f"{r.name}: {problem}", indent="  ")
    return lines
