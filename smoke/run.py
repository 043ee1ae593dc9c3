"""The smoke from start to end (see the package's docstring); ``main()`` is `make smoke`."""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from demo.run import PLACEHOLDER, Deployment, _uninterruptible, read_deployment
from demo.terraform import MODULE_DIRS, Terraform, TerraformError
from smoke.targets import ROOT, AwsTarget

Say = Callable[[str], None]
LABEL_TAG = "app-consistent-backup:consistency"
TERMINAL_JOB_STATES = {"COMPLETED", "FAILED", "ABORTED", "EXPIRED", "PARTIAL"}
READY_SCRIPT = "for i in $(seq 1 60); do findmnt -n /data && exit 0; sleep 5; done; exit 1"


class Refused(RuntimeError):
    """The smoke would not start: nothing was created."""


@dataclass
class SmokeResult:
    report: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    error: str | None = None
    refused: str | None = None
    interrupted: bool = False
    cleanup_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and self.refused is None
            and not self.interrupted
            and not self.cleanup_problems
            and not self.report.get("problems")
        )


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        return value.astimezone(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return str(value)


def _parse(value: Any) -> _dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=_dt.UTC)
    with contextlib.suppress(ValueError):
        return _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return None


def _seconds(later: Any, earlier: Any) -> float | None:
    a, b = _parse(later), _parse(earlier)
    return None if a is None or b is None else round((a - b).total_seconds(), 3)


def schedule_event(schedule: dict[str, Any], now: _dt.datetime) -> dict[str, Any]:
    """The deployed schedule's input, as EventBridge Scheduler would deliver it now."""
    raw = schedule["Target"]["Input"]
    if PLACEHOLDER not in raw:
        raise RuntimeError(f"the schedule's input lacks the keyword {PLACEHOLDER}")
    return json.loads(raw.replace(PLACEHOLDER, now.strftime("%Y-%m-%dT%H:%M:%SZ")))


def _last_json_line(text: str) -> dict[str, Any] | None:
    for line in reversed((text or "").strip().splitlines()):
        with contextlib.suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict):
                return value
    return None


# ---------------------------------------------------------------------- Terraform
class SmokeTerraform(Terraform):
    """demo's Terraform runner on a copy of examples/minimal plus the smoke's files."""

    def __init__(self, workdir: Path, say: Say, overlays: list[Path], variables: dict[str, str]):
        super().__init__(workdir, endpoint="", say=say)
        self.chdir = self.stage / "examples" / "minimal"
        self.overlays = overlays
        self.variables = variables

    def stage_module(self) -> None:
        self.stage.mkdir(parents=True, exist_ok=True)
        for path in ROOT.glob("*.tf"):  # every root file, whatever the module grows
            shutil.copy2(path, self.stage / path.name)
        ignore = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "tests", "*.tfstate*")
        for name in MODULE_DIRS:
            shutil.copytree(ROOT / name, self.stage / name, ignore=ignore)
        self.chdir.mkdir(parents=True)
        for directory in [ROOT / "examples" / "minimal", *self.overlays]:
            for path in directory.glob("*.tf"):
                shutil.copy2(path, self.chdir / path.name)

    def _var_args(self) -> list[str]:
        return [f"-var={key}={value}" for key, value in sorted(self.variables.items())]

    def apply(self) -> None:
        self.applied = True
        args = ["apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=20"]
        self._run([*args, *self._var_args()], "apply", timeout=1800, progress=True)

    def destroy(self) -> None:
        args = ["destroy", "-auto-approve", "-input=false", "-no-color", "-parallelism=20"]
        self._run([*args, *self._var_args()], "destroy", timeout=1800, progress=True)
        self.applied = False

    def provider_version(self) -> str | None:
        lock = self.chdir / ".terraform.lock.hcl"
        if not lock.exists():
            return None
        match = re.search(
            r'provider "registry.terraform.io/hashicorp/aws" \{\s*version\s*=\s*"([^"]+)"',
            lock.read_text(),
        )
        return match.group(1) if match else None


def _command_output(command: list[str]) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        proc = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
        if proc.returncode == 0:
            return proc.stdout.strip()
    return ""


