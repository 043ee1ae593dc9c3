"""Lambda's asynchronous invocations, queued instead of run (moto's Invoke needs Docker).

AWS: "For asynchronous invocation, Lambda places the event in a queue and returns a
success response without additional information. A separate process reads events from
the queue and sends them to your function" (Lambda Developer Guide, "Invoking a Lambda
function asynchronously"); the Invoke API answers `202` for `InvocationType` `Event`
(Lambda API reference, Invoke, "StatusCode"). moto 5.2 runs every invocation at once,
in Docker, which is not available here; and its Step Functions Lambda integration drops
`InvocationType`, which AWS lists among the parameters of `arn:aws:states:::lambda:invoke`
(ClientContext, FunctionName, InvocationType, Qualifier, Payload: Step Functions
Developer Guide, "Invoke an AWS Lambda function with Step Functions"), so every invoke
from a state machine became synchronous. ``install()`` (part of ``emulator.install()``)
passes it through, and
makes an `Event` invocation of an existing function do what AWS does up to the queue:
the function must exist (else `ResourceNotFoundException`, as before), the payload
must be JSON of at most 256 KB (AWS long documented 256 KB for an asynchronous payload
and now documents 1 MB: the emulator keeps the pessimistic figure), and the event is
queued; the answer is `202` with an empty body. Who runs the queue is the test's or the
demo's choice (``drain``): the handler in-process, or the deployed package in a process
of its own. Synchronous invocations are left to moto.

    emulator.lambda_async.pending()                    # what was queued, oldest first
    emulator.lambda_async.drain(lambda event: handler(event, context))
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._patching import original, patch

MAX_ASYNC_PAYLOAD = 256 * 1024

_lock = threading.Lock()
_queue: list[Invocation] = []


@dataclass(frozen=True)
class Invocation:
    function_name: str
    function_arn: str
    event: Any


def pending(function_name: str | None = None) -> list[Invocation]:
    """The queued invocations (of ``function_name``, by name or ARN), oldest first."""
    with _lock:
        return [i for i in _queue if _matches(i, function_name)]


def take(function_name: str | None = None) -> list[Invocation]:
    """Remove and return the queued invocations (of ``function_name``)."""
    with _lock:
        taken = [i for i in _queue if _matches(i, function_name)]
        _queue[:] = [i for i in _queue if not _matches(i, function_name)]
    return taken


def drain(
    run: Callable[[Any], Any], function_name: str | None = None, max_rounds: int = 20
) -> list[Any]:
    """Run every queued event (and those the runs queue in turn), oldest first; the
    results in order. ``run`` raising stops the drain (the rest stays queued)."""
    results = []
    for _ in range(max_rounds):
        batch = take(function_name)
        if not batch:
            return results
        for index, invocation in enumerate(batch):
            try:
                results.append(run(invocation.event))
            except BaseException:
                with _lock:
                    _queue[:0] = batch[index:]
                raise
    return results


def reset() -> None:
    with _lock:
        _queue.clear()


def _matches(invocation: Invocation, function_name: str | None) -> bool:
    return function_name is None or function_name in (
        invocation.function_name,
        invocation.function_arn,
    )


def install() -> None:
    from moto.awslambda.exceptions import InvalidParameterValueException, LambdaClientError
    from moto.awslambda.models import LambdaBackend

    class RequestTooLarge(LambdaClientError):
        code = 413

        def __init__(self, size: int) -> None:
            super().__init__(
                "RequestTooLargeException",
                f"Request must be smaller than {MAX_ASYNC_PAYLOAD} bytes for the Event "
                f"invocation type (it is {size})",
            )

    invoke = original(LambdaBackend, "invoke")

    def _invoke(  # noqa: PLR0917 - moto's signature
        self: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> Any:
        kind = {str(k).lower(): v for k, v in dict(headers or {}).items()}.get(
            "x-amz-invocation-type", "RequestResponse"
        )
        if kind != "Event":
            return invoke(self, function_name, qualifier, body, headers, response_headers)
        function = self.get_function(function_name, qualifier)  # ResourceNotFound as AWS
        raw = body if isinstance(body, bytes) else str(body or "{}").encode()
        if len(raw) > MAX_ASYNC_PAYLOAD:
            raise RequestTooLarge(len(raw))
        try:
            event = json.loads(raw or b"{}")
        except ValueError as error:
            raise InvalidParameterValueException(
                f"Could not parse request body into json: {error}"
            ) from error
        with _lock:
            _queue.append(Invocation(function.function_name, function.function_arn, event))
        response_headers["Content-Length"] = "0"
        return b""

    patch(LambdaBackend, "invoke", _invoke)

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_lambda as integration,
    )

    bindings = {key: set(value) for key, value in integration._SUPPORTED_API_PARAM_BINDINGS.items()}
    bindings["invoke"].add("InvocationType")
    patch(integration, "_SUPPORTED_API_PARAM_BINDINGS", bindings)
