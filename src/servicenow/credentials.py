"""The ServiceNow credentials, read from Secrets Manager at run time and cached briefly.

The secret is a JSON object with ``username`` and ``password`` (HTTP Basic, a user with
the ``evt_mgmt_integration`` role) or with ``api_key`` (sent as ``x-sn-apikey``,
ServiceNow's default API-key auth parameter). They never appear in Terraform's plan or
state, nor in the function's environment, and are never logged.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from servicenow import clients
from servicenow.config import ConfigurationError

API_KEY_HEADER = "x-sn-apikey"
TTL_SECONDS = 300.0  # a rotated secret is picked up within 5 minutes, or at once on a 401


@dataclass(frozen=True)
class Credentials:
    kind: str  # "basic" or "api_key"
    headers: dict[str, str] = field(repr=False)  # never printed

    def __repr__(self) -> str:
        return f"Credentials(kind={self.kind!r})"


def parse(secret_string: str) -> Credentials:
    """Credentials from the secret's text; a clear error for every other shape."""
    try:
        value = json.loads(secret_string)
    except ValueError:
        raise ConfigurationError(
            'the ServiceNow secret is not JSON: store {"username": ..., "password": ...} '
            'or {"api_key": ...}'
        ) from None
    if not isinstance(value, dict):
        raise ConfigurationError("the ServiceNow secret must be a JSON object")
    basic = "username" in value or "password" in value
    keyed = "api_key" in value
    if basic and keyed:
        raise ConfigurationError(
            "the ServiceNow secret holds both username/password and api_key: keep one"
        )
    if keyed:
        key = value["api_key"]
        if not isinstance(key, str) or not key.strip():
            raise ConfigurationError("the ServiceNow secret's api_key must be a non-empty string")
        return Credentials("api_key", {API_KEY_HEADER: key.strip()})
    if basic:
        user, password = value.get("username"), value.get("password")
        if not isinstance(user, str) or not user or not isinstance(password, str) or not password:
            raise ConfigurationError(
                "the ServiceNow secret needs both username and password as non-empty strings"
            )
        if ":" in user:
            raise ConfigurationError("the ServiceNow username must not contain ':' (HTTP Basic)")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return Credentials("basic", {"Authorization": f"Basic {token}"})
    raise ConfigurationError("the ServiceNow secret has neither username/password nor api_key")


class Store:
    """The credentials of one secret, cached for ``TTL_SECONDS``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: dict[str, tuple[Credentials, float]] = {}

    def get(self, secret_arn: str, refresh: bool = False) -> Credentials:
        now = self._clock()
        with self._lock:
            hit = self._cached.get(secret_arn)
            if hit and not refresh and now - hit[1] < TTL_SECONDS:
                return hit[0]
        credentials = parse(_read(secret_arn))
        with self._lock:
            self._cached[secret_arn] = (credentials, now)
        return credentials

    def clear(self) -> None:
        with self._lock:
            self._cached.clear()


def _read(secret_arn: str) -> str:
    try:
        answer = clients.get("secretsmanager").get_secret_value(SecretId=secret_arn)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "?")
        raise ConfigurationError(
            f"cannot read the ServiceNow secret {secret_arn}: {code}"
            " (the function's role needs secretsmanager:GetSecretValue on it, and"
            " kms:Decrypt on its key when that is a customer-managed key)"
        ) from None
    except BotoCoreError as error:
        raise ConfigurationError(f"cannot read the ServiceNow secret: {error}") from None
    text = answer.get("SecretString")
    if not isinstance(text, str):
        raise ConfigurationError(
            "the ServiceNow secret has no SecretString: store it as JSON text, not binary"
        )
    return text


store = Store()