# ---------------------------------------------------------------------- the run
class Smoke:
    """One run; ``run()`` never raises for a failure (it is in the result)."""

    def __init__(
        self,
        target: AwsTarget,
        subnet: str,
        confirm_account: str | None,
        say: Say = print,
        *,
        handle_signals: bool = False,
        keep_workdir: bool = False,
        report_path: Path | None = None,
    ) -> None:
        self.target = target
        self.subnet = subnet
        self.confirm_account = (confirm_account or "").strip()
        self._say = say
        self.handle_signals = handle_signals
        self.keep_workdir = keep_workdir
        self.report_path = report_path
        self.result = SmokeResult()
        self.report: dict[str, Any] = self.result.report
        self.report["problems"] = []
        self.run_id = f"acb-smoke-{secrets.token_hex(3)}"
        self.started = time.monotonic()
        self.workdir: Path | None = None
        self.terraform: SmokeTerraform | None = None
        self.clients: dict[str, Any] = {}
        self.deployment: Deployment | None = None
        self.instance_id: str | None = None
        self.execution_arn: str | None = None
        self.job_id: str | None = None
        self.recovery_point_arn: str | None = None

    def say(self, text: str) -> None:
        self._say(f"[{time.monotonic() - self.started:6.1f}s] {text}")

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = self.target.client(service)
        return self.clients[service]

    def problem(self, text: str) -> None:
        self.report["problems"].append(text)
        self.say(f"  PROBLEM: {text}")

    def wait(self, seconds: float) -> None:
        time.sleep(seconds)

    # ------------------------------------------------------------------ 1. refuse or go
    def confirm(self) -> dict[str, Any]:
        identity = self.client("sts").get_caller_identity()
        account = identity["Account"]
        if not self.confirm_account:
            raise Refused(
                f"refusing to run: set SMOKE_CONFIRM_ACCOUNT={account} to confirm that account "
                f"{account} ({identity['Arn']}) is a sandbox the smoke may create resources in"
            )
        if self.confirm_account != account:
            raise Refused(
                f"refusing to run: SMOKE_CONFIRM_ACCOUNT is {self.confirm_account}, but the "
                f"credentials belong to account {account} ({identity['Arn']})"
            )
        partition = identity["Arn"].split(":")[1]
        self.report["smoke"] = {
            "target": self.target.name,
            "run_id": self.run_id,
            "account": account,
            "region": self.target.region,
            "subnet": self.subnet,
            "started_at": _iso(_dt.datetime.now(tz=_dt.UTC)),
            "clock": self.target.clock_note,
            "module_commit": _command_output(["git", "-C", str(ROOT), "rev-parse", "HEAD"]),
            "module_dirty": bool(
                _command_output(["git", "-C", str(ROOT), "status", "--porcelain", "--", "."])
            ),
            "terraform": _command_output(["terraform", "version"]).splitlines()[:1],
        }
        self.say(f"account {account} confirmed ({self.target.name}, {self.target.region})")
        return {"account": account, "partition": partition}

    # ------------------------------------------------------------------ 2. apply
    def deploy(self) -> Deployment:
        self.workdir = Path(tempfile.mkdtemp(prefix="acb-smoke-"))
        variables = {
            **self.target.terraform_variables(),
            "smoke_subnet_id": self.subnet,
            "smoke_run_id": self.run_id,
            **self.target.prepare(self.workdir),
        }
        self.terraform = SmokeTerraform(self.workdir, self.say, self.target.overlays(), variables)
        self.terraform.stage_module()
        self.say(f"terraform init and apply of examples/minimal as {self.run_id}...")
        self.terraform.init()
        began = time.monotonic()
        self.terraform.apply()
        outputs = self.terraform.outputs()
        self.report["apply"] = {
            "seconds": round(time.monotonic() - began, 1),
            "provider": self.terraform.provider_version(),
        }
        self.report["smoke"]["provider"] = self.terraform.provider_version()
        self.instance_id = outputs["smoke_instance_id"]
        self.say(
            f"  applied in {self.report['apply']['seconds']:.0f} s; instance {self.instance_id}"
        )
        self.deployment = read_deployment(
            {
                "lambda": self.client("lambda"),
                "scheduler": self.client("scheduler"),
                "ssm": self.client("ssm"),
            },
            outputs,
        )
        return self.deployment

    # ------------------------------------------------------------------ 3. instance ready
    def wait_for_instance(self) -> None:
        ssm, target = self.client("ssm"), self.target
        began = time.monotonic()
        deadline = began + target.agent_timeout
        online = None
        while online is None:
            pages = ssm.get_paginator("describe_instance_information").paginate()
            for page in pages:
                for info in page.get("InstanceInformationList", []):
                    if (
                        info.get("InstanceId") == self.instance_id
                        and info.get("PingStatus") == "Online"
                    ):
                        online = round(time.monotonic() - began, 1)
            if online is None:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"the SSM agent of {self.instance_id} was not Online after "
                        f"{target.agent_timeout:.0f} s: does the subnet reach the SSM endpoints?"
                    )
                self.wait(target.poll_seconds)
        self.say(f"  SSM agent online after {online:.0f} s; waiting for /data...")
        command = ssm.send_command(
            InstanceIds=[self.instance_id],
            DocumentName="AWS-RunShellScript",
            Parameters={"commands": [READY_SCRIPT]},
            TimeoutSeconds=600,
            Comment=f"make smoke {self.run_id}: is /data mounted?",
        )["Command"]["CommandId"]
        status = self._command_status(command, deadline=time.monotonic() + 420)
        mounted = round(time.monotonic() - began, 1)
        self.report["instance"] = {
            "id": self.instance_id,
            "agent_online_after_s": online,
            "data_mounted_after_s": mounted,
            "readiness_command": status,
        }
        if status != "Success":
            raise RuntimeError(f"/data is not mounted on {self.instance_id} (command {status})")

    def _command_status(self, command_id: str, deadline: float) -> str:
        ssm = self.client("ssm")
        while True:
            try:
                answer = ssm.get_command_invocation(
                    CommandId=command_id, InstanceId=self.instance_id
                )
                status = answer["Status"]
                if status not in ("Pending", "InProgress", "Delayed"):
                    return status
            except ssm.exceptions.InvocationDoesNotExist:
                pass
            if time.monotonic() > deadline:
                return "TimedOut (the smoke stopped waiting)"
            self.wait(self.target.poll_seconds)

    # ------------------------------------------------------------------ 4. run the schedule
    def run_schedule(self) -> dict[str, Any]:
        if self.deployment is None:
            raise RuntimeError("nothing deployed")
        schedule = self.deployment.schedule
        self.say(f"running schedule {schedule['Name']} now: invoking the discovery function...")
        event = schedule_event(schedule, _dt.datetime.now(tz=_dt.UTC).replace(microsecond=0))
        event, summary = self.target.invoke_discovery(
            self.deployment.function, event, self.deployment, self.workdir or Path(".")
        )
        self.report["discovery"] = {"event": event, "summary": summary}
        self.say(
            f"  discovery: {summary.get('fleet_size')} tagged, {summary.get('started')} started, "
            f"skipped {summary.get('skipped')}"
        )
        if summary.get("started") != 1:
            raise RuntimeError(f"discovery should start one execution: {json.dumps(summary)[:500]}")
        return summary

    # ------------------------------------------------------------------ 5. follow
    def _find_execution(self) -> str:
        sfn = self.client("stepfunctions")
        arn = self.deployment.outputs["state_machine_arn"] if self.deployment else ""
        pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=arn)
        for page in pages:
            for execution in page["executions"]:
                if self.instance_id and self.instance_id in execution["name"]:
                    return execution["executionArn"]
        raise RuntimeError(f"no execution of {arn} for {self.instance_id}")

    def follow(self, identity: dict[str, Any]) -> None:
        sfn, backup, target = self.client("stepfunctions"), self.client("backup"), self.target
        self.execution_arn = self._find_execution()
        instance_arn = (
            f"arn:{identity['partition']}:ec2:{target.region}:{identity['account']}"
            f":instance/{self.instance_id}"
        )
        job: dict[str, Any] = {"states_seen": []}
        self.report["backup_job"] = job
        self.report["snapshots"] = []
        deadline = time.monotonic() + target.execution_timeout
        self.say(f"following {self.execution_arn.rsplit(':', 1)[-1]}...")
        while True:
            execution = sfn.describe_execution(executionArn=self.execution_arn)
            if self.job_id is None:
                jobs = backup.list_backup_jobs(ByResourceArn=instance_arn)["BackupJobs"]
                if jobs:
                    self.job_id = max(jobs, key=lambda j: str(j.get("CreationDate")))["BackupJobId"]
            if self.job_id is not None:
                self._observe_job(backup.describe_backup_job(BackupJobId=self.job_id), job)
            if self.recovery_point_arn and not self.report["snapshots"]:
                self._observe_snapshots(job)
            job_done = job.get("state") in TERMINAL_JOB_STATES
            if execution["status"] != "RUNNING" and (job_done or self.job_id is None):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the execution was still {execution['status']} after "
                    f"{target.execution_timeout:.0f} s (job {job.get('state')})"
                )
            early = not self.report["snapshots"]
            self.wait(target.fast_poll_seconds if early else target.poll_seconds)
        self.report["execution"] = {
            "name": execution["name"],
            "status": execution["status"],
            "started": _iso(execution.get("startDate")),
            "stopped": _iso(execution.get("stopDate")),
            "seconds": _seconds(execution.get("stopDate"), execution.get("startDate")),
            "output": json.loads(execution["output"]) if execution.get("output") else None,
            "error": execution.get("error"),
        }
        self.say(f"  execution {execution['status']}; job {job.get('state')}")

    def _observe_job(self, answer: dict[str, Any], job: dict[str, Any]) -> None:
        now = self.target.now()
        created = answer.get("CreationDate")
        job.update(
            id=answer.get("BackupJobId"),
            created=_iso(created),
            started_by=_iso(answer.get("StartBy")),
            completed=_iso(answer.get("CompletionDate")),
            state=answer.get("State"),
            status_message=answer.get("StatusMessage"),
        )
        seen = job["states_seen"]
        if not seen or seen[-1]["state"] != answer.get("State"):
            seen.append(
                {"state": answer.get("State"), "seen_after_created_s": _seconds(now, created)}
            )
        if answer.get("RecoveryPointArn") and not self.recovery_point_arn:
            self.recovery_point_arn = answer["RecoveryPointArn"]
            job["recovery_point_arn"] = self.recovery_point_arn
            job["recovery_point_first_seen"] = {
                "job_state": answer.get("State"),
                "seen_after_created_s": _seconds(now, created),
            }

    def _observe_snapshots(self, job: dict[str, Any]) -> None:
        ec2 = self.client("ec2")
        image_id = (self.recovery_point_arn or "").rsplit("/", 1)[-1]
        images = ec2.describe_images(ImageIds=[image_id]).get("Images", [])
        ids = [
            m["Ebs"]["SnapshotId"]
            for image in images
            for m in image.get("BlockDeviceMappings", [])
            if m.get("Ebs", {}).get("SnapshotId")
        ]
        if not ids:
            return
        now = self.target.now()
        for snapshot in ec2.describe_snapshots(SnapshotIds=ids)["Snapshots"]:
            self.report["snapshots"].append(
                {
                    "id": snapshot["SnapshotId"],
                    "volume": snapshot.get("VolumeId"),
                    "start_time": _iso(snapshot.get("StartTime")),
                    "started_after_job_created_s": _seconds(
                        snapshot.get("StartTime"), job.get("created")
                    ),
                    "state_when_seen": snapshot.get("State"),
                    "seen_after_job_created_s": _seconds(now, job.get("created")),
                }
            )

    # ------------------------------------------------------------------ 5b. what it left
    def collect(self) -> None:
        self._freeze_reports()
        self._label()
        self._notification()

    def _freeze_reports(self) -> None:
        ssm = self.client("ssm")
        document = self.deployment.outputs.get("ssm_document_name") if self.deployment else None
        commands = ssm.list_commands(InstanceId=self.instance_id).get("Commands", [])
        for command in sorted(commands, key=lambda c: str(c.get("RequestedDateTime"))):
            if command.get("DocumentName") != document:
                continue
            kind = (command.get("Parameters", {}).get("Command") or ["?"])[0]
            answer = ssm.get_command_invocation(
                CommandId=command["CommandId"], InstanceId=self.instance_id
            )
            output = _last_json_line(answer.get("StandardOutputContent", "")) or {}
            self.report[kind] = {
                "status": answer.get("Status"),
                "exit_code": answer.get("ResponseCode"),
                "report_status": output.get("status"),
                "frozen_at": output.get("frozen_at"),
                "thawed_at": output.get("thawed_at"),
                "freeze_duration_ms": output.get("freeze_duration_ms"),
                "filesystems": [f.get("mountpoint") for f in output.get("filesystems", [])],
                "watchdog": (output.get("watchdog") or {}).get("outcome"),
            }
        freeze, thaw = self.report.get("freeze"), self.report.get("thaw")
        if not freeze or not thaw:
            self.problem("no freeze and thaw command reports were found")
            return
        window = {
            "frozen_at": freeze.get("frozen_at"),
            "thawed_at": thaw.get("thawed_at"),
            "seconds": _seconds(thaw.get("thawed_at"), freeze.get("frozen_at")),
            "writers_blocked_ms": thaw.get("freeze_duration_ms"),
        }
        starts = [s["start_time"] for s in self.report.get("snapshots", [])]
        if starts and window["seconds"] is not None:
            window["snapshots_started_inside"] = all(
                (_seconds(s, window["frozen_at"]) or -1) >= 0
                and (_seconds(window["thawed_at"], s) or -1) >= 0
                for s in starts
            )
        self.report["freeze_window"] = window

    def _label(self) -> None:
        if not self.recovery_point_arn:
            self.problem("the backup job showed no recovery point")
            return
        image_id = self.recovery_point_arn.rsplit("/", 1)[-1]
        images = self.client("ec2").describe_images(ImageIds=[image_id]).get("Images", [])
        tags = {t["Key"]: t["Value"] for image in images for t in image.get("Tags", [])}
        self.report["label"] = tags.get(LABEL_TAG)
        if not self.report["label"]:
            self.problem(f"the recovery point carries no {LABEL_TAG} tag")

    def _notification(self) -> None:
        sqs = self.client("sqs")
        url = self.terraform.outputs()["smoke_queue_url"] if self.terraform else ""
        began = time.monotonic()
        while time.monotonic() - began < self.target.notification_wait:
            wait = 1 if self.target.name == "emulator" else 20
            answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
            for message in answer.get("Messages", []):
                body = _last_json_line(message["Body"]) or {}
                if body.get("node") == self.instance_id:
                    self.report["notification"] = {
                        "received_after_execution_end_s": round(time.monotonic() - began, 1),
                        **{
                            k: body.get(k)
                            for k in (
                                "severity",
                                "type",
                                "metric_name",
                                "resolution_state",
                                "description",
                            )
                        },
                        "message": body,
                    }
                    return
        self.problem(
            f"no notification reached the queue within {self.target.notification_wait:.0f} s"
        )

    # ------------------------------------------------------------------ 7. clean up
    def cleanup(self) -> list[str]:
        problems: list[str] = []
        steps = (self._stop_work, self._delete_recovery_points, self._destroy, self._leftovers)
        for step in steps:
            try:
                problems += step()
            except Exception as error:
                problems.append(f"{step.__name__}: {type(error).__name__}: {error}")
        if self.workdir is not None:
            if self.keep_workdir:
                self.say(f"  kept {self.workdir} (Terraform state and logs)")
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)
        return problems

    def _stop_work(self) -> list[str]:
        if self.execution_arn:
            sfn = self.client("stepfunctions")
            if sfn.describe_execution(executionArn=self.execution_arn)["status"] == "RUNNING":
                self.say("  stopping the execution (the instance's watchdog thaws what it froze)")
                sfn.stop_execution(executionArn=self.execution_arn, cause="make smoke: cleaning up")
        if self.job_id:
            backup = self.client("backup")
            if (
                backup.describe_backup_job(BackupJobId=self.job_id)["State"]
                not in TERMINAL_JOB_STATES
            ):
                self.say("  stopping the backup job")
                with contextlib.suppress(backup.exceptions.InvalidRequestException):
                    backup.stop_backup_job(BackupJobId=self.job_id)
        return []

    def _delete_recovery_points(self) -> list[str]:
        if self.deployment is None:
            return []
        backup, vault = self.client("backup"), self.deployment.outputs.get("vault_name")
        deadline = time.monotonic() + (60 if self.target.name == "emulator" else 900)
        deleted: set[str] = set()
        while True:
            points = backup.list_recovery_points_by_backup_vault(BackupVaultName=vault)[
                "RecoveryPoints"
            ]
            if not points:
                return []
            for point in points:
                arn = point["RecoveryPointArn"]
                if arn not in deleted and point.get("Status") != "DELETING":
                    self.say(f"  deleting recovery point {arn.rsplit('/', 1)[-1]}")
                    with contextlib.suppress(backup.exceptions.InvalidRequestException):
                        backup.delete_recovery_point(BackupVaultName=vault, RecoveryPointArn=arn)
                    deleted.add(arn)
            if time.monotonic() > deadline:
                left = len(points)
                return [
                    f"{left} recovery point(s) still in {vault}: terraform destroy deletes them"
                ]
            self.wait(self.target.poll_seconds)

    def _destroy(self) -> list[str]:
        if self.terraform is None or not self.terraform.applied:
            return []
        self.say("terraform destroy...")
        began = time.monotonic()
        try:
            self.terraform.destroy()
        except (TerraformError, TimeoutError) as error:
            self.say(f"  destroy failed ({error}); trying once more")
            self.terraform.destroy()
        left = self.terraform.state_resources()
        self.report["destroy"] = {
            "seconds": round(time.monotonic() - began, 1),
            "left_in_state": left,
        }
        self.say(
            f"  destroyed in {self.report['destroy']['seconds']:.0f} s; {left} left in the state"
        )
        return [f"{left} resource(s) still in the Terraform state ({self.workdir})"] if left else []

    def _leftovers(self) -> list[str]:
        """What destroy cannot see: the instance, and the AMI AWS Backup made."""
        problems = []
        if self.instance_id:
            reservations = self.client("ec2").describe_instances(InstanceIds=[self.instance_id])
            states = [
                i["State"]["Name"] for r in reservations["Reservations"] for i in r["Instances"]
            ]
            if any(state not in ("shutting-down", "terminated") for state in states):
                problems.append(f"instance {self.instance_id} is still {states}")
        if self.recovery_point_arn:
            # AWS Backup deregisters a deleted recovery point's AMI and deletes its
            # snapshots on its own time: a note, with what to check, not a failure.
            image_id = self.recovery_point_arn.rsplit("/", 1)[-1]
            images = self.client("ec2").describe_images(ImageIds=[image_id]).get("Images", [])
            if any(i.get("State") not in ("deregistered", None) for i in images):
                self.report.setdefault("notes", []).append(
                    f"the recovery point's AMI {image_id} was still registered right after the "
                    f"destroy; AWS Backup removes it with its snapshots (check: aws ec2 "
                    f"describe-images --image-ids {image_id})"
                )
        return problems

    # ------------------------------------------------------------------ the whole
    def run(self) -> SmokeResult:
        result = self.result
        try:
            identity = self.confirm()
            self.deploy()
            self.wait_for_instance()
            self.run_schedule()
            self.follow(identity)
            self.collect()
        except Refused as error:
            result.refused = str(error)
            self.say(result.refused)
        except KeyboardInterrupt:
            result.interrupted = True
            self.say("interrupted: cleaning up")
        except Exception as error:
            result.error = f"{type(error).__name__}: {error}"
            self.say(f"FAILED: {result.error}")
            for line in getattr(error, "log", "").strip().splitlines()[-30:]:
                self.say(f"    {line}")
        finally:
            if result.refused is None:
                with _uninterruptible(self.handle_signals, self.say):
                    result.cleanup_problems = self.cleanup()
        self.report["cleanup_problems"] = result.cleanup_problems
        self.report["error"] = result.error
        self.report["interrupted"] = result.interrupted
        self.report["seconds"] = round(time.monotonic() - self.started, 1)
        result.lines = render(self.report)
        if self.report_path is not None and result.refused is None:
            self.report_path.write_text(json.dumps(self.report, indent=2, default=str) + "\n")
        return result


