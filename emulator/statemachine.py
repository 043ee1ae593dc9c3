"""Run the real state machine definition in moto with the emulator, and read back what happened.

    from emulator.statemachine import emulated_aws

    with emulated_aws() as world:          # moto account + vault, topic, guard table, state machine
        instance = world.instance()        # a Linux instance with two EBS volumes
        run = world.run(instance)          # execute asl/backup_instance.asl.json and wait
        run.status, run.output, run.notifications, run.commands, run.intervals, run.events

Used by tests/statemachine and bench/state_machine.py. The template is rendered with
the module's default timings: Wait states cost nothing on the emulated clock.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

import emulator

ROOT = Path(__file__).resolve().parents[1]
DEFINITION = ROOT / "asl" / "backup_instance.asl.json"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
PREFIX = "acb"
VAULT = f"{PREFIX}-vault"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{PREFIX}-events"
GUARD_TABLE = f"{PREFIX}-instance-guard"
RUN_LEDGER = f"{PREFIX}-run-ledger"
# The function the state machine asks for a run's summary (the discovery function).
SUMMARY_FUNCTION = f"{PREFIX}-discovery"
SUMMARY_FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{SUMMARY_FUNCTION}"
STATE_MACHINE = f"{PREFIX}-backup-instance"
DR_VAULT_ARN = f"arn:aws:backup:eu-central-1:{ACCOUNT}:backup-vault:{PREFIX}-dr"
OTHER_ACCOUNT = "210987654321"
# A vault in another account (a cross-account copy): examples/cross-account's other side.
OTHER_ACCOUNT_VAULT_ARN = f"arn:aws:backup:{REGION}:{OTHER_ACCOUNT}:backup-vault:{PREFIX}-dr"
AWS_EBS = "aws/ebs"  # World.instance(volume_keys=[AWS_EBS]): EBS's default, AWS managed key

# The template's variables with the module's default timings: waits cost nothing here,
# so the tests run the schedule a deployment runs.
TEMPLATE_VARIABLES: dict[str, Any] = {
    "vault_name": VAULT,
    "backup_role_arn": f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-backup",
    "ssm_document_name": f"{PREFIX}-freeze-thaw",
    "ssm_document_version": "1",
    "notification_topic_arn": TOPIC_ARN,
    "guard_table_name": GUARD_TABLE,
    "name_prefix": PREFIX,
    "command_poll_seconds": 2,
    "command_wait_max_seconds": 120,
    "snapshot_poll_seconds": 2,
    "thaw_margin_seconds": 8,
    "thaw_max_attempts": 3,
    "clock_skew_margin_seconds": 2,
    "job_poll_initial_seconds": 60,
    "job_poll_max_seconds": 1200,
    "job_wait_max_seconds": 612000,
    "complete_window_minutes": 10080,
    "copy_poll_initial_seconds": 60,
    "copy_poll_max_seconds": 3600,
    "copy_wait_max_seconds": 259200,
    "guard_ttl_seconds": 2592000,
    "freeze_slots": 2,  # modules/state-machine/budget.tf with the default budget
    "job_poll_gate_calls": 5,  # the same
    "slot_wait_seconds": 5,
    "slot_wait_max_seconds": 21600,
    "notify_on_success": "false",
    "run_ledger_table_name": RUN_LEDGER,
    "run_ledger_ttl_seconds": 3196800,
    "run_summary_function_arn": SUMMARY_FUNCTION_ARN,
    "storm_threshold": 1,
}

DEFAULT_POLICY: dict[str, Any] = {
    "retention_days": 35,
    "max_freeze_seconds": 60,
    "on_freeze_failure": "crash-consistent",
    "stopped_instances": "backup",
    "copy_targets": [],
    "notify_on_success": False,
}

# How long (real seconds) World.wait lets an execution run before giving up.
WAIT_SECONDS = 30.0

SCHEDULED_TIME = "2026-11-23T01:00:00Z"
SCHEDULED_EPOCH = 1795395600


def render(variables: dict[str, Any] | None = None, text: str | None = None) -> str:
    """The definition (or another version of it, ``text``) as Terraform renders it."""
    template = DEFINITION.read_text() if text is None else text
    return emulator.render(template, {**TEMPLATE_VARIABLES, **(variables or {})})


def execution_input(
    instance_id: str,
    platform: str = "linux",
    policy: dict[str, Any] | None = None,
    run_id: str | None = None,
    schedule: str = "nightly",
) -> dict[str, Any]:
    """An execution input as discovery writes it (docs/contracts.md section 2)."""
    run_id = run_id or f"{schedule}-{instance_id}-20261123T010000Z"
    return {
        "instance_id": instance_id,
        "instance_arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}",
        "platform": platform,
        "instance_state": "running",
        "run_id": run_id,
        "schedule_name": schedule,
        "scheduled_time": SCHEDULED_TIME,
        "scheduled_epoch": SCHEDULED_EPOCH,
        "policy": {**DEFAULT_POLICY, **(policy or {})},
    }


@dataclass
class Run:
    """One finished execution and everything the emulated world recorded about it."""

    execution_arn: str
    status: str
    output: dict[str, Any] | None
    error: str | None
    cause: str | None
    events: list[dict[str, Any]]
    instance_id: str
    run_id: str
    notifications: list[dict[str, Any]] = field(default_factory=list)

    @property
    def states(self) -> list[str]:
        return [
            e["stateEnteredEventDetails"]["name"]
            for e in self.events
            if "stateEnteredEventDetails" in e
        ]

    @property
    def commands(self) -> list[emulator.ssm.CommandRecord]:
        return [
            c
            for c in emulator.ssm.commands(self.instance_id, region=REGION)
            if c.run_id == self.run_id
        ]

    @property
    def intervals(self) -> list[emulator.ssm.FreezeInterval]:
        agent = emulator.ssm.agent(self.instance_id, region=REGION)
        agent.settle(emulator.clock.now())
        return [i for i in agent.intervals if i.run_id == self.run_id]

    @property
    def jobs(self) -> list[emulator.backup.BackupJob]:
        return [
            j
            for j in emulator.backup.jobs(region=REGION)
            if j.instance_id == self.instance_id and j.token == self.run_id
        ]

    def transitions(self) -> int:
        return len(self.events)

    def entered(self, state: str) -> list[dict[str, Any]]:
        return [
            e for e in self.events if e.get("stateEnteredEventDetails", {}).get("name") == state
        ]


_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    """One boto3 client per service for the process (moto intercepts them all; 60 ms saved each)."""
    if service not in _clients:
        _clients[service] = boto3.client(
            service,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
        )
    return _clients[service]


class World:
    """The AWS side a deployment would have, in moto: vault, topic, guard table, state machine."""

    def __init__(self, variables: dict[str, Any] | None = None, text: str | None = None) -> None:
        self.ec2 = client("ec2")
        self.sfn = client("stepfunctions")
        self.ddb = client("dynamodb")
        self.backup = client("backup")
        self.sns = client("sns")
        self.backup.create_backup_vault(BackupVaultName=VAULT)
        self.sns.create_topic(Name=f"{PREFIX}-events")
        self.ddb.create_table(
            TableName=GUARD_TABLE,
            KeySchema=[{"AttributeName": "instance_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "instance_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.ddb.create_table(
            TableName=RUN_LEDGER,
            KeySchema=[{"AttributeName": "ledger_key", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "ledger_key", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self._summary_function()
        self.images = {
            platform: self.ec2.register_image(
                Name=platform,
                RootDeviceName="/dev/xvda",
                BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
            )["ImageId"]
            for platform in ("linux", "windows")
        }
        from moto.ec2.models import ec2_backends

        ec2_backends[ACCOUNT][REGION].amis[self.images["windows"]].platform = "windows"
        self.state_machine_arn = self.sfn.create_state_machine(
            name=STATE_MACHINE,
            definition=render(variables, text),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-state-machine",
        )["stateMachineArn"]

    def _summary_function(self) -> None:
        """The discovery function, as far as the state machine sees it: a function its
        Lambda task can invoke asynchronously (emulator.lambda_async queues the events)."""
        import io
        import zipfile

        role = client("iam").create_role(
            RoleName=f"{PREFIX}-discovery",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("discovery/__init__.py", "")
        client("lambda").create_function(
            FunctionName=SUMMARY_FUNCTION,
            Runtime="python3.12",
            Role=role,
            Handler="discovery.handler.handler",
            Code={"ZipFile": package.getvalue()},
        )

    # ------------------------------------------------------------------ instances
    def instance(
        self,
        platform: str = "linux",
        state: str = "running",
        tags: dict[str, str] | None = None,
        volume_keys: list[str | None] | None = None,
    ) -> str:
        """An instance; by default two unencrypted EBS volumes.

        ``volume_keys``: one volume per entry, unencrypted (None), encrypted with EBS's
        default AWS managed key (``AWS_EBS``, no KmsKeyId given: EBS picks aws/ebs), or
        with the key named (an ARN from ``customer_key()``, or any key ARN).
        """
        keys = [None, None] if volume_keys is None else volume_keys
        mappings = []
        for index, key in enumerate(keys):
            ebs: dict[str, Any] = {"VolumeSize": 8 if index == 0 else 100}
            if key is not None:
                ebs["Encrypted"] = True
                if key != AWS_EBS:
                    ebs["KmsKeyId"] = key
            device = "/dev/xvda" if index == 0 else f"/dev/xvd{chr(ord('f') + index - 1)}"
            mappings.append({"DeviceName": device, "Ebs": ebs})
        instance_id = self.ec2.run_instances(
            ImageId=self.images[platform],
            MinCount=1,
            MaxCount=1,
            BlockDeviceMappings=mappings,
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": [
                        {"Key": "AppConsistentBackup", "Value": "nightly"},
                        *[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
                    ],
                }
            ],
        )["Instances"][0]["InstanceId"]
        if state == "stopped":
            self.ec2.stop_instances(InstanceIds=[instance_id])
        return instance_id

    def customer_key(self) -> str:
        """A customer-managed KMS key of this account (its ARN)."""
        return client("kms").create_key(Description="app data")["KeyMetadata"]["Arn"]

    def aws_managed_key(self) -> str:
        """The ARN of aws/ebs (DescribeKey on the predefined alias creates it, as on AWS)."""
        return client("kms").describe_key(KeyId=f"alias/{AWS_EBS}")["KeyMetadata"]["Arn"]

    def execution_input(
        self,
        instance_id: str,
        platform: str = "linux",
        policy: dict[str, Any] | None = None,
        run_id: str | None = None,
        schedule: str = "nightly",
    ) -> dict[str, Any]:
        return execution_input(instance_id, platform, policy, run_id, schedule)

    # ------------------------------------------------------------------ executions
    def start(self, execution_input: dict[str, Any], name: str | None = None) -> str:
        return self.sfn.start_execution(
            stateMachineArn=self.state_machine_arn,
            name=name or execution_input["run_id"],
            input=json.dumps(execution_input),
        )["executionArn"]

    def run_definition(
        self, definition: dict[str, Any], execution_input: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], str]:
        """A state machine of ``definition`` (a probe beside the module's), one execution of it
        run to its end: its DescribeExecution and its ARN (for ``history``)."""
        arn = self.sfn.create_state_machine(
            name=f"probe-{time.monotonic_ns()}",
            definition=json.dumps(definition),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/x",
        )["stateMachineArn"]
        execution = self.sfn.start_execution(
            stateMachineArn=arn, name="probe", input=json.dumps(execution_input or {})
        )["executionArn"]
        return self.wait(execution), execution

    def wait(self, execution_arn: str, timeout: float | None = None) -> dict[str, Any]:
        timeout = WAIT_SECONDS if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            described = self.sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} still RUNNING after {timeout} s")
            time.sleep(0.01)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        events, token = [], None
        while True:
            kwargs = {"executionArn": execution_arn, "maxResults": 1000}
            if token:
                kwargs["nextToken"] = token
            page = self.sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                return events

    def finish(self, execution_arn: str, execution_input: dict[str, Any]) -> Run:
        described = self.wait(execution_arn)
        output = json.loads(described["output"]) if described.get("output") else None
        return Run(
            execution_arn=execution_arn,
            status=described["status"],
            output=output,
            error=described.get("error"),
            cause=described.get("cause"),
            events=self.history(execution_arn),
            instance_id=execution_input["instance_id"],
            run_id=execution_input["run_id"],
            notifications=self.notifications(execution_arn),
        )

    def notifications(self, execution_arn: str) -> list[dict[str, Any]]:
        """The SNS messages an execution published (matched on additional_info)."""
        found = []
        for message in emulator.sns.messages(TOPIC_ARN, region=REGION):
            body = message["message"]
            if (
                isinstance(body, dict)
                and json.loads(body["additional_info"])["execution_arn"] == execution_arn
            ):
                found.append(message)
        return found

    def run(
        self,
        instance_id: str,
        platform: str = "linux",
        policy: dict[str, Any] | None = None,
        run_id: str | None = None,
    ) -> Run:
        execution_input = self.execution_input(instance_id, platform, policy, run_id)
        return self.finish(self.start(execution_input), execution_input)

    # ------------------------------------------------------------------ what is left behind
    def ledger_item(self, key: str) -> dict[str, Any] | None:
        """A run ledger item (``run/<schedule>/<YYYYMMDDTHHMMSSZ>`` or ``schedule/<name>``)."""
        return self.ddb.get_item(
            TableName=RUN_LEDGER, Key={"ledger_key": {"S": key}}, ConsistentRead=True
        ).get("Item")

    def guard_item(self, instance_id: str) -> dict[str, Any] | None:
        return self.ddb.get_item(
            TableName=GUARD_TABLE, Key={"instance_id": {"S": instance_id}}, ConsistentRead=True
        ).get("Item")

    def image_tags(self, recovery_point_arn: str) -> dict[str, str]:
        image_id = recovery_point_arn.rsplit("/", 1)[-1]
        images = self.ec2.describe_images(ImageIds=[image_id])["Images"]
        return {t["Key"]: t["Value"] for t in images[0].get("Tags", [])}


@contextlib.contextmanager
def emulated_aws(
    variables: dict[str, Any] | None = None, text: str | None = None
) -> Iterator[World]:
    """A fresh moto account with the emulator, the module's resources and the state machine."""
    from moto import mock_aws

    emulator.install()
    saved = {
        k: os.environ.get(k)
        for k in (
            "AWS_DEFAULT_REGION",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "MOTO_EC2_LOAD_DEFAULT_AMIS",
        )
    }
    os.environ.update(
        AWS_DEFAULT_REGION=REGION,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - moto's fake credentials
        MOTO_EC2_LOAD_DEFAULT_AMIS="false",
    )  # 5,000 AMIs per region: 0.4 s
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            emulator.clock.reset()
            emulator.lambda_async.reset()
            yield World(variables, text)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
