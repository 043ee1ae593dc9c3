"""Quotas in virtual time: a throttled call answers as AWS does, to clients and to Task states."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

import emulator
from emulator import metering
from emulator import scheduler as S
from emulator.latency import LatencyModel
from emulator.quotas import Quota, Quotas, TokenBucket, default_table
from emulator.statemachine import ACCOUNT, REGION, World, emulated_aws

pytestmark = pytest.mark.usefixtures("fleet_hooks")
START = _dt.datetime(2026, 11, 23, 1, tzinfo=_dt.UTC)
ONE_CALL = Quota(1, 1e-6, "test: one call, then nothing for a long time")


def test_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    bucket = TokenBucket(capacity=3, rate=2, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.5) is True  # one token back after half a second
    assert bucket.take(0.5) is False
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]  # never above 3


def test_other_tenants_take_their_share_of_each_bucket() -> None:
    quotas = Quotas(region=REGION, other_tenants=0.3)
    _, unfiltered = quotas.quota("ec2", "DescribeInstances", None)
    assert quotas.ours(unfiltered).burst == pytest.approx(70.0)  # 100 x 0.7 (filtered call)
    key, quota = quotas.quota("states", "StartExecution")
    assert (key, quota.burst, quota.rate) == ("states:StartExecution", 1300, 300)
    assert quotas.ours(quota).rate == pytest.approx(210.0)
    with pytest.raises(ValueError, match="share of each bucket"):
        Quotas(other_tenants=1.0)


def test_every_row_names_its_source() -> None:
    for key, quota in default_table("us-east-1").items():
        assert quota.source, key
        assert quota.assumption == quota.source.startswith("assumption"), key


@pytest.fixture(scope="module")
def world(fleet_hooks: None) -> Iterator[World]:
    with emulated_aws() as shared:
        yield shared


@pytest.fixture
def metered_world(world: World) -> Iterator[World]:
    """The module's world with fresh quotas (one call each for the APIs below)."""
    scheduler = S.Scheduler(START, stall_seconds=60)
    overrides = {
        key: ONE_CALL
        for key in (
            "ec2:DescribeInstances(unfiltered)",
            "ssm:DescribeInstanceInformation",
            "backup:ListBackupJobs",
            "dynamodb:GetItem",
            "sns:Publish",
            "states:DescribeExecution",
        )
    }
    meter = metering.Meter(
        Quotas(region=REGION, other_tenants=0.0, overrides=overrides),
        LatencyModel(seed=1),
        scheduler.now,
    )
    emulator.clock.attach(scheduler)
    metering.activate(meter)
    try:
        with scheduler.driving():
            world.meter = meter  # type: ignore[attr-defined]
            yield world
    finally:
        metering.deactivate()
        emulator.clock.detach()


def test_a_throttled_ec2_call_answers_request_limit_exceeded_with_503(metered_world: World) -> None:
    metered_world.ec2.describe_instances()  # unfiltered: the small bucket, one call in it
    with pytest.raises(ClientError) as raised:
        metered_world.ec2.describe_instances()
    error = raised.value.response
    assert error["Error"]["Code"] == "RequestLimitExceeded"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 503
    log = metered_world.meter.apis["ec2:DescribeInstances(unfiltered)"]  # type: ignore[attr-defined]
    # botocore retried (virtual back-off sleeps), and every attempt met the empty bucket.
    assert error["ResponseMetadata"]["RetryAttempts"] >= 1
    assert (log.accepted, log.throttled) == (1, 1 + error["ResponseMetadata"]["RetryAttempts"])
    # A filtered call draws on the other, larger bucket: not throttled.
    metered_world.ec2.describe_instances(Filters=[{"Name": "tag-key", "Values": ["x"]}])


TASKS = {
    "Ec2": ("arn:aws:states:::aws-sdk:ec2:describeInstances", {}),
    "Ssm": ("arn:aws:states:::aws-sdk:ssm:describeInstanceInformation", {}),
    "Backup": ("arn:aws:states:::aws-sdk:backup:listBackupJobs", {}),
    "Sfn": (
        "arn:aws:states:::aws-sdk:sfn:describeExecution",
        {"ExecutionArn": f"arn:aws:states:{REGION}:{ACCOUNT}:execution:x:y"},
    ),
    "DynamoDB": (
        "arn:aws:states:::dynamodb:getItem",
        {"TableName": "acb-instance-guard", "Key": {"instance_id": {"S": "i-1"}}},
    ),
    "SNS": (
        "arn:aws:states:::sns:publish",
        {"TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:acb-events", "Message": "m"},
    ),
}


def test_a_throttled_task_fails_with_the_error_step_functions_names(
    metered_world: World,
) -> None:
    states: dict[str, dict] = {}
    names = list(TASKS)
    steps = [(name, attempt) for name in names for attempt in (1, 2)]
    for index, (name, attempt) in enumerate(steps):
        resource, parameters = TASKS[name]
        following = (
            f"{steps[index + 1][0]}{steps[index + 1][1]}" if index + 1 < len(steps) else "Done"
        )
        states[f"{name}{attempt}"] = {
            "Type": "Task",
            "Resource": resource,
            "Parameters": parameters,
            "ResultPath": None,
            "Catch": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "ResultPath": f"$.{name}{attempt}",
                    "Next": following,
                }
            ],
            "Next": following,
        }
    states["Done"] = {"Type": "Succeed"}
    definition = {"StartAt": f"{names[0]}1", "States": states}
    arn = metered_world.sfn.create_state_machine(
        name="throttle-names",
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/x",
    )["stateMachineArn"]
    execution = metered_world.sfn.start_execution(stateMachineArn=arn, name="t", input="{}")
    S.active().wait_idle()  # type: ignore[union-attr]
    with metering.unmetered():  # the test's own read
        described = metered_world.sfn.describe_execution(executionArn=execution["executionArn"])
    output = json.loads(described["output"])
    errors = {name: output[f"{name}2"]["Error"] for name in names}
    assert errors == {
        "Ec2": "Ec2.Ec2Exception",
        "Ssm": "Ssm.ThrottlingException",
        "Backup": "Backup.BackupException",
        "Sfn": "Sfn.SfnException",
        "DynamoDB": "DynamoDB.ProvisionedThroughputExceededException",
        "SNS": "SNS.ThrottledException",
    }
    assert "Request limit exceeded" in output["Ec2" + "2"]["Cause"]
    assert "Status Code: 503" in output["Ec2" + "2"]["Cause"]
