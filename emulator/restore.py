"""AWS Backup restore jobs and restore testing for moto, and the restored instance's side.

moto 5.2 has no restore job. This module adds, on moto's own Backup backend (so every
client sees them and a moto reset clears them):

* ``StartRestoreJob``, ``DescribeRestoreJob``, ``ListRestoreJobs`` and
  ``PutRestoreValidationResult``;
* ``run_restore_test(recovery_point_arn, plan_arn)``: what a restore testing plan does
  when it fires (a restore job whose ``CreatedBy.RestoreTestingPlanArn`` is the plan);
* the "Restore Job State Change" events AWS Backup sends to EventBridge, recorded in
  AWS's shape (``events()``) for a test to hand to the validation function as
  EventBridge would.

A restore job of an EC2 recovery point (the AMI a backup job made, see
``emulator.backup``) goes ``PENDING -> RUNNING -> COMPLETED`` on the emulated clock and
then launches an instance from the AMI in moto's EC2. That instance is ``pending``
until it boots, then ``running`` (or ``stopped``, or running with an ``impaired``
status check), and its SSM agent registers (``Online``) some time after the restore, or
never. SendCommand of the restore validation document (docs/contracts.md section 6,
recognised by its ``RestoreJobId`` parameter) runs an emulated check script that
reports the planned results in the contract's JSON. After a final validation result,
or at the end of the validation window, AWS Backup deletes the instance: the emulator
terminates it.

Per source instance, plans script the faults::

    emulator.restore.plan("i-0abc", outcome="FAILED", status_message="...")  # restore fails
    emulator.restore.plan("i-0abc", boot="impaired")          # or "stops"
    emulator.restore.plan("i-0abc", agent_online_after=None)  # the agent never registers
    emulator.restore.plan("i-0abc", filesystems="/data is mounted read-only")
    emulator.restore.plan("i-0abc", user_checks=[("10-app", 3, "table orders is missing")])
    emulator.restore.plan("i-0abc", command_seconds=7200)     # the checks outlast the window

Throttling and access errors come from ``emulator.faults.inject("backup", ...)``.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import threading
import uuid
import weakref
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

from . import backup as _backup
from . import ssm as _ssm
from ._patching import patch
from .clock import EmulatedClock, iso_millis, parse_iso
from .faults import DEFAULT_ACCOUNT, EmulatedError, default_region

_clock: list[EmulatedClock] = []
_lock = threading.RLock()
_backends: weakref.WeakSet[Any] = weakref.WeakSet()  # Backup backends holding restore jobs

VALIDATION_STATUSES = ("FAILED", "SUCCESSFUL", "TIMED_OUT", "VALIDATING")
FINAL_VALIDATIONS = ("FAILED", "SUCCESSFUL", "TIMED_OUT")
TERMINAL = ("COMPLETED", "FAILED", "ABORTED")
VALIDATION_PARAMETER = "RestoreJobId"  # the validation document's own parameter


def _now() -> _dt.datetime:
    return _clock[0].now() if _clock else _dt.datetime.now(tz=_dt.UTC)


@dataclass(frozen=True)
class RestorePlan:
    """How restores of one source instance's recovery points behave (emulated seconds)."""

    outcome: str = "COMPLETED"  # COMPLETED, FAILED or ABORTED
    restore_seconds: float = 300.0  # PENDING, then RUNNING, until the outcome
    status_message: str | None = None
    boot: str = "ok"  # ok, impaired (status check fails) or stops
    boot_seconds: float = 60.0  # the instance is pending this long after the restore
    agent_online_after: float | None = 120.0  # after the restore; None: never registers
    filesystems: str | None = None  # None: the filesystems check passes; else its failure
    user_checks: tuple[tuple[str, int, str], ...] = ()  # (name, exit code, last line)
    command_seconds: float = 20.0  # how long the validation document runs


