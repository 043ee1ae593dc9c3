"""The demo from start to end (see the package's docstring); ``main()`` is `make demo`."""

from __future__ import annotations

import argparse
import atexit
import base64
import contextlib
import datetime as _dt
import hashlib
import io
import json
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.awslambda.models import lambda_backends

import emulator
from demo import fleet, invoke, livefs, next_steps, render, report, text
from demo import servicenow as delivery
from demo.terraform import Terraform, TerraformError
from emulator.clock import parse_iso
from emulator.real_agent import RealAgent
from emulator.server import LocalEmulator
from emulator.servicenow import LocalServiceNow

REGION = "eu-west-1"
PLACEHOLDER = "<aws.scheduler.scheduled-time>"
SERVICES = (
    "stepfunctions",
    "backup",
    "ec2",
    "sqs",
    "sns",
    "ssm",
    "lambda",
    "scheduler",
    "secretsmanager",
    "cloudwatch",
)

Say = Callable[[str], None]


@dataclass
class DemoResult:
    cycle: report.Cycle | None = None
    report_lines: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    interrupted: bool = False
    cleanup_problems: list[str] = field(default_factory=list)
    live: bool = False
    live_skipped: str | None = None
    phases: dict[str, float] = field(default_factory=dict)
    workdir: str = ""

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and not self.interrupted
            and self.cycle is not None
            and self.cycle.as_expected
            and not self.cleanup_problems
        )


class Clock:
    """Progress lines, each with the real time since the demo started."""

    def __init__(self, say: Say, started: float | None = None) -> None:
        self.started = time.monotonic() if started is None else started
        self._say = say

    def say(self, line: str) -> None:
        stamp = f"[{time.monotonic() - self.started:5.1f}s] "
        for n, part in enumerate(text.wrap(line, hang="    ", width=text.WIDTH - len(stamp))):
            self._say((stamp if n == 0 else " " * len(stamp)) + part)


def fitted(say: Say) -> Say:
    """``say`` for lines of any length: longer ones are wrapped at ``text.WIDTH``."""

    def _say(line: str) -> None:
        for part in line.splitlines() or [""]:
            if len(part) <= text.WIDTH:
                say(part)
            else:
                for wrapped in text.wrap(part, hang="    "):
                    say(wrapped)

    return _say


# ---------------------------------------------------------------------- deployment
@dataclass
class Deployment:
    outputs: dict[str, Any]
    function: dict[str, Any]  # GetFunctionConfiguration
    schedule: dict[str, Any]  # GetSchedule of the schedule targeting the function
    document: str  # the freeze/thaw document's content


def read_deployment(clients: dict[str, Any], outputs: dict[str, Any]) -> Deployment:
    """What was deployed, read from the emulator: the function, its schedule, the document."""
    function = clients["lambda"].get_function_configuration(
        FunctionName=outputs["discovery_function_name"]
    )
    scheduler = clients["scheduler"]
    schedule = None
    for summary in scheduler.list_schedules()["Schedules"]:
        candidate = scheduler.get_schedule(Name=summary["Name"], GroupName=summary["GroupName"])
        if candidate["Target"]["Arn"] == function["FunctionArn"]:
            schedule = candidate
            break
    if schedule is None:
        raise RuntimeError("no schedule targets the discovery function")
    document = clients["ssm"].get_document(
        Name=outputs["ssm_document_name"], DocumentFormat="YAML"
    )["Content"]
    return Deployment(outputs, function, schedule, document)


def deployed_code(aws: LocalEmulator, function: dict[str, Any], into: Path) -> Path:
    """The package Terraform uploaded (moto keeps it; Lambda would run it), unzipped."""
    code = lambda_backends[aws.account][aws.region].get_function(function["FunctionName"])
    package = bytes(code.code_bytes)
    digest = base64.b64encode(hashlib.sha256(package).digest()).decode()
    if digest != function["CodeSha256"]:
        raise RuntimeError("the deployed package does not match its CodeSha256")
    into.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        archive.extractall(into)  # the module's own package
    return into


