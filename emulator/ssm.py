"""SSM Agent emulation: the instance side of the freeze/thaw document, DescribeInstanceInformation.

moto's SSM answers every GetCommandInvocation with ``Success``/0 at once and has no
DescribeInstanceInformation. This module gives each EC2 instance an emulated agent:

* ``DescribeInstanceInformation`` lists the agents of the region's instances with their
  ``PingStatus`` (``Online`` for a running instance, ``ConnectionLost`` for a stopped
  one, or what the plan says) and ``PlatformType``.
* ``SendCommand`` of a document with a ``Command`` parameter (``freeze``, ``thaw``,
  ``dry-run``; docs/contracts.md section 3) first checks the parameters against the
  document, as SSM does (``InvalidParameters``: a parameter the document does not declare,
  a required one missing, a value outside its ``allowedPattern`` or ``allowedValues``), and
  fills in the document's defaults. The document is the one the emulator holds under that
  name (what Terraform created), else ``ssm/app-consistent-backup.yaml.tftpl`` rendered
  with modules/instance-documents' defaults. Then it runs a simulated script on the agent: it
  freezes and thaws emulated filesystems, arms a watchdog that thaws at
  ``frozen_at + MaxFreezeSeconds`` (or earlier, when a plan says the watchdog
  misfires), and prints the contract's JSON as the last line of
  standard output with the contract's exit codes. Commands to an unregistered
  instance fail with ``InvalidInstanceId``; to an offline agent they stay ``Pending``.
* ``GetCommandInvocation`` reports ``InProgress`` until the command's emulated
  duration has passed on the emulated clock, then the outcome.

Plans script the faults, per instance::

    emulator.ssm.plan("i-0abc", ping="ConnectionLost")
    emulator.ssm.plan("i-0abc", freeze=Outcome.fail(13, "fsfreeze /data: Operation not supported"))
    emulator.ssm.plan("i-0abc", thaw=[Outcome.fail(14, "thaw /data: Invalid argument")])
    emulator.ssm.plan("i-0abc", watchdog_fires_after=3)  # the watchdog fires before its deadline

Every command is recorded (``emulator.ssm.commands(instance_id)``) and every freeze
is an interval on the agent (``emulator.ssm.agent(instance_id).intervals``), so a
test can assert that each freeze was ended by a thaw.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._patching import original, patch
from .clock import EmulatedClock, iso_millis
from .faults import DEFAULT_ACCOUNT, EmulatedError, default_region

DEFAULT_FILESYSTEMS = ({"mountpoint": "/data", "device": "/dev/nvme1n1", "fstype": "xfs"},)
COMMANDS = ("freeze", "thaw", "dry-run")

# The freeze/thaw document, for commands naming a document the emulator does not hold,
# rendered with modules/instance-documents' defaults (default_max_freeze_seconds,
# default_hook_timeout_seconds; tests/test_max_freeze_story.py keeps them in step).
DOCUMENT_TEMPLATE = (
    Path(__file__).resolve().parent.parent / "ssm" / "app-consistent-backup.yaml.tftpl"
)
TEMPLATE_DEFAULTS = {"max_freeze_seconds": "60", "hook_timeout_seconds": "30"}

_clock: list[EmulatedClock] = []  # the installed clock, if any
_request = threading.local()  # what moto's SendCommand response parses but drops (DocumentVersion)


def _now() -> _dt.datetime:
    return _clock[0].now() if _clock else _dt.datetime.now(tz=_dt.UTC)


@dataclass
class Outcome:
    """How one command ends on the instance, instead of the simulated script's own result.

    ``status`` is the SSM invocation status (``Success``, ``Failed``, ``TimedOut``,
    ``Cancelled``); ``exit_code`` the script's exit code; ``froze`` whether a freeze
    took effect anyway (a freeze that timed out after freezing); ``stdout`` replaces
    standard output entirely; ``hang`` keeps the command ``InProgress`` forever;
    ``undeliverable`` keeps it ``Pending`` until its delivery timeout.
    """

    status: str = "Success"
    exit_code: int = 0
    error: str | None = None
    seconds: float | None = None
    stdout: str | None = None
    froze: bool = False
    hang: bool = False
    undeliverable: bool = False
    hook_error: str | None = None  # a thaw that thawed but reports a post-thaw hook failure

    @classmethod
    def hook_failed(cls, error: str) -> Outcome:
        return cls(hook_error=error)

    @classmethod
    def fail(cls, exit_code: int, error: str) -> Outcome:
        return cls(status="Failed", exit_code=exit_code, error=error)

    @classmethod
    def timed_out(cls, froze: bool = True) -> Outcome:
        return cls(status="TimedOut", exit_code=-1, error="command timed out", froze=froze)

    @classmethod
    def hangs(cls, froze: bool = True) -> Outcome:
        return cls(hang=True, froze=froze)

    @classmethod
    def never_delivered(cls) -> Outcome:
        return cls(undeliverable=True)

    @classmethod
    def garbage(cls, stdout: str) -> Outcome:
        return cls(stdout=stdout)


@dataclass
class FreezeInterval:
    run_id: str
    start: _dt.datetime
    deadline: _dt.datetime  # reported in the freeze's output: frozen_at + MaxFreezeSeconds
    fires_at: _dt.datetime  # when the watchdog actually thaws (the deadline, unless planned)
    end: _dt.datetime | None = None
    ended_by: str | None = None  # "thaw" or "watchdog"


@dataclass
class CommandRecord:
    command_id: str
    instance_id: str
    kind: str
    run_id: str
    parameters: dict[str, list[str]]
    sent_at: _dt.datetime
    done_at: _dt.datetime | None
    status: str
    exit_code: int
    stdout: str
    stderr: str
    timeout_seconds: int
    hang: bool = False
    undeliverable: bool = False
    document_version: str | None = None

    def invocation(self, now: _dt.datetime, document_name: str) -> dict[str, Any]:
        status, details, code, stdout, stderr = (
            self.status,
            self.status,
            self.exit_code,
            self.stdout,
            self.stderr,
        )
        if self.undeliverable:
            expired = now >= self.sent_at + _dt.timedelta(seconds=self.timeout_seconds)
            status, details = (
                ("TimedOut", "DeliveryTimedOut") if expired else ("Pending", "Pending")
            )
            code, stdout, stderr = -1, "", ""
        elif self.hang or (self.done_at is not None and now < self.done_at):
            status, details, code, stdout, stderr = "InProgress", "InProgress", -1, "", ""
        end = self.done_at if status not in ("Pending", "InProgress") else None
        return {
            "CommandId": self.command_id,
            "InstanceId": self.instance_id,
            "Comment": "",
            "DocumentName": document_name,
            "DocumentVersion": self.document_version or "$DEFAULT",
            "PluginName": "runShellScript",
            "ResponseCode": code,
            "ExecutionStartDateTime": iso_millis(self.sent_at),
            "ExecutionElapsedTime": "",
            "ExecutionEndDateTime": iso_millis(end) if end else "",
            "Status": status,
            "StatusDetails": details,
            "StandardOutputContent": stdout,
            "StandardOutputUrl": "",
            "StandardErrorContent": stderr,
            "StandardErrorUrl": "",
        }


@dataclass
class Agent:
    instance_id: str
    ping: str | None = None  # None: follow the instance state; "" or "unregistered": not managed
    platform: str | None = None
    freeze: list[Outcome] = field(default_factory=list)
    thaw: list[Outcome] = field(default_factory=list)
    watchdog_fires_after: float | None = None
    filesystems: tuple[dict[str, str], ...] = DEFAULT_FILESYSTEMS
    command_seconds: float = 1.0
    # GetCommandInvocation answers InvocationDoesNotExist this long after SendCommand.
    invocation_delay: float = 1.0
    intervals: list[FreezeInterval] = field(default_factory=list)
    commands: list[CommandRecord] = field(default_factory=list)

    # -------------------------------------------------------------- freeze state
    @property
    def active(self) -> FreezeInterval | None:
        return next((i for i in self.intervals if i.end is None), None)

    def settle(self, now: _dt.datetime) -> None:
        """Let the watchdog thaw whatever passed its deadline before ``now``."""
        current = self.active
        if current is not None and current.fires_at <= now:
            current.end, current.ended_by = current.fires_at, "watchdog"

    def frozen(self, now: _dt.datetime | None = None) -> bool:
        self.settle(now or _now())
        return self.active is not None

    # -------------------------------------------------------------- the script
    def _report(
        self,
        command: str,
        run_id: str,
        status: str,
        exit_code: int,
        *,
        error: str | None = None,
        interval: FreezeInterval | None = None,
        watchdog_outcome: str = "none",
        thawed_at: _dt.datetime | None = None,
        watchdog_thawed_at: _dt.datetime | None = None,
    ) -> str:
        frozen_at = interval.start if interval else None
        duration = None
        if frozen_at and thawed_at:
            ended = min(thawed_at, watchdog_thawed_at or thawed_at)
            duration = int((ended - frozen_at).total_seconds() * 1000)
        report = {
            "command": command,
            "run_id": run_id,
            "status": status,
            "filesystems": list(self.filesystems) if status in ("frozen", "thawed") else [],
            "frozen_at": iso_millis(frozen_at) if frozen_at else None,
            "thawed_at": iso_millis(thawed_at) if thawed_at else None,
            "freeze_duration_ms": duration,
            "watchdog": {
                "deadline": iso_millis(interval.deadline) if interval else None,
                "outcome": watchdog_outcome,
                "thawed_at": iso_millis(watchdog_thawed_at) if watchdog_thawed_at else None,
            },
            "hooks": [],
            "error": error,
            "exit_code": exit_code,
        }
        log = f"app-consistent-backup: {command} run {run_id}\n"
        return log + json.dumps(report, separators=(",", ":")) + "\n"

    def run(
        self, kind: str, parameters: dict[str, list[str]], sent_at: _dt.datetime
    ) -> tuple[Outcome, str, str, int, str]:
        """Apply a command; return (outcome, final status, stdout, exit code, stderr)."""
        run_id = (parameters.get("RunId") or [""])[0]
        queue = self.freeze if kind == "freeze" else self.thaw if kind == "thaw" else []
        outcome = queue.pop(0) if queue else Outcome()
        seconds = self.command_seconds if outcome.seconds is None else outcome.seconds
        done = sent_at + _dt.timedelta(seconds=seconds)
        self.settle(done)
        if outcome.undeliverable:
            return outcome, "Pending", "", -1, ""
        if kind == "freeze":
            return self._freeze(outcome, run_id, parameters, done)
        if kind == "thaw":
            return self._thaw(outcome, run_id, done)
        stdout = self._report("dry-run", run_id, "dry-run", 0)
        return outcome, "Success", stdout, 0, ""

    def _freeze(
        self, outcome: Outcome, run_id: str, parameters: dict[str, list[str]], done: _dt.datetime
    ) -> tuple[Outcome, str, str, int, str]:
        if outcome.status != "Success":  # scripted failure
            interval = self._start_interval(run_id, parameters, done) if outcome.froze else None
            return self._scripted_failure(outcome, "freeze", run_id, interval)
        active = self.active
        if active is not None and active.run_id != run_id:
            error = f"another run's freeze is active: {active.run_id}"
            stdout = self._report("freeze", run_id, "failed", 11, error=error)
            return outcome, "Failed", stdout, 11, error
        if not self.filesystems:
            stdout = self._report("freeze", run_id, "nothing-to-freeze", 0)
        else:
            interval = active or self._start_interval(run_id, parameters, done)
            stdout = self._report(
                "freeze", run_id, "frozen", 0, interval=interval, watchdog_outcome="armed"
            )
        if outcome.stdout is not None:
            stdout = outcome.stdout
        return outcome, "Success", stdout, 0, ""

    def _scripted_failure(
        self, outcome: Outcome, command: str, run_id: str, interval: FreezeInterval | None
    ) -> tuple[Outcome, str, str, int, str]:
        """A planned failed command: the script's report, unless the plan gives stdout."""
        stdout = self._report(
            command,
            run_id,
            "failed",
            outcome.exit_code,
            error=outcome.error,
            interval=interval,
            watchdog_outcome="armed" if interval else "none",
        )
        if outcome.stdout is not None:
            stdout = outcome.stdout
        return outcome, outcome.status, stdout, outcome.exit_code, outcome.error or ""

    def _start_interval(
        self, run_id: str, parameters: dict[str, list[str]], done: _dt.datetime
    ) -> FreezeInterval:
        deadline = done + _dt.timedelta(
            seconds=float(
                (parameters.get("MaxFreezeSeconds") or [TEMPLATE_DEFAULTS["max_freeze_seconds"]])[0]
            )
        )
        fires_at = (
            deadline
            if self.watchdog_fires_after is None
            else done + _dt.timedelta(seconds=self.watchdog_fires_after)
        )
        interval = FreezeInterval(
            run_id=run_id, start=done, deadline=deadline, fires_at=min(deadline, fires_at)
        )
        self.intervals.append(interval)
        return interval

    def _thaw(
        self, outcome: Outcome, run_id: str, done: _dt.datetime
    ) -> tuple[Outcome, str, str, int, str]:
        if outcome.status != "Success":  # scripted failure: nothing thawed, watchdog armed
            return self._scripted_failure(outcome, "thaw", run_id, self.active)
        # The run's own freeze, whether still active or already ended by the watchdog.
        mine = [i for i in self.intervals if i.run_id == run_id]
        interval = mine[-1] if mine else None
        error = outcome.hook_error
        if interval is None or interval.ended_by == "thaw":
            stdout = self._report("thaw", run_id, "thawed", 0, error=error)
        elif interval.end is None:
            interval.end, interval.ended_by = done, "thaw"
            stdout = self._report(
                "thaw",
                run_id,
                "thawed",
                0,
                interval=interval,
                watchdog_outcome="cancelled",
                thawed_at=done,
                error=error,
            )
        else:  # the watchdog came first
            stdout = self._report(
                "thaw",
                run_id,
                "thawed",
                0,
                interval=interval,
                watchdog_outcome="thawed_first",
                thawed_at=done,
                watchdog_thawed_at=interval.end,
                error=error,
            )
        if outcome.stdout is not None:
            stdout = outcome.stdout
        return outcome, "Success", stdout, 0, ""

    # -------------------------------------------------------------- DescribeInstanceInformation
    def ping_status(self, instance: Any) -> str | None:
        if self.ping in ("", "unregistered"):
            return None
        if self.ping:
            return self.ping
        return "Online" if instance.state == "running" else "ConnectionLost"

    def platform_type(self, instance: Any) -> str:
        if self.platform:
            return self.platform
        return "Windows" if (instance.platform or "").lower() == "windows" else "Linux"