# ---------------------------------------------------------------------- the report
def _fmt(value: Any, unit: str = " s") -> str:
    return (
        "?"
        if value is None
        else f"{value:g}{unit}"
        if isinstance(value, int | float)
        else str(value)
    )


def render(report: dict[str, Any]) -> list[str]:
    """The report in at most 100 columns."""
    smoke = report.get("smoke", {})
    job = report.get("backup_job", {})
    first = job.get("recovery_point_first_seen", {})
    window = report.get("freeze_window", {})
    notification = report.get("notification", {})
    modified = " (modified)" if smoke.get("module_dirty") else ""
    lines = [
        "SMOKE REPORT (please attach smoke-report.json to an issue)",
        f"target {smoke.get('target')}  account {smoke.get('account')}  "
        f"region {smoke.get('region')}  run {smoke.get('run_id')}",
        f"module {str(smoke.get('module_commit'))[:12]}{modified}  "
        f"provider {smoke.get('provider')}",
        f"clock: {smoke.get('clock')}",
        f"apply {_fmt(report.get('apply', {}).get('seconds'))}; agent online after "
        f"{_fmt(report.get('instance', {}).get('agent_online_after_s'))}, /data mounted after "
        f"{_fmt(report.get('instance', {}).get('data_mounted_after_s'))}",
        f"execution {report.get('execution', {}).get('status')} in "
        f"{_fmt(report.get('execution', {}).get('seconds'))}",
        "AWS Backup job: states "
        + " -> ".join(
            f"{s['state']}@{_fmt(s.get('seen_after_created_s'))}"
            for s in job.get("states_seen", [])
        ),
        f"  recovery point first shown {_fmt(first.get('seen_after_created_s'))} after the job was "
        f"created, job then {first.get('job_state')}",
    ]
    for snapshot in report.get("snapshots", []):
        lines.append(
            f"  snapshot {snapshot['id']} started "
            f"{_fmt(snapshot.get('started_after_job_created_s'))} after the job was created "
            f"(seen {_fmt(snapshot.get('seen_after_job_created_s'))}, "
            f"{snapshot.get('state_when_seen')})"
        )
    lines += [
        f"freeze window {_fmt(window.get('seconds'))} ({window.get('frozen_at')} -> "
        f"{window.get('thawed_at')}),",
        f"  writers blocked {_fmt(window.get('writers_blocked_ms'), ' ms')}",
        f"  snapshots started inside the window: {window.get('snapshots_started_inside')}; label "
        f"{report.get('label')}",
        f"notification: severity {notification.get('severity')} {notification.get('type')} "
        f"({notification.get('metric_name')}), "
        f"{_fmt(notification.get('received_after_execution_end_s'))} after the execution ended",
        f"destroy {_fmt(report.get('destroy', {}).get('seconds'))}, "
        f"{report.get('destroy', {}).get('left_in_state')} left in the state",
    ]
    for note in report.get("notes", []):
        lines += textwrap.wrap(f"note: {note}", 100, subsequent_indent="  ")
    for problem in report.get("problems", []) + report.get("cleanup_problems", []):
        lines.append(f"PROBLEM: {problem}"[:100])
    if report.get("error"):
        lines.append(f"FAILED: {report['error']}"[:100])
    return [line[:100] for line in lines]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m smoke", description=__doc__)
    parser.add_argument(
        "--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    )
    parser.add_argument("--subnet", default=os.environ.get("SUBNET"))
    parser.add_argument("--report", type=Path, default=Path("smoke-report.json"))
    parser.add_argument(
        "--keep-workdir", action="store_true", help="keep Terraform's state and logs"
    )
    args = parser.parse_args(argv)
    if not args.region or not args.subnet:
        parser.error("give the region and a subnet: make smoke REGION=eu-west-1 SUBNET=subnet-...")

    def _terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    smoke = Smoke(
        AwsTarget(args.region),
        args.subnet,
        os.environ.get("SMOKE_CONFIRM_ACCOUNT"),
        lambda text: print(text, flush=True),
        handle_signals=True,
        keep_workdir=args.keep_workdir,
        report_path=args.report,
    )
    result = smoke.run()
    if result.refused:
        return 3
    print()
    for line in result.lines:
        print(line)
    print(f"\nreport written to {args.report}: please attach it to an issue")
    if result.interrupted:
        return 130
    return 0 if result.ok else (2 if result.error else 1)


if __name__ == "__main__":
    sys.exit(main())
