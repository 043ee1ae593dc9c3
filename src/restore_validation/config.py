"""The function's configuration: environment variables set by Terraform, read once."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

TOPIC_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$")
PLAN_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:backup:[a-z0-9-]+:[0-9]{12}:restore-testing-plan:[A-Za-z0-9_-]{1,100}$"
)
NAME_PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
DOCUMENT_RE = re.compile(r"^[A-Za-z0-9_.-]{3,128}$")


class ConfigurationError(RuntimeError):
    """One or more environment variables are missing or malformed."""


@dataclass(frozen=True)
class Config:
    name_prefix: str
    notification_topic_arn: str
    restore_testing_plan_arn: str
    validation_document_name: str
    validation_window_hours: int = 24
    agent_wait_seconds: int = 900
    check_timeout_seconds: int = 300
    notify_on_success: bool = False


def _text(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not pattern.match(raw):
            raise ValueError(f"must be {what}")
        return raw

    return parse


def _whole(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return int(raw)

    return parse


def _flag(raw: str) -> bool:
    if raw not in ("true", "false"):
        raise ValueError("must be true or false")
    return raw == "true"


# name -> (Config field, parser, required)
_VARIABLES: dict[str, tuple[str, Callable[[str], Any], bool]] = {
    "NAME_PREFIX": ("name_prefix", _text(NAME_PREFIX_RE, "1-63 letters, digits, - or _"), True),
    "NOTIFICATION_TOPIC_ARN": (
        "notification_topic_arn",
        _text(TOPIC_ARN_RE, "an SNS topic ARN"),
        True,
    ),
    "RESTORE_TESTING_PLAN_ARN": (
        "restore_testing_plan_arn",
        _text(PLAN_ARN_RE, "a restore testing plan ARN"),
        True,
    ),
    "VALIDATION_DOCUMENT_NAME": (
        "validation_document_name",
        _text(DOCUMENT_RE, "an SSM document name"),
        True,
    ),
    "VALIDATION_WINDOW_HOURS": ("validation_window_hours", _whole(1, 168), False),
    "AGENT_WAIT_SECONDS": ("agent_wait_seconds", _whole(60, 86400), False),
    "CHECK_TIMEOUT_SECONDS": ("check_timeout_seconds", _whole(1, 999), False),
    "NOTIFY_ON_SUCCESS": ("notify_on_success", _flag, False),
}


def from_environment(environ: Mapping[str, str]) -> Config:
    """Build the configuration, naming every missing or malformed variable at once."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, (field, parse, required) in _VARIABLES.items():
        raw = environ.get(name, "").strip()
        if not raw:
            if required:
                problems.append(f"{name} is missing")
            continue
        try:
            values[field] = parse(raw)
        except ValueError as error:
            problems.append(f"{name}={raw!r} {error}")
    if problems:
        raise ConfigurationError("invalid function configuration: " + "; ".join(problems))
    return Config(**values)


@lru_cache(maxsize=1)
def load() -> Config:
    """The configuration of this container (read once; tests call load.cache_clear())."""
    return from_environment(os.environ)
