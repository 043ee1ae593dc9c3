"""Lambda's SQS event source mapping, emulated over any SQS endpoint (moto's here).

moto's Lambda would need Docker to run a function, so the tests and the demo poll the
queue themselves and hand the batch to the handler, as the event source mapping does
("Using Lambda with Amazon SQS", AWS Lambda Developer Guide):

- a batch is up to ``batch_size`` (1..10 for a standard queue) messages received with
  every system attribute; each becomes a record with ``messageId``,
  ``receiptHandle``, ``body``, ``attributes`` (``ApproximateReceiveCount``,
  ``SentTimestamp``, ``SenderId``, ``ApproximateFirstReceiveTimestamp``),
  ``messageAttributes`` (``stringValue``/``dataType``...), ``md5OfBody``,
  ``eventSource`` ``aws:sqs``, ``eventSourceARN`` and ``awsRegion``;
- with ``ReportBatchItemFailures``, a successful invocation's
  ``batchItemFailures[].itemIdentifier`` stay in the queue and every other message is
  deleted; an invocation that fails, or an answer naming a message not in the batch,
  deletes nothing (the whole batch comes back after its visibility timeout);
- messages that come back more than the queue's ``maxReceiveCount`` times are moved to
  its dead-letter queue by SQS itself (moto's redrive does this on receive).

``install()`` (part of ``emulator.install()``) stops moto from invoking a mapping's
function on every SendMessage itself: it would try Docker, receive the messages (their
receive count rising with every message sent) and make them visible again. The mapping
still exists for the API (Get/List/Update/Delete), and ``poll`` does its work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._patching import original, patch

Invoke = Callable[[dict[str, Any]], Any]  # the event -> the handler's answer (raises on error)


@dataclass
class Poll:
    """What one poll of the queue did."""

    received: int = 0
    deleted: list[str] = field(default_factory=list)  # message ids
    kept: list[str] = field(default_factory=list)  # ids left for a retry
    error: str | None = None  # the invocation failed


def _attributes(message: dict[str, Any]) -> dict[str, str]:
    wanted = (
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    )
    system = message.get("Attributes", {})
    return {k: str(system[k]) for k in wanted if k in system}


def _message_attributes(message: dict[str, Any]) -> dict[str, Any]:
    converted = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        converted[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType", "String"),
        }
    return converted


def event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda passes to the function for these received messages."""
    region = queue_arn.split(":")[3]
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": _attributes(m),
                "messageAttributes": _message_attributes(m),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def poll(sqs: Any, queue_url: str, queue_arn: str, invoke: Invoke, *, batch_size: int = 10) -> Poll:
    """Receive one batch, invoke, and delete what the answer says was handled."""
    received = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=batch_size,
        WaitTimeSeconds=0,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])
    result = Poll(received=len(received))
    if not received:
        return result
    ids = [m["MessageId"] for m in received]
    try:
        answer = invoke(event(received, queue_arn))
    except Exception as error:  # any failure of the function fails the batch
        result.error = f"{type(error).__name__}: {error}"
        result.kept = ids
        return result
    failures = (answer or {}).get("batchItemFailures") if isinstance(answer, dict) else None
    failures = failures or []
    failed = {f.get("itemIdentifier") for f in failures if isinstance(f, dict)}
    if not failed <= set(ids):  # an answer naming a stranger: the whole batch is retried
        result.kept = ids
        return result
    handled = [m for m in received if m["MessageId"] not in failed]
    for start in range(0, len(handled), 10):
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                for n, m in enumerate(handled[start : start + 10])
            ],
        )
    result.deleted = [m["MessageId"] for m in handled]
    result.kept = [i for i in ids if i in failed]
    return result


def drain(
    sqs: Any,
    queue_url: str,
    queue_arn: str,
    invoke: Invoke,
    *,
    batch_size: int = 10,
    max_polls: int = 100,
) -> list[Poll]:
    """Poll until a receive comes back empty (messages kept for a retry stay invisible)."""
    polls = []
    for _ in range(max_polls):
        result = poll(sqs, queue_url, queue_arn, invoke, batch_size=batch_size)
        if not result.received:
            break
        polls.append(result)
    return polls


def install() -> None:
    from moto.awslambda.models import LambdaBackend
    from moto.sqs.models import sqs_backends

    create = original(LambdaBackend, "create_event_source_mapping")

    def _create(self: Any, spec: dict[str, Any]) -> Any:
        mapping = create(self, spec)
        for queue in sqs_backends[self.account_id][self.region_name].queues.values():
            if queue.lambda_event_source_mappings.get(mapping.function_arn) is mapping:
                del queue.lambda_event_source_mappings[mapping.function_arn]
        return mapping

    patch(LambdaBackend, "create_event_source_mapping", _create)