@dataclass
class RestoreJob:
    restore_job_id: str
    account_id: str
    region: str
    recovery_point_arn: str
    vault_arn: str
    source_resource_arn: str
    recovery_point_created: _dt.datetime | None
    iam_role_arn: str
    metadata: dict[str, str]
    created_at: _dt.datetime
    plan: RestorePlan
    plan_arn: str | None = None  # CreatedBy.RestoreTestingPlanArn
    validation_window_hours: int = 24
    status: str = "PENDING"
    status_message: str | None = None
    completed_at: _dt.datetime | None = None
    created_resource_arn: str | None = None
    instance_id: str | None = None
    validation_status: str | None = None
    validation_message: str | None = None
    deletion_status: str | None = None
    deletion_message: str | None = None
    booted: bool = False
    agent_online: bool = False
    validations: list[tuple[_dt.datetime, str, str | None]] = field(default_factory=list)

    @property
    def source_instance_id(self) -> str:
        return self.source_resource_arn.rsplit("/", 1)[-1]

    # -------------------------------------------------------------- the clock moves
    def refresh(self, now: _dt.datetime, ec2: Any, events: list[dict[str, Any]]) -> None:
        started = self.created_at + _dt.timedelta(seconds=min(30.0, self.plan.restore_seconds / 2))
        if self.status == "PENDING" and now >= started:
            self.status = "RUNNING"
            events.append(self.event(started))
        done = self.created_at + _dt.timedelta(seconds=self.plan.restore_seconds)
        if self.status == "RUNNING" and now >= done:
            self._finish(done, ec2)
            events.append(self.event(done))
        if self.instance_id is None or self.completed_at is None:
            return
        instance = _instance(ec2, self.instance_id)
        if instance is None or self.deletion_status == "SUCCESSFUL":
            return
        if not self.booted and now >= self.completed_at + _dt.timedelta(
            seconds=self.plan.boot_seconds
        ):
            self.booted = True
            _boot(instance, self.plan.boot)
        online_after = self.plan.agent_online_after
        if (
            not self.agent_online
            and online_after is not None
            and now >= self.completed_at + _dt.timedelta(seconds=online_after)
            and instance.state == "running"
        ):
            self.agent_online = True
            _ssm.agent(self.instance_id, self.account_id, self.region).ping = None
        window_end = self.completed_at + _dt.timedelta(hours=self.validation_window_hours)
        if self.plan_arn and now >= window_end:
            self.delete(ec2, "Validation window ended")

    def _finish(self, at: _dt.datetime, ec2: Any) -> None:
        self.completed_at = at
        self.status = self.plan.outcome
        if self.status != "COMPLETED":
            self.status_message = self.plan.status_message or f"Restore job {self.status}"
            return
        image_id = self.recovery_point_arn.rsplit("/", 1)[-1]
        # The backend directly, not a client: this runs inside another request.
        reservation = ec2.run_instances(
            image_id,
            1,
            None,
            [],
            instance_type=self.metadata.get("instanceType", "t3.micro"),
            is_instance_type_default=True,
            region_name=self.region,
            tags={},
        )
        instance = reservation.instances[0]
        instance._state.name, instance._state.code = "pending", 0
        self.instance_id = instance.id
        self.created_resource_arn = (
            f"arn:aws:ec2:{self.region}:{self.account_id}:instance/{instance.id}"
        )
        # Not registered with Systems Manager until the agent starts and checks in.
        _ssm.agent(instance.id, self.account_id, self.region).ping = "unregistered"

    def delete(self, ec2: Any, message: str) -> None:
        """What AWS Backup does after the validation, or at the window's end."""
        if self.deletion_status == "SUCCESSFUL" or self.instance_id is None:
            return
        if _instance(ec2, self.instance_id) is not None:
            ec2.terminate_instances([self.instance_id])
        self.deletion_status, self.deletion_message = "SUCCESSFUL", message

    # -------------------------------------------------------------- what AWS shows
    def describe(self) -> dict[str, Any]:
        return _compact(
            {
                "AccountId": self.account_id,
                "RestoreJobId": self.restore_job_id,
                "RecoveryPointArn": self.recovery_point_arn,
                "SourceResourceArn": self.source_resource_arn,
                "BackupVaultArn": self.vault_arn,
                "CreationDate": self.created_at,
                "CompletionDate": self.completed_at,
                "Status": self.status,
                "StatusMessage": self.status_message,
                "PercentDone": "100.0" if self.status == "COMPLETED" else "0.0",
                "BackupSizeInBytes": 0,
                "IamRoleArn": self.iam_role_arn,
                "CreatedResourceArn": self.created_resource_arn,
                "ResourceType": "EC2",
                "RecoveryPointCreationDate": self.recovery_point_created,
                "CreatedBy": {"RestoreTestingPlanArn": self.plan_arn} if self.plan_arn else None,
                "ValidationStatus": self.validation_status,
                "ValidationStatusMessage": self.validation_message,
                "DeletionStatus": self.deletion_status,
                "DeletionStatusMessage": self.deletion_message,
                "IsParent": False,
            }
        )

    def event(self, at: _dt.datetime) -> dict[str, Any]:
        """A "Restore Job State Change" event in the shape of AWS's example."""
        detail = _compact(
            {
                "restoreJobId": self.restore_job_id,
                "backupSizeInBytes": "0",
                "creationDate": iso_millis(self.created_at),
                "iamRoleArn": self.iam_role_arn,
                "percentDone": 100.0 if self.status == "COMPLETED" else 0.0,
                "resourceType": "EC2",
                "status": self.status,
                "statusMessage": self.status_message,
                "createdResourceArn": self.created_resource_arn,
                "completionDate": iso_millis(self.completed_at) if self.completed_at else None,
                "restoreTestingPlanArn": self.plan_arn,
                "backupVaultArn": self.vault_arn,
                "recoveryPointArn": self.recovery_point_arn,
                "sourceResourceArn": self.source_resource_arn,
            }
        )
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Restore Job State Change",
            "source": "aws.backup",
            "account": self.account_id,
            "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [self.recovery_point_arn],
            "detail": detail,
        }


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _instance(ec2: Any, instance_id: str) -> Any | None:
    try:
        instance = ec2.get_instance(instance_id)
    except Exception:  # moto raises for an unknown instance
        return None
    return None if instance.state == "terminated" else instance


