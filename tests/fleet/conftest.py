"""Fixtures: the emulator with the fleet's hooks, undone after each test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import emulator
from emulator import fleet


@pytest.fixture(scope="module")
def fleet_hooks() -> Iterator[None]:
    """moto with the emulator and the fleet's hooks (scheduler, quotas, latency)."""
    fleet.install()
    yield
    emulator.uninstall()
