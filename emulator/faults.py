"""Inject API errors into any moto service, for any client (tests, handlers, the interpreter).

    emulator.faults.inject("backup", "StartBackupJob", "ThrottlingException", times=2)
    emulator.faults.inject("ssm", "SendCommand", "AccessDeniedException",
                           when=lambda param: param("Parameters", {}).get("Command") == ["freeze"])

A fault answers the next ``times`` matching calls with the error (serialized by
moto for the service's protocol, with the HTTP status the AWS model gives the code,
400 otherwise) instead of running the operation. Faults live on the service's moto backend for the
account and region, so a moto reset clears them. Works in-process (``mock_aws``) and
in server mode (the patch sits in moto's request dispatch).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.core.exceptions import ServiceException

from ._patching import original, patch

DEFAULT_ACCOUNT = "123456789012"


class EmulatedError(ServiceException):
    """An error answered by the emulator, serialized by moto for the service's protocol.

    (Defined outside moto's packages: moto looks up the error model of exceptions whose
    module is ``moto.<service>``.)
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


ParamGetter = Callable[..., Any]


@dataclass
class Fault:
    code: str
    message: str
    times: int = 1
    when: Callable[[ParamGetter], bool] | None = None
    hits: int = field(default=0)


def default_region() -> str:
    return os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"


def _backend(service: str, account: str, region: str) -> Any:
    from moto.backends import get_backend

    backends = get_backend(service)  # type: ignore[call-overload]
    try:
        return backends[account][region]
    except KeyError:
        return backends[account]["aws"]


def _faults_of(backend: Any) -> dict[str, list[Fault]]:
    faults = getattr(backend, "_acb_faults", None)
    if faults is None:
        faults = {}
        backend._acb_faults = faults
    return faults


def inject(
    service: str,
    action: str,
    code: str,
    message: str = "",
    *,
    times: int = 1,
    when: Callable[[ParamGetter], bool] | None = None,
    account: str = DEFAULT_ACCOUNT,
    region: str | None = None,
) -> Fault:
    """Make the next ``times`` calls of ``service:action`` fail with ``code``.

    ``service`` is moto's service name (``ssm``, ``ec2``, ``backup``, ``sns``,
    ``dynamodb``, ``stepfunctions``); ``action`` the API operation name.
    ``when(param)`` narrows the fault to calls whose parameters match, where
    ``param(name, default=None)`` reads a request parameter.
    """
    fault = Fault(code=code, message=message or f"Injected {code}", times=times, when=when)
    backend = _backend(service, account, region or default_region())
    _faults_of(backend).setdefault(action, []).append(fault)
    return fault


def clear(service: str, account: str = DEFAULT_ACCOUNT, region: str | None = None) -> None:
    _faults_of(_backend(service, account, region or default_region())).clear()


def _take(response: Any, action: str) -> Fault | None:
    try:
        backend = _backend(response.service_name, response.current_account, response.region)
    except Exception:  # a global service or an unknown region: no faults there
        return None
    queue = getattr(backend, "_acb_faults", {}).get(action)
    if not queue:
        return None

    def param(name: str, default: Any = None) -> Any:
        return response._get_param(name, default)

    for fault in queue:
        if fault.hits >= fault.times:
            continue
        if fault.when is not None and not fault.when(param):
            continue
        fault.hits += 1
        return fault
    return None


def install() -> None:
    from moto.core.responses import BaseResponse
    from moto.core.utils import camelcase_to_underscores

    call_action = original(BaseResponse, "call_action")

    def _call_action(self: Any) -> Any:
        try:
            action = self._get_action()
        except Exception:
            action = None
        fault = _take(self, action) if action else None
        if fault is not None:
            error = EmulatedError(fault.code, fault.message)

            def _raise() -> Any:
                raise error

            # An instance attribute shadows the class's method for this one request.
            setattr(self, camelcase_to_underscores(action), _raise)
            with warnings.catch_warnings():
                # Injected codes need not be in the model (e.g. Backup's ThrottlingException).
                warnings.filterwarnings("ignore", message=r"Exception\(EmulatedError\)")
                return call_action(self)
        return call_action(self)

    patch(BaseResponse, "call_action", _call_action)
