"""The function's configuration: environment variables set by Terraform, read once."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

SECRET_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$"
)
QUEUE_URL_RE = re.compile(r"^https?://\S+/[0-9]{12}/[A-Za-z0-9_-]{1,80}$")
NAME_PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
JSONV2_PATH = "/api/global/em/jsonv2"


class ConfigurationError(RuntimeError):
    """One or more environment variables are missing or malformed."""


@dataclass(frozen=True)
class Config:
    servicenow_url: str  # scheme://host[:port], no path
    secret_arn: str
    dead_letter_queue_url: str
    queue_url: str
    name_prefix: str
    max_attempts: int = 3
    request_timeout_seconds: float = 10.0

    @property
    def endpoint(self) -> str:
        return self.servicenow_url + JSONV2_PATH


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_url(raw: str) -> str:
    """The instance's base URL: https (http only to a loopback address), no path."""
    parts = urlsplit(raw.rstrip("/"))
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError("must be https://INSTANCE.service-now.com")
    if parts.scheme == "http" and not _is_loopback(host):
        raise ValueError(
            "must use https: events name instances and failures, and the credentials "
            "must not cross the network in clear text (http is allowed to a loopback "
            "address only, for the local ServiceNow of the tests)"
        )
    if parts.path or parts.query or parts.fragment or parts.username:
        raise ValueError(f"must be the instance's address only, without a path ({JSONV2_PATH})")
    return f"{parts.scheme}://{parts.netloc}"


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


# name -> (Config field, parser, required)
_VARIABLES: dict[str, tuple[str, Callable[[str], Any], bool]] = {
    "SERVICENOW_URL": ("servicenow_url", parse_url, True),
    "SERVICENOW_SECRET_ARN": (
        "secret_arn",
        _text(SECRET_ARN_RE, "a Secrets Manager secret ARN"),
        True,
    ),
    "DEAD_LETTER_QUEUE_URL": (
        "dead_letter_queue_url",
        _text(QUEUE_URL_RE, "an SQS queue URL"),
        True,
    ),
    "QUEUE_URL": ("queue_url", _text(QUEUE_URL_RE, "an SQS queue URL"), True),
    "NAME_PREFIX": ("name_prefix", _text(NAME_PREFIX_RE, "1-63 letters, digits, '-' or '_'"), True),
    "MAX_ATTEMPTS": ("max_attempts", _number(int, 1, 10), False),
    "REQUEST_TIMEOUT_SECONDS": ("request_timeout_seconds", _number(float, 1, 60), False),
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
        raise ConfigurationError("; ".join(problems))
    return Config(**values)


@lru_cache(maxsize=1)
def load() -> Config:
    """The container's configuration (read once: Lambda's environment does not change)."""
    return from_environment(os.environ)
