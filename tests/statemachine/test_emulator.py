"""The emulator: AWS Backup jobs, SSM agent, fault injection, interpreter fidelity, server mode."""

from __future__ import annotations

import datetime as dt
import json
import socket
import time

import boto3
import pytest
from botocore.exceptions import ClientError

import emulator
from emulator import Outcome
from emulator.statemachine import ACCOUNT, REGION, VAULT, World, render
from emulator.statemachine import execution_input as make_input

ROLE = f"arn:aws:iam::{ACCOUNT}:role/acb-backup"


def start_job(world: World, instance_id: str, token: str = "run-1", **extra) -> str:  # noqa: S107
    return world.backup.start_backup_job(
        BackupVaultName=VAULT,
        ResourceArn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}",
        IamRoleArn=ROLE,
        IdempotencyToken=token,
        StartWindowMinutes=60,
        RecoveryPointTags={"app-consistent-backup:run-id": token},
        **extra,
    )["BackupJobId"]


# ------------------------------------------------------------------ AWS Backup
def test_backup_job_lifecycle_creates_pending_snapshots_then_completes(world: World) -> None:
    instance_id = world.instance()
    emulator.backup.plan(instance_id, start_after=5, run_seconds=600)
    job_id = start_job(world, instance_id)
    assert world.backup.describe_backup_job(BackupJobId=job_id)["State"] == "CREATED"
    assert start_job(world, instance_id) == job_id  # same IdempotencyToken, same job

    emulator.clock.advance(6)
    job = world.backup.describe_backup_job(BackupJobId=job_id)
    assert job["State"] == "RUNNING"
    image_id = job["RecoveryPointArn"].split("/")[-1]
    assert job["RecoveryPointArn"] == f"arn:aws:ec2:{REGION}::image/{image_id}"
    image = world.ec2.describe_images(ImageIds=[image_id])["Images"][0]
    tags = {t["Key"]: t["Value"] for t in image["Tags"]}
    assert tags["aws:backup:source-resource"] == instance_id
    assert tags["app-consistent-backup:run-id"] == "run-1"
    assert tags["AppConsistentBackup"] == "nightly"  # the instance's own tags are copied
    snapshot_ids = [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"]]
    snapshots = world.ec2.describe_snapshots(SnapshotIds=snapshot_ids)["Snapshots"]
    assert {s["State"] for s in snapshots} == {"pending"}
    assert len(snapshots) == 2
    volumes = {
        m["Ebs"]["VolumeId"]
        for m in world.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0][
            "Instances"
        ][0]["BlockDeviceMappings"]
    }
    assert {s["VolumeId"] for s in snapshots} == volumes

    emulator.clock.advance(600)
    job = world.backup.describe_backup_job(BackupJobId=job_id)
    assert job["State"] == "COMPLETED"
    assert "CompletionDate" in job
    assert {
        s["State"] for s in world.ec2.describe_snapshots(SnapshotIds=snapshot_ids)["Snapshots"]
    } == {"completed"}
    points = world.backup.list_recovery_points_by_resource(ResourceArn=job["ResourceArn"])[
        "RecoveryPoints"
    ]
    assert [(p["RecoveryPointArn"], p["Status"]) for p in points] == [
        (job["RecoveryPointArn"], "COMPLETED")
    ]
    assert world.backup.list_backup_jobs()["BackupJobs"][0]["BackupJobId"] == job_id

    # What terraform destroy of a force_destroy vault does with each point.
    vault = job["BackupVaultName"]
    world.backup.delete_recovery_point(
        BackupVaultName=vault, RecoveryPointArn=job["RecoveryPointArn"]
    )
    assert (
        world.backup.list_recovery_points_by_backup_vault(BackupVaultName=vault)["RecoveryPoints"]
        == []
    )
    with pytest.raises(world.backup.exceptions.ResourceNotFoundException):
        world.backup.delete_recovery_point(
            BackupVaultName=vault, RecoveryPointArn=job["RecoveryPointArn"]
        )


