"""The checks of a restored instance and the verdict they add up to (docs/contracts.md
section 6). Pure functions: what AWS answered in, checks and verdict out."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

BAD_STATES = ("stopping", "stopped", "shutting-down", "terminated")
RUNNING_COMMAND = ("Pending", "InProgress", "Delayed")
CHECK_NAMES = ("restore-job", "boot", "ssm-agent", "filesystems")
EXIT_MEANINGS = {21: "invalid parameter", 22: "prerequisites missing on the instance"}
MESSAGE_LIMIT = 1000


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # passed, failed or skipped
    detail: str = ""


@dataclass
class Verdict:
    """SUCCESSFUL, FAILED or TIMED_OUT (a validation result), or RESTORE_FAILED (none)."""

    status: str
    reason: str
    checks: list[Check] = field(default_factory=list)

    @property
    def failed_check(self) -> Check | None:
        return next((c for c in self.checks if c.status == "failed"), None)

    def summary(self) -> str:
        return ";".join(f"{c.name}={c.status}" for c in self.checks)


def with_skipped(checks: list[Check]) -> list[Check]:
    """The checks done, then every standard check not reached, as skipped."""
    done = {c.name for c in checks}
    return checks + [Check(name, "skipped") for name in CHECK_NAMES if name not in done]


def instance_problem(state: str, statuses: list[dict[str, Any]]) -> str | None:
    """Why the restored instance did not boot, from DescribeInstances/-InstanceStatus; or None."""
    if state in BAD_STATES:
        return f"the restored instance is {state}"
    for status in statuses:
        for kind in ("InstanceStatus", "SystemStatus"):
            if (status.get(kind) or {}).get("Status") == "impaired":
                failed = [
                    d.get("Name", "?")
                    for d in (status.get(kind) or {}).get("Details", [])
                    if d.get("Status") == "failed"
                ]
                detail = f" ({', '.join(failed)} failed)" if failed else ""
                name = "instance" if kind == "InstanceStatus" else "system"
                return f"its {name} status check is impaired{detail}"
    return None


def from_command(invocation: dict[str, Any]) -> list[Check]:
    """The document's checks from a finished GetCommandInvocation (contract section 6)."""
    status = invocation.get("Status", "")
    stdout = invocation.get("StandardOutputContent") or ""
    lines = [line for line in stdout.strip().splitlines() if line.strip()]
    report: Any = None
    if lines:
        try:
            report = json.loads(lines[-1])
        except ValueError:
            report = None
    if not isinstance(report, dict) or not isinstance(report.get("checks"), list):
        detail = invocation.get("StatusDetails") or status
        error = (invocation.get("StandardErrorContent") or "").strip().splitlines()
        tail = f": {error[-1][:200]}" if error else ""
        if status == "Success":
            return [
                Check("filesystems", "failed", "the validation document's output is unreadable")
            ]
        return [Check("filesystems", "failed", f"the validation command ended {detail}{tail}")]
    checks = [
        Check(
            str(c.get("name", "?"))[:80],
            str(c.get("status", "failed")),
            str(c.get("detail", ""))[:300],
        )
        for c in report["checks"]
        if isinstance(c, dict)
    ]
    code = report.get("exit_code")
    if code in EXIT_MEANINGS and not any(c.status == "failed" for c in checks):
        checks.append(Check("filesystems", "failed", f"exit {code}: {EXIT_MEANINGS[code]}"))
    if status != "Success" and not any(c.status == "failed" for c in checks):
        checks.append(Check("filesystems", "failed", f"the validation command ended {status}"))
    return checks


def message(verdict: Verdict, consistency: str) -> str:
    """ValidationStatusMessage: one line, at most MESSAGE_LIMIT characters."""
    text = f"{verdict.status}: {verdict.reason} (recovery point labelled {consistency})"
    return " ".join(text.split())[:MESSAGE_LIMIT]
