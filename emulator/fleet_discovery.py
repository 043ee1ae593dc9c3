"""Run the real discovery handler (src/discovery) in-process, on the scheduler's virtual time.

The handler spends and reads time through one seam, ``discovery.clock`` (docs/discovery.md,
"Time: one seam"): the pace's sleeps, the back-off of a throttled start or page, the
invocation's deadline and the moments it records. ``virtual_time()`` installs a clock
that reads the scheduler (``clock.use(..., botocore_backoff=True)``, so botocore's own
retry back-off sleeps virtual time too), and puts the previous one back afterwards.

What the clock seam does not cover is the StartExecution pool: ``discovery.fanout``
builds a ``ThreadPoolExecutor`` and a ``threading.BoundedSemaphore``, whose threads must
be scheduler participants, and draws its back-off jitter from ``random``. For those
three names alone the harness still swaps the module's globals for the duration of a
run (the scheduler's executor and semaphore, a seeded generator). When a name the
harness expects is missing, the run stops with an error naming it rather than running
on real time.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import importlib
import json
import os
import random
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import scheduler as _scheduler

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


class SeamMissing(RuntimeError):
    """src/discovery no longer has a name the harness needs to run it on virtual time."""


class VirtualClock:
    """``discovery.clock.Clock`` on the scheduler's time (sleep: a participant's)."""

    def __init__(self, scheduler: _scheduler.Scheduler) -> None:
        self._scheduler = scheduler

    def monotonic(self) -> float:
        return self._scheduler.now()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            _scheduler.sleep(seconds)

    def now(self) -> _dt.datetime:
        return self._scheduler.datetime()


@contextlib.contextmanager
def virtual_time(scheduler: _scheduler.Scheduler, seed: int = 0) -> Iterator[None]:
    """Put the ``discovery`` package on the scheduler's time while the block runs."""
    clock = importlib.import_module("discovery.clock")
    fanout = importlib.import_module("discovery.fanout")
    expected = {
        (clock, "use"): None,
        (fanout, "threading"): threading,
        (fanout, "ThreadPoolExecutor"): ThreadPoolExecutor,
        (fanout, "random"): random,
    }
    for (module, name), value in expected.items():
        found = getattr(module, name, None)
        if found is None or (value is not None and found is not value):
            raise SeamMissing(
                f"{module.__name__}.{name} is not what the fleet harness replaces: "
                "see emulator/README.md, Fleet harness"
            )
    saved = [
        (fanout, name, getattr(fanout, name))
        for name in ("threading", "ThreadPoolExecutor", "random")
    ]
    previous = clock.use(VirtualClock(scheduler), botocore_backoff=True)
    try:
        fanout.threading = _scheduler.threading_shim
        fanout.ThreadPoolExecutor = _scheduler.ThreadPoolExecutor
        fanout.random = random.Random(seed)  # noqa: S311 - jitter that repeats
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)
        clock.use(previous)


class LambdaContext:
    """The Lambda context the handler reads: ARN, request id and remaining time (virtual)."""

    def __init__(
        self, scheduler: _scheduler.Scheduler, function_arn: str, timeout: float, request: int
    ) -> None:
        self._scheduler = scheduler
        self._deadline = scheduler.now() + timeout
        self.invoked_function_arn = function_arn
        self.aws_request_id = f"fleet-{request:04d}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._scheduler.now()) * 1000))


@dataclass
class DiscoveryRun:
    """What the discovery function did over every invocation of one scheduled run."""

    summaries: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    started_at: float = 0.0
    ended_at: float = 0.0

    @property
    def invocations(self) -> int:
        return len(self.summaries) + len(self.errors)


def run(
    scheduler: _scheduler.Scheduler,
    event: dict[str, Any],
    environment: dict[str, str],
    *,
    function_arn: str,
    timeout: float = 900.0,
    hand_on_latency: float = 1.0,
    max_invocations: int = 200,
    seed: int = 0,
) -> DiscoveryRun:
    """Invoke the handler with ``event``, then every continuation it hands on, in turn.

    Called by the scheduler's driver. A continuation is invoked ``hand_on_latency``
    virtual seconds after the invocation that handed it on returned (an assumption:
    an asynchronous Lambda invocation starts within about a second).
    """
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    os.environ.update(environment)
    handler = importlib.import_module("discovery.handler")
    config = importlib.import_module("discovery.config")
    clients = importlib.import_module("discovery.clients")
    config.load.cache_clear()
    clients.reset()
    result = DiscoveryRun(started_at=scheduler.now())
    pending: list[dict[str, Any]] = [event]
    handed: list[dict[str, Any]] = []

    def hand_on(arn: str, next_event: dict[str, Any]) -> None:
        payload = json.dumps(next_event, separators=(",", ":")).encode()
        if len(payload) > 256 * 1024:
            raise RuntimeError(f"continuation payload of {len(payload)} bytes exceeds 256 KB")
        handed.append(json.loads(payload))

    try:
        with virtual_time(scheduler, seed), contextlib.redirect_stdout(_Discard()):
            while pending and result.invocations < max_invocations:
                current = pending.pop(0)
                context = LambdaContext(scheduler, function_arn, timeout, result.invocations)
                try:
                    result.summaries.append(handler.run(current, context, hand_on))
                except Exception as error:  # a failed invocation is part of what happened
                    result.errors.append(f"{type(error).__name__}: {error}")
                if handed:
                    scheduler.sleep(hand_on_latency)
                    pending.extend(handed)
                    handed.clear()
    finally:  # the next user of the package reads its own configuration and clients
        config.load.cache_clear()
        clients.reset()
    if pending:
        result.errors.append(f"{len(pending)} continuations not invoked: {max_invocations} reached")
    result.ended_at = scheduler.now()
    return result


class _Discard:
    """stdout for the handler's EMF lines (kept out of the benchmark's output)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None
