"""An SSM agent that runs the REAL document on this machine, confined to given mountpoints.

The emulated agents of ``emulator.ssm`` simulate the freeze/thaw script. ``RealAgent``
takes over one instance's agent and, for each ``freeze``/``thaw``/``dry-run`` command the
state machine sends, does what the SSM agent on the instance would do with the
document Terraform deployed: checks every parameter against its ``allowedPattern``,
fills in the defaults, substitutes ``{{ Name }}`` into the ``aws:runShellScript`` step,
writes it to an orchestration directory and runs it; standard output, standard error
and the exit code become the command invocation's.

Confinement (this runs the real ``fsfreeze`` on the machine the emulator runs on):

* ``IncludeMountpoints`` is always set to the agent's own mountpoints (filesystems the
  caller mounted, e.g. loop images in a temporary directory); a command is refused if
  any of them is not a mountpoint under ``mount_root``. The script then freezes exactly
  those, whatever the state machine asked.
* The hook directories are fixed in the document (module variables, not parameters):
  the agent rewrites those two assignments of the shell step to its own directories
  (empty unless the caller adds hooks), the one change it makes to the deployed text.
  The script's state directory (``ACB_STATE_DIR``), the hook directories and the
  orchestration directory are under ``workdir`` (never frozen), which must lie below
  directories that only root can change, as the script demands (``/tmp`` will not do);
  each run is bounded by ``timeout``.

Clocks: the script writes real times (``frozen_at``, ``thawed_at``, the watchdog's
deadline); the state machine compares them with snapshot start times on the emulator's
clock, which runs ahead of real time by every Wait it skipped. Each timestamp is moved
onto the emulated clock with the clock's offset at that real instant. The offset is
sampled before and after every script run; a timestamp between two samples gets the
bound that claims less: a freeze start gets the later offset (the freeze counts from
later), a thaw, a watchdog deadline or a watchdog thaw the earlier one (they count as
sooner). With the executions serialized (``emulator.server``) nothing moves the clock
while a script runs, so both bounds are equal and the times are exact. The freeze
durations (``freeze_duration_ms``) stay real: they are what writers on the machine
really waited.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import ssm as _ssm
from .clock import EmulatedClock, iso_millis, parse_iso
from .faults import DEFAULT_ACCOUNT

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_HOOK_DIR_LINE = re.compile(r"^(ACB_(?:PRE_FREEZE|POST_THAW)_HOOK_DIR)='[^']*'$", re.MULTILINE)
_FROM_LATER = ("freeze_started_at", "frozen_at")  # a freeze counts from the later bound
_WATCHDOG_SOONER = ("deadline", "thawed_at")


def _real_now() -> _dt.datetime:
    return _dt.datetime.now(tz=_dt.UTC)


@dataclass
class RealCommand:
    """One command the real script ran."""

    kind: str
    run_id: str
    exit_code: int
    status: str
    report: dict[str, Any] | None  # as the state machine saw it (emulated clock)
    raw_report: dict[str, Any] | None  # as the script wrote it (real clock)
    started: _dt.datetime  # real time
    ended: _dt.datetime  # real time
    stderr: str


@dataclass
class RealAgent:
    """Runs the deployed SSM document for ``instance_id`` against ``mountpoints``."""

    instance_id: str
    document: str  # the document's content (YAML), as SSM holds it
    mountpoints: list[str]
    mount_root: Path
    workdir: Path
    clock: EmulatedClock
    region: str
    account: str = DEFAULT_ACCOUNT
    timeout: float = 60.0
    commands: list[RealCommand] = field(default_factory=list)
    _samples: list[tuple[_dt.datetime, float]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        content = yaml.safe_load(self.document)
        self.parameters: dict[str, dict[str, Any]] = content.get("parameters") or {}
        steps = content["mainSteps"]
        shell = [s for s in steps if s.get("action") == "aws:runShellScript"]
        if len(shell) != 1:
            raise ValueError("the document must have exactly one aws:runShellScript step")
        self.state_dir = self.workdir / "state"
        self.orchestration = self.workdir / "orchestration"
        self.pre_freeze_dir = self.workdir / "pre-freeze.d"
        self.post_thaw_dir = self.workdir / "post-thaw.d"
        for directory in (self.orchestration, self.pre_freeze_dir, self.post_thaw_dir):
            directory.mkdir(mode=0o755, parents=True, exist_ok=True)
        own = {
            "ACB_PRE_FREEZE_HOOK_DIR": self.pre_freeze_dir,
            "ACB_POST_THAW_HOOK_DIR": self.post_thaw_dir,
        }
        command = "\n".join(shell[0]["inputs"]["runCommand"])
        if sorted(_HOOK_DIR_LINE.findall(command)) != sorted(own):
            raise ValueError("the shell step must assign each hook directory once")
        self.run_command = _HOOK_DIR_LINE.sub(
            lambda m: f"{m.group(1)}='{own[m.group(1)]}'", command
        )

    # ------------------------------------------------------------------ wiring
    def attach(self) -> RealAgent:
        """Take over the instance's emulated agent (its commands now run the real script)."""
        target = _ssm.agent(self.instance_id, self.account, self.region)
        target.run = self.run  # type: ignore[method-assign] # this instance only
        target.filesystems = tuple(
            {"mountpoint": m, "device": "", "fstype": ""} for m in self.mountpoints
        )
        return self

    # ------------------------------------------------------------------ the clock
    def _sample(self) -> tuple[_dt.datetime, float]:
        real = _real_now()
        offset = (self.clock.now() - real).total_seconds()
        with self._lock:
            if self._samples and offset < self._samples[-1][1]:
                offset = self._samples[-1][1]  # the clock never goes back
            self._samples.append((real, offset))
        return real, offset

    def _offset(self, real: _dt.datetime, later: bool) -> float:
        with self._lock:
            samples = list(self._samples)
        if later:
            after = [o for t, o in samples if t >= real]
            return min(after) if after else (self.clock.now() - _real_now()).total_seconds()
        before = [o for t, o in samples if t <= real]
        return max(before) if before else 0.0  # unknown: the clock's offset is at least 0

    def to_emulated(self, value: Any, later: bool) -> Any:
        parsed = parse_iso(value) if isinstance(value, str) else None
        if parsed is None:
            return value
        moved = parsed + _dt.timedelta(seconds=self._offset(parsed, later))
        if later:  # the script truncates to milliseconds: round a start up, not down
            moved += _dt.timedelta(milliseconds=1)
        return iso_millis(moved)

    def _convert(self, report: dict[str, Any]) -> dict[str, Any]:
        converted = json.loads(json.dumps(report))
        for key in ("freeze_started_at", "frozen_at", "thawed_at"):
            if key in converted:
                converted[key] = self.to_emulated(converted[key], later=key in _FROM_LATER)
        watchdog = converted.get("watchdog")
        if isinstance(watchdog, dict):
            for key in _WATCHDOG_SOONER:
                if key in watchdog:
                    watchdog[key] = self.to_emulated(watchdog[key], later=False)
        return converted

    # ------------------------------------------------------------------ the command
    def _values(self, given: dict[str, list[str]]) -> tuple[dict[str, str], list[str]]:
        values: dict[str, str] = {}
        problems: list[str] = []
        unknown = sorted(set(given) - set(self.parameters))
        if unknown:
            problems.append(f"unknown parameters {unknown}")
        for name, spec in self.parameters.items():
            supplied = given.get(name)
            value = str(supplied[0]) if supplied else spec.get("default")
            if value is None:
                problems.append(f"{name} is required")
                continue
            values[name] = str(value)
        # Confinement: the instance has these filesystems only.
        values["IncludeMountpoints"] = ",".join(self.mountpoints)
        for name, value in values.items():
            spec = self.parameters.get(name, {})
            pattern = spec.get("allowedPattern")
            if pattern and not re.fullmatch(pattern, value):
                problems.append(f"{name}={value!r} does not match {pattern}")
            allowed = spec.get("allowedValues")
            if allowed and value not in allowed:
                problems.append(f"{name}={value!r} is not one of {allowed}")
        return values, problems

    def _confined(self) -> str | None:
        if not self.mountpoints:
            return "no mountpoints given: the agent never runs the script unconfined"
        for mountpoint in self.mountpoints:
            path = Path(mountpoint)
            if not path.is_relative_to(self.mount_root) or not os.path.ismount(path):
                return f"{mountpoint} is not a mountpoint under {self.mount_root}"
        return None

    def run(
        self, kind: str, parameters: dict[str, list[str]], sent_at: _dt.datetime
    ) -> tuple[_ssm.Outcome, str, str, int, str]:
        """The emulated Agent.run contract: (outcome, status, stdout, exit code, stderr)."""
        run_id = (parameters.get("RunId") or [""])[0]
        values, problems = self._values(parameters)
        refusal = self._confined()
        if problems or refusal:
            error = "; ".join([*problems, *([refusal] if refusal else [])])
            return _ssm.Outcome(seconds=0.0), "Failed", "", 10, f"refused: {error}\n"
        script = _PLACEHOLDER.sub(lambda m: values[m.group(1)], self.run_command)
        directory = self.orchestration / f"{len(self.commands) + 1:03d}-{kind}"
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = directory / "_script.sh"
        path.write_text(script)
        path.chmod(0o700)
        environment = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "LC_ALL": "C",
            "ACB_STATE_DIR": str(self.state_dir),
            "ACB_AGENT_DIRS": str(self.orchestration),
        }
        started, _ = self._sample()
        try:
            proc = subprocess.run(  # noqa: S603 - the deployed document, confined (see above)
                [str(path)],
                cwd=directory,
                env=environment,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
            code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as expired:
            code = -1
            stdout = expired.stdout if isinstance(expired.stdout, str) else ""
            stderr = (expired.stderr if isinstance(expired.stderr, str) else "") + (
                f"\nkilled after {self.timeout} s"
            )
        ended, _ = self._sample()
        lines = [line for line in stdout.splitlines() if line.strip()]
        raw: dict[str, Any] | None = None
        with contextlib.suppress(ValueError, IndexError):
            raw = json.loads(lines[-1])
        report = self._convert(raw) if isinstance(raw, dict) else None
        if report is not None:
            lines[-1] = json.dumps(report, separators=(",", ":"))
            stdout = "\n".join(lines) + "\n"
        status = "Success" if code == 0 else ("TimedOut" if code == -1 else "Failed")
        self.commands.append(
            RealCommand(
                kind=kind,
                run_id=run_id,
                exit_code=code,
                status=status,
                report=report,
                raw_report=raw if isinstance(raw, dict) else None,
                started=started,
                ended=ended,
                stderr=stderr,
            )
        )
        seconds = (ended - started).total_seconds()
        return _ssm.Outcome(seconds=seconds), status, stdout, code, stderr
