"""The delivery path of the demo: SNS -> SQS -> the deployed delivery function -> ServiceNow.

The local ServiceNow (``emulator.servicenow``) listens on the loopback before the apply;
the demo stores its integration user's credentials in the emulator's Secrets Manager
and gives Terraform only the secret's ARN, as a user would. After the backup cycle the
queue the topics feed is polled as Lambda's event source mapping does
(``emulator.lambda_sqs``), each batch handed to the deployed package's handler in a
process of its own with the deployed function's environment (``demo.invoke``).
"""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from demo import invoke
from emulator import cloudwatch as alarms
from emulator import lambda_sqs
from emulator.servicenow import LocalServiceNow

USER = "svc_acb_events"
SECRET_NAME = "acb-demo/servicenow"  # noqa: S105 - a name, not a password


@dataclass
class Delivery:
    """What reached ServiceNow, and what did not."""

    polls: list[lambda_sqs.Poll] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)  # events, in order
    bodies: list[str] = field(default_factory=list)  # request bodies ServiceNow accepted
    statuses: list[int] = field(default_factory=list)  # every answer ServiceNow gave
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def start(secretsmanager: Any) -> tuple[LocalServiceNow, str]:
    """The local ServiceNow, and the ARN of the secret holding its integration user."""
    snow = LocalServiceNow().start()
    password = secrets.token_hex(12)
    snow.add_user(USER, password)
    arn = secretsmanager.create_secret(
        Name=SECRET_NAME, SecretString=json.dumps({"username": USER, "password": password})
    )["ARN"]
    return snow, arn


