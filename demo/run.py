"""The demo from start to end (see the package's docstring); ``main()`` is `make demo`."""

from __future__ import annotations

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
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import emulator
from demo import fleet, livefs, report
from demo.terraform import Terraform, TerraformError
from emulator.clock import parse_iso
from emulator.real_agent import RealAgent
from emulator.server import LocalEmulator

REGION = "eu-west-1"
PLACEHOLDER = "<aws.scheduler.scheduled-time>"
RUNTIME = Path(__file__).resolve().parent / "lambda_runtime.py"
SERVICES = ("stepfunctions", "backup", "ec2", "sqs", "sns", "ssm", "lambda", "scheduler")

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
    def __init__(self, say: Say) -> None:
        self.started = time.monotonic()
        self._say = say

    def say(self, text: str) -> None:
        self._say(f"[{time.monotonic() - self.started:5.1f}s] {text}")


# ---------------------------------------------------------------------- deployment
@dataclass
class Deployment:
    outputs: dict[str, Any]
    function: dict[str, Any]  # GetFunctionConfiguration
    schedule: dict[str, Any]  # GetSchedule of the schedule targeting the function
    document: str  # the freeze/thaw document's content


def read_deployment(aws: LocalEmulator, clients: dict[str, Any], outputs: dict[str, Any]) -> Deployment:
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
    from moto.awslambda.models import lambda_backends

    code = lambda_backends[aws.account][aws.region].get_function(function["FunctionName"])
    package = bytes(code.code_bytes)
    digest = base64.b64encode(hashlib.sha256(package).digest()).decode()
    if digest != function["CodeSha256"]:
        raise RuntimeError("the deployed package does not match its CodeSha256")
    into.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        archive.extractall(into)  # noqa: S202 - the module's own package
    return into