def _boot(instance: Any, how: str) -> None:
    if how == "stops":
        instance._state.name, instance._state.code = "stopped", 80
        return
    instance._state.name, instance._state.code = "running", 16
    if how == "impaired":
        base = type(instance)

        class ImpairedInstance(base):  # type: ignore[misc, valid-type]
            @property
            def instance_status(self) -> dict[str, Any]:
                return {
                    "Status": "impaired",
                    "Details": [{"Name": "reachability", "Status": "failed"}],
                }

        instance.__class__ = ImpairedInstance


# ------------------------------------------------------------------ state on the backend
def _backend(account: str, region: str) -> Any:
    from moto.backup.models import backup_backends

    return backup_backends[account][region]


def _ec2(account: str, region: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account][region]


def _state(backend: Any) -> dict[str, Any]:
    state = getattr(backend, "_acb_restore", None)
    if state is None:
        state = {"jobs": {}, "tokens": {}, "plans": {}, "events": []}
        backend._acb_restore = state
        _backends.add(backend)
    return state


def plan(
    instance_id: str, *, account: str = DEFAULT_ACCOUNT, region: str | None = None, **settings: Any
) -> RestorePlan:
    """Set how restores of ``instance_id``'s recovery points behave (see ``RestorePlan``)."""
    if "user_checks" in settings:
        settings["user_checks"] = tuple(tuple(c) for c in settings["user_checks"])
    state = _state(_backend(account, region or default_region()))
    state["plans"][instance_id] = replace(
        state["plans"].get(instance_id, RestorePlan()), **settings
    )
    return state["plans"][instance_id]


