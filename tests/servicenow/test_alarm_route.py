"""An alarm's whole route: metric data -> the alarm (evaluated as CloudWatch does, in
emulator/cloudwatch.py) -> its SNS topic -> the delivery queue -> the function -> the
local ServiceNow; then its OK closes the alert (docs/contracts.md section 8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from conftest import PREFIX, REGION, World
from moto.cloudwatch.models import Alarm

from emulator import cloudwatch as alarms


@pytest.fixture(autouse=True)
def _alarms_start_insufficient(monkeypatch: pytest.MonkeyPatch) -> None:
    """As emulator.install() does, undone after the test."""
    monkeypatch.setattr(Alarm, "__init__", alarms.starting_insufficient(Alarm.__init__))


def _route(world: World) -> tuple[object, object, str]:
    sns = boto3.client("sns", region_name=REGION)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    topic = sns.create_topic(Name=f"{PREFIX}-alarms")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=world.queue_arn)  # raw delivery off
    return sns, cloudwatch, topic


def test_a_crash_of_discovery_reaches_servicenow_and_its_ok_closes_it(world: World) -> None:
    sns, cloudwatch, topic = _route(world)
    name = f"{PREFIX}-discovery-errors"
    cloudwatch.put_metric_alarm(  # as modules/discovery/monitoring.tf declares it
        AlarmName=name,
        AlarmDescription="The discovery function failed.",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": f"{PREFIX}-discovery"}],
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[topic],
        OKActions=[topic],
    )
    now = datetime.now(tz=UTC)
    cloudwatch.put_metric_data(  # what Lambda records for a failed invocation
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": f"{PREFIX}-discovery"}],
                "Timestamp": now - timedelta(seconds=30),
                "Value": 1,
                "Unit": "Count",
            }
        ],
    )

    [fired] = alarms.evaluate(cloudwatch, sns, [name], now=now)
    world.poll()
    [cleared] = alarms.evaluate(cloudwatch, sns, [name], now=now + timedelta(minutes=10))
    world.poll()

    assert (fired.old_state, fired.new_state, fired.published) == (
        "INSUFFICIENT_DATA",
        "ALARM",
        (topic,),
    )
    assert cleared.new_state == "OK"
    opened, closed = world.snow.accepted
    assert (opened["type"], opened["severity"], opened["resolution_state"]) == (
        "AlarmStateChange",
        "2",
        "New",
    )
    assert opened["node"] == f"{PREFIX}-discovery"
    assert opened["message_key"] == f"{PREFIX}:alarm:{name}" == closed["message_key"]
    assert (closed["severity"], closed["resolution_state"]) == ("0", "Closing")
    assert "greater than or equal to the threshold (1)" in opened["description"]
    assert alarms.evaluate(cloudwatch, sns, [name], now=now + timedelta(minutes=20)) == []


def test_silence_breaches_the_no_recovery_point_alarm(world: World) -> None:
    sns, cloudwatch, topic = _route(world)
    name = f"{PREFIX}-nightly-no-recovery-point"
    dimensions = [
        {"Name": "StateMachine", "Value": f"{PREFIX}-backup-instance"},
        {"Name": "Schedule", "Value": "nightly"},
    ]
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AppConsistentBackup",
        MetricName="RecoveryPoints",
        Dimensions=dimensions,
        Statistic="Sum",
        Period=30 * 3600,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="LessThanThreshold",
        TreatMissingData="breaching",
        AlarmActions=[topic],
        OKActions=[topic],
    )
    now = datetime.now(tz=UTC)

    [silent] = alarms.evaluate(cloudwatch, sns, [name], now=now)
    cloudwatch.put_metric_data(
        Namespace="AppConsistentBackup",
        MetricData=[
            {"MetricName": "RecoveryPoints", "Dimensions": dimensions, "Value": 1, "Timestamp": now}
        ],
    )
    [heard] = alarms.evaluate(cloudwatch, sns, [name], now=now + timedelta(minutes=1))
    world.poll()

    assert silent.new_state == "ALARM"
    assert "missing" in silent.reason
    assert heard.new_state == "OK"
    assert [e["severity"] for e in world.snow.accepted] == ["2", "0"]
