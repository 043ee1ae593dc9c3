"""A schedule's whole run in the emulated account, for the run ledger's tests.

The real discovery handler (src/discovery) lists the world's tagged instances and starts
the real state machine's executions; the summary requests the executions queue
(asynchronous invocations, ``emulator.lambda_async``) go through the same handler, as
Lambda would run them. Everything the operator hears is read back from the topic.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from discovery import clients, config, handler
from emulator import lambda_async, sns
from emulator.server import install_serial_executions, uninstall_serial_executions
from emulator.statemachine import (
    REGION,
    RUN_LEDGER,
    SUMMARY_FUNCTION,
    SUMMARY_FUNCTION_ARN,
    TOPIC_ARN,
    World,
)
from tests.discovery.support import FakeContext, schedule_event

FIRST = "2026-11-23T01:00:00Z"  # the time emulator.statemachine's inputs carry
SECOND = "2026-11-24T01:00:00Z"


@contextmanager
def discovery_for(world: World, storm_threshold: int = 1) -> Iterator[None]:
    """The discovery function's environment, pointing at the world's resources.

    The executions discovery starts run one at a time: this world's clock is the shared
    one (emulator/clock.py), where one execution's job-poll wait would move another
    past its freeze deadline and label it crash-consistent-timeout at random."""
    values = {
        "STATE_MACHINE_ARN": world.state_machine_arn,
        "NOTIFICATION_TOPIC_ARN": TOPIC_ARN,
        "NAME_PREFIX": "acb",
        "RUN_LEDGER_TABLE": RUN_LEDGER,
        "STORM_THRESHOLD": str(storm_threshold),
        "START_RATE_PER_SECOND": "1000",
        "START_BURST": "1000",
    }
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    clients.reset()
    config.load.cache_clear()
    install_serial_executions()
    try:
        yield
    finally:
        uninstall_serial_executions()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        clients.reset()
        config.load.cache_clear()


def context() -> FakeContext:
    return FakeContext(invoked_function_arn=SUMMARY_FUNCTION_ARN)


def discover(scheduled_time: str = FIRST, **policy: Any) -> dict[str, Any]:
    """One run of the schedule ``nightly``: discovery's handler on its event."""
    event = schedule_event(scheduled_time=scheduled_time)
    event["policy"].update(policy)
    return handler.run(event, context(), lambda arn, e: None)


def wait_all(world: World, timeout: float = 120.0) -> list[dict[str, Any]]:
    """Every execution of the state machine, once none is running."""
    deadline = time.monotonic() + timeout
    while True:
        executions = world.sfn.list_executions(stateMachineArn=world.state_machine_arn)[
            "executions"
        ]
        if all(e["status"] != "RUNNING" for e in executions):
            return executions
        if time.monotonic() > deadline:
            raise TimeoutError("executions still running")
        time.sleep(0.05)


def summarize_requested() -> list[dict[str, Any]]:
    """Run the queued summary requests through the handler; their results."""
    return lambda_async.drain(lambda event: handler.run(event, context()), SUMMARY_FUNCTION)


def events() -> list[dict[str, Any]]:
    """Every event published to the topic, in order (the ServiceNow JSON)."""
    return [m["message"] for m in sns.messages(TOPIC_ARN, region=REGION)]


def info(event: dict[str, Any]) -> dict[str, str]:
    return json.loads(event["additional_info"])
