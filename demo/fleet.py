"""The demo's fleet: one instance per path, each with the outcome it must end with.

Instances are created through the EC2 API of the emulator; the faults (an agent
offline, a freeze that fails, a backup job that fails) are planned through the
emulator's Python API, as a broken instance or a failing AWS Backup would behave.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moto.ec2.models import ec2_backends

import emulator

# The discovery function counts an instance it leaves out; these are its reasons.
NOT_SELECTED = "not selected"  # no selection tag: discovery never sees it


@dataclass(frozen=True)
class Expected:
    """What the run must end with for one instance."""

    started: bool = True  # discovery starts an execution for it
    skip_reason: str | None = None  # discovery's reason when not started
    outcome: str | None = None  # succeeded, degraded, failed (the state machine's)
    consistency: str | None = None  # the label on the recovery point
    recovery_point: bool = True
    severity: str | None = None  # the notification's severity; None: no notification
    stage: str | None = None  # the notification's stage


@dataclass(frozen=True)
class Member:
    name: str
    what: str  # shown in the report
    expected: Expected
    platform: str = "linux"
    volumes: int = 2  # EBS volumes, the root one included
    tagged: bool = True
    opted_out: bool = False
    stopped: bool = False
    agent: dict[str, Any] = field(default_factory=dict)  # emulator.ssm.plan(...)
    job: dict[str, Any] = field(default_factory=dict)  # emulator.backup.plan(...)
    live: bool = False  # freeze/thaw run the real document on loop filesystems


OK_APP = Expected(outcome="succeeded", consistency="application-consistent")

FLEET: tuple[Member, ...] = (
    Member("app-1", "Linux, 1 volume", OK_APP, volumes=1),
    Member("db-1", "Linux, 3 volumes", OK_APP, volumes=3),
    Member("live-1", "Linux, 3 volumes, real freeze", OK_APP, volumes=3, live=True),
    Member(
        "win-1",
        "Windows",
        Expected(outcome="succeeded", consistency="vss"),
        platform="windows",
    ),
    Member(
        "stopped-1",
        "Linux, stopped",
        Expected(outcome="succeeded", consistency="stopped"),
        stopped=True,
    ),
    Member(
        "offline-1",
        "Linux, SSM agent offline",
        Expected(
            outcome="degraded", consistency="crash-consistent", severity="3", stage="preflight"
        ),
        agent={"ping": "ConnectionLost"},
    ),
    Member(
        "frzfail-1",
        "Linux, freeze fails",
        Expected(outcome="degraded", consistency="crash-consistent", severity="3", stage="freeze"),
        agent={
            "freeze": emulator.Outcome.fail(13, "fsfreeze /data: Operation not supported"),
        },
    ),
    Member(
        "jobfail-1",
        "Linux, backup job fails",
        Expected(outcome="failed", recovery_point=False, severity="2", stage="backup-job"),
        job={
            "outcome": "FAILED",
            "status_message": "Snapshot of vol-data failed: internal error (planned fault)",
        },
    ),
    Member(
        "untagged-1",
        "Linux, not tagged",
        Expected(started=False, skip_reason=NOT_SELECTED, recovery_point=False),
        tagged=False,
    ),
    Member(
        "optout-1",
        "Linux, opted out",
        Expected(started=False, skip_reason="opted_out", recovery_point=False),
        opted_out=True,
    ),
)

DEVICES = ("/dev/xvda", "/dev/xvdf", "/dev/xvdg", "/dev/xvdh")


@dataclass
class Instance:
    member: Member
    instance_id: str
    arn: str


def _images(ec2: Any, account: str, region: str) -> dict[str, str]:
    images = {
        platform: ec2.register_image(
            Name=f"demo-{platform}",
            RootDeviceName="/dev/xvda",
            BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
        )["ImageId"]
        for platform in ("linux", "windows")
    }
    # RegisterImage has no Platform: set it on moto's image, as AWS does for Windows AMIs.
    ec2_backends[account][region].amis[images["windows"]].platform = "windows"
    return images


def create(ec2: Any, aws: Any, tag_key: str, tag_value: str, opt_out_key: str) -> list[Instance]:
    """Launch the fleet in ``aws`` (a LocalEmulator) and plan its faults; in FLEET order."""
    account, region = aws.account, aws.region
    images = _images(ec2, account, region)
    created = []
    for member in FLEET:
        tags = [{"Key": "Name", "Value": member.name}]
        if member.tagged:
            tags.append({"Key": tag_key, "Value": tag_value})
        if member.opted_out:
            tags.append({"Key": opt_out_key, "Value": "true"})
        mappings = [
            {"DeviceName": device, "Ebs": {"VolumeSize": 8 if i == 0 else 50}}
            for i, device in enumerate(DEVICES[: member.volumes])
        ]
        instance = ec2.run_instances(
            ImageId=images[member.platform],
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.small",
            BlockDeviceMappings=mappings,
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
        )["Instances"][0]
        instance_id = instance["InstanceId"]
        if member.stopped:
            ec2.stop_instances(InstanceIds=[instance_id])
        if member.agent:
            emulator.ssm.plan(instance_id, account=account, region=region, **member.agent)
        if member.job:
            emulator.backup.plan(instance_id, account=account, region=region, **member.job)
        arn = f"arn:aws:ec2:{region}:{account}:instance/{instance_id}"
        created.append(Instance(member, instance_id, arn))
    return created