# ------------------------------------------------------------------ registry on the backend
def _backend(account: str, region: str) -> Any:
    from moto.ssm.models import ssm_backends

    return ssm_backends[account][region]


def _agents(backend: Any) -> dict[str, Agent]:
    agents = getattr(backend, "_acb_agents", None)
    if agents is None:
        agents = {}
        backend._acb_agents = agents
    return agents


def _records(backend: Any) -> dict[str, CommandRecord]:
    records = getattr(backend, "_acb_commands", None)
    if records is None:
        records = {}
        backend._acb_commands = records
    return records


def agent(instance_id: str, account: str = DEFAULT_ACCOUNT, region: str | None = None) -> Agent:
    """The emulated agent of an instance (created with defaults on first use)."""
    agents = _agents(_backend(account, region or default_region()))
    if instance_id not in agents:
        agents[instance_id] = Agent(instance_id=instance_id)
    return agents[instance_id]


def plan(
    instance_id: str,
    *,
    ping: str | None = None,
    platform: str | None = None,
    freeze: Outcome | list[Outcome] | None = None,
    thaw: Outcome | list[Outcome] | None = None,
    watchdog_fires_after: float | None = None,
    filesystems: tuple[dict[str, str], ...] | list[dict[str, str]] | None = None,
    command_seconds: float | None = None,
    invocation_delay: float | None = None,
    account: str = DEFAULT_ACCOUNT,
    region: str | None = None,
) -> Agent:
    """Script an instance's agent. ``ping="unregistered"`` removes it from SSM."""
    target = agent(instance_id, account, region)
    if ping is not None:
        target.ping = ping
    if platform is not None:
        target.platform = platform
    if freeze is not None:
        target.freeze = list(freeze) if isinstance(freeze, list) else [freeze]
    if thaw is not None:
        target.thaw = list(thaw) if isinstance(thaw, list) else [thaw]
    if watchdog_fires_after is not None:
        target.watchdog_fires_after = watchdog_fires_after
    if filesystems is not None:
        target.filesystems = tuple(filesystems)
    if command_seconds is not None:
        target.command_seconds = command_seconds
    if invocation_delay is not None:
        target.invocation_delay = invocation_delay
    return target