def test_backup_job_faults(world: World) -> None:
    never, aborted, failed = world.instance(), world.instance(), world.instance()
    emulator.backup.plan(never, start_after=None)
    emulator.backup.plan(failed, outcome="FAILED", status_message="boom")
    never_id = start_job(world, never, "never")
    aborted_id = start_job(world, aborted, "aborted")
    failed_id = start_job(world, failed, "failed")
    world.backup.stop_backup_job(BackupJobId=aborted_id)
    emulator.clock.advance(3600)
    assert world.backup.describe_backup_job(BackupJobId=never_id)["State"] == "EXPIRED"
    assert world.backup.describe_backup_job(BackupJobId=aborted_id)["State"] == "ABORTED"
    failure = world.backup.describe_backup_job(BackupJobId=failed_id)
    assert (failure["State"], failure["StatusMessage"]) == ("FAILED", "boom")
    with pytest.raises(ClientError, match="InvalidParameterValueException"):  # AWS: >= 60
        world.backup.start_backup_job(
            BackupVaultName=VAULT,
            IamRoleArn=ROLE,
            StartWindowMinutes=30,
            ResourceArn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{never}",
        )
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        world.backup.describe_backup_job(BackupJobId="nope")


def test_copy_job_lifecycle(world: World) -> None:
    instance_id = world.instance()
    job_id = start_job(world, instance_id)
    emulator.clock.advance(1000)
    point = world.backup.describe_backup_job(BackupJobId=job_id)["RecoveryPointArn"]
    copy_id = world.backup.start_copy_job(
        RecoveryPointArn=point,
        SourceBackupVaultName=VAULT,
        IamRoleArn=ROLE,
        DestinationBackupVaultArn="arn:aws:backup:eu-central-1:123456789012:backup-vault:dr",
        IdempotencyToken="c1",
    )["CopyJobId"]
    assert world.backup.describe_copy_job(CopyJobId=copy_id)["CopyJob"]["State"] in (
        "CREATED",
        "RUNNING",
    )
    emulator.clock.advance(2000)
    copy = world.backup.describe_copy_job(CopyJobId=copy_id)["CopyJob"]
    assert copy["State"] == "COMPLETED"
    assert copy["DestinationRecoveryPointArn"]


def test_ebs_keys_and_copies_into_another_account(world: World) -> None:
    from emulator.statemachine import AWS_EBS, OTHER_ACCOUNT_VAULT_ARN, client

    kms = client("kms")
    customer = kms.create_key()["KeyMetadata"]
    aws_ebs = world.aws_managed_key()
    assert kms.describe_key(KeyId=aws_ebs)["KeyMetadata"]["KeyManager"] == "AWS"
    assert customer["KeyManager"] == "CUSTOMER"
    # A key named by id is reported by its ARN; EBS's default key is aws/ebs.
    on_aws = world.instance(volume_keys=[AWS_EBS, None])
    on_customer = world.instance(volume_keys=[customer["KeyId"]])
    keys = {
        instance_id: [
            v.get("KmsKeyId")
            for v in world.ec2.describe_volumes(
                Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}]
            )["Volumes"]
        ]
        for instance_id in (on_aws, on_customer)
    }
    assert sorted(keys[on_aws], key=str) == sorted([aws_ebs, None], key=str)
    assert keys[on_customer] == [customer["Arn"]]

    def copy(instance_id: str, destination: str) -> dict:
        job_id = start_job(world, instance_id, token=f"{instance_id}-{destination[-8:]}")
        emulator.clock.advance(1000)
        point = world.backup.describe_backup_job(BackupJobId=job_id)["RecoveryPointArn"]
        copy_id = world.backup.start_copy_job(
            RecoveryPointArn=point,
            SourceBackupVaultName=VAULT,
            IamRoleArn=ROLE,
            DestinationBackupVaultArn=destination,
        )["CopyJobId"]
        emulator.clock.advance(2000)
        return world.backup.describe_copy_job(CopyJobId=copy_id)["CopyJob"]

    failed = copy(on_aws, OTHER_ACCOUNT_VAULT_ARN)
    assert failed["State"] == "FAILED"
    assert aws_ebs in failed["StatusMessage"]
    snapshots = world.ec2.describe_snapshots(
        Filters=[
            {
                "Name": "volume-id",
                "Values": [
                    v["VolumeId"]
                    for v in world.ec2.describe_volumes(
                        Filters=[{"Name": "attachment.instance-id", "Values": [on_aws]}]
                    )["Volumes"]
                ],
            }
        ]
    )["Snapshots"]
    assert sorted((s.get("KmsKeyId") for s in snapshots), key=str) == sorted(
        [aws_ebs, None], key=str
    )
    assert copy(on_aws, "arn:aws:backup:eu-central-1:123456789012:backup-vault:dr")["State"] == (
        "COMPLETED"
    )
    assert copy(on_customer, OTHER_ACCOUNT_VAULT_ARN)["State"] == "COMPLETED"


