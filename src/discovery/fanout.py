"""One StartExecution per instance: a bounded pool, paced, deadline-aware.

Throttling is absorbed in two layers. botocore's "standard" retry mode retries a
throttled call with jittered backoff, but its retry quota stops retrying in a
sustained storm; so a call still throttled after botocore gave up waits here and is
tried again while the invocation has time, and is otherwise *deferred*: handed on to
the continuation, never dropped. ExecutionAlreadyExists means an earlier run (a
scheduler retry, a re-run) already started this instance's execution.
"""

from __future__ import annotations

import enum
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from discovery import naming
from discovery.events import Request
from discovery.inventory import Decision, Instance
from discovery.pacing import TokenBucket

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

sleep = time.sleep  # tests replace it to skip the waits


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


@dataclass(frozen=True)
class FanOut:
    results: list[Result]
    next_index: int  # index in the work list of the first decision not handled


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
                    sleep(wait * (0.5 + random.random() / 2))  # noqa: S311 - jitter, not crypto
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


def fan_out(
    work: Sequence[Decision],
    starter: Starter,
    bucket: TokenBucket,
    max_workers: int,
    keep_going: Callable[[], bool],
) -> FanOut:
    """Start the executions of ``work`` in order until done or ``keep_going`` says stop.

    Skipped decisions are passed over (the caller counts them). Everything before
    ``next_index`` has been handled when this returns: the pool is drained.
    """
    fatal: list[Result] = []
    slots = threading.BoundedSemaphore(max_workers * 2)  # bounds the queue, not just the pool
    futures: list[Future[Result]] = []
    not_attempted: list[Result] = []
    next_index = len(work)

    def done(future: Future[Result]) -> None:
        slots.release()
        result = future.result()
        if result.fatal:
            fatal.append(result)

    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="start") as pool:
        for index, decision in enumerate(work):
            if not decision.start:
                continue
            if fatal:
                first = fatal[0]
                not_attempted.append(
                    Result(
                        decision.instance,
                        naming.execution_name(starter.request, decision.instance.instance_id),
                        Outcome.FAILED,
                        first.error_code,
                        f"not attempted after {first.error_code} on {first.instance.instance_id}: "
                        f"{first.error_message}",
                    )
                )
                continue
            if not keep_going():
                next_index = index
                break
            bucket.acquire()
            slots.acquire()
            future = pool.submit(starter, decision.instance)
            future.add_done_callback(done)
            futures.append(future)
    return FanOut([f.result() for f in futures] + not_attempted, next_index)
