"""Fixtures for the discovery tests: moto with the function's configuration."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from discovery import clients, config, fanout
from tests.discovery import fleet
from tests.discovery.support import FUNCTION_ARN, REGION


@dataclass
class Env:
    """What a test needs to look at: the clients, ARNs and recorded side effects."""

    ec2: Any
    sfn: Any
    sns: Any
    state_machine_arn: str
    topic_arn: str
    handed_on: list[dict[str, Any]] = field(default_factory=list)

    def hand_on(self, function_arn: str, event: dict[str, Any]) -> None:
        assert function_arn == FUNCTION_ARN
        assert len(json.dumps(event)) < 4096, "continuation payload must stay small"
        self.handed_on.append(json.loads(json.dumps(event)))

    def executions(self) -> list[dict[str, Any]]:
        pages = self.sfn.get_paginator("list_executions").paginate(
            stateMachineArn=self.state_machine_arn
        )
        return [e for page in pages for e in page["executions"]]

    def execution_inputs(self) -> dict[str, dict[str, Any]]:
        return {
            name: json.loads(document) for name, document in fleet.execution_inputs(self).items()
        }

    def notifications(self) -> list[dict[str, Any]]:
        return fleet.notifications(self.topic_arn)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setattr(fanout, "sleep", lambda _seconds: None)
    clients.reset()
    config.load.cache_clear()
    with mock_aws(), fleet.fast_moto():
        sfn = boto3.client("stepfunctions", region_name=REGION)
        sns = boto3.client("sns", region_name=REGION)
        state_machine_arn = sfn.create_state_machine(
            name="acb-backup-instance",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn=f"arn:aws:iam::{fleet.ACCOUNT}:role/acb-state-machine",
        )["stateMachineArn"]
        topic_arn = sns.create_topic(Name="acb-notifications")["TopicArn"]
        for name, value in {
            "STATE_MACHINE_ARN": state_machine_arn,
            "NOTIFICATION_TOPIC_ARN": topic_arn,
            "NAME_PREFIX": "acb",
            "BACKUP_TAG_KEY": "AppConsistentBackup",
            "OPT_OUT_TAG_KEY": "AppConsistentBackupOptOut",
            "MAX_CONCURRENCY": "8",
            "START_RATE_PER_SECOND": "1000",
            "START_BURST": "1000",
            "CONTINUATION_MARGIN_SECONDS": "30",
        }.items():
            monkeypatch.setenv(name, value)
        yield Env(
            ec2=boto3.client("ec2", region_name=REGION),
            sfn=sfn,
            sns=sns,
            state_machine_arn=state_machine_arn,
            topic_arn=topic_arn,
        )
    clients.reset()
    config.load.cache_clear()
