"""The pace of StartExecution: a thread-safe token bucket behind a small seam.

Step Functions meters StartExecution with a bucket of its own (1,300 burst refilling
300/s in the large regions, 800 and 150/s elsewhere, shared by the whole account).
Pacing below it leaves room for the account's other callers and keeps botocore's
retries for the rare throttle rather than the common case.

The seam: the handler asks ``for_config(cfg)`` for a ``Pacer`` (anything with
``acquire()``, called once before each StartExecution, from one thread). Today that
is a token bucket set from the environment (START_RATE_PER_SECOND, START_BURST);
the later API-budget phase derives those two numbers from the module's budgets, or
replaces ``for_config``, without touching the fan-out. Waits go through
``discovery.clock``, so virtual time drives them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from discovery import clock
from discovery.config import Config

_EPSILON = 1e-9


class Pacer(Protocol):
    def acquire(self) -> None:
        """Return when the next StartExecution may be made."""
        ...


class TokenBucket:
    def __init__(
        self,
        rate_per_second: float,
        burst: int,
        monotonic: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if rate_per_second <= 0 or burst < 1:
            raise ValueError("rate_per_second must be > 0 and burst >= 1")
        self.rate = float(rate_per_second)
        self.capacity = float(burst)
        self._tokens = float(burst)
        self._monotonic = monotonic or clock.monotonic
        self._sleep = sleep or clock.sleep
        self._updated = self._monotonic()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def try_acquire(self) -> float:
        """Take a token and return 0, or return how long to wait for the next one."""
        with self._lock:
            self._refill()
            if self._tokens >= 1 - _EPSILON:  # refill arithmetic leaves 0.999...
                self._tokens = max(0.0, self._tokens - 1)
                return 0.0
            return (1 - self._tokens) / self.rate

    def acquire(self) -> None:
        """Block until a token is available, then take it."""
        while (wait := self.try_acquire()) > 0:
            self._sleep(wait)


def for_config(cfg: Config) -> Pacer:
    """The pace of one invocation's StartExecution calls."""
    return TokenBucket(cfg.start_rate_per_second, cfg.start_burst)


def time_to_start(count: int, rate_per_second: float, burst: int) -> float:
    """Seconds a bucket of ``burst`` refilling at ``rate_per_second`` needs for ``count`` calls."""
    return max(0.0, (count - burst) / rate_per_second)
