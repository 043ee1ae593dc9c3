"""One invocation's counts, kept in memory that does not grow with the fleet.

Results arrive from the StartExecution pool's threads; every count is a number, and
only what a notification needs is kept: the first MAX_KEPT failures (one message
each), the IDs of the next MAX_LISTED (one message with the count), the first
MAX_KEPT instances no schedule selects, and the instances handed on (at most a page
plus the calls in flight).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from discovery.fanout import Outcome, Result
from discovery.inventory import Decision, Instance, Listed

MAX_KEPT = 100  # notifications of one kind per invocation; beyond it one carries the count
MAX_LISTED = 200  # instance IDs named in that one message


@dataclass
class Tally:
    started: int = 0
    already_started: int = 0
    failed: int = 0
    deferred: int = 0
    listed: int = 0  # instances carrying the tag key read by this invocation
    selected: int = 0  # of those, the ones this schedule selects (its fleet)
    other_schedules: int = 0  # read (by the reporter) but another schedule's
    skipped: Counter[str] = field(default_factory=Counter)
    failed_by_code: Counter[str] = field(default_factory=Counter)
    failures: list[Result] = field(default_factory=list)  # the first MAX_KEPT
    more_failed_ids: list[str] = field(default_factory=list)  # the next MAX_LISTED
    not_selected: int = 0
    not_selected_kept: list[Listed] = field(default_factory=list)  # the first MAX_KEPT
    to_hand_on: list[Instance] = field(default_factory=list)  # deferred, and not offered
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def result(self, result: Result) -> None:
        """One StartExecution's outcome (thread-safe)."""
        with self._lock:
            if result.outcome is Outcome.STARTED:
                self.started += 1
            elif result.outcome is Outcome.ALREADY_STARTED:
                self.already_started += 1
            elif result.outcome is Outcome.DEFERRED:
                self.deferred += 1
                self.to_hand_on.append(result.instance)
            else:
                self.failed += 1
                self.failed_by_code[str(result.error_code)] += 1
                if len(self.failures) < MAX_KEPT:
                    self.failures.append(result)
                elif len(self.more_failed_ids) < MAX_LISTED:
                    self.more_failed_ids.append(result.instance.instance_id)

    def skip(self, decision: Decision) -> None:
        with self._lock:
            self.skipped[str(decision.reason)] += 1

    def hand_on(self, instance: Instance) -> None:
        """Read but not offered: time ran out."""
        with self._lock:
            self.to_hand_on.append(instance)

    def unselected(self, listed: Listed) -> None:
        with self._lock:
            self.not_selected += 1
            if len(self.not_selected_kept) < MAX_KEPT:
                self.not_selected_kept.append(listed)

    @property
    def discovered(self) -> int:
        """Instances given an outcome by this invocation (a deferred one is counted by
        the invocation that finally starts it)."""
        return self.started + self.already_started + self.failed + sum(self.skipped.values())

    def counts(self) -> dict[str, Any]:
        return {
            "discovered": self.discovered,
            "started": self.started,
            "already_started": self.already_started,
            "failed": self.failed,
            "deferred": self.deferred,
            "skipped": dict(sorted(self.skipped.items())),
            "skipped_total": sum(self.skipped.values()),
            "not_selected": self.not_selected,
            "fleet_size": self.selected,
        }