def _active() -> list[Any]:
    """The backends holding restore jobs (a moto reset empties a backend's attributes)."""
    return [b for b in list(_backends) if getattr(b, "_acb_restore", {}).get("jobs")]


def refresh_all() -> None:
    """Move every restore job along the emulated clock (before any request is answered)."""
    active = _active()
    if not active:
        return
    with _lock:
        now = _now()
        for backend in active:
            state = _state(backend)
            ec2 = _ec2(backend.account_id, backend.region_name)
            for job in state["jobs"].values():
                job.refresh(now, ec2, state["events"])


def jobs(account: str = DEFAULT_ACCOUNT, region: str | None = None) -> list[RestoreJob]:
    refresh_all()
    return list(_state(_backend(account, region or default_region()))["jobs"].values())


def events(account: str = DEFAULT_ACCOUNT, region: str | None = None) -> list[dict[str, Any]]:
    """Every "Restore Job State Change" event AWS Backup would have sent, in order."""
    refresh_all()
    return list(_state(_backend(account, region or default_region()))["events"])


def _recovery_point(backend: Any, arn: str) -> Any:
    """The backup job that made ``arn``, if it is a completed recovery point."""
    for job in _backup.jobs(backend.account_id, backend.region_name):
        if job.recovery_point_arn == arn and job.recovery_point_status() == "COMPLETED":
            return job
    raise EmulatedError("ResourceNotFoundException", f"Recovery point {arn} not found")


def _create(
    backend: Any,
    *,
    recovery_point_arn: str,
    iam_role_arn: str,
    metadata: dict[str, str],
    plan_arn: str | None,
    validation_window_hours: int,
) -> RestoreJob:
    source = _recovery_point(backend, recovery_point_arn)
    state = _state(backend)
    job = RestoreJob(
        restore_job_id=str(uuid.uuid4()).upper(),
        account_id=backend.account_id,
        region=backend.region_name,
        recovery_point_arn=recovery_point_arn,
        vault_arn=source.vault_arn,
        source_resource_arn=source.resource_arn,
        recovery_point_created=source.started_at,
        iam_role_arn=iam_role_arn,
        metadata=dict(metadata),
        created_at=_now(),
        plan=state["plans"].get(source.instance_id, RestorePlan()),
        plan_arn=plan_arn,
        validation_window_hours=validation_window_hours,
    )
    state["jobs"][job.restore_job_id] = job
    return job


def run_restore_test(
    recovery_point_arn: str,
    restore_testing_plan_arn: str,
    *,
    validation_window_hours: int = 24,
    iam_role_arn: str | None = None,
    account: str = DEFAULT_ACCOUNT,
    region: str | None = None,
) -> RestoreJob:
    """What a restore testing plan does when it fires for ``recovery_point_arn``."""
    backend = _backend(account, region or default_region())
    with _lock:
        return _create(
            backend,
            recovery_point_arn=recovery_point_arn,
            iam_role_arn=iam_role_arn or f"arn:aws:iam::{account}:role/restore-testing",
            metadata={},
            plan_arn=restore_testing_plan_arn,
            validation_window_hours=validation_window_hours,
        )


# ------------------------------------------------------------------ the API
def _job(self: Any) -> RestoreJob:
    match = re.search(r"/restore-jobs/([^/]+)", self.path)
    job_id = unquote(match.group(1)) if match else ""
    refresh_all()
    job = _state(self.backup_backend)["jobs"].get(job_id)
    if job is None:
        raise EmulatedError("ResourceNotFoundException", f"Restore job {job_id} not found")
    return job


