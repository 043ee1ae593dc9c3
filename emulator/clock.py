"""An emulated wall clock shared by the interpreter patches and the service models.

Real time plus an offset: every Wait state and every Retry interval the interpreter
asks for is recorded and added to the offset instead of being slept, so an
execution that "waits" 24 hours finishes in well under a second while every
timestamp it sees (``$$.State.EnteredTime``, history events, SSM and AWS Backup
timestamps) moves as if the time had passed.

That offset is shared: with one execution at a time it is exact, with several at once
each one's pauses move everybody's time. For concurrent runs, ``attach`` a
``emulator.scheduler.Scheduler``: then ``now()`` is the scheduler's virtual time and
``advance()`` sleeps the calling thread in virtual time (see emulator/scheduler.py).
"""

from __future__ import annotations

import datetime as _dt
import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Sleep:
    """One pause the interpreter asked for, in emulated seconds."""

    kind: str  # "wait" (a Wait state) or "retry" (a Retry interval)
    seconds: float
    at: _dt.datetime  # emulated time when the pause began


class EmulatedClock:
    """Thread-safe emulated clock. ``now()`` never goes backwards."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._last = _dt.datetime.min.replace(tzinfo=_dt.UTC)
        self.sleeps: list[Sleep] = []
        self.record_sleeps = True
        self._scheduler: Any = None

    # ------------------------------------------------------------------ virtual time
    def attach(self, scheduler: Any, *, record_sleeps: bool = False) -> None:
        """Take time from ``scheduler`` (an ``emulator.scheduler.Scheduler``) from now on."""
        self._scheduler = scheduler
        self.record_sleeps = record_sleeps

    def detach(self) -> None:
        """Back to real time plus the offset (never earlier than the last time read)."""
        if self._scheduler is not None:
            last = self._scheduler.datetime()
            with self._lock:
                self._offset = max(
                    self._offset, (last - _dt.datetime.now(tz=_dt.UTC)).total_seconds()
                )
                self._last = max(self._last, last)
        self._scheduler = None
        self.record_sleeps = True

    @property
    def scheduler(self) -> Any:
        return self._scheduler

    def now(self) -> _dt.datetime:
        if self._scheduler is not None:
            return self._scheduler.datetime()
        with self._lock:
            current = _dt.datetime.now(tz=_dt.UTC) + _dt.timedelta(seconds=self._offset)
            # Monotonic even if the host clock steps back.
            self._last = max(self._last, current)
            return self._last

    def advance(self, seconds: float, kind: str = "wait") -> None:
        """Move emulated time forward by ``seconds`` (negative values are ignored)."""
        if seconds <= 0:
            return
        at = self.now()
        if self._scheduler is not None:  # this thread sleeps; the others go on
            if self.record_sleeps:
                with self._lock:
                    self.sleeps.append(Sleep(kind=kind, seconds=float(seconds), at=at))
            self._scheduler.sleep(seconds)
            return
        with self._lock:
            self._offset += seconds
            self.sleeps.append(Sleep(kind=kind, seconds=float(seconds), at=at))

    def reset(self) -> None:
        """Forget recorded sleeps; the offset is kept so time never goes backwards."""
        with self._lock:
            self.sleeps.clear()

    def slept(self, kind: str | None = None) -> float:
        """Total emulated seconds slept (optionally only Wait states or only retries)."""
        with self._lock:
            return sum(s.seconds for s in self.sleeps if kind is None or s.kind == kind)


def iso_millis(value: _dt.datetime) -> str:
    """RFC 3339 UTC with milliseconds and a ``Z``: the form AWS uses in timestamps."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    value = value.astimezone(_dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> _dt.datetime | None:
    """Parse an RFC 3339 timestamp (``Z`` or offset, optional fraction); None if invalid."""
    if not isinstance(value, str) or "T" not in value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(_dt.UTC)
