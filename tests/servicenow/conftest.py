"""Fixtures for the ServiceNow delivery tests: moto (Secrets Manager, SQS) and a real
local ServiceNow on the loopback, shared by the module's tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from emulator import lambda_sqs
from emulator.servicenow import LocalServiceNow
from servicenow import clients, config, credentials, handler

REGION = "eu-west-1"
PREFIX = "acb"
TOPIC_ARN = f"arn:aws:sns:{REGION}:123456789012:{PREFIX}-notifications"
ALARM_TOPIC_ARN = f"arn:aws:sns:{REGION}:123456789012:{PREFIX}-alarms"
USER, PASSWORD = "integration", "s3cret-pw"
NO_ROLE_USER, NO_ROLE_PASSWORD = "reader", "reader-pw"
API_KEY = "key-0123456789"


class Context:
    """The part of the Lambda context the handler reads."""

    def __init__(self, seconds: float = 60.0) -> None:
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def section5(instance_id: str = "i-0123456789abcdef0", **changes: str) -> dict[str, str]:
    """A notification as the state machine publishes it (docs/contracts.md section 5)."""
    event = {
        "source": "app-consistent-backup",
        "event_class": PREFIX,
        "node": instance_id,
        "resource": f"arn:aws:ec2:{REGION}:123456789012:instance/{instance_id}",
        "type": "BackupFailed",
        "metric_name": "freeze",
        "message_key": f"{PREFIX}:{instance_id}",
        "severity": "2",
        "resolution_state": "New",
        "time_of_event": "2026-11-23 01:00:34",
        "description": f"Freeze failed on {instance_id}: fsfreeze /data: Operation not supported",
        "additional_info": json.dumps({"stage": "freeze", "run_id": "nightly-20261123T010000Z"}),
    }
    event.update(changes)
    return event


def alarm(state: str = "ALARM", **changes: Any) -> dict[str, Any]:
    """CloudWatch's alarm notification (the shape of aws-lambda-go's SNS test payload)."""
    message = {
        "AlarmName": f"{PREFIX}-discovery-errors",
        "AlarmDescription": "The discovery function failed: no backups start tonight.",
        "AWSAccountId": "123456789012",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 1 datapoint [1.0 (23/11/26 01:05:00)] was "
        "greater than or equal to the threshold (1.0).",
        "StateChangeTime": "2026-11-23T01:06:12.345+0000",
        "Region": "EU (Ireland)",
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:{PREFIX}-discovery-errors",
        "OldStateValue": "OK",
        "Trigger": {
            "MetricName": "Errors",
            "Namespace": "AWS/Lambda",
            "StatisticType": "Statistic",
            "Statistic": "SUM",
            "Unit": None,
            "Dimensions": [{"value": f"{PREFIX}-discovery", "name": "FunctionName"}],
            "Period": 300,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": 1.0,
            "TreatMissingData": "notBreaching",
            "EvaluateLowSampleCountPercentile": "",
        },
    }
    message.update(changes)
    return message


def envelope(message: Any, topic_arn: str = TOPIC_ARN, subject: str = "test") -> str:
    """An SNS notification as SNS writes it to an SQS queue with raw delivery off."""
    text = message if isinstance(message, str) else json.dumps(message)
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "6f0b3f1a-0000-4000-8000-000000000001",
            "TopicArn": topic_arn,
            "Subject": subject,
            "Message": text,
            "Timestamp": "2026-11-23T01:06:12.400Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/cert.pem",
            "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
        }
    )


@pytest.fixture(scope="module")
def snow() -> Iterator[LocalServiceNow]:
    with LocalServiceNow() as server:
        server.add_user(USER, PASSWORD)
        server.add_user(NO_ROLE_USER, NO_ROLE_PASSWORD, roles=("itil",))
        server.add_api_key(API_KEY, user=USER)
        yield server


@dataclass
class World:
    snow: LocalServiceNow
    sqs: Any
    secrets: Any
    queue_url: str
    queue_arn: str
    dlq_url: str
    secret_arn: str
    sleeps: list[float]

    def send(self, *bodies: str) -> None:
        for body in bodies:
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)

    def set_secret(self, value: Any) -> None:
        text = value if isinstance(value, str) else json.dumps(value)
        self.secrets.put_secret_value(SecretId=self.secret_arn, SecretString=text)

    def invoke(self, event: dict[str, Any]) -> Any:
        return handler.run(event, Context(), sleep=self.sleeps.append)

    def poll(self) -> lambda_sqs.Poll:
        """One poll of the queue by the (emulated) event source mapping."""
        return lambda_sqs.poll(self.sqs, self.queue_url, self.queue_arn, self.invoke)

    def dead_letters(self) -> list[dict[str, Any]]:
        found = []
        for _ in range(10):
            batch = self.sqs.receive_message(
                QueueUrl=self.dlq_url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                VisibilityTimeout=600,
            ).get("Messages", [])
            if not batch:
                break
            found += batch
        return found

    def visible(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])


@pytest.fixture
def world(snow: LocalServiceNow, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        secrets = boto3.client("secretsmanager", region_name=REGION)
        dlq_url = sqs.create_queue(QueueName=f"{PREFIX}-servicenow-dlq")["QueueUrl"]
        queue_url = sqs.create_queue(QueueName=f"{PREFIX}-servicenow")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        secret_arn = secrets.create_secret(
            Name=f"{PREFIX}/servicenow",
            SecretString=json.dumps({"username": USER, "password": PASSWORD}),
        )["ARN"]
        for name, value in {
            "SERVICENOW_URL": snow.url,
            "SERVICENOW_SECRET_ARN": secret_arn,
            "DEAD_LETTER_QUEUE_URL": dlq_url,
            "QUEUE_URL": queue_url,
            "NAME_PREFIX": PREFIX,
            "MAX_ATTEMPTS": "3",
            "REQUEST_TIMEOUT_SECONDS": "5",
        }.items():
            monkeypatch.setenv(name, value)
        config.load.cache_clear()
        clients.reset()
        credentials.store.clear()
        snow.reset()
        yield World(snow, sqs, secrets, queue_url, queue_arn, dlq_url, secret_arn, [])
        config.load.cache_clear()
        clients.reset()
        credentials.store.clear()
        snow.reset()
