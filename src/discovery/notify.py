"""Notifications to the topic, in the ServiceNow-ready format of docs/contracts.md
section 5 (the state machine publishes the same shape).

Every entry fits SNS's limit: 262,144 bytes for the message plus its attributes'
names, types and values (SNS "Publishing large messages", MessageAttributeValue;
PublishBatch: the same for the whole batch). An entry that would not fit is
shortened, never dropped: the longest of its description and additional_info values
are cut and marked, and ``additional_info.truncated`` names them.

Publishing is best effort: a notification that cannot be sent is logged, and never
hides the run's own outcome.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from discovery import clock
from discovery.config import Config
from discovery.events import Request
from discovery.fanout import Result
from discovery.inventory import Listed
from discovery.selection import Selection
from discovery.tally import Tally

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
BATCH = 10  # PublishBatch's maximum entries
MAX_MESSAGE_BYTES = 262_144  # SNS's default MaximumMessageSize, attributes included
DATA_TYPE = "String"


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
    resolution_state: str | None = None,
) -> dict[str, Any]:
    """One PublishBatch entry (Subject, Message, MessageAttributes), within SNS's size.
    ``resolution_state``: New, or Closing for a Clear (severity 0), unless given."""
    moment = now or clock.now()
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
        "resolution_state": resolution_state or ("New" if severity != "0" else "Closing"),
        "time_of_event": moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "description": description,
    }
    attributes = {
        key: {"DataType": DATA_TYPE, "StringValue": value}
        for key, value in {
            "severity": severity,
            "stage": stage,
            "outcome": outcome,
            "instance_id": node,
        }.items()
    }
    subject = f"[{SEVERITY_NAMES[severity]}] {SOURCE} {outcome} {node}"[:100]
    return _fit(subject, message, info, attributes)


def entry_bytes(entry: dict[str, Any]) -> int:
    """What SNS counts of an entry (the subject too, to be safe)."""
    size = len(entry["Message"].encode()) + len(entry.get("Subject", "").encode())
    for name, value in entry.get("MessageAttributes", {}).items():
        size += len(name.encode()) + len(value["DataType"].encode())
        size += len(value.get("StringValue", "").encode())
    return size


def _render(
    subject: str, message: dict[str, str], info: dict[str, str], attributes: dict[str, Any]
) -> dict[str, Any]:
    body = {**message, "additional_info": json.dumps(info, sort_keys=True)}
    return {
        "Subject": subject,
        "Message": json.dumps(body, sort_keys=True),
        "MessageAttributes": attributes,
    }


def _fit(
    subject: str, message: dict[str, str], info: dict[str, str], attributes: dict[str, Any]
) -> dict[str, Any]:
    """The entry, with every free-text field longer than some length cut to it, that
    length the largest that fits SNS's limit (the start of each field survives)."""
    entry = _render(subject, message, info, attributes)
    if entry_bytes(entry) <= MAX_MESSAGE_BYTES:
        return entry
    texts = {"description": message["description"]}
    texts.update({f"additional_info.{key}": value for key, value in info.items()})

    def capped(cap: int) -> dict[str, Any]:
        cut = sorted(name for name, value in texts.items() if len(value) > cap)
        new_info = dict(info)
        new_message = dict(message)
        for name in cut:
            value = texts[name]
            shortened = f"{value[:cap]}... [truncated from {len(value)} characters]"
            if name == "description":
                new_message["description"] = shortened
            else:
                new_info[name.removeprefix("additional_info.")] = shortened
        new_info["truncated"] = ",".join(cut)
        return _render(subject, new_message, new_info, attributes)

    low, high = 0, max(len(value) for value in texts.values())
    best = capped(low)
    while low < high:  # the largest cap that fits
        middle = (low + high + 1) // 2
        candidate = capped(middle)
        if entry_bytes(candidate) <= MAX_MESSAGE_BYTES:
            low, best = middle, candidate
        else:
            high = middle - 1
    if entry_bytes(best) > MAX_MESSAGE_BYTES:
        logger.error("notification still over %d bytes after shortening", MAX_MESSAGE_BYTES)
    return best


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


