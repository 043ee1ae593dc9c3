"""Which listed instances a run selects, and which carry a value no schedule selects.

Every schedule's run selects the instances whose selection tag equals its own
``tag_value`` exactly. One schedule, NOT_SELECTED_REPORTER, also reports the
instances whose tag value no schedule of the module selects (``Nightly`` for
``nightly``, a trailing space): its runs list by the tag key alone, so the same pages
show them, and each is reported once per cycle of that schedule rather than once per
schedule. The other schedules list by key and value, reading only their own
instances: the wider listing costs one schedule, not all of them
(docs/contracts.md section 1).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache

from discovery.config import Config
from discovery.events import Request
from discovery.inventory import Listed

NOT_REPORTED_STATES = frozenset({"shutting-down", "terminated"})


class Verdict(enum.Enum):
    SELECTED = "selected"
    OTHER_SCHEDULE = "other_schedule"  # another schedule's value: its own run starts it
    NOT_SELECTED = "not_selected"  # reported (the reporter's runs only)
    IGNORED = "ignored"  # not selected, but opted out or on its way out: not reported


@dataclass(frozen=True)
class Closest:
    schedule_name: str
    tag_value: str
    difference: str  # letter case, surrounding spaces, ..., or "N edits"


class Selection:
    def __init__(self, cfg: Config, request: Request) -> None:
        self.tag_value = request.tag_value
        self.reports = (
            cfg.not_selected_reporter is not None
            and request.schedule_name == cfg.not_selected_reporter
        )
        self.schedules = dict(sorted(cfg.schedule_tag_values.items()))
        self.selected_values = frozenset(self.schedules.values()) | {request.tag_value}
        if request.tag_value not in self.schedules.values():  # a manual run's own value
            self.schedules.setdefault(request.schedule_name, request.tag_value)

    @property
    def listing_value(self) -> str | None:
        """The value the listing filters on; None: every value of the key."""
        return None if self.reports else self.tag_value

    def verdict(self, listed: Listed) -> Verdict:
        if listed.tag_value == self.tag_value:
            return Verdict.SELECTED
        if listed.tag_value in self.selected_values:
            return Verdict.OTHER_SCHEDULE
        if (
            not self.reports
            or listed.instance.opted_out
            or listed.instance.state in NOT_REPORTED_STATES
        ):
            return Verdict.IGNORED
        return Verdict.NOT_SELECTED

    def closest(self, value: str) -> Closest:
        return _closest(value, tuple(self.schedules.items()))


@lru_cache(maxsize=1024)  # a fleet has few distinct wrong values: compare each once
def _closest(value: str, schedules: tuple[tuple[str, str], ...]) -> Closest:
    def rank(item: tuple[str, str]) -> tuple[int, str]:
        return (_distance(value, item[1]), item[0])

    name, tag_value = min(schedules, key=rank)
    return Closest(name, tag_value, difference(value, tag_value))


def difference(value: str, wanted: str) -> str:
    if value == "":
        return "empty value"
    case = value.casefold() == wanted.casefold()
    spaces = value.strip() == wanted.strip()
    if case:
        return "letter case"
    if spaces:
        return "surrounding spaces"
    if value.strip().casefold() == wanted.strip().casefold():
        return "letter case and surrounding spaces"
    edits = _levenshtein(value, wanted)
    return f"{edits} edit" if edits == 1 else f"{edits} edits"


def _distance(value: str, wanted: str) -> int:
    """Closeness for ranking: a case or spacing slip is closer than any other edit."""
    if value.strip().casefold() == wanted.strip().casefold():
        return 0
    return 1 + _levenshtein(value.strip().casefold(), wanted.strip().casefold())


def _levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]
