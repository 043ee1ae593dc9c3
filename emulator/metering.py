"""Every AWS call of a fleet run: admitted or throttled by its quota, delayed, logged.

``activate(Meter(...))`` puts a meter in front of moto's request dispatch (for every
client: the discovery handler, the interpreter's Task states, test code);
``deactivate()`` takes it away. Without an active meter calls pass as moto answers
them. A call that meets an empty bucket is answered as AWS answers it (error code,
HTTP status: ``emulator.quotas.THROTTLES``), never reaching the operation, so a
definition's Retry and Catch rules and botocore's retries see the real thing.

Order of events for one call: it arrives at virtual time t, takes a token (or is
throttled) and takes effect at t; its caller gets the answer at t + latency.

State transitions draw on Step Functions' StateTransition bucket too; a transition
that finds it empty waits for its token (Step Functions throttles transitions, it does
not fail them), logged as ``states:StateTransition`` (throttled: transitions delayed).
"""

from __future__ import annotations

import collections
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from . import scheduler as _scheduler
from ._patching import patch
from .faults import EmulatedError
from .latency import LatencyModel
from .quotas import SERVICE_PREFIX, THROTTLES, Quota, Quotas

_active: list[Meter] = []
_local = threading.local()


@dataclass
class ApiLog:
    """What one API (one bucket) saw during the run."""

    quota: Quota
    accepted: int = 0
    throttled: int = 0
    per_second: collections.Counter[int] = field(default_factory=collections.Counter)

    def peak(self) -> int:
        return max(self.per_second.values(), default=0)


@dataclass
class Meter:
    """Quotas (``None``: no throttling at all), latencies and the log of one run."""

    quotas: Quotas | None
    latency: LatencyModel
    clock_seconds: Any  # () -> virtual seconds (the scheduler's now)
    apis: dict[str, ApiLog] = field(default_factory=dict)
    # Which bucket a call belongs to, when nothing is throttled (the baseline's log).
    reference: Quotas = field(default_factory=lambda: Quotas(other_tenants=0.0))

    def admit(self, service: str, action: str, request: Any) -> tuple[str, bool]:
        prefix = SERVICE_PREFIX.get(service, service)
        now = self.clock_seconds()
        if self.quotas is not None:
            key, quota = self.quotas.quota(prefix, action, request)
            admitted = self.quotas.admit(key, quota, now)
        else:
            key, quota = self.reference.quota(prefix, action, request)
            admitted = True
        log = self.apis.get(key)
        if log is None:
            log = self.apis[key] = ApiLog(quota)
        if admitted:
            log.accepted += 1
            log.per_second[int(now)] += 1
        else:
            log.throttled += 1
        return key, admitted

    def transition(self) -> float:
        """A state transition: its token from the StateTransition bucket, or the wait for it."""
        now = self.clock_seconds()
        key, quota = (self.quotas or self.reference).quota("states", "StateTransition")
        wait = self.quotas.delay(key, quota, now) if self.quotas is not None else 0.0
        log = self.apis.get(key)
        if log is None:
            log = self.apis[key] = ApiLog(quota)
        log.accepted += 1
        log.per_second[int(now + wait)] += 1
        if wait > 0:
            log.throttled += 1
        return wait

    @property
    def throttled(self) -> int:
        return sum(log.throttled for log in self.apis.values())


def activate(meter: Meter) -> None:
    _active[:] = [meter]


def deactivate() -> None:
    _active.clear()


def active() -> Meter | None:
    return _active[0] if _active else None


@contextmanager
def unmetered() -> Iterator[None]:
    """Calls the calling thread makes inside this block pass unmetered (harness reads)."""
    _local.off = True
    try:
        yield
    finally:
        _local.off = False


def install() -> None:
    from moto.core.responses import BaseResponse
    from moto.core.utils import camelcase_to_underscores

    inner = BaseResponse.call_action  # faults' dispatch, when installed

    def _call_action(self: Any) -> Any:
        meter = active()
        if meter is None or getattr(_local, "off", False):
            return inner(self)
        try:
            action = self._get_action()
        except Exception:  # not an API call moto can name: pass it on
            return inner(self)
        service = self.service_name or ""
        _, admitted = meter.admit(service, action, self)
        if admitted:
            answer = inner(self)
        else:
            answer = _throttled(self, service, action, camelcase_to_underscores(action), inner)
        found = _scheduler.current()
        if found is not None:
            found[0].sleep(meter.latency.sample(f"{service}:{action}", action))
        return answer

    _call_action._acb_metering = True  # type: ignore[attr-defined]
    patch(BaseResponse, "call_action", _call_action)

    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField

    eval_body = CommonStateField._eval_body

    def _eval_body(self: Any, env: Any) -> None:
        meter, found = active(), _scheduler.current()
        if meter is not None and found is not None:
            wait = meter.transition()
            if wait > 0:
                found[0].sleep(wait)
        eval_body(self, env)

    patch(CommonStateField, "_eval_body", _eval_body)


def _throttled(self: Any, service: str, action: str, method: str, inner: Any) -> Any:
    throttle = THROTTLES.get(SERVICE_PREFIX.get(service, service))
    code, status, message = (
        (throttle.code, throttle.status, throttle.message)
        if throttle
        else ("ThrottlingException", 400, "Rate exceeded")
    )
    error = EmulatedError(code, message)

    def _raise() -> Any:
        raise error

    setattr(self, method, _raise)  # shadows the operation for this one request
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Exception\(EmulatedError\)")
        answer = inner(self)
    if isinstance(answer, tuple) and len(answer) == 3:
        _, headers, body = answer
        return status, headers, body
    return answer
