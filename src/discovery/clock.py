"""The one seam through which the function reads and spends time.

Every wait of the handler goes through the module-level clock: the pace's sleeps
(``pacing``), the back-off of a throttled StartExecution or DescribeInstances page
(``fanout``, ``inventory``), the invocation's deadline (``handler`` reads the Lambda
context's remaining time once, at the start, and from then on compares
``monotonic()`` with the deadline), and the wall-clock moments it records
(``now()``: the invocation's start, compared with StartExecution's ``startDate``; a
notification's ``time_of_event``; the metrics' timestamp).

A virtual-time harness (the fleet benchmark runs the real handler in-process, many
executions at once) installs its own clock::

    from discovery import clock
    previous = clock.use(virtual)   # an object with monotonic(), sleep(s), now()
    try:
        handler.run(event, context, hand_on)
    finally:
        clock.use(previous)

``virtual.sleep`` is called from the handler's threads (the StartExecution pool) as
well as its main thread, so it must be thread-safe. botocore's own retry back-off
(standard mode) sleeps in ``botocore.endpoint`` with ``time.sleep``, outside this
module: ``use(virtual, botocore_backoff=True)`` routes it through the same clock, for
every botocore client of the process, until the previous clock is put back.
"""

from __future__ import annotations

import threading
import time
import types
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (deadlines, the pace)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (called from several threads at once)."""
        ...

    def now(self) -> datetime:
        """The current UTC time, timezone-aware."""
        ...


class SystemClock:
    """Real time: what Lambda runs."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def now(self) -> datetime:
        return datetime.now(UTC)


class _Installed:
    """The clock in use, and botocore's time module while its back-off is routed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clock: Clock = SystemClock()
        self.botocore_time: types.ModuleType | None = None


_installed = _Installed()


def use(clock: Clock, *, botocore_backoff: bool = False) -> Clock:
    """Install ``clock`` for the handler; return the clock it replaces."""
    import botocore.endpoint  # noqa: PLC0415 - only a harness ever calls this

    state = _installed
    with state.lock:
        previous, state.clock = state.clock, clock
        if state.botocore_time is not None:  # undo an earlier routing first
            botocore.endpoint.time = state.botocore_time  # type: ignore[attr-defined]
            state.botocore_time = None
        if botocore_backoff and not isinstance(clock, SystemClock):
            state.botocore_time = botocore.endpoint.time  # type: ignore[attr-defined]
            shim = types.ModuleType("time")
            shim.__dict__.update(vars(time))
            shim.sleep = clock.sleep  # type: ignore[attr-defined]
            botocore.endpoint.time = shim  # type: ignore[attr-defined]
    return previous


def current() -> Clock:
    return _installed.clock


def monotonic() -> float:
    return _installed.clock.monotonic()


def sleep(seconds: float) -> None:
    _installed.clock.sleep(seconds)


def now() -> datetime:
    return _installed.clock.now()
