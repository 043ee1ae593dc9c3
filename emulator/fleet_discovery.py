"""Run the real discovery handler (src/discovery) in-process, on the scheduler's virtual time.

The handler paces StartExecution with a token bucket on ``time.monotonic`` and
``time.sleep``, fans out on a ``ThreadPoolExecutor`` guarded by a
``threading.BoundedSemaphore``, backs off with ``time.sleep``, stamps its invocation
with ``datetime.now`` (compared with StartExecution's ``startDate``) and reads the
Lambda context's remaining time. On virtual time each of those must come from the
scheduler. ``virtual_time()`` swaps them, module by module, for the duration of a run:

* every ``discovery.*`` module's ``threading``, ``time``, ``sleep`` (when it is
  ``time.sleep``), ``datetime`` (when it is the class), ``ThreadPoolExecutor`` and
  ``random`` (a seeded generator: the back-off jitter repeats);
* ``TokenBucket``'s default ``clock`` and ``sleep`` (bound when the class was defined).

This patching of another package's module globals is the seam the harness needs until
src/discovery offers one (an injectable clock, sleep and executor): see the
emulator's README, "Fleet harness". When a name the harness expects is missing, the
run stops with an error naming it rather than running on real time.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import importlib
import json
import os
import sys
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import scheduler as _scheduler

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


class SeamMissing(RuntimeError):
    """src/discovery no longer has a name the harness replaces to run it on virtual time."""


def _virtual_time_module(scheduler: _scheduler.Scheduler) -> Any:
    shim = types.SimpleNamespace(
        **{k: getattr(time, k) for k in dir(time) if not k.startswith("__")}
    )
    shim.sleep = _scheduler.sleep
    shim.monotonic = scheduler.now
    shim.time = lambda: scheduler.datetime().timestamp()
    shim.perf_counter = scheduler.now
    return shim


def _virtual_datetime(scheduler: _scheduler.Scheduler) -> type:
    class VirtualDatetime(_dt.datetime):
        @classmethod
        def now(cls, tz: Any = None) -> _dt.datetime:  # type: ignore[override]
            current = scheduler.datetime()
            return current if tz is None else current.astimezone(tz)

        @classmethod
        def utcnow(cls) -> _dt.datetime:  # type: ignore[override]
            return scheduler.datetime().replace(tzinfo=None)

    return VirtualDatetime


@contextlib.contextmanager
def virtual_time(scheduler: _scheduler.Scheduler, seed: int = 0) -> Iterator[None]:
    """Put every loaded ``discovery`` module on the scheduler's time while the block runs."""
    import random
    import threading
    from concurrent.futures import ThreadPoolExecutor

    saved: list[tuple[Any, str, Any]] = []

    def swap(owner: Any, name: str, value: Any) -> None:
        saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    vtime = _virtual_time_module(scheduler)
    vdatetime = _virtual_datetime(scheduler)
    try:
        modules = [
            m for n, m in sorted(sys.modules.items()) if n.split(".")[0] == "discovery" and m
        ]
        for module in modules:
            if getattr(module, "threading", None) is threading:
                swap(module, "threading", _scheduler.threading_shim)
            if getattr(module, "time", None) is time:
                swap(module, "time", vtime)
            if getattr(module, "sleep", None) is time.sleep:
                swap(module, "sleep", _scheduler.sleep)
            if getattr(module, "datetime", None) is _dt.datetime:
                swap(module, "datetime", vdatetime)
            if getattr(module, "random", None) is random:  # jitter, seeded
                swap(module, "random", random.Random(seed))  # noqa: S311
            if getattr(module, "ThreadPoolExecutor", None) is ThreadPoolExecutor:
                swap(module, "ThreadPoolExecutor", _scheduler.ThreadPoolExecutor)
        pacing = sys.modules.get("discovery.pacing")
        bucket = getattr(pacing, "TokenBucket", None)
        defaults = getattr(getattr(bucket, "__init__", None), "__defaults__", None)
        if not defaults or time.monotonic not in defaults or time.sleep not in defaults:
            raise SeamMissing(
                "discovery.pacing.TokenBucket(clock=time.monotonic, sleep=time.sleep) is gone: "
                "give the harness an injectable clock and sleep (emulator/README.md, Fleet harness)"
            )
        swap(
            bucket.__init__,
            "__defaults__",
            tuple(
                scheduler.now if d is time.monotonic else _scheduler.sleep if d is time.sleep else d
                for d in defaults
            ),
        )
        yield
    finally:
        for owner, name, value in reversed(saved):
            setattr(owner, name, value)


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
