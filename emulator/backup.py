"""AWS Backup jobs for moto: StartBackupJob, DescribeBackupJob and the calls around them.

moto 5.2 answers every backup-job call with ``404 Not yet implemented``. This module
adds, on moto's own Backup backend (so every client sees them and a moto reset
clears them):

* ``StartBackupJob`` (idempotent on ``IdempotencyToken``), ``DescribeBackupJob``,
  ``ListBackupJobs``, ``StopBackupJob``;
* ``StartCopyJob``, ``DescribeCopyJob``, ``ListCopyJobs``;
* ``DescribeRecoveryPoint``, ``ListRecoveryPointsByBackupVault``,
  ``ListRecoveryPointsByResource``.

A job for an EC2 instance follows ``CREATED -> RUNNING -> terminal`` on the emulated
clock. When it starts it creates, in moto's EC2 backend, one snapshot per EBS volume
of the instance (state ``pending``, ``StartTime`` = the moment the job started, tagged
``aws:backup:source-resource``) and an AMI holding them, tagged with the recovery
point tags and the instance's tags; the job's ``RecoveryPointArn`` is the AMI's ARN
(``arn:aws:ec2:<region>::image/ami-...``), as for real EC2 backups. At the end the
snapshots become ``completed`` (or ``error``).

Per-instance plans script timing and faults::

    emulator.backup.plan("i-0abc", start_after=45)              # snapshot starts late
    emulator.backup.plan("i-0abc", start_after=None)            # never starts: EXPIRED
    emulator.backup.plan("i-0abc", outcome="FAILED", status_message="...")
    emulator.backup.plan("i-0abc", outcome="ABORTED", before_start=True)
    emulator.backup.plan("i-0abc", copy_outcome="FAILED")

Throttling and access errors come from ``emulator.faults.inject("backup", ...)``.
Which tag value AWS Backup writes into ``aws:backup:source-resource`` is not
documented; the emulator writes the instance id, and the state machine does not
depend on the value.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

from ._patching import original, patch
from .clock import EmulatedClock
from .faults import DEFAULT_ACCOUNT, EmulatedError, default_region

TERMINAL = ("COMPLETED", "FAILED", "ABORTED", "EXPIRED", "PARTIAL")
# botocore's backup model, CopyJobState: CREATED, RUNNING, COMPLETED, FAILED, PARTIAL.
COPY_TERMINAL = ("COMPLETED", "FAILED", "PARTIAL")
_clock: list[EmulatedClock] = []  # the installed clock, if any


def _now() -> _dt.datetime:
    return _clock[0].now() if _clock else _dt.datetime.now(tz=_dt.UTC)


@dataclass(frozen=True)
class JobPlan:
    """How backup jobs of one instance behave (emulated seconds)."""

    start_after: float | None = 5.0  # None: never starts, EXPIRED when the start window ends
    run_seconds: float = 600.0  # RUNNING until the terminal state
    outcome: str = "COMPLETED"  # COMPLETED, FAILED, ABORTED, PARTIAL, EXPIRED
    before_start: bool = False  # FAILED/ABORTED at start_after, before any snapshot exists
    status_message: str | None = None
    copy_outcome: str = "COMPLETED"  # COMPLETED, FAILED, PARTIAL (CopyJobState has no other end)
    copy_seconds: float = 1800.0
    # The snapshots of one job start this many seconds apart, in device order (AWS Backup
    # takes them together, but each EBS snapshot carries its own StartTime).
    snapshot_spread: float = 0.2


@dataclass
class CopyJob:
    copy_job_id: str
    token: str | None
    source_vault_arn: str
    source_recovery_point_arn: str
    destination_vault_arn: str
    resource_arn: str
    iam_role_arn: str
    created_at: _dt.datetime
    plan: JobPlan
    state: str = "CREATED"
    completed_at: _dt.datetime | None = None
    destination_recovery_point_arn: str | None = None
    status_message: str | None = None
    # Why this copy cannot succeed whatever the plan says (emulator.kms: a recovery point
    # on an AWS managed key copied into another account).
    impossible: str | None = None

    def refresh(self, now: _dt.datetime) -> None:
        if self.state in COPY_TERMINAL:
            return
        done = self.created_at + _dt.timedelta(seconds=self.plan.copy_seconds)
        if now < done:
            self.state = "RUNNING" if now > self.created_at else "CREATED"
            return
        self.state = "FAILED" if self.impossible else self.plan.copy_outcome
        self.completed_at = done
        if self.impossible:
            self.status_message = self.impossible
            return
        if self.state in ("COMPLETED", "PARTIAL"):
            image = self.source_recovery_point_arn.rsplit("/", 1)[-1]
            region = self.destination_vault_arn.split(":")[3]
            self.destination_recovery_point_arn = (
                f"arn:aws:ec2:{region}::image/ami-{uuid.uuid4().hex[:17]}"
                if image.startswith("ami-")
                else f"{self.destination_vault_arn}:{uuid.uuid4()}"
            )
        else:
            self.status_message = self.plan.status_message or f"Copy job {self.state.lower()}"

    def describe(self) -> dict[str, Any]:
        return _compact(
            {
                "AccountId": self.source_vault_arn.split(":")[4],
                "CopyJobId": self.copy_job_id,
                "SourceBackupVaultArn": self.source_vault_arn,
                "SourceRecoveryPointArn": self.source_recovery_point_arn,
                "DestinationBackupVaultArn": self.destination_vault_arn,
                "DestinationRecoveryPointArn": self.destination_recovery_point_arn,
                "ResourceArn": self.resource_arn,
                "CreationDate": self.created_at,
                "CompletionDate": self.completed_at,
                "State": self.state,
                "StatusMessage": self.status_message,
                "IamRoleArn": self.iam_role_arn,
                "ResourceType": "EC2",
                "IsParent": False,
            }
        )


@dataclass
class BackupJob:
    backup_job_id: str
    token: str | None
    account_id: str
    region: str
    vault_name: str
    vault_arn: str
    resource_arn: str
    iam_role_arn: str
    created_at: _dt.datetime
    start_window_minutes: int
    complete_window_minutes: int | None
    lifecycle: dict[str, Any] | None
    recovery_point_tags: dict[str, str]
    backup_options: dict[str, str] | None
    plan: JobPlan
    state: str = "CREATED"
    started_at: _dt.datetime | None = None
    completed_at: _dt.datetime | None = None
    recovery_point_arn: str | None = None
    image_id: str | None = None
    snapshot_ids: list[str] = field(default_factory=list)
    # Snapshots named by the AMI but not created yet: (when, snapshot), kept out of EC2.
    unborn: list[tuple[_dt.datetime, Any]] = field(default_factory=list)
    status_message: str | None = None
    stop_requested_at: _dt.datetime | None = None

    @property
    def instance_id(self) -> str:
        return self.resource_arn.rsplit("/", 1)[-1]

    def refresh(self, now: _dt.datetime, ec2: Any) -> None:
        """Move the job along the emulated clock, creating what each step creates."""
        self._give_birth(now, ec2)
        if self.state in TERMINAL:
            return
        plan = self.plan
        if self.stop_requested_at is not None:
            self._finish("ABORTED", self.stop_requested_at, ec2, "Backup job was stopped")
            return
        window_end = self.created_at + _dt.timedelta(minutes=self.start_window_minutes)
        if plan.start_after is None or plan.outcome == "EXPIRED":
            if now >= window_end:
                self._finish(
                    "EXPIRED",
                    window_end,
                    ec2,
                    plan.status_message or ("Backup job failed to start within the start window"),
                )
            return
        start = self.created_at + _dt.timedelta(seconds=plan.start_after)
        if now < start:
            return
        if plan.before_start:
            self._finish(
                plan.outcome,
                start,
                ec2,
                plan.status_message or (f"Backup job {plan.outcome.lower()} before it started"),
            )
            return
        if self.started_at is None:
            self._start(start, ec2)
            self._give_birth(now, ec2)
        end = start + _dt.timedelta(seconds=plan.run_seconds)
        if now >= end:
            message = plan.status_message
            if plan.outcome != "COMPLETED" and not message:
                message = f"Backup job ended {plan.outcome}"
            self._finish(plan.outcome, end, ec2, message)

    def _start(self, start: _dt.datetime, ec2: Any) -> None:
        instance = ec2.get_instance(self.instance_id)
        self.state = "RUNNING"
        self.started_at = start
        mappings = []
        for index, (device, mapping) in enumerate(sorted(instance.block_device_mapping.items())):
            snapshot = ec2.create_snapshot(
                mapping.volume_id, "This snapshot is created by the AWS Backup service."
            )
            snapshot.start_time = start + _dt.timedelta(seconds=index * self.plan.snapshot_spread)
            if index and self.plan.snapshot_spread:
                # Not in EC2 before its StartTime (DescribeSnapshots: InvalidSnapshot.NotFound).
                ec2.snapshots.pop(snapshot.id, None)
                self.unborn.append((snapshot.start_time, snapshot))
            snapshot.status = "pending"
            snapshot.add_tags({"aws:backup:source-resource": self.instance_id})
            self.snapshot_ids.append(snapshot.id)
            mappings.append((device, snapshot))
        image = _backup_image(ec2, instance, mappings, start, self.backup_job_id)
        tags = dict(ec2.tags.get(self.instance_id, {}))
        tags.update(self.recovery_point_tags)
        tags["aws:backup:source-resource"] = self.instance_id
        image.add_tags(tags)
        self.image_id = image.id
        self.recovery_point_arn = f"arn:aws:ec2:{self.region}::image/{image.id}"

    def _give_birth(self, now: _dt.datetime, ec2: Any, everything: bool = False) -> None:
        for when, snapshot in list(self.unborn):
            if everything or when <= now:
                ec2.snapshots[snapshot.id] = snapshot
                self.unborn.remove((when, snapshot))

    def _finish(self, state: str, at: _dt.datetime, ec2: Any, message: str | None) -> None:
        self._give_birth(at, ec2, everything=True)
        self.state = state
        self.completed_at = at
        self.status_message = message
        for snapshot_id in self.snapshot_ids:
            snapshot = ec2.snapshots.get(snapshot_id)
            if snapshot is not None:
                snapshot.status = "completed" if state in ("COMPLETED", "PARTIAL") else "error"
        if state in ("FAILED", "ABORTED") and self.image_id:
            ec2.amis.pop(self.image_id, None)

    def recovery_point_status(self) -> str | None:
        if self.recovery_point_arn is None or self.state in ("FAILED", "ABORTED"):
            return None
        return {"COMPLETED": "COMPLETED", "PARTIAL": "PARTIAL"}.get(self.state, "CREATING")

    def describe(self) -> dict[str, Any]:
        percent = (
            "100.0" if self.state == "COMPLETED" else "0.0" if self.state == "CREATED" else "50.0"
        )
        return _compact(
            {
                "AccountId": self.account_id,
                "BackupJobId": self.backup_job_id,
                "BackupVaultName": self.vault_name,
                "BackupVaultArn": self.vault_arn,
                "RecoveryPointArn": self.recovery_point_arn,
                "ResourceArn": self.resource_arn,
                "CreationDate": self.created_at,
                "CompletionDate": self.completed_at,
                "State": self.state,
                "StatusMessage": self.status_message,
                "PercentDone": percent,
                "BackupSizeInBytes": 0,
                "IamRoleArn": self.iam_role_arn,
                "ResourceType": "EC2",
                "StartBy": self.created_at + _dt.timedelta(minutes=self.start_window_minutes),
                "BackupOptions": self.backup_options,
                "RecoveryPointLifecycle": self.lifecycle,
                "IsParent": False,
                "ResourceName": self.instance_id,
                "InitiationDate": self.created_at,
            }
        )


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _backup_image(
    ec2: Any, instance: Any, mappings: list[tuple[str, Any]], created: _dt.datetime, job_id: str
) -> Any:
    """An AMI whose block devices are the job's snapshots (moto's Ami invents its own)."""
    from moto.ec2.models.amis import Ami
    from moto.ec2.utils import random_ami_id

    class BackupImage(Ami):
        @property
        def block_device_mappings(self) -> list[dict[str, Any]]:
            return [
                {
                    "DeviceName": device,
                    "Ebs": {
                        "SnapshotId": snapshot.id,
                        "VolumeSize": snapshot.volume.size,
                        "DeleteOnTermination": False,
                        "VolumeType": "gp3",
                        "Encrypted": bool(snapshot.encrypted),
                    },
                }
                for device, snapshot in mappings
            ]

    ami_id = random_ami_id()
    image = BackupImage(
        ec2,
        ami_id,
        instance=instance,
        name=f"AwsBackup_{instance.id}_{job_id}",
        description="This image is created by the AWS Backup service.",
        creation_date=created,
        root_device_name=instance.root_device_name or "/dev/xvda",
        snapshot_description=f"Created by AWS Backup for {ami_id}",
    )
    # Ami.__init__ made a placeholder snapshot (and deleted its volume): drop it.
    ec2.snapshots.pop(image.ebs_snapshot.id, None)
    image.state = "pending"
    ec2.amis[ami_id] = image
    return image


# ------------------------------------------------------------------ state on the backend
def _backend(account: str, region: str) -> Any:
    from moto.backup.models import backup_backends

    return backup_backends[account][region]


def _ec2(backend: Any) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[backend.account_id][backend.region_name]


def _state(backend: Any) -> Any:
    state = getattr(backend, "_acb_state", None)
    if state is None:
        state = {
            "jobs": {},
            "tokens": {},
            "copies": {},
            "copy_tokens": {},
            "plans": {},
            "deleted_points": set(),
        }
        backend._acb_state = state
    return state


def plan(
    instance_id: str, *, account: str = DEFAULT_ACCOUNT, region: str | None = None, **settings: Any
) -> JobPlan:
    """Set how backup jobs of ``instance_id`` behave (see ``JobPlan`` for the fields)."""
    state = _state(_backend(account, region or default_region()))
    current = state["plans"].get(instance_id, JobPlan())
    updated = replace(current, **settings)
    if updated.copy_outcome not in COPY_TERMINAL:
        raise ValueError(f"copy_outcome must be one of {COPY_TERMINAL} (botocore's CopyJobState)")
    state["plans"][instance_id] = updated
    return state["plans"][instance_id]


def refresh(backend: Any) -> None:
    now = _now()
    ec2 = _ec2(backend)
    state = _state(backend)
    for job in state["jobs"].values():
        job.refresh(now, ec2)
        if job.state == "COMPLETED" and job.image_id in ec2.amis:
            ec2.amis[job.image_id].state = "available"
    for copy in state["copies"].values():
        copy.refresh(now)


def jobs(account: str = DEFAULT_ACCOUNT, region: str | None = None) -> list[BackupJob]:
    backend = _backend(account, region or default_region())
    refresh(backend)
    return list(_state(backend)["jobs"].values())


def copy_jobs(account: str = DEFAULT_ACCOUNT, region: str | None = None) -> list[CopyJob]:
    backend = _backend(account, region or default_region())
    refresh(backend)
    return list(_state(backend)["copies"].values())


# ------------------------------------------------------------------ the API
def _param(response: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        value = response._get_param(name)
        if value is not None:
            return value
    return default


def _error(code: str, message: str) -> Exception:
    return EmulatedError(code, message)


def start_backup_job(self: Any) -> Any:
    from moto.core.responses import ActionResult

    backend = self.backup_backend
    refresh(backend)
    state = _state(backend)
    token = _param(self, "IdempotencyToken")
    if token and token in state["tokens"]:
        job = state["jobs"][state["tokens"][token]]
        return ActionResult(
            {
                "BackupJobId": job.backup_job_id,
                "CreationDate": job.created_at,
                "IsParent": False,
                **_compact({"RecoveryPointArn": job.recovery_point_arn}),
            }
        )
    vault_name = _param(self, "BackupVaultName", "backupVaultName")
    resource_arn = _param(self, "ResourceArn") or ""
    role = _param(self, "IamRoleArn")
    if vault_name not in backend.vaults:
        raise _error("ResourceNotFoundException", f"Backup vault {vault_name} does not exist")
    if not role:
        raise _error("InvalidParameterValueException", "IamRoleArn is required")
    instance_id = resource_arn.rsplit("/", 1)[-1]
    if ":instance/" not in resource_arn:
        raise _error("InvalidParameterValueException", f"Unsupported resource {resource_arn}")
    try:
        _ec2(backend).get_instance(instance_id)
    except Exception as missing:
        raise _error(
            "InvalidParameterValueException", f"Resource {resource_arn} does not exist"
        ) from missing
    window = int(_param(self, "StartWindowMinutes", default=480))
    if window < 60:
        raise _error("InvalidParameterValueException", "StartWindowMinutes must be >= 60")
    job = BackupJob(
        backup_job_id=str(uuid.uuid4()).upper(),
        token=token,
        account_id=backend.account_id,
        region=backend.region_name,
        vault_name=vault_name,
        vault_arn=backend.vaults[vault_name].backup_vault_arn,
        resource_arn=resource_arn,
        iam_role_arn=role,
        created_at=_now(),
        start_window_minutes=window,
        complete_window_minutes=_param(self, "CompleteWindowMinutes"),
        lifecycle=_param(self, "Lifecycle"),
        recovery_point_tags=dict(_param(self, "RecoveryPointTags", default={}) or {}),
        backup_options=_param(self, "BackupOptions"),
        plan=state["plans"].get(instance_id, JobPlan()),
    )
    state["jobs"][job.backup_job_id] = job
    if token:
        state["tokens"][token] = job.backup_job_id
    return ActionResult(
        {"BackupJobId": job.backup_job_id, "CreationDate": job.created_at, "IsParent": False}
    )


def _job(self: Any) -> BackupJob:
    backend = self.backup_backend
    refresh(backend)
    job_id = _param(self, "backupJobId", "BackupJobId") or self.path.rstrip("/").split("/")[-1]
    job = _state(backend)["jobs"].get(unquote(job_id))
    if job is None:
        raise _error("ResourceNotFoundException", f"Backup job {job_id} not found")
    return job


def describe_backup_job(self: Any) -> Any:
    from moto.core.responses import ActionResult

    return ActionResult(_job(self).describe())


def stop_backup_job(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    job = _job(self)
    if job.state in TERMINAL:
        raise _error("InvalidRequestException", f"Backup job is already {job.state}")
    job.stop_requested_at = _now()
    refresh(self.backup_backend)
    return EmptyResult()


def list_backup_jobs(self: Any) -> Any:
    from moto.core.responses import ActionResult

    backend = self.backup_backend
    refresh(backend)
    by_resource = _param(self, "resourceArn", "ByResourceArn")
    by_state = _param(self, "state", "ByState")
    found = [
        job.describe()
        for job in _state(backend)["jobs"].values()
        if (not by_resource or job.resource_arn == by_resource)
        and (not by_state or job.state == by_state)
    ]
    return ActionResult({"BackupJobs": found})


def start_copy_job(self: Any) -> Any:
    from moto.core.responses import ActionResult

    backend = self.backup_backend
    refresh(backend)
    state = _state(backend)
    token = _param(self, "IdempotencyToken")
    if token and token in state["copy_tokens"]:
        copy = state["copies"][state["copy_tokens"][token]]
        return ActionResult(
            {"CopyJobId": copy.copy_job_id, "CreationDate": copy.created_at, "IsParent": False}
        )
    source_vault = _param(self, "SourceBackupVaultName")
    recovery_point_arn = _param(self, "RecoveryPointArn")
    destination = _param(self, "DestinationBackupVaultArn") or ""
    if source_vault not in backend.vaults:
        raise _error("ResourceNotFoundException", f"Backup vault {source_vault} does not exist")
    source = next(
        (
            job
            for job in state["jobs"].values()
            if job.recovery_point_arn == recovery_point_arn
            and job.recovery_point_status() in ("COMPLETED", "PARTIAL")
        ),
        None,
    )
    if source is None:
        raise _error(
            "InvalidRequestException",
            f"Recovery point {recovery_point_arn} is not available for copy",
        )
    if not destination.startswith("arn:") or ":backup-vault:" not in destination:
        raise _error("InvalidParameterValueException", f"Invalid vault ARN {destination}")
    copy = CopyJob(
        copy_job_id=str(uuid.uuid4()).upper(),
        token=token,
        source_vault_arn=backend.vaults[source_vault].backup_vault_arn,
        source_recovery_point_arn=recovery_point_arn,
        destination_vault_arn=destination,
        resource_arn=source.resource_arn,
        iam_role_arn=_param(self, "IamRoleArn") or "",
        created_at=_now(),
        plan=source.plan,
        impossible=_copy_impossible(backend, source, destination),
    )
    state["copies"][copy.copy_job_id] = copy
    if token:
        state["copy_tokens"][token] = copy.copy_job_id
    return ActionResult(
        {"CopyJobId": copy.copy_job_id, "CreationDate": copy.created_at, "IsParent": False}
    )


def _copy_impossible(backend: Any, source: BackupJob, destination: str) -> str | None:
    """A copy into another account of a recovery point on an AWS managed key fails.

    AWS Backup guide, "Creating backup copies across AWS accounts": resources encrypted
    with AWS managed keys cannot be copied to another account. AWS does not document the
    job's status message; the emulator's names the key.
    """
    from . import kms

    if destination.split(":")[4:5] == [backend.account_id]:
        return None
    for key in kms.recovery_point_keys(_ec2(backend), source.snapshot_ids):
        if kms.key_manager(backend.account_id, backend.region_name, key) == kms.AWS_MANAGED:
            return (
                f"Copy job failed: the recovery point is encrypted with the AWS managed key "
                f"{key}, which cannot be shared with account {destination.split(':')[4]}"
            )
    return None


def describe_copy_job(self: Any) -> Any:
    from moto.core.responses import ActionResult

    backend = self.backup_backend
    refresh(backend)
    copy_id = _param(self, "copyJobId", "CopyJobId") or self.path.rstrip("/").split("/")[-1]
    copy = _state(backend)["copies"].get(unquote(copy_id))
    if copy is None:
        raise _error("ResourceNotFoundException", f"Copy job {copy_id} not found")
    return ActionResult({"CopyJob": copy.describe()})


def list_copy_jobs(self: Any) -> Any:
    from moto.core.responses import ActionResult

    backend = self.backup_backend
    refresh(backend)
    return ActionResult({"CopyJobs": [c.describe() for c in _state(backend)["copies"].values()]})


def _recovery_points(backend: Any) -> list[dict[str, Any]]:
    refresh(backend)
    points = []
    deleted = _state(backend)["deleted_points"]
    for job in _state(backend)["jobs"].values():
        status = job.recovery_point_status()
        if status is None or job.recovery_point_arn in deleted:
            continue
        points.append(
            _compact(
                {
                    "RecoveryPointArn": job.recovery_point_arn,
                    "BackupVaultName": job.vault_name,
                    "BackupVaultArn": job.vault_arn,
                    "ResourceArn": job.resource_arn,
                    "ResourceType": "EC2",
                    "IamRoleArn": job.iam_role_arn,
                    "Status": status,
                    "CreationDate": job.started_at,
                    "CompletionDate": job.completed_at,
                    "Lifecycle": job.lifecycle,
                    "IsEncrypted": False,
                    "IsParent": False,
                    "ResourceName": job.instance_id,
                    "CreatedBy": {},
                    "BackupSizeInBytes": 0,
                }
            )
        )
    return points


def describe_recovery_point(self: Any) -> Any:
    from moto.core.responses import ActionResult

    arn = unquote(_param(self, "recoveryPointArn", "RecoveryPointArn") or "")
    point = next(
        (p for p in _recovery_points(self.backup_backend) if p["RecoveryPointArn"] == arn), None
    )
    if point is None:
        raise _error("ResourceNotFoundException", f"Recovery point {arn} not found")
    return ActionResult(point)


def list_recovery_points_by_backup_vault(self: Any) -> Any:
    from moto.core.responses import ActionResult

    vault = unquote(_param(self, "backupVaultName", "BackupVaultName") or "")
    points = [p for p in _recovery_points(self.backup_backend) if p["BackupVaultName"] == vault]
    return ActionResult({"RecoveryPoints": points})


def delete_recovery_point(self: Any) -> Any:
    """What terraform destroy of a vault with force_destroy calls for each point."""
    from moto.core.responses import EmptyResult

    vault = unquote(_param(self, "backupVaultName", "BackupVaultName") or "")
    arn = unquote(_param(self, "recoveryPointArn", "RecoveryPointArn") or "")
    points = _recovery_points(self.backup_backend)
    if not any(p["RecoveryPointArn"] == arn and p["BackupVaultName"] == vault for p in points):
        raise _error("ResourceNotFoundException", f"Recovery point {arn} not found in {vault}")
    _state(self.backup_backend)["deleted_points"].add(arn)
    return EmptyResult()


def list_recovery_points_by_resource(self: Any) -> Any:
    from moto.core.responses import ActionResult

    arn = unquote(_param(self, "resourceArn", "ResourceArn") or "")
    points = [
        {
            key: p[key]
            for key in (
                "RecoveryPointArn",
                "BackupVaultName",
                "Status",
                "CreationDate",
                "ResourceName",
                "IsParent",
            )
            if key in p
        }
        for p in _recovery_points(self.backup_backend)
        if p["ResourceArn"] == arn
    ]
    return ActionResult({"RecoveryPoints": points})


URL_PATHS = (
    # Trailing slashes as separate patterns: in server mode "/?$" lost the slash variant.
    "{0}/backup-jobs$",
    "{0}/backup-jobs/$",
    "{0}/backup-jobs/(?P<backupJobId>[^/]+)$",
    "{0}/copy-jobs$",
    "{0}/copy-jobs/$",
    "{0}/copy-jobs/(?P<copyJobId>[^/]+)$",
    "{0}/backup-vaults/(?P<backupVaultName>[^/]+)/recovery-points/$",
    "{0}/backup-vaults/(?P<backupVaultName>[^/]+)/recovery-points/(?P<recoveryPointArn>.+)$",
    "{0}/resources/(?P<resourceArn>.+)/recovery-points/$",
)

OPERATIONS = {
    "start_backup_job": start_backup_job,
    "describe_backup_job": describe_backup_job,
    "stop_backup_job": stop_backup_job,
    "list_backup_jobs": list_backup_jobs,
    "start_copy_job": start_copy_job,
    "describe_copy_job": describe_copy_job,
    "list_copy_jobs": list_copy_jobs,
    "describe_recovery_point": describe_recovery_point,
    "delete_recovery_point": delete_recovery_point,
    "list_recovery_points_by_backup_vault": list_recovery_points_by_backup_vault,
    "list_recovery_points_by_resource": list_recovery_points_by_resource,
}


def install(clock: EmulatedClock) -> None:
    _clock[:] = [clock]
    from moto.backup import urls
    from moto.backup.responses import BackupResponse
    from moto.ec2.models.elastic_block_store import EBSBackend

    describe_snapshots = original(EBSBackend, "describe_snapshots")

    def _describe_snapshots(self: Any, *args: Any, **kwargs: Any) -> Any:
        # A job's snapshots come into being on the clock, whoever looks first.
        refresh(_backend(self.account_id, self.region_name))
        return describe_snapshots(self, *args, **kwargs)

    patch(EBSBackend, "describe_snapshots", _describe_snapshots)

    for name, function in OPERATIONS.items():
        patch(BackupResponse, name, function)
    for pattern in URL_PATHS:
        if pattern not in urls.url_paths:
            urls.url_paths[pattern] = BackupResponse.dispatch


def uninstall_urls() -> None:
    from moto.backup import urls

    for pattern in URL_PATHS:
        urls.url_paths.pop(pattern, None)
