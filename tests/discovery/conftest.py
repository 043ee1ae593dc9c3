"""Fixtures for the discovery tests: moto with the function's configuration, in virtual time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from discovery import clients, clock, config, handler
from tests.discovery import fleet
from tests.discovery.support import FUNCTION_ARN, MARGIN_SECONDS, REGION, FakeContext, VirtualClock

MAX_ASYNC_PAYLOAD = 256 * 1024


@dataclass
class Env:
    """What a test needs to look at: the clients, ARNs and recorded side effects."""

    ec2: Any
    sfn: Any
    sns: Any
    state_machine_arn: str
    topic_arn: str
    clock: VirtualClock
    handed_on: list[dict[str, Any]] = field(default_factory=list)

    def hand_on(self, function_arn: str, event: dict[str, Any]) -> None:
        assert function_arn == FUNCTION_ARN
        size = len(json.dumps(event, separators=(",", ":")).encode())
        assert size < MAX_ASYNC_PAYLOAD, f"continuation payload of {size} bytes"
        self.handed_on.append(json.loads(json.dumps(event)))

    def drive(
        self, event: dict[str, Any], context: FakeContext | None = None
    ) -> list[dict[str, Any]]:
        """Run the event, then every continuation it hands on, as Lambda would."""
        summaries = [handler.run(event, context or FakeContext(), self.hand_on)]
        while self.handed_on:
            summaries.append(
                handler.run(self.handed_on.pop(0), context or FakeContext(), self.hand_on)
            )
        return summaries

    def executions(self) -> list[dict[str, Any]]:
        pages = self.sfn.get_paginator("list_executions").paginate(
            stateMachineArn=self.state_machine_arn
        )
        return [e for page in pages for e in page["executions"]]

    def execution_inputs(self) -> dict[str, dict[str, Any]]:
        return {
            name: json.loads(document) for name, document in fleet.execution_inputs(self).items()
        }

    def started_ids(self) -> list[str]:
        return sorted(i["instance_id"] for i in self.execution_inputs().values())

    def notifications(self) -> list[dict[str, Any]]:
        return fleet.notifications(self.topic_arn)

    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(n["message"]) for n in self.notifications()]


@pytest.fixture(autouse=True)
def virtual_time() -> Iterator[VirtualClock]:
    """Every test runs in virtual time: no wait of the handler (nor botocore's
    back-off) really sleeps."""
    virtual = VirtualClock()
    previous = clock.use(virtual, botocore_backoff=True)
    yield virtual
    clock.use(previous)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, virtual_time: VirtualClock) -> Iterator[Env]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # Until moto's reset at the end too (fleet.fast_moto says why).
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
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
            "CONTINUATION_MARGIN_SECONDS": str(MARGIN_SECONDS),
        }.items():
            monkeypatch.setenv(name, value)
        yield Env(
            ec2=boto3.client("ec2", region_name=REGION),
            sfn=sfn,
            sns=sns,
            state_machine_arn=state_machine_arn,
            topic_arn=topic_arn,
            clock=virtual_time,
        )
    clients.reset()
    config.load.cache_clear()


@pytest.fixture
def paced(aws: Env, monkeypatch: pytest.MonkeyPatch) -> Env:
    """One start per virtual second: a context's remaining time counts its starts."""
    monkeypatch.setenv("START_RATE_PER_SECOND", "1")
    monkeypatch.setenv("START_BURST", "1")
    config.load.cache_clear()
    return aws


@pytest.fixture
def emf(capsys: pytest.CaptureFixture[str]) -> Any:
    """The EMF metric documents written so far (each call reads and forgets)."""

    def read() -> list[dict[str, Any]]:
        return [
            json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
        ]

    return read
