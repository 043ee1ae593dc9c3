"""Lambda entry point: deliver each queued SNS notification to ServiceNow's jsonv2.

``handler(event, context)`` is invoked by the SQS event source mapping with a batch of
records (docs/contracts.md section 7) and answers the records to retry as
``batchItemFailures`` (the mapping has ``ReportBatchItemFailures``).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from servicenow import clients, config, credentials, messages
from servicenow.config import ConfigurationError
from servicenow.jsonv2 import Result, Sender, Verdict

logger = logging.getLogger(__name__)

NAMESPACE = "AppConsistentBackup/ServiceNow"
BACKOFF_FIRST = 60  # seconds a message stays away after its first failed receive
BACKOFF_MAX = 3600  # and at most (the queue keeps it 14 days, SQS's maximum)
REASON_MAX = 1000


@dataclass
class Batch:
    """What happened to the records of one invocation."""

    failures: list[dict[str, Any]] = field(default_factory=list)  # records to retry
    counts: Counter[str] = field(default_factory=Counter)
    unavailable: str = ""  # why ServiceNow is not tried again in this invocation
    refreshed: bool = False  # the secret was read again after a 401/403


def handler(event: Any, context: Any) -> dict[str, Any]:
    return run(event, context)


def run(event: Any, context: Any, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    cfg = config.load()
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        raise ValueError("not an SQS batch event: the function is meant for its queue only")
    sender = Sender(
        url=cfg.endpoint,
        timeout=cfg.request_timeout_seconds,
        max_attempts=cfg.max_attempts,
        remaining_seconds=_remaining(context),
        sleep=sleep,
    )
    batch = Batch()
    problem: ConfigurationError | None = None
    for record in records:
        try:
            _one(cfg, sender, batch, record)
        except ConfigurationError as error:
            problem = problem or error
            batch.unavailable = str(error)
            _retry(batch, record, f"not sent: {error}")
    _back_off(cfg, batch.failures)
    _summary(cfg, batch, len(records))
    if problem is not None:
        # Every message waits in the queue; failing the invocation raises the function's
        # Errors alarm, which is what a broken secret or role needs.
        raise problem
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in batch.failures]}


def _remaining(context: Any) -> Callable[[], float]:
    method = getattr(context, "get_remaining_time_in_millis", None)
    if method is None:
        return lambda: 900.0
    return lambda: method() / 1000.0


def _one(cfg: config.Config, sender: Sender, batch: Batch, record: dict[str, Any]) -> None:
    try:
        parsed = messages.parse(str(record.get("body", "")), cfg.name_prefix)
    except messages.Undeliverable as error:
        _dead_letter(cfg, batch, record, str(error), status="-")
        return
    key = str(parsed.event.get("message_key", ""))
    if batch.unavailable:
        _retry(batch, record, f"not sent: {batch.unavailable}", key)
        return
    result = sender.deliver(parsed.event, credentials.store.get(cfg.secret_arn))
    if result.verdict is Verdict.AUTH and not batch.refreshed:
        batch.refreshed = True  # a rotated secret: read it again, once per invocation
        result = sender.deliver(parsed.event, credentials.store.get(cfg.secret_arn, True))
    _settle(cfg, batch, record, parsed, result)


def _settle(
    cfg: config.Config,
    batch: Batch,
    record: dict[str, Any],
    parsed: messages.Parsed,
    result: Result,
) -> None:
    key = str(parsed.event.get("message_key", ""))
    status = str(result.answer.status) if result.answer.status is not None else "-"
    if result.verdict is Verdict.DELIVERED:
        batch.counts["delivered"] += 1
        logger.info(
            "delivered to ServiceNow",
            extra={
                "message_key": key,
                "kind": parsed.kind,
                "severity": parsed.event.get("severity"),
                "status": status,
                "attempts": result.attempts,
                "sqs_message_id": record.get("messageId"),
            },
        )
    elif result.verdict is Verdict.RETRY_LATER:
        batch.unavailable = f"ServiceNow did not take an earlier event ({result.reason})"
        _retry(batch, record, result.reason, key)
    elif result.verdict is Verdict.AUTH:
        reason = (
            f"{result.reason}: ServiceNow refuses the credentials of {cfg.secret_arn} "
            "(401: wrong user, password or API key; 403: the user lacks the "
            "evt_mgmt_integration role)"
        )
        _dead_letter(cfg, batch, record, reason, status=status, key=key)
    else:
        reason = f"ServiceNow rejected the event: {result.reason}"
        _dead_letter(cfg, batch, record, reason, status=status, key=key)


def _retry(batch: Batch, record: dict[str, Any], reason: str, key: str = "") -> None:
    batch.counts["retried"] += 1
    batch.failures.append(record)
    logger.warning(
        "not delivered, back to the queue",
        extra={"message_key": key, "reason": reason, "sqs_message_id": record.get("messageId")},
    )


def _dead_letter(
    cfg: config.Config,
    batch: Batch,
    record: dict[str, Any],
    reason: str,
    *,
    status: str,
    key: str = "",
) -> None:
    reason = reason if len(reason) <= REASON_MAX else reason[: REASON_MAX - 3] + "..."
    try:
        clients.get("sqs").send_message(
            QueueUrl=cfg.dead_letter_queue_url,
            MessageBody=str(record.get("body", "")),
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": reason},
                "status": {"DataType": "String", "StringValue": status},
                "source_message_id": {
                    "DataType": "String",
                    "StringValue": str(record.get("messageId", "-")),
                },
            },
        )
    except (ClientError, BotoCoreError) as error:
        # It stays in the queue; after max_receive_count SQS dead-letters it itself.
        _retry(batch, record, f"{reason}; and the dead-letter queue refused it: {error}", key)
        return
    batch.counts["dead_lettered"] += 1
    logger.error(
        "dead-lettered: can never be delivered as it is",
        extra={
            "message_key": key,
            "reason": reason,
            "status": status,
            "sqs_message_id": record.get("messageId"),
        },
    )


def backoff_seconds(receive_count: int) -> int:
    """How long a failed message stays invisible: 1 minute, doubling, at most an hour."""
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, receive_count - 1))


def _back_off(cfg: config.Config, failures: list[dict[str, Any]]) -> None:
    """Keep failed messages away for a growing while, so a long outage costs few receives."""
    entries = []
    for n, record in enumerate(failures):
        try:
            count = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        except (TypeError, ValueError):
            count = 1
        if record.get("receiptHandle"):
            entries.append(
                {
                    "Id": str(n),
                    "ReceiptHandle": record["receiptHandle"],
                    "VisibilityTimeout": backoff_seconds(count),
                }
            )
    for start in range(0, len(entries), 10):  # the API's batch limit
        chunk = entries[start : start + 10]
        try:
            answer = clients.get("sqs").change_message_visibility_batch(
                QueueUrl=cfg.queue_url, Entries=chunk
            )
        except (ClientError, BotoCoreError) as error:
            logger.warning("could not set the retry back-off", extra={"error": str(error)})
            continue
        for failed in answer.get("Failed", []):
            logger.warning("could not set the retry back-off", extra={"entry": failed})


def _summary(cfg: config.Config, batch: Batch, received: int, out: TextIO | None = None) -> None:
    counts = {k: batch.counts.get(k, 0) for k in ("delivered", "retried", "dead_lettered")}
    logger.info("batch done", extra={"summary": {"received": received, **counts}})
    document = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["NamePrefix"]],
                    "Metrics": [
                        {"Name": "Delivered", "Unit": "Count"},
                        {"Name": "Retried", "Unit": "Count"},
                        {"Name": "DeadLettered", "Unit": "Count"},
                    ],
                }
            ],
        },
        "NamePrefix": cfg.name_prefix,
        "Delivered": counts["delivered"],
        "Retried": counts["retried"],
        "DeadLettered": counts["dead_lettered"],
    }
    print(json.dumps(document), file=out or sys.stdout, flush=True)
