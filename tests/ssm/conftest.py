"""Fixtures for the instance-side tests (ssm/): see acb_harness.py for the safety rules."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from acb_harness import Acb, Mounts, Writer, require_root_and_loop, secure_parent


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A short, pattern-safe directory on a filesystem the script never freezes, below
    directories only root can change (the script refuses anything else), readable by all."""
    parent = secure_parent() if os.geteuid() == 0 else Path(tempfile.gettempdir())
    with tempfile.TemporaryDirectory(prefix="acb-", dir=parent) as d:
        path = Path(d)
        path.chmod(0o755)
        yield path


@pytest.fixture
def acb(workdir: Path) -> Iterator[Acb]:
    harness = Acb(base=workdir, mount_root=workdir / "mnt")
    yield harness
    harness.kill_watchdogs()


@pytest.fixture
def mounts(workdir: Path, acb: Acb) -> Iterator[Mounts]:
    """Mounts made by the test; thawed, unmounted and detached afterwards whatever happened."""
    require_root_and_loop()
    m = Mounts(workdir)
    try:
        yield m
    finally:
        acb.kill_watchdogs()
        m.cleanup()


@pytest.fixture
def writers(mounts: Mounts) -> Iterator[list[Writer]]:
    """Writer processes; reaped after the mounts are thawed (a D-state process cannot die)."""
    started: list[Writer] = []
    yield started
    for m in reversed(mounts.entries):
        subprocess.run(["fsfreeze", "-u", m.handle], capture_output=True, check=False)
    for w in started:
        with contextlib.suppress(subprocess.TimeoutExpired):
            w.proc.wait(timeout=10)
        w.kill()