# ------------------------------------------------------------------ SSM agent
def send(
    world: World, instance_id: str, command: str, run_id: str = "run-1", max_freeze: int = 30
) -> str:
    ssm = boto3_ssm()
    return ssm.send_command(
        DocumentName="acb-freeze-thaw",
        InstanceIds=[instance_id],
        Parameters={"Command": [command], "RunId": [run_id], "MaxFreezeSeconds": [str(max_freeze)]},
    )["Command"]["CommandId"]


def boto3_ssm():
    from emulator.statemachine import client

    return client("ssm")


def result(instance_id: str, command_id: str) -> dict:
    return boto3_ssm().get_command_invocation(CommandId=command_id, InstanceId=instance_id)


def report(invocation: dict) -> dict:
    return json.loads(invocation["StandardOutputContent"].strip().splitlines()[-1])


def test_agent_reports_and_filters(world: World) -> None:
    linux, windows, stopped = (
        world.instance(),
        world.instance("windows"),
        world.instance(state="stopped"),
    )
    emulator.ssm.plan(linux, ping="Online")
    gone = world.instance()
    emulator.ssm.plan(gone, ping="unregistered")
    info = boto3_ssm().describe_instance_information()["InstanceInformationList"]
    by_id = {i["InstanceId"]: (i["PingStatus"], i["PlatformType"]) for i in info}
    assert by_id == {
        linux: ("Online", "Linux"),
        windows: ("Online", "Windows"),
        stopped: ("ConnectionLost", "Linux"),
    }
    only = boto3_ssm().describe_instance_information(
        Filters=[{"Key": "InstanceIds", "Values": [windows]}]
    )["InstanceInformationList"]
    assert [i["InstanceId"] for i in only] == [windows]
    with pytest.raises(ClientError, match="InvalidInstanceId"):
        send(world, gone, "freeze")


def test_freeze_and_thaw_follow_the_contract(world: World) -> None:
    instance_id = world.instance()
    emulator.ssm.plan(instance_id, invocation_delay=0)
    freeze = send(world, instance_id, "freeze")
    assert result(instance_id, freeze)["Status"] == "InProgress"
    emulator.clock.advance(1)
    done = result(instance_id, freeze)
    assert (done["Status"], done["ResponseCode"]) == ("Success", 0)
    frozen = report(done)
    assert frozen["status"] == "frozen"
    assert frozen["watchdog"]["outcome"] == "armed"
    assert set(frozen) >= {
        "command",
        "run_id",
        "status",
        "filesystems",
        "frozen_at",
        "thawed_at",
        "freeze_duration_ms",
        "watchdog",
        "hooks",
        "error",
        "exit_code",
    }
    deadline = emulator.parse_iso(frozen["watchdog"]["deadline"])
    assert deadline - emulator.parse_iso(frozen["frozen_at"]) == dt.timedelta(seconds=30)

    other = send(world, instance_id, "freeze", run_id="run-2")
    emulator.clock.advance(1)
    refused = result(instance_id, other)
    assert (refused["Status"], refused["ResponseCode"]) == ("Failed", 11)

    thaw = send(world, instance_id, "thaw")
    emulator.clock.advance(1)
    thawed = report(result(instance_id, thaw))
    assert thawed["status"] == "thawed"
    assert thawed["watchdog"]["outcome"] == "cancelled"
    assert thawed["freeze_duration_ms"] > 0
    assert not emulator.ssm.agent(instance_id).frozen()


