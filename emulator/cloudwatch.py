"""CloudWatch alarm evaluation and SNS actions, which moto does not do.

moto stores alarms and metric data but never evaluates an alarm nor runs its actions.
``evaluate(cloudwatch, sns, names)`` does both, through the public APIs (so it works
against moto in-process and against the emulator's server), for metric alarms on one
metric with a static threshold:

- the statistic over each of the last ``EvaluationPeriods`` periods ending now
  (GetMetricStatistics); the alarm is ``ALARM`` when at least ``DatapointsToAlarm``
  (default: all) of them breach the threshold, ``OK`` otherwise;
- periods with no data are treated as ``TreatMissingData`` says ("Configuring how
  CloudWatch alarms treat missing data", CloudWatch User Guide): ``breaching``,
  ``notBreaching``, ``ignore`` (the state stays), ``missing`` (all missing:
  ``INSUFFICIENT_DATA``);
- on a change of state, SetAlarmState, then each action of the new state (SNS topics)
  gets CloudWatch's alarm notification: the JSON of ``AlarmName``,
  ``AlarmDescription``, ``AWSAccountId``, ``NewStateValue``, ``NewStateReason``,
  ``StateChangeTime`` (``2026-11-23T01:06:12.345+0000``), ``Region`` (its long name),
  ``AlarmArn``, ``OldStateValue``, ``Trigger`` (``MetricName``, ``Namespace``,
  ``StatisticType``, ``Statistic`` upper-case, ``Unit``, ``Dimensions`` as
  ``[{"value", "name"}]``, ``Period``, ``EvaluationPeriods``, ``ComparisonOperator``,
  ``Threshold``, ``TreatMissingData``), subject ``ALARM: "<name>" in <Region>``
  (the shape of aws-lambda-go's ``cloudwatch-alarm-sns-payload-single-metric.json``).

``install()`` (part of ``emulator.install()``) makes a new alarm start as AWS's do,
``INSUFFICIENT_DATA`` (PutMetricAlarm: "the alarm state is immediately set to
INSUFFICIENT_DATA"); moto starts them ``OK``.

Assumptions: periods are counted back from now (CloudWatch aligns them to its own
clock); metric math and anomaly-detection alarms are left as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ._patching import original, patch

REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
    "eu-west-2": "EU (London)",
    "eu-central-1": "EU (Frankfurt)",
}
WORDS = {
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "GreaterThanThreshold": "greater than",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}
COMPARE = {
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}


@dataclass(frozen=True)
class Transition:
    alarm_name: str
    old_state: str
    new_state: str
    reason: str
    published: tuple[str, ...]  # topics notified


def _statistic(points: list[dict[str, Any]], statistic: str) -> float | None:
    if not points:
        return None
    if statistic == "Sum":
        return sum(p["Sum"] for p in points)
    if statistic == "SampleCount":
        return sum(p["SampleCount"] for p in points)
    if statistic == "Maximum":
        return max(p["Maximum"] for p in points)
    if statistic == "Minimum":
        return min(p["Minimum"] for p in points)
    count = sum(p["SampleCount"] for p in points)
    return sum(p["Sum"] for p in points) / count if count else None


def _values(cloudwatch: Any, alarm: dict[str, Any], now: datetime) -> list[float | None]:
    """The statistic of each evaluation period, newest first (None: no data)."""
    period = int(alarm["Period"])
    values = []
    for k in range(int(alarm["EvaluationPeriods"])):
        end = now - timedelta(seconds=k * period)
        points = cloudwatch.get_metric_statistics(
            Namespace=alarm["Namespace"],
            MetricName=alarm["MetricName"],
            Dimensions=alarm.get("Dimensions", []),
            StartTime=end - timedelta(seconds=period),
            EndTime=end,
            Period=period,
            Statistics=["Sum", "SampleCount", "Maximum", "Minimum", "Average"],
        )["Datapoints"]
        values.append(_statistic(points, alarm["Statistic"]))
    return values


def _decide(alarm: dict[str, Any], values: list[float | None]) -> tuple[str, str]:
    """(new state, reason) as CloudWatch words it, or the current state."""
    missing = alarm.get("TreatMissingData", "missing")
    compare = COMPARE[alarm["ComparisonOperator"]]
    threshold = float(alarm["Threshold"])
    needed = int(alarm.get("DatapointsToAlarm") or alarm["EvaluationPeriods"])
    present = [v for v in values if v is not None]
    if not present and missing in ("missing", "ignore"):
        state = "INSUFFICIENT_DATA" if missing == "missing" else alarm["StateValue"]
        return state, "Insufficient Data: no datapoint was received."
    breaching = sum(1 for v in present if compare(v, threshold))
    if missing == "breaching":
        breaching += len(values) - len(present)
    shown = ", ".join("missing" if v is None else f"{v:g}" for v in values)
    verb = "was" if breaching else "was not"
    reason = (
        f"Threshold Crossed: {breaching} out of the last {len(values)} datapoints [{shown}] "
        f"{verb} {WORDS[alarm['ComparisonOperator']]} the threshold ({threshold:g}) "
        f"(minimum {needed} datapoint for OK -> ALARM transition)."
    )
    return ("ALARM" if breaching >= needed else "OK"), reason


def message(alarm: dict[str, Any], old: str, new: str, reason: str, when: datetime) -> str:
    arn = alarm["AlarmArn"]
    region = arn.split(":")[3]
    return json.dumps(
        {
            "AlarmName": alarm["AlarmName"],
            "AlarmDescription": alarm.get("AlarmDescription"),
            "AWSAccountId": arn.split(":")[4],
            "NewStateValue": new,
            "NewStateReason": reason,
            "StateChangeTime": when.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{when.microsecond // 1000:03d}+0000",
            "Region": REGION_NAMES.get(region, region),
            "AlarmArn": arn,
            "OldStateValue": old,
            "Trigger": {
                "MetricName": alarm["MetricName"],
                "Namespace": alarm["Namespace"],
                "StatisticType": "Statistic",
                "Statistic": alarm["Statistic"].upper(),
                "Unit": alarm.get("Unit"),
                "Dimensions": [
                    {"value": d["Value"], "name": d["Name"]} for d in alarm.get("Dimensions", [])
                ],
                "Period": alarm["Period"],
                "EvaluationPeriods": alarm["EvaluationPeriods"],
                "ComparisonOperator": alarm["ComparisonOperator"],
                "Threshold": float(alarm["Threshold"]),
                "TreatMissingData": alarm.get("TreatMissingData", "missing"),
                "EvaluateLowSampleCountPercentile": "",
            },
        }
    )


def evaluate(
    cloudwatch: Any, sns: Any, names: list[str] | None = None, now: datetime | None = None
) -> list[Transition]:
    """Evaluate the named metric alarms (all when None); run the actions of each change."""
    now = now or datetime.now(tz=UTC)
    kwargs = {"AlarmNames": names} if names else {}
    alarms = [
        a
        for page in cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmTypes=["MetricAlarm"], **kwargs
        )
        for a in page["MetricAlarms"]
        if a.get("MetricName") and a.get("ComparisonOperator") in COMPARE
    ]
    changes = []
    for alarm in alarms:
        new, reason = _decide(alarm, _values(cloudwatch, alarm, now))
        old = alarm["StateValue"]
        if new == old:
            continue
        cloudwatch.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue=new, StateReason=reason)
        actions = {
            "ALARM": alarm.get("AlarmActions", []),
            "OK": alarm.get("OKActions", []),
            "INSUFFICIENT_DATA": alarm.get("InsufficientDataActions", []),
        }[new]
        topics = tuple(a for a in actions if a.split(":")[2] == "sns")
        region = alarm["AlarmArn"].split(":")[3]
        for topic in topics:
            sns.publish(
                TopicArn=topic,
                Subject=f'{new}: "{alarm["AlarmName"]}" in {REGION_NAMES.get(region, region)}'[
                    :100
                ],
                Message=message(alarm, old, new, reason, now),
            )
        changes.append(Transition(alarm["AlarmName"], old, new, reason, topics))
    return changes


def starting_insufficient(init: Any) -> Any:
    """moto's Alarm.__init__, ending in INSUFFICIENT_DATA."""

    def _init(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.state_value = "INSUFFICIENT_DATA"

    return _init


def install() -> None:
    from moto.cloudwatch.models import Alarm

    patch(Alarm, "__init__", starting_insufficient(original(Alarm, "__init__")))