def not_selected(
    config: Config, request: Request, selection: Selection, listed: Listed
) -> dict[str, Any]:
    instance = listed.instance
    closest = selection.closest(listed.tag_value)
    key = config.backup_tag_key
    return notification(
        config,
        node=instance.instance_id,
        resource=instance.arn,
        event_type="BackupNotSelected",
        stage="discovery",
        outcome="not-selected",
        severity="3",
        description=(
            f"{instance.instance_id} carries the tag {key}={listed.tag_value!r}, which no "
            f"backup schedule selects: it is not backed up. Closest: schedule "
            f"{closest.schedule_name} ({key}={closest.tag_value!r}; differs by "
            f"{closest.difference}). Fix the tag, or remove it if the instance is not "
            "to be backed up."
        ),
        message_key=f"{config.name_prefix}:not-selected:{instance.instance_id}",
        additional={
            "tag_key": key,
            "tag_value": listed.tag_value,
            "closest_schedule": closest.schedule_name,
            "closest_tag_value": closest.tag_value,
            "difference": closest.difference,
            "instance_state": instance.state,
            "schedule_name": request.schedule_name,
            "scheduled_time": request.scheduled_time_text,
        },
    )


def entries(
    config: Config, request: Request, selection: Selection, tally: Tally
) -> list[dict[str, Any]]:
    """This invocation's per-instance notifications, each kind capped, with a count."""
    out = [start_failure(config, request, r) for r in tally.failures]
    rest = tally.failed - len(tally.failures)
    if rest > 0:
        out.append(
            discovery_failure(
                config,
                request.schedule_name,
                f"{rest} more instances not started for schedule {request.schedule_name} at "
                f"{request.scheduled_time_text}; see the run summary log line",
                {
                    "scheduled_time": request.scheduled_time_text,
                    "not_started": rest,
                    "failed_by_code": json.dumps(dict(sorted(tally.failed_by_code.items()))),
                    "instance_ids": ",".join(tally.more_failed_ids),
                },
            )
        )
    out += [not_selected(config, request, selection, n) for n in tally.not_selected_kept]
    rest = tally.not_selected - len(tally.not_selected_kept)
    if rest > 0:
        out.append(
            notification(
                config,
                node=f"schedule/{request.schedule_name}",
                resource=config.state_machine_arn,
                event_type="BackupNotSelected",
                stage="discovery",
                outcome="not-selected",
                severity="3",
                description=(
                    f"{rest} more instances carry the tag {config.backup_tag_key} with a value "
                    "no backup schedule selects; see the run summary log line"
                ),
                message_key=f"{config.name_prefix}:not-selected:{request.schedule_name}",
                additional={
                    "tag_key": config.backup_tag_key,
                    "not_selected": rest,
                    "schedule_name": request.schedule_name,
                    "scheduled_time": request.scheduled_time_text,
                },
            )
        )
    return out


def batches(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """PublishBatch requests: at most ten entries and MAX_MESSAGE_BYTES each."""
    out: list[list[dict[str, Any]]] = []
    size = 0
    for entry in entries:
        need = entry_bytes(entry)
        if not out or len(out[-1]) == BATCH or size + need > MAX_MESSAGE_BYTES:
            out.append([])
            size = 0
        out[-1].append(entry)
        size += need
    return out


def publish(sns: Any, topic_arn: str, entries: list[dict[str, Any]]) -> int:
    """Publish in batches; return how many were accepted."""
    accepted = 0
    sent = 0
    for batch in batches(entries):
        request = [{"Id": str(sent + index), **entry} for index, entry in enumerate(batch)]
        sent += len(batch)
        try:
            response = sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=request)
        except (ClientError, BotoCoreError) as error:
            logger.error("could not publish %d notifications: %s", len(batch), error)
            continue
        accepted += len(response.get("Successful", []))
        for failure in response.get("Failed", []):
            logger.error("notification %s not published: %s", failure.get("Id"), failure)
    return accepted
