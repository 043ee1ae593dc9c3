"""What an SQS record carries: an SNS notification whose message becomes one event.

docs/contracts.md section 7: the body is an SNS notification (raw delivery off); its
``Message`` is a section-5 event (passed through, every field kept) or a CloudWatch
alarm (mapped, section 8). Anything else can never be delivered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from servicenow import alarms

# ServiceNow's documented maximum lengths of em_event fields ("Event field format for
# event collection"); longer values are cut so that a long reason never costs the event.
MAX_LENGTHS = {
    "source": 100,
    "node": 100,
    "type": 100,
    "resource": 100,
    "message_key": 1024,
    "description": 4000,
}
ELLIPSIS = "..."


class Undeliverable(ValueError):
    """The record can never become a jsonv2 event; the text says why."""


@dataclass(frozen=True)
class Parsed:
    event: dict[str, Any]
    kind: str  # "event" or "alarm"
    topic_arn: str
    sns_message_id: str


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - len(ELLIPSIS)] + ELLIPSIS


def fit(event: dict[str, Any]) -> dict[str, Any]:
    """The event with over-long documented fields cut to ServiceNow's maximum."""
    fitted = dict(event)
    for key, limit in MAX_LENGTHS.items():
        value = fitted.get(key)
        if isinstance(value, str) and len(value) > limit:
            fitted[key] = _cut(value, limit)
    return fitted


def is_event(message: Any) -> bool:
    """A section-5 event: a JSON object naming at least its source, node and severity."""
    return isinstance(message, dict) and all(
        isinstance(message.get(key), str) for key in ("source", "node", "severity")
    )


def parse(body: str, name_prefix: str) -> Parsed:
    try:
        envelope = json.loads(body)
    except ValueError:
        raise Undeliverable(
            "the SQS message is not JSON: it must be an SNS notification "
            "(is raw message delivery switched on?)"
        ) from None
    if not isinstance(envelope, dict) or envelope.get("Type") != "Notification":
        kind = envelope.get("Type") if isinstance(envelope, dict) else None
        if kind in ("SubscriptionConfirmation", "UnsubscribeConfirmation"):
            raise Undeliverable(
                f"an SNS {kind} reached the queue: the module subscribes the queue itself; "
                "confirm a foreign subscription by hand if it is wanted"
            )
        raise Undeliverable(
            "the SQS message is not an SNS notification (raw message delivery must be off)"
        )
    text = envelope.get("Message")
    if not isinstance(text, str):
        raise Undeliverable("the SNS notification has no Message")
    try:
        message = json.loads(text)
    except ValueError:
        raise Undeliverable(
            "the SNS message is not JSON: neither an app-consistent-backup event "
            f"nor a CloudWatch alarm ({_cut(text, 200)!r})"
        ) from None
    topic = str(envelope.get("TopicArn", ""))
    message_id = str(envelope.get("MessageId", ""))
    if is_event(message):
        return Parsed(fit(message), "event", topic, message_id)
    if alarms.is_alarm(message):
        return Parsed(fit(alarms.to_event(message, name_prefix)), "alarm", topic, message_id)
    keys = ", ".join(sorted(message)[:10]) if isinstance(message, dict) else type(message).__name__
    raise Undeliverable(
        "the SNS message is neither an app-consistent-backup event (source, node, "
        f"severity) nor a CloudWatch alarm (AlarmName, NewStateValue); it has: {keys}"
    )