def start_restore_job(self: Any) -> Any:
    from moto.core.responses import ActionResult

    backend = self.backup_backend
    token = self._get_param("IdempotencyToken")
    with _lock:
        state = _state(backend)
        if token and token in state["tokens"]:
            return ActionResult({"RestoreJobId": state["tokens"][token]})
        role = self._get_param("IamRoleArn")
        if not role:
            raise EmulatedError("MissingParameterValueException", "IamRoleArn is required")
        job = _create(
            backend,
            recovery_point_arn=self._get_param("RecoveryPointArn") or "",
            iam_role_arn=role,
            metadata=self._get_param("Metadata") or {},
            plan_arn=None,
            validation_window_hours=24,
        )
        if token:
            state["tokens"][token] = job.restore_job_id
    return ActionResult({"RestoreJobId": job.restore_job_id})


def describe_restore_job(self: Any) -> Any:
    from moto.core.responses import ActionResult

    return ActionResult(_job(self).describe())


def list_restore_jobs(self: Any) -> Any:
    from moto.core.responses import ActionResult

    refresh_all()
    plan_arn = self._get_param("restoreTestingPlanArn")
    status = self._get_param("status")
    before = parse_iso(self._get_param("createdBefore") or "")
    after = parse_iso(self._get_param("createdAfter") or "")
    found = [
        job.describe()
        for job in _state(self.backup_backend)["jobs"].values()
        if (not plan_arn or job.plan_arn == plan_arn)
        and (not status or job.status == status)
        and (before is None or job.created_at < before)
        and (after is None or job.created_at > after)
    ]
    return ActionResult({"RestoreJobs": found})