def test_watchdog_thaws_at_its_deadline(world: World) -> None:
    instance_id = world.instance()
    send(world, instance_id, "freeze", max_freeze=15)
    emulator.clock.advance(20)
    assert not emulator.ssm.agent(instance_id).frozen()
    thaw = send(world, instance_id, "thaw")
    emulator.clock.advance(1)
    thawed = report(result(instance_id, thaw))
    assert thawed["watchdog"]["outcome"] == "thawed_first"
    (interval,) = emulator.ssm.agent(instance_id).intervals
    assert interval.ended_by == "watchdog"
    reported = emulator.parse_iso(thawed["watchdog"]["thawed_at"])
    assert abs(reported - interval.end) < dt.timedelta(milliseconds=1)


@pytest.mark.parametrize(
    ("parameters", "why"),
    [
        ({"PreFreezeHookDir": ["/tmp/hooks"]}, "not defined"),  # the document no longer has it
        ({"PostThawHookDir": ["/usr/sbin"]}, "not defined"),
        ({"MaxFreezeSeconds": ["14"]}, "allowedPattern"),
        ({"MaxFreezeSeconds": ["901"]}, "allowedPattern"),
        ({"MaxFreezeSeconds": ["60s"]}, "allowedPattern"),
        ({"RunId": []}, "required"),
    ],
)
def test_send_command_refuses_what_the_document_does_not_accept(
    world: World, parameters: dict, why: str
) -> None:
    instance_id = world.instance()
    given = {"Command": ["freeze"], "RunId": ["run-1"], **parameters}
    if given["RunId"] == []:
        del given["RunId"]
    with pytest.raises(ClientError, match="InvalidParameters") as refused:
        boto3_ssm().send_command(
            DocumentName="acb-freeze-thaw", InstanceIds=[instance_id], Parameters=given
        )
    assert why in str(refused.value)
    assert emulator.ssm.commands(instance_id) == []
    assert not emulator.ssm.agent(instance_id).frozen()


def test_the_documents_default_bounds_a_freeze_that_names_none(world: World) -> None:
    instance_id = world.instance()
    boto3_ssm().send_command(
        DocumentName="acb-freeze-thaw",
        InstanceIds=[instance_id],
        Parameters={"Command": ["freeze"], "RunId": ["run-1"]},
    )
    emulator.clock.advance(2)
    (interval,) = emulator.ssm.agent(instance_id).intervals
    assert (interval.deadline - interval.start).total_seconds() == 60  # the template's default
    (record,) = emulator.ssm.commands(instance_id)
    assert "MaxFreezeSeconds" not in record.parameters  # recorded as SendCommand named them


def test_a_registered_document_is_the_one_checked(world: World) -> None:
    instance_id = world.instance()
    parameters = emulator.ssm.template_parameters()
    content = {
        "schemaVersion": "2.2",
        "description": "test",
        "parameters": {**parameters, "MaxFreezeSeconds": {"type": "String", "default": "120"}},
        "mainSteps": [
            {"action": "aws:runShellScript", "name": "x", "inputs": {"runCommand": ["true"]}}
        ],
    }
    ssm = boto3_ssm()
    ssm.create_document(Name="acb-registered", Content=json.dumps(content), DocumentType="Command")
    ssm.send_command(
        DocumentName="acb-registered",
        InstanceIds=[instance_id],
        Parameters={"Command": ["freeze"], "RunId": ["run-1"]},
    )
    emulator.clock.advance(2)
    (interval,) = emulator.ssm.agent(instance_id).intervals
    assert (interval.deadline - interval.start).total_seconds() == 120


def test_planned_command_outcomes(world: World) -> None:
    instance_id = world.instance()
    emulator.ssm.plan(
        instance_id,
        invocation_delay=0,
        freeze=[Outcome.fail(13, "fsfreeze: nope"), Outcome.hangs()],
        thaw=Outcome.never_delivered(),
    )
    failed = send(world, instance_id, "freeze")
    emulator.clock.advance(1)
    assert (
        result(instance_id, failed)["Status"],
        report(result(instance_id, failed))["error"],
    ) == ("Failed", "fsfreeze: nope")
    hung = send(world, instance_id, "freeze")
    emulator.clock.advance(100)
    assert result(instance_id, hung)["Status"] == "InProgress"
    lost = send(world, instance_id, "thaw")
    assert result(instance_id, lost)["Status"] == "Pending"
    emulator.clock.advance(3600)
    assert (result(instance_id, lost)["Status"], result(instance_id, lost)["StatusDetails"]) == (
        "TimedOut",
        "DeliveryTimedOut",
    )
    assert [c.kind for c in emulator.ssm.commands(instance_id)] == ["freeze", "freeze", "thaw"]