def commands(
    instance_id: str | None = None, account: str = DEFAULT_ACCOUNT, region: str | None = None
) -> list[CommandRecord]:
    """Every document command sent, in order (optionally for one instance)."""
    records = _records(_backend(account, region or default_region())).values()
    return [r for r in records if instance_id is None or r.instance_id == instance_id]


# ------------------------------------------------------------------ moto patches
def _instance(backend: Any, instance_id: str) -> Any | None:
    from moto.ec2.models import ec2_backends

    try:
        return ec2_backends[backend.account_id][backend.region_name].get_instance(instance_id)
    except Exception:  # not an EC2 instance of this account and region
        return None


@functools.cache
def template_parameters() -> dict[str, dict[str, Any]]:
    """The parameters of ssm/app-consistent-backup.yaml.tftpl, defaults rendered."""
    head = DOCUMENT_TEMPLATE.read_text().split("\nmainSteps:", 1)[0]  # no shell step
    for name, value in TEMPLATE_DEFAULTS.items():
        head = head.replace("${" + name + "}", value)
    if "${" in head.replace("$${", ""):
        raise ValueError(f"{DOCUMENT_TEMPLATE.name}: a parameter placeholder has no default here")
    return yaml.safe_load(head)["parameters"]


def document_parameters(backend: Any, name: str | None, version: str | None) -> dict[str, Any]:
    """The declared parameters of the document a command names (see the module's docstring)."""
    from moto.ssm.exceptions import InvalidDocument

    try:
        document = backend.get_document(name, version, None, None)
    except InvalidDocument:
        return template_parameters()
    content = yaml.safe_load(document["Content"]) or {}  # YAML or JSON: YAML reads both
    return content.get("parameters") or {}


