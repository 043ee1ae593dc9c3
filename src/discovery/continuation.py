"""Handing the rest of a run on to a new invocation of this function.

The continuation event is the schedule's own event plus a ``continuation`` member
(docs/contracts.md section 1): the listing's cursor (the next page's NextToken), the
instances read but not started (at most a page plus the calls in flight), and the
run's totals. The new invocation resumes the listing where this one stopped: no hop
reads the fleet again, unless EC2 refuses the carried token (see ``inventory``). The
payload stays under 80 KB whatever the fleet's size, below the 256 KB an
asynchronous invocation was long limited to (AWS now documents 1 MB for
InvokeAsync's successor, Invoke with InvocationType Event; 256 KB is kept as the
pessimistic bound), and needs no queue or bucket of its own.
"""

from __future__ import annotations

import json
from typing import Any

from discovery import clients

MAX_ASYNC_PAYLOAD = 256 * 1024
# A runaway guard (every hop must make progress, or the run gives up): each hop starts
# (timeout - margin) x pace instances, 50 at the 0.06 a second the default API budget
# derives (docs/fleet.md), so 5,000 hops cover 250,000 instances; a run needing more is
# reported, not dropped.
MAX_HOPS = 5000


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