def put_restore_validation_result(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    job = _job(self)
    status = self._get_param("ValidationStatus")
    message = self._get_param("ValidationStatusMessage")
    if status not in VALIDATION_STATUSES:
        raise EmulatedError("InvalidParameterValueException", f"Invalid ValidationStatus {status}")
    with _lock:
        # Pessimistic readings (AWS does not say): only a completed job can be validated,
        # and a final result is final (AWS then deletes the restored resource).
        if job.status != "COMPLETED":
            raise EmulatedError("InvalidRequestException", f"Restore job is {job.status}")
        if job.validation_status in FINAL_VALIDATIONS:
            raise EmulatedError(
                "InvalidRequestException", f"Validation is already {job.validation_status}"
            )
        job.validation_status, job.validation_message = status, message
        job.validations.append((_now(), status, message))
        if status in FINAL_VALIDATIONS:
            job.delete(_ec2(job.account_id, job.region), "Validation completed")
    return EmptyResult()


URL_PATHS = (
    "{0}/restore-jobs$",
    "{0}/restore-jobs/$",
    "{0}/restore-jobs/(?P<restoreJobId>[^/]+)$",
    "{0}/restore-jobs/(?P<restoreJobId>[^/]+)/validations$",
)

OPERATIONS = {
    "start_restore_job": start_restore_job,
    "describe_restore_job": describe_restore_job,
    "list_restore_jobs": list_restore_jobs,
    "put_restore_validation_result": put_restore_validation_result,
}


# ------------------------------------------------------------------ the instance's side
def _validation_job(backend: Any, instance_id: str) -> RestoreJob | None:
    for candidate in list(_backends):
        if (
            candidate.account_id != backend.account_id
            or candidate.region_name != backend.region_name
        ):
            continue
        for job in _state(candidate)["jobs"].values():
            if job.instance_id == instance_id:
                return job
    return None


def _validation_output(job: RestoreJob, restore_job_id: str) -> tuple[int, str]:
    checks = [
        {
            "name": "filesystems",
            "status": "failed" if job.plan.filesystems else "passed",
            "detail": job.plan.filesystems or "every fstab filesystem mounted cleanly",
        }
    ]
    for name, code, detail in job.plan.user_checks:
        checks.append(
            {
                "name": f"user:{name}",
                "status": "passed" if code == 0 else "failed",
                "detail": detail if code == 0 else f"exit {code}: {detail}",
            }
        )
    failed = any(c["status"] == "failed" for c in checks)
    code = 20 if failed else 0
    report = {
        "restore_job_id": restore_job_id,
        "status": "failed" if failed else "passed",
        "checks": checks,
        "exit_code": code,
    }
    return code, "restore-validation: checking\n" + json.dumps(report, separators=(",", ":")) + "\n"


def _commands(backend: Any) -> dict[str, _ssm.CommandRecord]:
    records = getattr(backend, "_acb_restore_commands", None)
    if records is None:
        records = {}
        backend._acb_restore_commands = records
    return records


def commands(
    instance_id: str | None = None, account: str = DEFAULT_ACCOUNT, region: str | None = None
) -> list[_ssm.CommandRecord]:
    """Every validation command sent, in order (optionally to one instance)."""
    from moto.ssm.models import ssm_backends

    records = _commands(ssm_backends[account][region or default_region()]).values()
    return [r for r in records if instance_id is None or r.instance_id == instance_id]


def install(clock: EmulatedClock) -> None:
    _clock[:] = [clock]
    from moto.backup import urls
    from moto.backup.responses import BackupResponse
    from moto.core.responses import BaseResponse
    from moto.ssm.models import SimpleSystemManagerBackend

    for name, function in OPERATIONS.items():
        patch(BackupResponse, name, function)
    for pattern in URL_PATHS:
        if pattern not in urls.url_paths:
            urls.url_paths[pattern] = BackupResponse.dispatch

    # Compose with what is already installed (faults, the SSM agent): wrap, not replace.
    call_action = BaseResponse.call_action
    send_command = SimpleSystemManagerBackend.send_command
    get_command_invocation = SimpleSystemManagerBackend.get_command_invocation

    def _call_action(self: Any) -> Any:
        refresh_all()
        return call_action(self)

    def _send_command(self: Any, **kwargs: Any) -> Any:
        parameters = kwargs.get("parameters") or {}
        if VALIDATION_PARAMETER not in parameters:
            return send_command(self, **kwargs)
        instance_ids = list(kwargs.get("instance_ids") or [])
        for instance_id in instance_ids:
            instance = _instance(_ec2(self.account_id, self.region_name), instance_id)
            agent = _ssm.agent(instance_id, self.account_id, self.region_name)
            if instance is None or agent.ping_status(instance) != "Online":
                raise EmulatedError(
                    "InvalidInstanceId",
                    f"Instances [[{instance_id}]] not in a valid state for account",
                )
        command = send_command(self, **kwargs)
        sent_at = _now()
        restore_job_id = parameters[VALIDATION_PARAMETER][0]
        for instance_id in instance_ids:
            job = _validation_job(self, instance_id)
            if job is None:
                code, stdout = 20, '{"status":"failed","checks":[],"exit_code":20}\n'
                seconds = 1.0
            else:
                code, stdout = _validation_output(job, restore_job_id)
                seconds = job.plan.command_seconds
            _commands(self)[f"{command.command_id}/{instance_id}"] = _ssm.CommandRecord(
                command_id=command.command_id,
                instance_id=instance_id,
                kind="restore-validation",
                run_id=restore_job_id,
                parameters=parameters,
                sent_at=sent_at,
                done_at=sent_at + _dt.timedelta(seconds=seconds),
                status="Success" if code == 0 else "Failed",
                exit_code=code,
                stdout=stdout,
                stderr="",
                timeout_seconds=int(kwargs.get("timeout_seconds") or 3600),
            )
        return command

    def _get_command_invocation(
        self: Any, command_id: str, instance_id: str, plugin_name: str | None
    ) -> dict[str, Any]:
        record = _commands(self).get(f"{command_id}/{instance_id}")
        if record is None:
            return get_command_invocation(self, command_id, instance_id, plugin_name)
        command = self.get_command_by_id(command_id)
        return record.invocation(_now(), command.document_name or "")

    patch(BaseResponse, "call_action", _call_action)
    patch(SimpleSystemManagerBackend, "send_command", _send_command)
    patch(SimpleSystemManagerBackend, "get_command_invocation", _get_command_invocation)


def uninstall_urls() -> None:
    from moto.backup import urls

    for pattern in URL_PATHS:
        urls.url_paths.pop(pattern, None)