def resolve_parameters(
    declared: dict[str, Any], given: dict[str, list[str]]
) -> dict[str, list[str]]:
    """What the agent receives: ``given`` checked against ``declared``, defaults filled in.

    SSM API reference, SendCommand errors, InvalidParameters: "You must specify values for
    all required parameters in the Amazon Web Services Systems Manager document (SSM
    document). You can only supply values to parameters defined in the SSM document."
    A value outside allowedPattern or allowedValues gets the same error (an assumption:
    the reference names no other error for it).
    """
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise EmulatedError(
            "InvalidParameters",
            f"Parameters {unknown} are not defined in the document (it defines {sorted(declared)})",
        )
    resolved: dict[str, list[str]] = {}
    for name, declared_spec in declared.items():
        spec = declared_spec or {}
        if name in given:
            values = [str(v) for v in given[name]]
        elif "default" in spec:
            values = [str(spec["default"])]
        else:
            raise EmulatedError("InvalidParameters", f"Parameter {name} is required")
        for value in values:
            pattern = spec.get("allowedPattern")
            if pattern and not re.search(pattern, value):
                raise EmulatedError(
                    "InvalidParameters",
                    f"Parameter {name} value {value!r} does not match allowedPattern {pattern}",
                )
            allowed = spec.get("allowedValues")
            if allowed and value not in [str(a) for a in allowed]:
                raise EmulatedError(
                    "InvalidParameters", f"Parameter {name} value {value!r} is not one of {allowed}"
                )
        resolved[name] = values
    return resolved


