"""Storm collapse at fleet size (docs/contracts.md 5b): FLEET executions of one run that
fail for the same reason, each recording its outcome with the state machine's own
``RecordRunOutcome`` request and deciding with its own expressions (evaluated from the
rendered definition by the emulator's JSONata bridge, against moto's DynamoDB), then
discovery's last hop and the real summarizer. The events counted are those published.

The whole executions run in tests/statemachine/test_run_ledger.py; hundreds of them
would take minutes there, the ledger's decisions are all this test needs.

FLEET is four times the member list's cap (50): each record takes one of the paths a
thousand would take (its own message, the storm event, folded into the list, folded
after the list is full and written again without it), and the counters decide alone,
whatever the fleet's size. 1,000 cost a minute of CPU, nearly all of it moto's
DynamoDB parsing and serializing the same requests and item, for no other path."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from discovery import config, runsummary
from discovery.ledger import Ledger
from emulator import jsonata_bridge
from emulator.statemachine import TEMPLATE_VARIABLES, render

REGION = "eu-west-1"
TABLE = "acb-run-ledger"
SCHEDULED = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
RUN_TIME = "2026-11-23T01:00:00Z"
REASON_CODE = "backup-job/start-failed/Backup.AccessDeniedException"
FLEET = 200


def _states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in definition["States"].items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from _states(branch)
        if "ItemProcessor" in state:
            yield from _states(state["ItemProcessor"])


def _expression(text: str) -> str:
    assert text.startswith("{%"), text
    assert text.endswith("%}"), text
    return text[2:-2].strip()


class Definition:
    """The rendered state machine's ledger expressions, for a given threshold."""

    def __init__(self, storm_threshold: int) -> None:
        variables = {**TEMPLATE_VARIABLES, "storm_threshold": storm_threshold}
        states = dict(_states(json.loads(render(variables))))
        record = states["RecordRunOutcome"]
        self.arguments = _expression(record["Arguments"])
        self.storm = _expression(record["Assign"]["storm"])
        self.full_catch = record["Catch"][0]
        assert self.full_catch["ErrorEquals"] == ["DynamoDB.ConditionalCheckFailedException"]
        self.notifies = [
            _expression(rule["Condition"])
            for state in states.values()
            if state["Type"] == "Choice"
            for rule in state["Choices"]
            if rule.get("Next") == "NotifyOperators" and "$storm.role" in rule["Condition"]
        ]
        assert len(self.notifies) == 1, self.notifies


def _outcome() -> dict[str, Any]:
    return {
        "result": "failed",
        "notify": True,
        "fails": True,
        "open_alert": True,
        "stage": "backup-job",
        "type": "BackupFailed",
        "severity": "2",
        "severity_name": "Major",
        "resolution_state": "New",
        "reason": "StartBackupJob failed: AccessDeniedException: the vault's key is disabled",
        "reason_code": REASON_CODE,
    }


def _execution(ddb: Any, definition: Definition, instance_id: str, rewrites: list[str]) -> bool:
    """One execution's record and decision, as the state machine takes them: whether it
    publishes (its own message or the storm event). A record written again without the
    member list (the list was full) names its instance in ``rewrites``."""
    from botocore.exceptions import ClientError

    variables = {
        "outcome": _outcome(),
        "ledgerKey": "run/nightly/20261123T010000Z",
        "ledgerFull": False,
        "schedule": "nightly",
        "runTime": RUN_TIME,
        "rpArn": "",
        "consistency": "none",
        "instanceId": instance_id,
        "states": {"context": {}},
    }
    while True:
        request = jsonata_bridge.evaluate(definition.arguments, variables)
        try:
            result = ddb.update_item(**request)
            break
        except ClientError as error:  # the definition's Catch: write again without the list
            code = error.response["Error"]["Code"]
            if code != "ConditionalCheckFailedException" or variables["ledgerFull"]:
                raise
            variables["ledgerFull"] = True
            rewrites.append(instance_id)
    variables["states"] = {"result": {"Attributes": result["Attributes"]}}
    variables["storm"] = jsonata_bridge.evaluate(definition.storm, variables)
    return bool(jsonata_bridge.evaluate(definition.notifies[0], variables))


@pytest.fixture
def account() -> Iterator[tuple[Any, Any, str]]:
    from moto import mock_aws

    env = {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with mock_aws():
            import boto3

            ddb = boto3.client("dynamodb", region_name=REGION)
            ddb.create_table(
                TableName=TABLE,
                KeySchema=[{"AttributeName": "ledger_key", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "ledger_key", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            sns = boto3.client("sns", region_name=REGION)
            topic = sns.create_topic(Name="acb-events")["TopicArn"]
            sqs = boto3.client("sqs", region_name=REGION)
            queue = sqs.create_queue(QueueName="operator")["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            sns.subscribe(
                TopicArn=topic,
                Protocol="sqs",
                Endpoint=queue_arn,
                Attributes={"RawMessageDelivery": "true"},
            )
            yield ddb, sns, topic
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _config(topic: str, storm_threshold: int) -> config.Config:
    return config.from_environment(
        {
            "STATE_MACHINE_ARN": (
                "arn:aws:states:eu-west-1:123456789012:stateMachine:acb-backup-instance"
            ),
            "NOTIFICATION_TOPIC_ARN": topic,
            "NAME_PREFIX": "acb",
            "RUN_LEDGER_TABLE": TABLE,
            "STORM_THRESHOLD": str(storm_threshold),
        }
    )


def test_a_fleet_of_same_failures_gives_the_threshold_a_storm_and_one_summary(
    account: tuple[Any, Any, str],
) -> None:
    ddb, sns, topic = account
    storm_threshold = 1  # the default (notifications.storm_threshold)
    definition = Definition(storm_threshold)
    instances = [f"i-{n:017x}" for n in range(FLEET)]
    rewrites: list[str] = []
    published = sum(_execution(ddb, definition, instance_id, rewrites) for instance_id in instances)
    assert rewrites == instances[50:]  # every record after the cap's, once each

    cfg = _config(topic, storm_threshold)
    ledger = Ledger(ddb, TABLE)
    record = ledger.record_discovery(
        "nightly",
        SCHEDULED,
        expected=FLEET,
        state="complete",
        counts={"discovered": FLEET, "started": FLEET},
        now=SCHEDULED,
    )
    assert record.due
    summary = runsummary.summarize(
        cfg, ledger, sns, "nightly", SCHEDULED, published_by=runsummary.RUN_COMPLETE
    )
    assert summary["published"]
    assert summary["storms"] == [REASON_CODE]
    again = runsummary.summarize(
        cfg, ledger, sns, "nightly", SCHEDULED, published_by=runsummary.RUN_COMPLETE
    )
    assert not again["published"]

    events = published + 1  # the executions' publications, and the one summary
    assert events == storm_threshold + 2 == 3
    item = ddb.get_item(TableName=TABLE, Key={"ledger_key": {"S": "run/nightly/20261123T010000Z"}})[
        "Item"
    ]
    assert item[f"group_count:{REASON_CODE}"]["N"] == str(FLEET)
    assert len(item[f"group_members:{REASON_CODE}"]["L"]) == 50  # the contract's cap
    assert item["finished"]["N"] == str(FLEET)
