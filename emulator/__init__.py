"""Test support: extensions of moto for the app-consistent-backup state machine.

    import emulator
    clock = emulator.install()          # patch moto (in-process mock_aws and server mode)
    ...
    emulator.uninstall()

See README.md in this directory for the API and what each part emulates.
"""

from __future__ import annotations

from . import (
    backup,
    cloudwatch,
    dynamodb_atomic,
    faults,
    kms,
    lambda_async,
    lambda_sqs,
    restore,
    sns,
    ssm,
    stepfunctions_api,
    vault_policy,
)
from . import sfn as _sfn
from ._patching import unpatch_all as _unpatch_all
from .clock import EmulatedClock, iso_millis, parse_iso
from .ssm import Outcome
from .template import placeholders, render

__all__ = [
    "EmulatedClock",
    "Outcome",
    "backup",
    "clock",
    "faults",
    "install",
    "installed",
    "iso_millis",
    "kms",
    "lambda_async",
    "parse_iso",
    "placeholders",
    "render",
    "restore",
    "sns",
    "ssm",
    "uninstall",
    "vault_policy",
]

clock = EmulatedClock()
_state = {"installed": False}


def install(fast_waits: bool = True) -> EmulatedClock:
    """Patch moto; idempotent. Call before starting a ThreadedMotoServer.

    ``fast_waits`` makes Wait states and Retry intervals advance the emulated clock
    instead of sleeping.
    """
    if not _state["installed"]:
        _sfn.install(clock, fast_waits=fast_waits)
        faults.install()
        ssm.install(clock)
        backup.install(clock)
        kms.install()
        restore.install(clock)
        vault_policy.install()
        stepfunctions_api.install()
        lambda_sqs.install()
        lambda_async.install()
        cloudwatch.install()
        dynamodb_atomic.install()
        _state["installed"] = True
    return clock


def installed() -> bool:
    return _state["installed"]


def uninstall() -> None:
    """Undo every patch (moto behaves as shipped again)."""
    _unpatch_all()
    backup.uninstall_urls()
    restore.uninstall_urls()
    vault_policy.uninstall_urls()
    _state["installed"] = False
