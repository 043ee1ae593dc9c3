"""Fixtures: the emulator patched into moto for this directory, a fresh account per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import emulator
from emulator.statemachine import World, emulated_aws


@pytest.fixture(scope="module")
def emulation() -> Iterator[emulator.EmulatedClock]:
    """moto with the emulator's extensions, for one test module (undone afterwards)."""
    clock = emulator.install()
    yield clock
    emulator.uninstall()


@pytest.fixture
def world(emulation: emulator.EmulatedClock) -> Iterator[World]:
    """A fresh moto account: vault, topic, guard table and the rendered state machine."""
    with emulated_aws() as fresh:
        yield fresh