def test_invocation_is_not_visible_for_a_moment_and_terminated_instances_refuse(
    world: World,
) -> None:
    instance_id = world.instance()
    command = send(world, instance_id, "freeze")
    with pytest.raises(ClientError, match="InvocationDoesNotExist"):
        result(instance_id, command)
    emulator.clock.advance(1)
    assert result(instance_id, command)["Status"] == "Success"
    ssm = boto3_ssm()
    versioned = ssm.send_command(
        DocumentName="acb-freeze-thaw",
        DocumentVersion="7",
        InstanceIds=[instance_id],
        Parameters={"Command": ["thaw"], "RunId": ["run-1"], "MaxFreezeSeconds": ["30"]},
    )["Command"]["CommandId"]
    emulator.clock.advance(2)
    assert result(instance_id, versioned)["DocumentVersion"] == "7"
    world.ec2.terminate_instances(InstanceIds=[instance_id])
    with pytest.raises(ClientError, match="InvalidInstanceId"):
        send(world, instance_id, "thaw")


def test_snapshots_of_one_job_start_apart_and_copies_end_as_botocore_says(world: World) -> None:
    instance_id = world.instance()
    emulator.backup.plan(instance_id, snapshot_spread=0.5)
    job_id = start_job(world, instance_id)
    emulator.clock.advance(6)
    point = world.backup.describe_backup_job(BackupJobId=job_id)["RecoveryPointArn"]
    image = world.ec2.describe_images(ImageIds=[point.split("/")[-1]])["Images"][0]
    ids = [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"]]
    (job,) = emulator.backup.jobs()
    starts = sorted(
        world.ec2.describe_snapshots(SnapshotIds=ids)["Snapshots"], key=lambda s: s["StartTime"]
    )
    assert len(starts) == 2
    from moto.ec2.models import ec2_backends

    snapshots = ec2_backends[ACCOUNT][REGION].snapshots
    offsets = sorted((snapshots[i].start_time - job.started_at).total_seconds() for i in ids)
    assert offsets == [0.0, 0.5]
    with pytest.raises(ValueError, match="CopyJobState"):
        emulator.backup.plan(instance_id, copy_outcome="ABORTED")


def test_other_documents_keep_motos_behaviour(world: World) -> None:
    instance_id = world.instance()
    command = boto3_ssm().send_command(
        DocumentName="AWS-RunShellScript",
        InstanceIds=[instance_id],
        Parameters={"commands": ["true"]},
    )["Command"]["CommandId"]
    assert result(instance_id, command)["Status"] == "Success"
    assert emulator.ssm.commands(instance_id) == []


# ------------------------------------------------------------------ faults
def test_faults_answer_the_next_matching_calls(world: World) -> None:
    ec2 = boto3.client("ec2", region_name=REGION, config=_no_retries())
    emulator.faults.inject(
        "ec2",
        "DescribeSnapshots",
        "RequestLimitExceeded",
        times=2,
        when=lambda param: param("SnapshotIds") == ["snap-0"],
    )
    ec2.describe_snapshots(OwnerIds=["self"])  # does not match: answered
    for _ in range(2):
        with pytest.raises(ClientError, match="RequestLimitExceeded"):
            ec2.describe_snapshots(SnapshotIds=["snap-0"])
    with pytest.raises(ClientError, match="InvalidSnapshot"):  # the fault is used up
        ec2.describe_snapshots(SnapshotIds=["snap-0"])


def _no_retries():
    from botocore.config import Config

    return Config(retries={"total_max_attempts": 1})


# ------------------------------------------------------------------ interpreter fidelity
def test_interpreter_behaves_like_step_functions(world: World) -> None:
    instance_id = world.instance()
    before = emulator.clock.now()
    definition = {
        "StartAt": "Sleep",
        "States": {
            "Sleep": {"Type": "Wait", "Seconds": 86400, "Next": "Describe"},
            "Describe": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:ec2:describeInstances",
                "Parameters": {"InstanceIds.$": "States.Array($.id)"},
                "ResultSelector": {
                    "states.$": "$.Reservations[*].Instances[*].State.Name",
                    "launch.$": "$.Reservations[0].Instances[0].LaunchTime",
                },
                "ResultPath": "$.d",
                "Next": "Compare",
            },
            "Compare": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$.d.launch",
                        "TimestampLessThan": "2100-01-01T00:00:00.000Z",
                        "Next": "Missing",
                    }
                ],
                "Default": "Broken",
            },
            "Missing": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:ssm:sendCommand",
                "Parameters": {
                    "DocumentName": "d",
                    "InstanceIds": ["i-00000000000000000"],
                    "Parameters": {"Command": ["thaw"], "RunId": ["probe"]},
                },
                "Catch": [
                    {
                        "ErrorEquals": ["Ssm.InvalidInstanceIdException"],
                        "ResultPath": "$.error",
                        "Next": "Done",
                    }
                ],
                "Next": "Broken",
            },
            "Broken": {"Type": "Fail", "Error": "Unexpected"},
            "Done": {"Type": "Succeed"},
        },
    }
    described, _ = world.run_definition(definition, {"id": instance_id})
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["d"]["states"] == ["running"]  # a list, as on AWS, even for one match
    assert output["d"]["launch"].endswith("Z")  # SDK timestamps as RFC 3339 strings
    assert emulator.clock.now() - before >= dt.timedelta(days=1)  # the day passed, emulated