def _record(
    backend: Any,
    command: Any,
    instance_id: str,
    *,
    kind: str,
    parameters: dict[str, list[str]],
    resolved: dict[str, list[str]],
    sent_at: _dt.datetime,
    timeout_seconds: int,
    document_version: str | None = None,
) -> None:
    """Run the command on the instance's agent (if it can be delivered) and record it.

    The record keeps the parameters SendCommand named; the agent gets them resolved
    (the document's defaults filled in).
    """
    target = agent(instance_id, backend.account_id, backend.region_name)
    if target.ping_status(_instance(backend, instance_id)) != "Online":
        outcome, status, stdout, code, stderr = Outcome.never_delivered(), "Pending", "", -1, ""
    else:
        outcome, status, stdout, code, stderr = target.run(kind, resolved, sent_at)
    seconds = target.command_seconds if outcome.seconds is None else outcome.seconds
    record = CommandRecord(
        command_id=command.command_id,
        instance_id=instance_id,
        kind=kind,
        run_id=(parameters.get("RunId") or [""])[0],
        parameters=parameters,
        sent_at=sent_at,
        done_at=sent_at + _dt.timedelta(seconds=seconds),
        status=status,
        exit_code=code,
        stdout=stdout,
        stderr=stderr,
        timeout_seconds=timeout_seconds,
        hang=outcome.hang,
        undeliverable=outcome.undeliverable,
        document_version=document_version,
    )
    target.commands.append(record)
    _records(backend)[f"{command.command_id}/{instance_id}"] = record


