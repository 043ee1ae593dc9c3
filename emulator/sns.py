"""Read what was published to an SNS topic in moto (in-process or same-process server)."""

from __future__ import annotations

import json
from typing import Any

from .faults import DEFAULT_ACCOUNT, default_region


def messages(
    topic_arn: str, account: str = DEFAULT_ACCOUNT, region: str | None = None
) -> list[dict[str, Any]]:
    """Every message published to ``topic_arn``: subject, message (parsed when JSON), attributes."""
    from moto.sns.models import sns_backends

    backend = sns_backends[account][region or topic_arn.split(":")[3] or default_region()]
    topic = backend.topics.get(topic_arn)
    if topic is None:
        return []
    published = []
    for message_id, body, subject, attributes, _group in topic.sent_notifications:
        try:
            parsed: Any = json.loads(body)
        except ValueError:
            parsed = body
        published.append(
            {
                "message_id": message_id,
                "subject": subject,
                "message": parsed,
                "attributes": {
                    key: value.get("Value", value.get("StringValue"))
                    for key, value in (attributes or {}).items()
                },
            }
        )
    return published