def test_uninstall_restores_moto() -> None:
    from moto import mock_aws

    emulator.uninstall()
    try:
        with mock_aws():
            backup = boto3.client("backup", region_name=REGION, config=_no_retries())
            with pytest.raises(ClientError, match="404"):
                backup.describe_backup_job(BackupJobId="x")
            ssm = boto3.client("ssm", region_name=REGION, config=_no_retries())
            with pytest.raises(NotImplementedError):
                ssm.describe_instance_information()
    finally:
        emulator.install()


# ------------------------------------------------------------------ server mode
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_server_mode_runs_the_state_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    import requests
    from moto.server import ThreadedMotoServer

    emulator.install()
    port = free_port()
    monkeypatch.setenv("MOTO_PORT", str(port))  # where the interpreter's tasks call back
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    from moto.core.config import default_user_config

    # /moto-api/config changes moto's process-wide configuration: restore it, or every
    # later test's StartExecution would run its state machine in the background.
    saved = dict(default_user_config["stepfunctions"])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        requests.post(
            f"{endpoint}/moto-api/config",
            timeout=10,
            json={"stepfunctions": {"execute_state_machine": True}},
        )

        def aws(service: str):
            return boto3.client(service, region_name=REGION, endpoint_url=endpoint)

        aws("backup").create_backup_vault(BackupVaultName=VAULT)
        aws("sns").create_topic(Name="acb-events")
        aws("dynamodb").create_table(
            TableName="acb-instance-guard",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "instance_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "instance_id", "AttributeType": "S"}],
        )
        ec2 = aws("ec2")
        image = ec2.register_image(Name="linux", RootDeviceName="/dev/xvda")["ImageId"]
        instance_id = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0][
            "InstanceId"
        ]
        sfn = aws("stepfunctions")
        arn = sfn.create_state_machine(
            name="acb-backup-instance",
            definition=render(),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/x",
        )["stateMachineArn"]
        execution_input = make_input(instance_id)
        execution = sfn.start_execution(
            stateMachineArn=arn, name=execution_input["run_id"], input=json.dumps(execution_input)
        )["executionArn"]
        deadline = time.monotonic() + 60
        while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert described["status"] == "SUCCEEDED", described
        assert json.loads(described["output"])["consistency"] == "application-consistent"
        jobs = aws("backup").list_backup_jobs()["BackupJobs"]  # GET /backup-jobs/ (slash)
        assert [j["State"] for j in jobs] == ["COMPLETED"]
    finally:
        server.stop()
        default_user_config["stepfunctions"].clear()
        default_user_config["stepfunctions"].update(saved)
