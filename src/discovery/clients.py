"""AWS clients, created once per container on first use (so tests can create them under
moto's mock), each with botocore's own retry mode.

StartExecution uses the "standard" mode with more attempts: its throttling is the one
the handler expects; the others use the standard defaults. botocore clients are
thread-safe, so the fan-out pool shares one Step Functions client.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

_lock = threading.Lock()
_clients: dict[str, Any] = {}

_CONFIGS = {
    "ec2": BotoConfig(retries={"mode": "standard", "total_max_attempts": 5}),
    "stepfunctions": BotoConfig(
        retries={"mode": "standard", "total_max_attempts": 6},
        max_pool_connections=64,
        connect_timeout=5,
        read_timeout=20,
    ),
    "sns": BotoConfig(retries={"mode": "standard", "total_max_attempts": 5}),
    "lambda": BotoConfig(retries={"mode": "standard", "total_max_attempts": 5}),
    "dynamodb": BotoConfig(retries={"mode": "standard", "total_max_attempts": 5}),
}


def get(service: str) -> Any:
    """The container's client for ``service`` (ec2, stepfunctions, sns, lambda, dynamodb)."""
    client = _clients.get(service)
    if client is None:
        with _lock:
            client = _clients.get(service)
            if client is None:
                client = boto3.client(service, config=_CONFIGS[service])  # type: ignore[call-overload]
                _clients[service] = client
    return client


def reset() -> None:
    """Forget the clients (tests: a new moto mock needs new clients)."""
    with _lock:
        _clients.clear()