def invoke_discovery(
    aws: LocalEmulator, deployment: Deployment, code_dir: Path, log: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the deployed handler as the scheduler would invoke it; (event, result)."""
    function = deployment.function
    scheduled = _dt.datetime.now(tz=_dt.UTC).replace(microsecond=0)
    raw = deployment.schedule["Target"]["Input"]
    event = json.loads(raw.replace(PLACEHOLDER, scheduled.strftime("%Y-%m-%dT%H:%M:%SZ")))
    environment = {
        "PATH": "/usr/bin:/bin",
        "LC_ALL": "C.UTF-8",
        **function.get("Environment", {}).get("Variables", {}),
        "AWS_REGION": aws.region,
        "AWS_DEFAULT_REGION": aws.region,
        "AWS_ENDPOINT_URL": aws.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": function["FunctionName"],
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.get("MemorySize", "")),
        "ACB_DEMO_FUNCTION_ARN": function["FunctionArn"],
    }
    proc = subprocess.run(  # noqa: S603 - this interpreter, the demo's own runtime script
        [sys.executable, str(RUNTIME), str(code_dir), function["Handler"], str(function["Timeout"])],
        input=json.dumps(event),
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    log.write_text(f"$ handler(event)\n{json.dumps(event, indent=2)}\n--- stdout\n{proc.stdout}"
                   f"--- stderr\n{proc.stderr}")
    results = [line[7:] for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not results:
        raise RuntimeError(f"the discovery function failed (exit {proc.returncode}): see {log}")
    return event, json.loads(results[-1])


def wait_for_executions(
    sfn: Any,
    state_machine_arn: str,
    names: dict[str, str],
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
    result: report.InstanceResult,
    agent: RealAgent,
    live: livefs.LiveFilesystems,
    ec2: Any,
) -> tuple[str, list[str]]:
    """The real freeze, told in words; and what was not as it must be."""
    problems: list[str] = []
    freezes = [c for c in agent.commands if c.kind == "freeze"]
    thaws = [c for c in agent.commands if c.kind == "thaw"]
    filesystems = ", ".join(f"{m.mountpoint} ({m.fstype}, {m.device})" for m in live.mounts)
    lines = [
        f"{result.name} ({result.instance_id}): the deployed SSM document ran on this machine,",
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
    lines.append(
        f"frozen {raw_freeze.get('frozen_at')} -> thawed {raw_thaw.get('thawed_at')} "
        f"(real clock): {raw_thaw.get('freeze_duration_ms')} ms"
    )
    frozen, thawed = _epoch(raw_freeze.get("frozen_at")), _epoch(raw_thaw.get("thawed_at"))
    writer = live.writer
    if writer is not None and frozen is not None and thawed is not None:
        waited = writer.longest_wait(frozen, thawed)
        resumed = writer.wrote_after(thawed)
        lines.append(
            "a writer process (append + fsync every 10 ms) waited "
            + (f"{waited * 1000:.0f} ms at most" if waited else "? ms")
            + (", and wrote again after the thaw" if resumed else ", and did NOT write again")
        )
        if not resumed:
            problems.append("the writer made no progress after the thaw")
    # The snapshots' start, on the emulator's clock, against the window on the same clock.
    start_times = []
    if result.recovery_point:
        image = ec2.describe_images(ImageIds=[result.recovery_point])["Images"][0]
        ids = [m["Ebs"]["SnapshotId"] for m in image.get("BlockDeviceMappings", [])]
        snapshots = ec2.describe_snapshots(SnapshotIds=ids)["Snapshots"]
        start_times = sorted(s["StartTime"] for s in snapshots)
    window = ((freeze.report or {}).get("frozen_at"), (thaw.report or {}).get("thawed_at"))
    low, high = (parse_iso(v) if v else None for v in window)
    if start_times and low and high:
        inside = all(low <= t <= high for t in start_times)
        lines.append(
            f"snapshots started {emulator.iso_millis(start_times[0])} (emulator's clock), "
            f"{'inside' if inside else 'OUTSIDE'} the freeze window on that clock "
            f"[{window[0]}, {window[1]}]"
        )
        if result.consistency == "application-consistent" and not inside:
            problems.append("labelled application-consistent but the snapshots started outside")
    return "\n".join(lines), problems


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


def run_demo(say: Say = print, handle_signals: bool = False) -> DemoResult:
    """The whole demo; never raises for a failure of the module (it is in the result)."""
    clock = Clock(say)
    result = DemoResult()
    workdir = Path(tempfile.mkdtemp(prefix="acb-demo-"))
    aws = LocalEmulator(region=REGION)
    terraform: Terraform | None = None
    live: livefs.LiveFilesystems | None = None

    def emergency_cleanup() -> None:  # atexit: only if finally never ran
        if live is not None:
            live.cleanup()
        aws.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    atexit.register(emergency_cleanup)
    phase = time.monotonic()

    def lap(name: str) -> None:
        nonlocal phase
        now = time.monotonic()
        result.phases[name] = round(now - phase, 1)
        phase = now

    try:
        clock.say("starting the AWS emulator (moto + this project's extensions)...")
        aws.start()
        clients = {name: aws.client(name) for name in SERVICES}
        clock.say(f"  emulator listening on {aws.endpoint}")
        terraform = Terraform(workdir, aws.endpoint, clock.say)
        terraform.stage_module()
        terraform.init()
        lap("emulator+init")
        clock.say("terraform apply examples/local (about 60-75 s: the provider waits 25 s "
                  "on each SQS queue and queue policy)...")
        terraform.apply()
        outputs = terraform.outputs()
        lap("apply")
        clock.say(f"  applied: state machine {outputs['state_machine_arn'].rsplit(':', 1)[-1]}, "
                  f"function {outputs['discovery_function_name']}, vault {outputs['vault_name']}")
        deployment = read_deployment(aws, clients, outputs)
        variables = deployment.function.get("Environment", {}).get("Variables", {})
        event_input = json.loads(deployment.schedule["Target"]["Input"])

        clock.say("creating the fleet in the emulator...")
        instances = fleet.create(
            clients["ec2"],
            aws.account,
            aws.region,
            variables.get("BACKUP_TAG_KEY", "AppConsistentBackup"),
            event_input["tag_value"],
            variables.get("OPT_OUT_TAG_KEY", "AppConsistentBackupOptOut"),
        )
        names = {i.instance_id: i.member.name for i in instances}
        for instance in instances:
            clock.say(f"  {instance.member.name:<10} {instance.instance_id}  {instance.member.what}")

        real_agent: RealAgent | None = None
        live_member = next((i for i in instances if i.member.live), None)
        result.live_skipped = livefs.unavailable()
        if live_member is not None and result.live_skipped is None:
            live = livefs.LiveFilesystems(workdir / "live")
            live.create()
            real_agent = RealAgent(
                instance_id=live_member.instance_id,
                document=deployment.document,
                mountpoints=live.mountpoints,
                mount_root=live.mount_root,
                workdir=workdir / "live" / "agent",
                clock=aws.clock,
                region=aws.region,
                account=aws.account,
            ).attach()
            live.watchdog_dirs.append(real_agent.state_dir)
            live.start_writer()
            result.live = True
            clock.say(f"  {live_member.member.name}: real freeze on "
                      + ", ".join(f"{m.mountpoint} ({m.fstype})" for m in live.mounts)
                      + "; a writer process appends to data/app.log")
        elif live_member is not None:
            clock.say(f"  real freeze skipped ({result.live_skipped}): "
                      f"{live_member.member.name} uses the emulated agent")
        lap("fleet")

        clock.say("backup cycle: the deployed discovery function, invoked with the "
                  f"schedule's input ({deployment.schedule['Name']})...")
        code_dir = deployed_code(aws, deployment.function, workdir / "lambda" / "task")
        if PLACEHOLDER not in deployment.schedule["Target"]["Input"]:
            clock.say(
                "  WARNING: the schedule's input does not carry the keyword "
                f"{PLACEHOLDER} as such (JSON-escaped?): EventBridge Scheduler replaces "
                "the literal keyword only, so the function gets it unfilled"
            )
        _event, summary = invoke_discovery(aws, deployment, code_dir, workdir / "discovery.log")
        if summary.get("status") != "done":
            clock.say(f"  the discovery function answered {json.dumps(summary)}")
        clock.say(f"  discovery: {summary.get('fleet_size')} tagged, "
                  f"{summary.get('started')} executions started, skipped {summary.get('skipped')}")
        clock.say("  executions (run by the emulated Step Functions, one at a time):")
        wait_for_executions(
            clients["stepfunctions"],
            outputs["state_machine_arn"],
            names,
            int(summary.get("started") or 0),
            clock.say,
        )
        lap("cycle")

        note = f"skipped ({result.live_skipped}): {live_member.member.name if live_member else '-'} used the emulated agent"
        cycle = report.collect(
            clients=clients,
            account=aws.account,
            region=aws.region,
            instances=instances,
            outputs=outputs,
            discovery=summary,
            real_agent=real_agent,
            live_note=note,
        )
        if summary.get("status") != "done":
            cycle.problems.insert(
                0, f"the discovery run did not complete: {json.dumps(summary)[:300]}"
            )
        if real_agent is not None and live is not None:
            live_result = next(r for r in cycle.instances if r.live)
            cycle.live_note, problems = live_note(live_result, real_agent, live, clients["ec2"])
            live_result.problems.extend(problems)
        result.cycle = cycle
        result.report_lines = report.render(cycle)
        for line in result.report_lines:
            say(line)
        say("")
        lap("report")
    except KeyboardInterrupt:
        result.interrupted = True
        clock.say("interrupted: cleaning up")
    except (TerraformError, RuntimeError, TimeoutError, OSError, subprocess.SubprocessError) as error:
        result.error = f"{type(error).__name__}: {error}"
        clock.say(f"FAILED: {result.error}")
        log = getattr(error, "log", "")
        if log:
            for line in log.strip().splitlines()[-30:]:
                say(f"    {line}")
    finally:
        with _uninterruptible(handle_signals, clock.say):
            result.cleanup_problems = _cleanup(clock, aws, terraform, live, workdir)
            lap("destroy+cleanup")
        atexit.unregister(emergency_cleanup)
    result.seconds = time.monotonic() - clock.started
    return result


def _cleanup(
    clock: Clock,
    aws: LocalEmulator,
    terraform: Terraform | None,
    live: livefs.LiveFilesystems | None,
    workdir: Path,
) -> list[str]:
    problems: list[str] = []
    if live is not None:
        clock.say("thawing and unmounting the loop filesystems...")
        live.cleanup()
        problems += live.leftovers()
    if terraform is not None and terraform.applied and aws.running:
        clock.say("terraform destroy (about 40 s: the provider waits 25 s on the queue policy)...")
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
    aws.stop()
    if aws.server_thread is not None and aws.server_thread.is_alive():
        problems.append("the emulator's server thread is still running")
    shutil.rmtree(workdir, ignore_errors=True)
    if workdir.exists():
        problems.append(f"{workdir} could not be removed")
    return problems


def main() -> int:
    def _terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    result = run_demo(print, handle_signals=True)
    for problem in result.cleanup_problems:
        print(f"CLEANUP PROBLEM: {problem}")
    if result.interrupted:
        print(f"demo interrupted after {result.seconds:.0f} s; everything it created was removed")
        return 130
    if result.error:
        print(f"demo failed after {result.seconds:.0f} s: {result.error}")
        return 2
    cycle = result.cycle
    total = len(cycle.instances) if cycle else 0
    good = sum(1 for r in cycle.instances if r.as_expected) if cycle else 0
    verdict = "every instance as expected" if result.ok else f"{good} of {total} as expected"
    print(f"demo finished in {result.seconds:.0f} s: {verdict}")
    return 0 if result.ok else 1