def invoke_discovery(
    aws: LocalEmulator, deployment: Deployment, code_dir: Path, log: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the deployed handler as the scheduler would invoke it; (event, result)."""
    function = deployment.function
    scheduled = _dt.datetime.now(tz=_dt.UTC).replace(microsecond=0)
    raw = deployment.schedule["Target"]["Input"]
    event = json.loads(raw.replace(PLACEHOLDER, scheduled.strftime("%Y-%m-%dT%H:%M:%SZ")))
    return event, invoke.function(aws, function, code_dir, event, log)


def wait_for_executions(
    sfn: Any,
    state_machine_arn: str,
    names: dict[str, str],
    *,
    expected: int,
    say: Say,
    timeout: float = 120.0,
) -> list[dict[str, Any]]:
    """Poll until every execution has ended; print each as it ends."""
    deadline = time.monotonic() + timeout
    ended: dict[str, dict[str, Any]] = {}
    started = time.monotonic()
    while True:
        executions = sfn.list_executions(stateMachineArn=state_machine_arn)["executions"]
        for execution in executions:
            arn = execution["executionArn"]
            if arn in ended or execution["status"] == "RUNNING":
                continue
            described = sfn.describe_execution(executionArn=arn)
            ended[arn] = described
            output = json.loads(described["output"]) if described.get("output") else {}
            instance_id = next((i for i in names if i in described["name"]), "?")
            what = output.get("outcome") or described.get("error") or ""
            consistency = output.get("consistency") or ""
            say(
                f"  [{len(ended)}/{expected}] {names.get(instance_id, '?'):<10} {instance_id} "
                f"{described['status']:<9} {what} {consistency} "
                f"({time.monotonic() - started:.1f} s)"
            )
        if len(executions) >= expected and len(ended) == len(executions):
            return list(ended.values())
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{len(executions) - len(ended)} execution(s) still running after {timeout:.0f} s"
            )
        time.sleep(0.1)


# ---------------------------------------------------------------------- the live instance
def _epoch(value: str | None) -> float | None:
    parsed = parse_iso(value) if value else None
    return parsed.timestamp() if parsed else None


def live_note(
    result: report.InstanceResult, agent: RealAgent, live: livefs.LiveFilesystems
) -> tuple[str, list[str]]:
    """The real freeze, told in words; and what was not as it must be."""
    problems: list[str] = []
    freezes = [c for c in agent.commands if c.kind == "freeze"]
    thaws = [c for c in agent.commands if c.kind == "thaw"]
    filesystems = ", ".join(f"{m.mountpoint} ({m.fstype}, {m.device})" for m in live.mounts)
    lines = [
        f"{result.name} ({result.instance_id}): the deployed SSM document ran on this machine, "
        f"confined to the demo's loop filesystems: {filesystems}",
    ]
    if not freezes or not thaws:
        problems.append(f"real freeze/thaw commands: {len(freezes)} freeze, {len(thaws)} thaw")
        return "\n".join(lines), problems
    freeze, thaw = freezes[-1], thaws[-1]
    raw_freeze, raw_thaw = freeze.raw_report or {}, thaw.raw_report or {}
    lines.append(
        f"freeze: exit {freeze.exit_code}, {raw_freeze.get('status')}; "
        f"thaw: exit {thaw.exit_code}, {raw_thaw.get('status')}, "
        f"watchdog {(raw_thaw.get('watchdog') or {}).get('outcome')}"
    )
    if freeze.exit_code != 0 or thaw.exit_code != 0:
        problems.append(f"real freeze exit {freeze.exit_code}, thaw exit {thaw.exit_code}")
    frozen, thawed = _epoch(raw_freeze.get("frozen_at")), _epoch(raw_thaw.get("thawed_at"))
    held = f"{(thawed - frozen) * 1000:.0f} ms" if frozen and thawed else "?"
    lines.append(
        f"all frozen {raw_freeze.get('frozen_at')} -> thaw began {raw_thaw.get('thawed_at')}: "
        f"{held} real; from the first fsfreeze -f to the last fsfreeze -u: "
        f"{raw_thaw.get('freeze_duration_ms')} ms real"
    )
    writer = live.writer
    if writer is not None and frozen is not None and thawed is not None:
        waited = writer.longest_wait(frozen, thawed)
        resumed = writer.wrote_after(thawed)
        lines.append(
            "a writer process (append + fsync every 10 ms) waited "
            + (f"{waited * 1000:.0f} ms real at most" if waited else "? ms")
            + (", and wrote again after the thaw" if resumed else ", and did NOT write again")
        )
        if not resumed:
            problems.append("the writer made no progress after the thaw")
    # The snapshots' start on the emulator's clock (the job's own record: EC2's StartTime
    # comes back from moto in whole seconds), against the window moved onto that clock.
    starts = [
        job.started_at
        for job in emulator.backup.jobs(agent.account, agent.region)
        if job.instance_id == result.instance_id and job.started_at is not None
    ]
    window = ((freeze.report or {}).get("frozen_at"), (thaw.report or {}).get("thawed_at"))
    low, high = (parse_iso(v) if v else None for v in window)
    if starts and low and high:
        inside = all(low <= t <= high for t in starts)
        lines.append(
            f"the snapshots started {emulator.iso_millis(starts[-1])} (virtual), "
            f"{'inside' if inside else 'OUTSIDE'} the freeze window moved onto the virtual "
            f"clock [{window[0]}, {window[1]}]: {(high - low).total_seconds():.1f} s virtual, "
            "for the emulator assumes AWS Backup's start latency"
        )
        if result.consistency == "application-consistent" and not inside:
            problems.append("labelled application-consistent but the snapshots started outside")
    elif result.consistency == "application-consistent":
        problems.append("labelled application-consistent but no snapshot start to check")
    return "\n".join(lines), problems


def _prefix(outputs: dict[str, Any]) -> str:
    """The deployed module's name_prefix (its delivery function is <prefix>-servicenow)."""
    return str(outputs["servicenow_function_name"]).removesuffix("-servicenow")


# ---------------------------------------------------------------------- the run
@contextlib.contextmanager
def _uninterruptible(enabled: bool, say: Say) -> Iterator[None]:
    """Cleanup must not be cut short by a second Ctrl-C (every step of it is bounded)."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _wait(signum: int, frame: Any) -> None:
        say("  cleaning up, please wait (every step is bounded)...")

    saved = {s: signal.signal(s, _wait) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


class Demo:
    """One run of the demo; ``run()`` never raises for a failure (it is in the result)."""

    def __init__(
        self, say: Say, handle_signals: bool, keep_workdir: bool, started: float | None = None
    ) -> None:
        say = fitted(say)
        self.clock = Clock(say, started)
        self.say = say
        self.handle_signals = handle_signals
        self.keep_workdir = keep_workdir
        self.result = DemoResult()
        self.workdir = Path(tempfile.mkdtemp(prefix="acb-demo-"))
        self.result.workdir = str(self.workdir)
        self.aws = LocalEmulator(region=REGION, log_path=self.workdir / "emulator.log")
        self.terraform: Terraform | None = None
        self.live: livefs.LiveFilesystems | None = None
        self.real_agent: RealAgent | None = None
        self.snow: LocalServiceNow | None = None
        self.clients: dict[str, Any] = {}
        self._phase = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.result.phases[name] = round(now - self._phase, 1)
        self._phase = now

    # ------------------------------------------------------------------ steps
    def deploy(self) -> Deployment:
        say = self.clock.say
        say("starting the AWS emulator (moto + this project's extensions)...")
        self.aws.start()
        self.clients = {name: self.aws.client(name) for name in SERVICES}
        say(f"  emulator listening on {self.aws.endpoint}")
        self.snow, secret_arn = delivery.start(self.clients["secretsmanager"])
        say(
            f"  local ServiceNow (jsonv2) listening on {self.snow.url}; its integration "
            f"user's credentials in the secret {secret_arn.rsplit(':', 1)[-1]}"
        )
        self.terraform = Terraform(
            self.workdir,
            self.aws.endpoint,
            say,
            variables={"servicenow_url": self.snow.url, "servicenow_secret_arn": secret_arn},
        )
        self.terraform.stage_module()
        self.terraform.init()
        self.lap("emulator+init")
        say(
            "terraform apply examples/local (about a minute: the provider waits for each "
            "SQS queue and KMS key to settle)..."
        )
        self.terraform.apply()
        outputs = self.terraform.outputs()
        self.lap("apply")
        say(
            f"  applied: state machine {outputs['state_machine_arn'].rsplit(':', 1)[-1]}, "
            f"function {outputs['discovery_function_name']}, vault {outputs['vault_name']}"
        )
        return read_deployment(self.clients, outputs)

    def create_fleet(self, deployment: Deployment) -> list[fleet.Instance]:
        say = self.clock.say
        variables = deployment.function.get("Environment", {}).get("Variables", {})
        schedule_input = json.loads(deployment.schedule["Target"]["Input"])
        say("creating the fleet in the emulator...")
        instances = fleet.create(
            self.clients["ec2"],
            self.aws,
            variables.get("BACKUP_TAG_KEY", "AppConsistentBackup"),
            schedule_input["tag_value"],
            variables.get("OPT_OUT_TAG_KEY", "AppConsistentBackupOptOut"),
        )
        for instance in instances:
            say(f"  {instance.member.name:<10} {instance.instance_id}  {instance.member.what}")
        member = next((i for i in instances if i.member.live), None)
        self.result.live_skipped = livefs.unavailable()
        if member is not None and self.result.live_skipped is None:
            self._go_live(member, deployment)
        elif member is not None:
            say(
                f"  real freeze skipped ({self.result.live_skipped}): {member.member.name} "
                "uses the emulated agent like the others"
            )
        self.lap("fleet")
        return instances

    def _go_live(self, member: fleet.Instance, deployment: Deployment) -> None:
        self.live = livefs.LiveFilesystems(self.workdir / "live")
        self.live.create()
        self.real_agent = RealAgent(
            instance_id=member.instance_id,
            document=deployment.document,
            mountpoints=self.live.mountpoints,
            mount_root=self.live.mount_root,
            workdir=self.live.agent_dir,
            clock=self.aws.clock,
            region=self.aws.region,
            account=self.aws.account,
        ).attach()
        self.live.watchdog_dirs.append(self.real_agent.state_dir)
        self.live.start_writer()
        self.result.live = True
        self.clock.say(
            f"  {member.member.name}: its freeze and thaw run the deployed SSM document for "
            "real on "
            + ", ".join(f"{m.mountpoint} ({m.fstype})" for m in self.live.mounts)
            + "; a writer process appends to data/app.log"
        )

    def cycle(self, deployment: Deployment, instances: list[fleet.Instance]) -> dict[str, Any]:
        say = self.clock.say
        say(
            "backup cycle: the deployed discovery function, invoked with the input of "
            f"schedule {deployment.schedule['Name']}..."
        )
        code_dir = deployed_code(self.aws, deployment.function, self.workdir / "lambda" / "task")
        if PLACEHOLDER not in deployment.schedule["Target"]["Input"]:
            say(
                f"  WARNING: the schedule's input does not carry the keyword {PLACEHOLDER} "
                "as such (JSON-escaped?): EventBridge Scheduler replaces the literal keyword "
                "only, so the function gets it unfilled"
            )
        log = self.workdir / "discovery.log"
        _event, summary = invoke_discovery(self.aws, deployment, code_dir, log)
        if summary.get("status") != "done":
            say(f"  the discovery function answered {json.dumps(summary)}")
        say(
            f"  discovery: {summary.get('fleet_size')} tagged, {summary.get('started')} "
            f"executions started, skipped {summary.get('skipped')}"
        )
        say("  executions (the emulated Step Functions runs them one at a time):")
        wait_for_executions(
            self.clients["stepfunctions"],
            deployment.outputs["state_machine_arn"],
            {i.instance_id: i.member.name for i in instances},
            expected=int(summary.get("started") or 0),
            say=say,
        )
        # The execution that completes the run asks the discovery function, asynchronously,
        # for the run's summary (docs/contracts.md 5b); Lambda would run the queued events.
        requests = emulator.lambda_async.take(deployment.function["FunctionName"])
        for request in requests:
            invoke.function(self.aws, deployment.function, code_dir, request.event, log)
        say(f"  run summary: {len(requests)} request(s) queued by the executions, run")
        self.lap("cycle")
        return summary

    def drill(self, deployment: Deployment) -> delivery.Drill:
        """A crash of the discovery function, heard in ServiceNow."""
        say = self.clock.say
        say(
            "crash drill: the deployed discovery code, run without its STATE_MACHINE_ARN, "
            "fails; its alarm is evaluated as CloudWatch does..."
        )
        if self.snow is None:
            raise RuntimeError("the local ServiceNow was not started")
        schedule_input = deployment.schedule["Target"]["Input"].replace(
            PLACEHOLDER, _dt.datetime.now(tz=_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        result = delivery.crash_drill(
            self.aws,
            self.clients,
            deployment.outputs,
            (deployment.function, self.workdir / "lambda" / "task", json.loads(schedule_input)),
            self.workdir / "lambda" / "servicenow",
            snow=self.snow,
            log=self.workdir / "crash-drill.log",
        )
        for transition in result.transitions:
            say(f"  {transition.alarm_name}: {transition.old_state} -> {transition.new_state}")
        say(
            f"  ServiceNow received {len(result.delivery.accepted)} alarm event(s): "
            + ", ".join(f"severity {e.get('severity')}" for e in result.delivery.accepted)
        )
        self.lap("drill")
        return result

    def deliver(self, deployment: Deployment) -> delivery.Delivery:
        """The events the topics queued for ServiceNow, through the deployed function."""
        say = self.clock.say
        outputs = deployment.outputs
        function = self.clients["lambda"].get_function_configuration(
            FunctionName=outputs["servicenow_function_name"]
        )
        code_dir = deployed_code(self.aws, function, self.workdir / "lambda" / "servicenow")
        say(
            f"delivery: the queue {outputs['servicenow_queue_url'].rsplit('/', 1)[-1]} "
            f"(fed by the topics, raw delivery off) drained through the deployed "
            f"{function['FunctionName']} into the local ServiceNow..."
        )
        if self.snow is None:
            raise RuntimeError("the local ServiceNow was not started")
        result = delivery.deliver(
            self.aws,
            self.clients,
            outputs,
            code_dir,
            self.snow,
            log=self.workdir / "servicenow-delivery.log",
        )
        say(
            f"  {sum(p.received for p in result.polls)} message(s) in {len(result.polls)} "
            f"batch(es); ServiceNow answered {result.statuses or 'nothing'}; "
            f"{len(result.accepted)} event(s) accepted, {len(result.dead_letters)} dead-lettered"
        )
        result.problems += delivery.alarm_routes(
            self.clients["cloudwatch"], _prefix(outputs), outputs["alarm_topic_arn"]
        )
        self.lap("delivery")
        return result

    def build_report(
        self,
        deployment: Deployment,
        instances: list[fleet.Instance],
        summary: dict[str, Any],
        delivered: delivery.Delivery,
        drill: delivery.Drill,
    ) -> report.Cycle:
        live_member = next((i for i in instances if i.member.live), None)
        note = (
            f"skipped ({self.result.live_skipped}): "
            f"{live_member.member.name if live_member else '-'} used the emulated agent"
        )
        cycle = report.collect(
            clients=self.clients,
            account=self.aws.account,
            region=self.aws.region,
            instances=instances,
            outputs=deployment.outputs,
            discovery=summary,
            real_agent=self.real_agent,
            live_note=note,
            delivery=delivered,
            alarms=delivery.alarm_names(self.clients["cloudwatch"], _prefix(deployment.outputs)),
            drill=drill,
        )
        if summary.get("status") != "done":
            cycle.problems.insert(
                0, f"the discovery run did not complete: {json.dumps(summary)[:300]}"
            )
        if self.real_agent is not None and self.live is not None:
            live_result = next(r for r in cycle.instances if r.live)
            cycle.live_note, problems = live_note(live_result, self.real_agent, self.live)
            live_result.problems.extend(problems)
        return cycle

    # ------------------------------------------------------------------ the whole
    def run(self) -> DemoResult:
        atexit.register(self._emergency_cleanup)
        result = self.result
        try:
            deployment = self.deploy()
            instances = self.create_fleet(deployment)
            summary = self.cycle(deployment, instances)
            delivered = self.deliver(deployment)
            drill = self.drill(deployment)
            result.cycle = self.build_report(deployment, instances, summary, delivered, drill)
            result.report_lines = render.render(result.cycle)
            for line in result.report_lines:
                self.say(line)
            self.say("")
            self.lap("report")
        except KeyboardInterrupt:
            result.interrupted = True
            self.clock.say("interrupted: cleaning up")
        except (
            TerraformError,
            RuntimeError,
            TimeoutError,
            OSError,
            KeyError,
            ValueError,
            subprocess.SubprocessError,
        ) as error:
            result.error = f"{type(error).__name__}: {error}"
            self.clock.say(f"FAILED: {result.error}")
            for line in getattr(error, "log", "").strip().splitlines()[-30:]:
                self.say(f"    {line}")
        finally:
            with _uninterruptible(self.handle_signals, self.clock.say):
                result.cleanup_problems = _cleanup(
                    self.clock,
                    self.aws,
                    self.terraform,
                    self.live,
                    self.workdir,
                    keep_workdir=self.keep_workdir,
                    snow=self.snow,
                )
                self.lap("destroy+cleanup")
            atexit.unregister(self._emergency_cleanup)
        result.seconds = time.monotonic() - self.clock.started
        return result

    def _emergency_cleanup(self) -> None:  # at exit, if ``finally`` never ran
        if self.live is not None:
            self.live.cleanup()
        if self.snow is not None:
            self.snow.stop()
        self.aws.stop()
        if not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def run_demo(
    say: Say = print,
    handle_signals: bool = False,
    keep_workdir: bool = False,
    started: float | None = None,
) -> DemoResult:
    """The whole demo. ``keep_workdir`` keeps the temporary directory (logs, state);
    ``started`` is when the clock of the progress lines started (``time.monotonic()``)."""
    return Demo(say, handle_signals, keep_workdir, started).run()


def _cleanup(
    clock: Clock,
    aws: LocalEmulator,
    terraform: Terraform | None,
    live: livefs.LiveFilesystems | None,
    workdir: Path,
    *,
    keep_workdir: bool = False,
    snow: LocalServiceNow | None = None,
) -> list[str]:
    problems: list[str] = []
    if live is not None:
        clock.say("thawing and unmounting the loop filesystems...")
        live.cleanup()
        problems += live.leftovers()
    if terraform is not None and terraform.applied and aws.running:
        clock.say("terraform destroy (under a minute)...")
        try:
            terraform.destroy()
        except (TerraformError, TimeoutError, OSError, subprocess.SubprocessError) as error:
            problems.append(f"terraform destroy: {error}")
        left = terraform.state_resources()
        if left:
            problems.append(f"{left} resource(s) still in the Terraform state")
        else:
            clock.say("  destroyed: nothing left in the Terraform state")
    clock.say("stopping the emulator and removing the temporary directory...")
    if snow is not None:
        snow.stop()
        if snow.running:
            problems.append("the local ServiceNow is still running")
    aws.stop()
    if aws.server_thread is not None and aws.server_thread.is_alive():
        problems.append("the emulator's server thread is still running")
    if keep_workdir:
        clock.say(f"  kept {workdir} (logs, Terraform state); remove it yourself")
        return problems
    shutil.rmtree(workdir, ignore_errors=True)
    if workdir.exists():
        problems.append(f"{workdir} could not be removed")
    return problems


def main(argv: list[str] | None = None, started: float | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument(
        "--keep-workdir",
        action="store_true",
        help="keep the temporary directory (Terraform state and logs, emulator log) to debug",
    )
    args = parser.parse_args(argv)

    def _terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    say = fitted(lambda line: print(line, flush=True))
    result = run_demo(say, handle_signals=True, keep_workdir=args.keep_workdir, started=started)
    for problem in result.cleanup_problems:
        say(f"CLEANUP PROBLEM: {problem}")
    if result.interrupted:
        say(f"demo interrupted after {result.seconds:.0f} s; everything it created was removed")
        return 130
    if result.error:
        say(f"demo failed after {result.seconds:.0f} s: {result.error}")
        if not args.keep_workdir:
            say("to look at its logs, run it again with: make demo KEEP_WORKDIR=1")
        return 2
    cycle = result.cycle
    total = len(cycle.instances) if cycle else 0
    good = sum(1 for r in cycle.instances if r.as_expected) if cycle else 0
    verdict = "every instance as expected" if result.ok else f"{good} of {total} as expected"
    say(f"demo finished in {result.seconds:.0f} s (real): {verdict}")
    phases = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in result.phases.items())
    for line in text.wrap(f"phases: {phases}", indent="  "):
        say(line)
    for line in next_steps.lines(result.workdir, kept=args.keep_workdir):
        say(line)
    return 0 if result.ok else 1
