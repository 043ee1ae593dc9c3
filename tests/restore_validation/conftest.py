"""Fixtures for the restore validation tests: the emulator, a recovery point, a restore test."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

import emulator
from restore_validation import clients, config, handler

REGION = "eu-west-1"
ACCOUNT = emulator.faults.DEFAULT_ACCOUNT
PREFIX = "acb"
VAULT = f"{PREFIX}-vault"
TOPIC = f"{PREFIX}-events"
PLAN_ARN = f"arn:aws:backup:{REGION}:{ACCOUNT}:restore-testing-plan:{PREFIX}_restore_test"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{PREFIX}-restore-validation"
LAMBDA_TIMEOUT_MS = 900_000


class Context:
    """A Lambda context whose remaining time runs on the emulated clock."""

    invoked_function_arn = FUNCTION_ARN

    def __init__(self, clock: emulator.EmulatedClock) -> None:
        self.clock = clock
        self.started = clock.now()

    def get_remaining_time_in_millis(self) -> int:
        elapsed = (self.clock.now() - self.started).total_seconds() * 1000
        return int(LAMBDA_TIMEOUT_MS - elapsed)


class Sleeper:
    """The validation's clock: the emulated one, whose sleeps cost nothing."""

    def __init__(self, clock: emulator.EmulatedClock) -> None:
        self.clock = clock

    def now(self) -> dt.datetime:
        return self.clock.now()

    def sleep(self, seconds: float) -> None:
        self.clock.advance(seconds)


@dataclass
class World:
    clock: emulator.EmulatedClock
    ec2: Any
    backup: Any
    sns: Any
    topic_arn: str
    image_id: str
    handed_on: list[dict[str, Any]] = field(default_factory=list)
    invocations: int = 0

    def instance(self) -> str:
        return self.ec2.run_instances(
            ImageId=self.image_id,
            MinCount=1,
            MaxCount=1,
            BlockDeviceMappings=[{"DeviceName": "/dev/xvdf", "Ebs": {"VolumeSize": 50}}],
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": [{"Key": "AppConsistentBackup", "Value": "nightly"}],
                }
            ],
        )["Instances"][0]["InstanceId"]

    def recovery_point(self, instance_id: str, label: str | None = "application-consistent") -> str:
        """A completed recovery point of the instance, labelled as the state machine does."""
        job_id = self.backup.start_backup_job(
            BackupVaultName=VAULT,
            ResourceArn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}",
            IamRoleArn=f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-backup",
            StartWindowMinutes=60,
        )["BackupJobId"]
        self.clock.advance(700)
        arn = self.backup.describe_backup_job(BackupJobId=job_id)["RecoveryPointArn"]
        if label is not None:
            self.ec2.create_tags(
                Resources=[arn.rsplit("/", 1)[-1]],
                Tags=[{"Key": "app-consistent-backup:consistency", "Value": label}],
            )
        return arn

    def restore_test(
        self, recovery_point_arn: str, *, window_hours: int = 24, plan_arn: str = PLAN_ARN
    ) -> emulator.restore.RestoreJob:
        """What the restore testing plan does when it fires, until the restore job ends."""
        job = emulator.restore.run_restore_test(
            recovery_point_arn, plan_arn, validation_window_hours=window_hours
        )
        self.clock.advance(job.plan.restore_seconds + 1)
        return job

    def event(self, job: emulator.restore.RestoreJob) -> dict[str, Any]:
        """The job's final "Restore Job State Change" event, as EventBridge delivers it."""
        found = [
            e
            for e in emulator.restore.events()
            if e["detail"]["restoreJobId"] == job.restore_job_id
            and e["detail"]["status"] in ("COMPLETED", "FAILED", "ABORTED")
        ]
        assert len(found) == 1, found
        return found[0]

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """The function, as Lambda runs it: a fresh context per invocation, continuations
        delivered in turn."""
        result = self._once(event)
        while result["status"] == "handed-on":
            result = self._once(self.handed_on[-1])
        return result

    def _once(self, event: dict[str, Any]) -> dict[str, Any]:
        self.invocations += 1
        return handler.run(
            event,
            Context(self.clock),
            clock=Sleeper(self.clock),
            hand_on=lambda arn, payload: self.handed_on.append(payload),
        )

    def notifications(self, node: str) -> list[dict[str, Any]]:
        """What was published about ``node`` (a source instance, or restore-test)."""
        return [
            n
            for n in emulator.sns.messages(self.topic_arn)
            if isinstance(n["message"], dict) and n["message"].get("node") == node
        ]

    def validations(self, job: emulator.restore.RestoreJob) -> list[str]:
        return [status for _at, status, _message in job.validations]


ENVIRONMENT = {
    "NAME_PREFIX": PREFIX,
    "RESTORE_TESTING_PLAN_ARN": PLAN_ARN,
    "VALIDATION_DOCUMENT_NAME": f"{PREFIX}-restore-validation",
    "VALIDATION_WINDOW_HOURS": "24",
    "AGENT_WAIT_SECONDS": "900",
    "CHECK_TIMEOUT_SECONDS": "300",
    "NOTIFY_ON_SUCCESS": "false",
}


@pytest.fixture(scope="module")
def account() -> Iterator[World]:
    """One emulated account for the module: a vault, a topic, an image to launch from.
    Each test works on instances of its own, so the tests share it safely."""
    from moto import mock_aws

    clock = emulator.install()
    saved = {
        k: os.environ.get(k)
        for k in (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_DEFAULT_REGION",
        )
    }
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }
    )
    try:
        with mock_aws():
            sns = boto3.client("sns", region_name=REGION)
            topic_arn = sns.create_topic(Name=TOPIC)["TopicArn"]
            backup = boto3.client("backup", region_name=REGION)
            backup.create_backup_vault(BackupVaultName=VAULT)
            ec2 = boto3.client("ec2", region_name=REGION)
            image_id = ec2.register_image(
                Name="linux",
                RootDeviceName="/dev/xvda",
                BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
            )["ImageId"]
            yield World(clock, ec2, backup, sns, topic_arn, image_id)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        emulator.uninstall()


@pytest.fixture
def world(account: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The module's account, with the function's configuration (a test may change it)."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**ENVIRONMENT, "NOTIFICATION_TOPIC_ARN": account.topic_arn}.items():
        monkeypatch.setenv(name, value)
    config.load.cache_clear()
    clients.reset()
    account.handed_on.clear()
    account.invocations = 0
    yield account
    emulator.faults.clear("ssm", region=REGION)
    emulator.faults.clear("backup", region=REGION)
    config.load.cache_clear()
    clients.reset()
