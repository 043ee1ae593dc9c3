"""The function's configuration: environment variables set by Terraform, read once."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

STATE_MACHINE_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_-]{1,80}$"
)
TOPIC_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$")
NAME_PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
TAG_KEY_RE = re.compile(r"^[\w\s.:/=+@-]{1,128}$")
TABLE_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
SCHEDULE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
MAX_TAG_VALUE = 256  # EC2's limit on a tag value's length


class ConfigurationError(RuntimeError):
    """One or more environment variables are missing or malformed."""


@dataclass(frozen=True)
class Config:
    state_machine_arn: str
    notification_topic_arn: str
    name_prefix: str
    backup_tag_key: str = "AppConsistentBackup"
    opt_out_tag_key: str = "AppConsistentBackupOptOut"
    max_concurrency: int = 8
    start_rate_per_second: float = 50.0
    start_burst: int = 100
    continuation_margin_seconds: float = 60.0
    # Every schedule of the module -> its tag value (instances no schedule selects).
    schedule_tag_values: dict[str, str] = field(default_factory=dict)
    # The schedule whose runs report those instances; None: nobody reports them.
    not_selected_reporter: str | None = None
    # The run ledger (docs/contracts.md section 5b); None: no run summaries.
    run_ledger_table: str | None = None
    run_ledger_ttl_seconds: int = 3_196_800
    # Instances of one run reported one by one per reason before a storm.
    storm_threshold: int = 1


def _text(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not pattern.match(raw):
            raise ValueError(f"must be {what}")
        return raw

    return parse


def _number(kind: type, low: float, high: float) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        try:
            value = kind(raw)
        except ValueError:
            raise ValueError(f"must be a {kind.__name__} from {low} to {high}") from None
        if not low <= value <= high:
            raise ValueError(f"must be a {kind.__name__} from {low} to {high}")
        return value

    return parse


def _schedule_tag_values(raw: str) -> dict[str, str]:
    try:
        values = json.loads(raw)
    except ValueError:
        raise ValueError("must be a JSON object of schedule names to tag values") from None
    if not isinstance(values, dict) or not values:
        raise ValueError("must be a non-empty JSON object of schedule names to tag values")
    bad = sorted(
        name
        for name, value in values.items()
        if not SCHEDULE_NAME_RE.match(name)
        or not isinstance(value, str)
        or not 1 <= len(value) <= MAX_TAG_VALUE
    )
    if bad:
        raise ValueError(
            f"has invalid entries for {bad[:5]}: names are schedule names, values 1-256 "
            "character tag values"
        )
    return values


# name -> (Config field, parser, required)
_VARIABLES: dict[str, tuple[str, Callable[[str], Any], bool]] = {
    "STATE_MACHINE_ARN": (
        "state_machine_arn",
        _text(STATE_MACHINE_ARN_RE, "a Step Functions state machine ARN"),
        True,
    ),
    "NOTIFICATION_TOPIC_ARN": (
        "notification_topic_arn",
        _text(TOPIC_ARN_RE, "an SNS topic ARN"),
        True,
    ),
    "NAME_PREFIX": (
        "name_prefix",
        _text(NAME_PREFIX_RE, "1-63 letters, digits, '-' or '_'"),
        True,
    ),
    "BACKUP_TAG_KEY": ("backup_tag_key", _text(TAG_KEY_RE, "an EC2 tag key"), False),
    "OPT_OUT_TAG_KEY": ("opt_out_tag_key", _text(TAG_KEY_RE, "an EC2 tag key"), False),
    "MAX_CONCURRENCY": ("max_concurrency", _number(int, 1, 64), False),
    "START_RATE_PER_SECOND": ("start_rate_per_second", _number(float, 0.01, 1300), False),
    "START_BURST": ("start_burst", _number(int, 1, 1300), False),
    "CONTINUATION_MARGIN_SECONDS": ("continuation_margin_seconds", _number(float, 5, 600), False),
    "SCHEDULE_TAG_VALUES": ("schedule_tag_values", _schedule_tag_values, False),
    "NOT_SELECTED_REPORTER": (
        "not_selected_reporter",
        _text(SCHEDULE_NAME_RE, "a schedule name"),
        False,
    ),
    "RUN_LEDGER_TABLE": (
        "run_ledger_table",
        _text(TABLE_NAME_RE, "a DynamoDB table name"),
        False,
    ),
    "RUN_LEDGER_TTL_SECONDS": ("run_ledger_ttl_seconds", _number(int, 86400, 31_536_000), False),
    "STORM_THRESHOLD": ("storm_threshold", _number(int, 1, 25), False),
}


def from_environment(environ: Mapping[str, str]) -> Config:
    """Build the configuration, naming every missing or malformed variable at once."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, (attribute, parse, required) in _VARIABLES.items():
        raw = environ.get(name, "").strip()
        if not raw:
            if required:
                problems.append(f"{name} is missing")
            continue
        try:
            values[attribute] = parse(raw)
        except ValueError as error:
            problems.append(f"{name}={raw!r} {error}")
    if not problems and values.get("backup_tag_key", Config.backup_tag_key) == values.get(
        "opt_out_tag_key", Config.opt_out_tag_key
    ):
        problems.append("OPT_OUT_TAG_KEY must differ from BACKUP_TAG_KEY")
    reporter = values.get("not_selected_reporter")
    if reporter is not None and reporter not in values.get("schedule_tag_values", {}):
        problems.append(
            f"NOT_SELECTED_REPORTER={reporter!r} must be one of the schedules of "
            "SCHEDULE_TAG_VALUES"
        )
    if problems:
        raise ConfigurationError("invalid function configuration: " + "; ".join(problems))
    return Config(**values)


@lru_cache(maxsize=1)
def load() -> Config:
    """The configuration of this container (read once; tests call load.cache_clear())."""
    return from_environment(os.environ)