def _information(instance: Any, target: Agent, ping: str) -> dict[str, Any]:
    platform = target.platform_type(instance)
    return {
        "InstanceId": instance.id,
        "PingStatus": ping,
        "LastPingDateTime": _now(),
        "AgentVersion": "3.3.0.0",
        "IsLatestVersion": True,
        "PlatformType": platform,
        "PlatformName": "Amazon Linux"
        if platform == "Linux"
        else "Microsoft Windows Server 2022 Datacenter",
        "PlatformVersion": "2023",
        "ResourceType": "EC2Instance",
        "IPAddress": instance.private_ip,
        "ComputerName": f"{instance.id}.compute.internal",
    }


def information_filters(response: Any) -> dict[str, set[str]]:
    """DescribeInstanceInformation's filters, both forms, as key -> wanted values."""
    wanted: dict[str, set[str]] = {}
    for item in response._get_param("Filters", []) or []:
        wanted[item["Key"]] = set(item.get("Values") or [])
    for item in response._get_param("InstanceInformationFilterList", []) or []:
        wanted[item["key"]] = set(item.get("valueSet") or [])
    return wanted


def information_of(
    instances: Any, wanted: dict[str, set[str]], account: str, region: str
) -> list[dict[str, Any]]:
    """The instance information of those ``instances`` whose agent has registered and
    that the filters select."""
    infos = []
    for instance in instances:
        target = agent(instance.id, account, region)
        ping = target.ping_status(instance)
        if ping is None:
            continue
        info = _information(instance, target, ping)
        checks = {
            "InstanceIds": info["InstanceId"],
            "PingStatus": ping,
            "PlatformTypes": info["PlatformType"],
        }
        if all(key not in wanted or value in wanted[key] for key, value in checks.items()):
            infos.append(info)
    return infos


