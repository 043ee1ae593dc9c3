"""A thread-safe token bucket: the client-side pace in front of StartExecution.

Step Functions meters StartExecution with a bucket of its own (1,300 burst refilling
300/s in the large regions, 800 and 150/s elsewhere, shared by the whole account).
Pacing below it leaves room for the account's other callers and keeps botocore's
retries for the rare throttle rather than the common case.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

_EPSILON = 1e-9


class TokenBucket:
    def __init__(
        self,
        rate_per_second: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_second <= 0 or burst < 1:
            raise ValueError("rate_per_second must be > 0 and burst >= 1")
        self.rate = float(rate_per_second)
        self.capacity = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
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


def time_to_start(count: int, rate_per_second: float, burst: int) -> float:
    """Seconds a bucket of ``burst`` refilling at ``rate_per_second`` needs for ``count`` calls."""
    return max(0.0, (count - burst) / rate_per_second)
