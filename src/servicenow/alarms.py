"""A CloudWatch alarm's SNS message, as an Event Management event (contracts section 8)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

SOURCE = "app-consistent-backup"
TYPE = "AlarmStateChange"
SEVERITY = {"ALARM": ("2", "New"), "OK": ("0", "Closing"), "INSUFFICIENT_DATA": ("4", "New")}


def is_alarm(message: Any) -> bool:
    return (
        isinstance(message, dict)
        and isinstance(message.get("AlarmName"), str)
        and isinstance(message.get("NewStateValue"), str)
        and "StateChangeTime" in message
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def time_of_event(value: Any, fallback: datetime | None = None) -> str:
    """CloudWatch's ``2026-11-23T01:00:34.123+0000`` as ServiceNow's UTC ``YYYY-MM-DD HH:MM:SS``."""
    parsed = None
    if isinstance(value, str):
        for pattern in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
            try:
                parsed = datetime.strptime(value, pattern)
                break
            except ValueError:
                continue
        if parsed is None:
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                parsed = None
    if parsed is None:
        parsed = fallback or datetime.now(tz=UTC)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _dimensions(trigger: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for item in trigger.get("Dimensions") or []:
        if isinstance(item, dict):
            name = item.get("name", item.get("Name"))
            value = item.get("value", item.get("Value"))
            if isinstance(name, str) and value is not None:
                found.append((name, _text(value)))
    return found


def _metric(trigger: dict[str, Any]) -> tuple[str, str, str]:
    """(namespace, metric, metric_name field) of a single-metric or metric-math trigger."""
    if trigger.get("MetricName"):
        namespace, metric = _text(trigger.get("Namespace")), _text(trigger.get("MetricName"))
        return namespace, metric, f"{namespace}/{metric}" if namespace else metric
    for query in trigger.get("Metrics") or []:  # metric math: the first metric read
        stat = query.get("MetricStat") if isinstance(query, dict) else None
        metric = (stat or {}).get("Metric") or {}
        if metric.get("MetricName"):
            return _text(metric.get("Namespace")), _text(metric.get("MetricName")), "expression"
    return "", "", "expression"


def to_event(message: dict[str, Any], name_prefix: str) -> dict[str, str]:
    name = message["AlarmName"]
    state = message["NewStateValue"]
    severity, resolution = SEVERITY.get(state, ("4", "New"))
    trigger = message.get("Trigger") if isinstance(message.get("Trigger"), dict) else {}
    dimensions = _dimensions(trigger)
    namespace, metric, metric_name = _metric(trigger)
    description = f"{name} is {state}: {_text(message.get('NewStateReason'))}"
    if message.get("AlarmDescription"):
        description += f"\n{_text(message['AlarmDescription'])}"
    info = {
        "alarm_name": name,
        "alarm_arn": _text(message.get("AlarmArn")),
        "account": _text(message.get("AWSAccountId")),
        "region": _text(message.get("Region")),
        "old_state": _text(message.get("OldStateValue")),
        "new_state": state,
        "namespace": namespace,
        "metric": metric,
        "dimensions": ",".join(f"{k}={v}" for k, v in dimensions),
        "statistic": _text(trigger.get("Statistic") or trigger.get("ExtendedStatistic")),
        "period": _text(trigger.get("Period")),
        "threshold": _text(trigger.get("Threshold")),
        "comparison": _text(trigger.get("ComparisonOperator")),
    }
    return {
        "source": SOURCE,
        "event_class": name_prefix,
        "node": dimensions[0][1] if dimensions else name,
        "resource": _text(message.get("AlarmArn")) or name,
        "type": TYPE,
        "metric_name": metric_name,
        "message_key": f"{name_prefix}:alarm:{name}",
        "severity": severity,
        "resolution_state": resolution,
        "time_of_event": time_of_event(message.get("StateChangeTime")),
        "description": description,
        "additional_info": json.dumps(info, sort_keys=True),
    }
