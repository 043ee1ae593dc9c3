"""Handing the rest of a run on to a new invocation of this function.

The continuation event is the schedule's own event plus a ``continuation`` member:
the ID of the first instance not yet handled (instances are handled in ID order)
and the few instances still throttled when time ran out. The new invocation
discovers again (cheap: DescribeInstances returns up to 1,000 instances a call) and
resumes at that ID. The payload stays a few hundred bytes whatever the fleet's size,
far below the 256 KB limit of an asynchronous invocation, and needs no queue or
bucket of its own; idempotent execution names cover any overlap.
"""

from __future__ import annotations

import json
from typing import Any

from discovery import clients

MAX_ASYNC_PAYLOAD = 256 * 1024
MAX_HOPS = 100  # a runaway guard: each hop handles at least (timeout - margin) of work


class HandOnError(RuntimeError):
    """The continuation could not be handed on."""


def invoke_async(function_arn: str, event: dict[str, Any]) -> None:
    """Invoke this function asynchronously (InvocationType Event) with ``event``."""
    payload = json.dumps(event, separators=(",", ":")).encode()
    if len(payload) > MAX_ASYNC_PAYLOAD:
        raise HandOnError(f"continuation payload of {len(payload)} bytes exceeds 256 KB")
    response = clients.get("lambda").invoke(
        FunctionName=function_arn, InvocationType="Event", Payload=payload
    )
    if response.get("StatusCode") != 202:
        raise HandOnError(f"asynchronous self-invocation answered {response.get('StatusCode')}")
