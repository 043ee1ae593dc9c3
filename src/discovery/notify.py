"""Failures to the notification topic, in the ServiceNow-ready format of
docs/contracts.md section 5 (the state machine publishes the same shape).

Publishing is best effort: a notification that cannot be sent is logged, and never
hides the run's own outcome.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from discovery.config import Config
from discovery.events import Request
from discovery.fanout import Result

logger = logging.getLogger(__name__)

SOURCE = "app-consistent-backup"
SEVERITY_NAMES = {
    "0": "Clear",
    "1": "Critical",
    "2": "Major",
    "3": "Minor",
    "4": "Warning",
    "5": "OK",
}
BATCH = 10  # PublishBatch's maximum
MAX_INSTANCE_NOTIFICATIONS = 100  # per invocation; beyond it one message carries the count


def notification(
    config: Config,
    *,
    node: str,
    resource: str,
    event_type: str,
    stage: str,
    outcome: str,
    severity: str,
    description: str,
    message_key: str,
    additional: dict[str, Any],
    now: datetime | None = None,
) -> dict[str, Any]:
    """One PublishBatch entry (Subject, Message, MessageAttributes)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    info = {key: "" if value is None else str(value) for key, value in additional.items()}
    info["stage"] = stage
    message = {
        "source": SOURCE,
        "event_class": config.name_prefix,
        "node": node,
        "resource": resource,
        "type": event_type,
        "metric_name": stage,
        "message_key": message_key,
        "severity": severity,
        "resolution_state": "New" if severity != "0" else "Closing",
        "time_of_event": moment.strftime("%Y-%m-%d %H:%M:%S"),
        "description": description,
        "additional_info": json.dumps(info, sort_keys=True),
    }
    attributes = {"severity": severity, "stage": stage, "outcome": outcome, "instance_id": node}
    return {
        "Subject": f"[{SEVERITY_NAMES[severity]}] {SOURCE} {outcome} {node}"[:100],
        "Message": json.dumps(message, sort_keys=True),
        "MessageAttributes": {
            key: {"DataType": "String", "StringValue": value} for key, value in attributes.items()
        },
    }


def start_failure(config: Config, request: Request, result: Result) -> dict[str, Any]:
    instance = result.instance
    return notification(
        config,
        node=instance.instance_id,
        resource=instance.arn,
        event_type="BackupFailed",
        stage="start-execution",
        outcome="failed",
        severity="2",
        description=(
            f"Backup of {instance.instance_id} not started for schedule {request.schedule_name} "
            f"at {request.scheduled_time_text}: {result.error_code}: {result.error_message}"
        ),
        message_key=f"{config.name_prefix}:{instance.instance_id}",
        additional={
            "run_id": result.execution_name,
            "execution_name": result.execution_name,
            "state_machine_arn": config.state_machine_arn,
            "schedule_name": request.schedule_name,
            "scheduled_time": request.scheduled_time_text,
            "platform": instance.platform,
            "instance_state": instance.state,
            "error_code": result.error_code,
            "error": result.error_message,
        },
    )


def discovery_failure(
    config: Config, schedule_name: str, description: str, additional: dict[str, Any]
) -> dict[str, Any]:
    node = f"schedule/{schedule_name}"
    return notification(
        config,
        node=node,
        resource=config.state_machine_arn,
        event_type="BackupFailed",
        stage="discovery",
        outcome="failed",
        severity="2",
        description=description,
        message_key=f"{config.name_prefix}:discovery:{schedule_name}",
        additional={"schedule_name": schedule_name, **additional},
    )


def failures(config: Config, request: Request, results: Iterable[Result]) -> list[dict[str, Any]]:
    """The entries for instances that could not be started (capped, with a summary)."""
    failed = list(results)
    entries = [start_failure(config, request, r) for r in failed[:MAX_INSTANCE_NOTIFICATIONS]]
    if len(failed) > MAX_INSTANCE_NOTIFICATIONS:
        rest = failed[MAX_INSTANCE_NOTIFICATIONS:]
        entries.append(
            discovery_failure(
                config,
                request.schedule_name,
                f"{len(rest)} more instances not started for schedule {request.schedule_name} at "
                f"{request.scheduled_time_text} (first error {rest[0].error_code}); "
                "see the run summary log line",
                {
                    "scheduled_time": request.scheduled_time_text,
                    "not_started": len(rest),
                    "instance_ids": ",".join(r.instance.instance_id for r in rest[:200]),
                },
            )
        )
    return entries


def publish(sns: Any, topic_arn: str, entries: list[dict[str, Any]]) -> int:
    """Publish in batches of ten; return how many were accepted."""
    accepted = 0
    for offset in range(0, len(entries), BATCH):
        batch = [
            {"Id": str(offset + index), **entry}
            for index, entry in enumerate(entries[offset : offset + BATCH])
        ]
        try:
            response = sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=batch)
        except (ClientError, BotoCoreError) as error:
            logger.error("could not publish %d notifications: %s", len(batch), error)
            continue
        accepted += len(response.get("Successful", []))
        for failure in response.get("Failed", []):
            logger.error("notification %s not published: %s", failure.get("Id"), failure)
    return accepted
