"""The emulator's vault access policy and restore job APIs answer as AWS documents them
(emulator/README.md), including the pessimistic readings."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

import emulator

REGION = "eu-west-1"
PLAN = "arn:aws:backup:eu-west-1:123456789012:restore-testing-plan:acb_restore_test"


@pytest.fixture(scope="module")
def aws() -> Iterator[dict[str, Any]]:
    from moto import mock_aws

    clock = emulator.install()
    saved = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = REGION
    try:
        with mock_aws():
            backup = boto3.client("backup", region_name=REGION)
            ec2 = boto3.client("ec2", region_name=REGION)
            backup.create_backup_vault(BackupVaultName="acb")
            image = ec2.register_image(
                Name="linux",
                RootDeviceName="/dev/xvda",
                BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
            )["ImageId"]
            instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
            job = backup.start_backup_job(
                BackupVaultName="acb",
                ResourceArn=f"arn:aws:ec2:{REGION}:123456789012:instance/{instance['InstanceId']}",
                IamRoleArn="arn:aws:iam::123456789012:role/acb-backup",
                StartWindowMinutes=60,
            )["BackupJobId"]
            clock.advance(700)
            point = backup.describe_backup_job(BackupJobId=job)["RecoveryPointArn"]
            yield {
                "backup": backup,
                "clock": clock,
                "point": point,
                "source": instance["InstanceId"],
            }
    finally:
        if saved is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = saved
        emulator.uninstall()


def _code(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def test_vault_access_policy_round_trip(aws: dict[str, Any]) -> None:
    backup = aws["backup"]
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Action": ["backup:DeleteRecoveryPoint"],
                    "Resource": "*",
                }
            ],
        }
    )
    backup.put_backup_vault_access_policy(BackupVaultName="acb", Policy=policy)
    got = backup.get_backup_vault_access_policy(BackupVaultName="acb")
    assert got["Policy"] == policy
    assert got["BackupVaultArn"].endswith(":backup-vault:acb")
    backup.delete_backup_vault_access_policy(BackupVaultName="acb")
    assert _code(lambda: backup.get_backup_vault_access_policy(BackupVaultName="acb")) == (
        "ResourceNotFoundException"
    )


def test_vault_access_policy_refuses_what_aws_refuses(aws: dict[str, Any]) -> None:
    backup = aws["backup"]
    wildcard = json.dumps(
        {"Statement": [{"Effect": "Deny", "Action": "backup:*", "Resource": "*"}]}
    )
    assert _code(
        lambda: backup.put_backup_vault_access_policy(BackupVaultName="acb", Policy=wildcard)
    ) == ("InvalidParameterValueException")
    assert _code(
        lambda: backup.put_backup_vault_access_policy(BackupVaultName="none", Policy=wildcard)
    ) == ("ResourceNotFoundException")


def test_restore_job_lifecycle_and_its_validation(aws: dict[str, Any]) -> None:
    backup, clock = aws["backup"], aws["clock"]
    job = emulator.restore.run_restore_test(aws["point"], PLAN, validation_window_hours=1)
    first = backup.describe_restore_job(RestoreJobId=job.restore_job_id)
    assert first["Status"] == "PENDING"
    assert first["CreatedBy"] == {"RestoreTestingPlanArn": PLAN}
    assert (
        _code(
            lambda: backup.put_restore_validation_result(
                RestoreJobId=job.restore_job_id, ValidationStatus="SUCCESSFUL"
            )
        )
        == "InvalidRequestException"
    ), "a job that has not completed cannot be validated"
    clock.advance(301)
    done = backup.describe_restore_job(RestoreJobId=job.restore_job_id)
    assert done["Status"] == "COMPLETED"
    assert done["CreatedResourceArn"].endswith(f":instance/{job.instance_id}")
    assert done["SourceResourceArn"].endswith(f":instance/{aws['source']}")
    statuses = [
        e["detail"]["status"]
        for e in emulator.restore.events()
        if e["detail"]["restoreJobId"] == job.restore_job_id
    ]
    assert statuses == ["RUNNING", "COMPLETED"]
    listed = backup.list_restore_jobs(ByRestoreTestingPlanArn=PLAN)["RestoreJobs"]
    assert [j["RestoreJobId"] for j in listed] == [job.restore_job_id]
    assert backup.list_restore_jobs(ByRestoreTestingPlanArn=PLAN + "x")["RestoreJobs"] == []

    backup.put_restore_validation_result(
        RestoreJobId=job.restore_job_id, ValidationStatus="VALIDATING"
    )
    backup.put_restore_validation_result(
        RestoreJobId=job.restore_job_id, ValidationStatus="FAILED", ValidationStatusMessage="no"
    )
    described = backup.describe_restore_job(RestoreJobId=job.restore_job_id)
    assert (described["ValidationStatus"], described["DeletionStatus"]) == ("FAILED", "SUCCESSFUL")
    assert (
        _code(
            lambda: backup.put_restore_validation_result(
                RestoreJobId=job.restore_job_id, ValidationStatus="SUCCESSFUL"
            )
        )
        == "InvalidRequestException"
    ), "a final result is final"


def test_start_restore_job_is_idempotent_and_checks_its_input(aws: dict[str, Any]) -> None:
    backup = aws["backup"]
    role = "arn:aws:iam::123456789012:role/restore"
    first = backup.start_restore_job(
        RecoveryPointArn=aws["point"], IamRoleArn=role, Metadata={}, IdempotencyToken="t-1"
    )
    again = backup.start_restore_job(
        RecoveryPointArn=aws["point"], IamRoleArn=role, Metadata={}, IdempotencyToken="t-1"
    )
    assert first["RestoreJobId"] == again["RestoreJobId"]
    missing = f"arn:aws:ec2:{REGION}::image/ami-00000000000000000"
    assert _code(
        lambda: backup.start_restore_job(RecoveryPointArn=missing, IamRoleArn=role, Metadata={})
    ) == ("ResourceNotFoundException")
    assert (
        _code(lambda: backup.describe_restore_job(RestoreJobId="NOPE"))
        == "ResourceNotFoundException"
    )
