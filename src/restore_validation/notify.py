"""The restore test's result, to the notification topic, in docs/contracts.md section 5's
ServiceNow-ready fields (section 6 says which)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from restore_validation.config import Config

logger = logging.getLogger(__name__)

SOURCE = "app-consistent-backup"
STAGE = "restore-test"
SEVERITY_NAMES = {
    "0": "Clear",
    "1": "Critical",
    "2": "Major",
    "3": "Minor",
    "4": "Warning",
    "5": "OK",
}


def notification(
    config: Config,
    *,
    node: str,
    resource: str,
    event_type: str,
    outcome: str,
    severity: str,
    description: str,
    additional: dict[str, Any],
    now: datetime | None = None,
) -> dict[str, Any]:
    """The Publish request's Subject, Message and MessageAttributes."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    info = {key: "" if value is None else str(value) for key, value in additional.items()}
    info["stage"] = STAGE
    message = {
        "source": SOURCE,
        "event_class": config.name_prefix,
        "node": node,
        "resource": resource,
        "type": event_type,
        "metric_name": STAGE,
        "message_key": f"{config.name_prefix}:{STAGE}:{node}",
        "severity": severity,
        "resolution_state": "Closing" if severity in ("0", "5") else "New",
        "time_of_event": moment.strftime("%Y-%m-%d %H:%M:%S"),
        "description": description,
        "additional_info": json.dumps(info, sort_keys=True),
    }
    attributes = {"severity": severity, "stage": STAGE, "outcome": outcome, "instance_id": node}
    return {
        "Subject": f"[{SEVERITY_NAMES[severity]}] {SOURCE} {STAGE} {outcome} {node}"[:100],
        "Message": json.dumps(message, sort_keys=True),
        "MessageAttributes": {
            key: {"DataType": "String", "StringValue": value} for key, value in attributes.items()
        },
    }


def publish(sns: Any, topic_arn: str, entry: dict[str, Any]) -> bool:
    """Publish one notification; a failure is logged, never raised."""
    try:
        sns.publish(TopicArn=topic_arn, **entry)
    except (ClientError, BotoCoreError) as error:
        logger.error("could not publish the restore test's notification: %s", error)
        return False
    return True