def deliver(
    aws: Any,
    clients: dict[str, Any],
    outputs: dict[str, Any],
    code_dir: Path,
    snow: LocalServiceNow,
    *,
    log: Path,
    since: int = 0,
) -> Delivery:
    """Drain the delivery queue through the deployed function; what ServiceNow received
    (its requests from the ``since``-th on)."""
    sqs = clients["sqs"]
    function = clients["lambda"].get_function_configuration(
        FunctionName=outputs["servicenow_function_name"]
    )
    queue_url = outputs["servicenow_queue_url"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    mappings = clients["lambda"].list_event_source_mappings(EventSourceArn=queue_arn)
    result = Delivery()
    batch_size = 10
    for mapping in mappings.get("EventSourceMappings", []):
        if mapping.get("FunctionArn") == function["FunctionArn"]:
            batch_size = int(mapping.get("BatchSize") or 10)
            if "ReportBatchItemFailures" not in (mapping.get("FunctionResponseTypes") or []):
                result.problems.append("the event source mapping does not report item failures")
            break
    else:
        result.problems.append(f"no event source mapping from {queue_arn} to the function")
    result.polls = lambda_sqs.drain(
        sqs,
        queue_url,
        queue_arn,
        lambda event: invoke.function(aws, function, code_dir, event, log),
        batch_size=batch_size,
    )
    for poll in result.polls:
        if poll.error:
            result.problems.append(f"an invocation failed: {poll.error}")
        if poll.kept:
            result.problems.append(f"{len(poll.kept)} message(s) returned for a retry")
    requests = snow.requests[since:]
    result.statuses = [r.status for r in requests]
    result.bodies = [r.body for r in requests if 200 <= r.status < 300]
    result.accepted = [e for body in result.bodies for e in json.loads(body)["records"]]
    result.dead_letters = _drain(sqs, outputs["servicenow_dead_letter_queue_url"])
    for message in result.dead_letters:
        reason = message.get("MessageAttributes", {}).get("reason", {}).get("StringValue")
        result.problems.append(f"dead-lettered: {reason or 'after max_receive_count receives'}")
    return result


def _drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for _ in range(50):  # bounded: the demo sends a handful
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=600,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            break
        found += batch
    return found


def alarm_routes(cloudwatch: Any, name_prefix: str, alarm_topic_arn: str) -> list[str]:
    """Every alarm of the deployed module must publish ALARM and OK to the alarm topic."""
    problems = []
    alarms = [
        a
        for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"])
        for a in page["MetricAlarms"]
        if a["AlarmName"].startswith(f"{name_prefix}-")
    ]
    if not alarms:
        problems.append("no alarm of the module was found")
    for alarm in alarms:
        for kind in ("AlarmActions", "OKActions"):
            if alarm.get(kind) != [alarm_topic_arn]:
                problems.append(f"alarm {alarm['AlarmName']}: {kind} {alarm.get(kind)}")
    return problems


def alarm_names(cloudwatch: Any, name_prefix: str) -> list[str]:
    return sorted(
        a["AlarmName"]
        for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"])
        for a in page["MetricAlarms"]
        if a["AlarmName"].startswith(f"{name_prefix}-")
    )


@dataclass
class Drill:
    """The discovery function crashes: is it heard?"""

    crash: str = ""  # how the deployed code failed
    transitions: list[alarms.Transition] = field(default_factory=list)
    delivery: Delivery = field(default_factory=Delivery)
    problems: list[str] = field(default_factory=list)


def crash_drill(
    aws: Any,
    clients: dict[str, Any],
    outputs: dict[str, Any],
    discovery: tuple[dict[str, Any], Path, dict[str, Any]],
    delivery_code: Path,
    *,
    snow: LocalServiceNow,
    log: Path,
) -> Drill:
    """Crash the deployed discovery code, then follow its alarm to ServiceNow and back.

    ``discovery`` is the function's configuration, its unzipped package and the event
    its schedule sends. The code runs without its STATE_MACHINE_ARN, as a broken
    deployment would, and raises; Lambda would count that in ``AWS/Lambda`` ``Errors``,
    which the demo records for the function. The deployed alarm is then evaluated as
    CloudWatch does (``emulator.cloudwatch``): its notification goes to the alarm topic,
    the delivery queue, the delivery function and ServiceNow. Ten minutes later (on the
    evaluation's clock) with no new error, the alarm's OK follows the same way.
    """
    function, code_dir, event = discovery
    drill = Drill()
    broken = copy.deepcopy(function)
    broken.get("Environment", {}).get("Variables", {}).pop("STATE_MACHINE_ARN", None)
    try:
        invoke.function(aws, broken, code_dir, event, log)
        drill.problems.append("the discovery function did not fail without its STATE_MACHINE_ARN")
    except RuntimeError as error:
        drill.crash = str(error)
    now = datetime.now(tz=UTC)
    cloudwatch, name = clients["cloudwatch"], f"{function['FunctionName']}-errors"
    cloudwatch.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": function["FunctionName"]}],
                "Timestamp": now - timedelta(seconds=30),  # the crash, before the evaluation
                "Value": 1,
                "Unit": "Count",
            }
        ],
    )
    since = len(snow.requests)
    drill.transitions = alarms.evaluate(cloudwatch, clients["sns"], [name], now=now)
    drill.transitions += alarms.evaluate(
        cloudwatch, clients["sns"], [name], now=now + timedelta(minutes=10)
    )
    drill.delivery = deliver(aws, clients, outputs, delivery_code, snow, log=log, since=since)
    states = [(t.alarm_name, t.new_state, t.published) for t in drill.transitions]
    want = [(name, state, (outputs["alarm_topic_arn"],)) for state in ("ALARM", "OK")]
    if states != want:
        drill.problems.append(f"alarm transitions {states}, expected {want}")
    got = [
        (e.get("message_key"), e.get("severity"), e.get("type")) for e in drill.delivery.accepted
    ]
    key = f"{function['FunctionName'].removesuffix('-discovery')}:alarm:{name}"
    if got != [(key, "2", "AlarmStateChange"), (key, "0", "AlarmStateChange")]:
        drill.problems.append(f"ServiceNow received {got}, expected the alarm then its clear")
    drill.problems += drill.delivery.problems
    return drill