def _describe_instance_information(self: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.ec2.models import ec2_backends

    instances = ec2_backends[self.current_account][self.region].all_instances()
    infos = information_of(instances, information_filters(self), self.current_account, self.region)
    return ActionResult({"InstanceInformationList": infos})


def install(clock: EmulatedClock) -> None:
    _clock[:] = [clock]
    from moto.ssm.models import SimpleSystemManagerBackend
    from moto.ssm.responses import SimpleSystemManagerResponse

    send_command = original(SimpleSystemManagerBackend, "send_command")
    get_command_invocation = original(SimpleSystemManagerBackend, "get_command_invocation")

    def _send_command(self: Any, **kwargs: Any) -> Any:
        parameters = kwargs.get("parameters") or {}
        kind = (parameters.get("Command") or [""])[0]
        if kind not in COMMANDS:
            return send_command(self, **kwargs)
        resolved = resolve_parameters(
            document_parameters(
                self, kwargs.get("document_name"), getattr(_request, "document_version", None)
            ),
            parameters,
        )
        instance_ids = list(kwargs.get("instance_ids") or [])
        for instance_id in instance_ids:
            instance = _instance(self, instance_id)
            # SSM API reference, SendCommand, InvalidInstanceId: "Invalid states are:
            # Shutting-down and Terminated"; an instance SSM does not manage fails the same way.
            if (
                instance is None
                or instance.state in ("shutting-down", "terminated")
                or agent(instance_id, self.account_id, self.region_name).ping_status(instance)
                is None
            ):
                raise EmulatedError(
                    "InvalidInstanceId",
                    f"Instances [[{instance_id}]] not in a valid state for account",
                )
        command = send_command(self, **kwargs)
        sent_at = _now()
        for instance_id in instance_ids:
            _record(
                self,
                command,
                instance_id,
                kind=kind,
                parameters=parameters,
                resolved=resolved,
                sent_at=sent_at,
                timeout_seconds=int(kwargs.get("timeout_seconds") or 3600),
                document_version=getattr(_request, "document_version", None),
            )
        return command

    def _get_command_invocation(
        self: Any, command_id: str, instance_id: str, plugin_name: str | None
    ) -> dict[str, Any]:
        record = _records(self).get(f"{command_id}/{instance_id}")
        if record is None:
            return get_command_invocation(self, command_id, instance_id, plugin_name)
        now = _now()
        delay = agent(instance_id, self.account_id, self.region_name).invocation_delay
        if now < record.sent_at + _dt.timedelta(seconds=delay):
            # botocore's ssm CommandExecuted waiter retries on this error: the invocation
            # is not visible for a moment after SendCommand.
            raise EmulatedError(
                "InvocationDoesNotExist",
                "An error occurred (InvocationDoesNotExist) when calling GetCommandInvocation",
            )
        command = self.get_command_by_id(command_id)
        return record.invocation(now, command.document_name or "")

    send_command_response = original(SimpleSystemManagerResponse, "send_command")

    def _send_command_response(self: Any) -> Any:
        _request.document_version = self._get_param("DocumentVersion")
        try:
            return send_command_response(self)
        finally:
            _request.document_version = None

    patch(SimpleSystemManagerBackend, "send_command", _send_command)
    patch(SimpleSystemManagerResponse, "send_command", _send_command_response)
    patch(SimpleSystemManagerBackend, "get_command_invocation", _get_command_invocation)
    patch(
        SimpleSystemManagerResponse, "describe_instance_information", _describe_instance_information
    )
