"""AWS clients, created once per container on first use, with botocore's standard retries."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

_lock = threading.Lock()
_clients: dict[str, Any] = {}
_CONFIG = BotoConfig(retries={"mode": "standard", "total_max_attempts": 5})


def get(service: str) -> Any:
    """The container's client for ``service`` (backup, ec2, ssm, sns or lambda)."""
    client = _clients.get(service)
    if client is None:
        with _lock:
            client = _clients.get(service)
            if client is None:
                client = boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]
                _clients[service] = client
    return client


def reset() -> None:
    """Forget the clients (tests: a new moto mock needs new clients)."""
    with _lock:
        _clients.clear()
