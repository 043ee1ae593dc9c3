"""One StartExecution per instance: paced, a bounded pool, deadline-aware, streaming.

Instances are offered one at a time as the listing reads them; at most
``max_workers`` calls are in flight and ``max_workers`` more queued, so memory stays
bounded whatever the fleet's size, and results are handed to a callback as they
come rather than kept.

Throttling is absorbed in two layers. botocore's "standard" retry mode retries a
throttled call with jittered backoff, but its retry quota stops retrying in a
sustained storm; so a call still throttled after botocore gave up waits here (on
``discovery.clock``) and is tried again while the invocation has time, and is
otherwise *deferred*: handed on to the continuation, never dropped.
ExecutionAlreadyExists means an earlier run (a scheduler retry, a re-run, a listing
read again) already started this instance's execution.
"""

from __future__ import annotations

import enum
import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from discovery import clock, naming
from discovery.events import Request
from discovery.inventory import Instance
from discovery.pacing import Pacer

ALREADY_EXISTS = "ExecutionAlreadyExists"
THROTTLING = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
)
# Errors that every further call would repeat: stop calling, report the rest as failed.
FATAL = frozenset(
    {
        "StateMachineDoesNotExist",
        "StateMachineDeleting",
        "AccessDeniedException",
        "InvalidArn",
        "KmsAccessDeniedException",
        "KmsInvalidStateException",
        "ExecutionLimitExceeded",
    }
)
MAX_THROTTLE_WAIT_SECONDS = 10.0

logger = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    STARTED = "started"
    ALREADY_STARTED = "already_started"
    FAILED = "failed"
    DEFERRED = "deferred"  # still throttled when time ran out: handed on


@dataclass(frozen=True)
class Result:
    instance: Instance
    execution_name: str
    outcome: Outcome
    error_code: str | None = None
    error_message: str | None = None
    execution_arn: str | None = None

    @property
    def fatal(self) -> bool:
        return self.outcome is Outcome.FAILED and self.error_code in FATAL


class Starter:
    """Starts one instance's execution; never raises (every error becomes a Result)."""

    def __init__(
        self,
        sfn: Any,
        state_machine_arn: str,
        request: Request,
        invoked_at: datetime,
        keep_going: Callable[[], bool],
    ) -> None:
        self.sfn = sfn
        self.state_machine_arn = state_machine_arn
        self.request = request
        self.invoked_at = invoked_at
        self.keep_going = keep_going

    def __call__(self, instance: Instance) -> Result:
        name = naming.execution_name(self.request, instance.instance_id)
        document = naming.serialize(naming.execution_input(self.request, instance))
        wait = 1.0
        while True:
            try:
                response = self.sfn.start_execution(
                    stateMachineArn=self.state_machine_arn, name=name, input=document
                )
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "Unknown")
                text = error.response.get("Error", {}).get("Message", str(error))
                if code in THROTTLING and self.keep_going():
                    clock.sleep(wait * (0.5 + random.random() / 2))  # noqa: S311 - jitter
                    wait = min(wait * 2, MAX_THROTTLE_WAIT_SECONDS)
                    continue
                return refused(instance, name, code, text)
            except Exception as error:  # one instance's surprise must not stop the others
                if not isinstance(error, BotoCoreError):  # BotoCoreError: retries spent
                    logger.exception("StartExecution of %s failed unexpectedly", name)
                return Result(instance, name, Outcome.FAILED, type(error).__name__, str(error))
            return self.accepted(instance, name, response)

    def accepted(self, instance: Instance, name: str, response: dict[str, Any]) -> Result:
        # Same name and identical input while that execution runs: AWS returns it
        # instead of an error. One that began before this invocation was started by
        # an earlier one (a retried event); the clocks of Lambda and Step Functions
        # only need to agree to within the time discovery takes.
        started_at = response.get("startDate")
        arn = response.get("executionArn")
        if isinstance(started_at, datetime) and started_at < self.invoked_at:
            return Result(instance, name, Outcome.ALREADY_STARTED, execution_arn=arn)
        return Result(instance, name, Outcome.STARTED, execution_arn=arn)


def refused(instance: Instance, name: str, code: str, text: str) -> Result:
    """The result of a StartExecution that answered with an error."""
    if code == ALREADY_EXISTS:
        return Result(instance, name, Outcome.ALREADY_STARTED)
    if code in THROTTLING:  # still throttled when time ran out: hand it on
        return Result(instance, name, Outcome.DEFERRED, code, text)
    return Result(instance, name, Outcome.FAILED, code, text)


def not_attempted(request: Request, instance: Instance, fatal: Result) -> Result:
    return Result(
        instance,
        naming.execution_name(request, instance.instance_id),
        Outcome.FAILED,
        fatal.error_code,
        f"not attempted after {fatal.error_code} on {fatal.instance.instance_id}: "
        f"{fatal.error_message}",
    )


class Fanout:
    """Starts the executions of the instances offered to it, in the order offered.

    ``on_result`` receives every Result, from the pool's threads: it must be
    thread-safe. After a fatal error no further call is made: every instance offered
    afterwards is reported failed, not attempted. ``close()`` waits for the calls in
    flight.
    """

    def __init__(
        self,
        starter: Starter,
        pacer: Pacer,
        max_workers: int,
        keep_going: Callable[[], bool],
        on_result: Callable[[Result], None],
    ) -> None:
        self.starter = starter
        self.pacer = pacer
        self.keep_going = keep_going
        self.on_result = on_result
        self.fatal: Result | None = None
        self.offered = 0
        # Bounds the queue as well as the pool: the listing waits for the pace.
        self._slots = threading.BoundedSemaphore(max_workers * 2)
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="start")

    def offer(self, instance: Instance) -> bool:
        """Start ``instance``'s execution (or fail it after a fatal error); False when
        time is up and the instance was not taken."""
        fatal = self.fatal
        if fatal is not None:
            self.on_result(not_attempted(self.starter.request, instance, fatal))
            return True
        if not self.keep_going():
            return False
        self.pacer.acquire()
        self._slots.acquire()
        self.offered += 1
        future = self._pool.submit(self.starter, instance)
        future.add_done_callback(self._done)
        return True

    def _done(self, future: Future[Result]) -> None:
        self._slots.release()
        result = future.result()
        if result.fatal and self.fatal is None:
            self.fatal = result
        self.on_result(result)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def __enter__(self) -> Fanout:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()
