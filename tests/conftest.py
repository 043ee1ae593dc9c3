"""How `make pytest` shares the suite between pytest-xdist workers (`--dist loadgroup`).

Every test gets an `xdist_group`, and a group runs whole, in order, on one worker:
- the tests that mount loop images or freeze real filesystems (the `root` marker, and the
  directories and files in LOOP_DEVICES) form one group, so they never run beside each other:
  one test's automatic selection must not meet another's mounts, and freezes stay serial;
- every other test file is a group of its own, so its module-scoped world (a moto backend, a
  local server, a `terraform init`) is built once, on one worker. A new directory (tests/fleet,
  say) needs nothing here: its files become groups like any other.
A test may name its own group with `@pytest.mark.xdist_group("name")` to share a world or a
fixed port with tests in other files; that marker is kept.

The loop-device group is the longest, so it is queued first; the rest fill the other worker.
Without xdist (a plain `pytest tests/x`), the markers are inert and the order is the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
LOOP_GROUP = "loop-devices"
# Relative to tests/: every test below these mounts images, freezes them or runs the demo's
# real freeze (tests/e2e), whether or not it is marked `root`.
LOOP_DEVICES = ("ssm", "e2e/test_e2e_demo.py", "restore_validation/test_restore_document.py")


def group_of(item: pytest.Item) -> str:
    path = item.path.resolve()
    rel = path.relative_to(TESTS).as_posix() if path.is_relative_to(TESTS) else str(path)
    if item.get_closest_marker("root") is not None or any(
        rel == p or rel.startswith(p + "/") for p in LOOP_DEVICES
    ):
        return LOOP_GROUP
    return rel


# tryfirst: pytest-xdist reads the groups in its own pytest_collection_modifyitems, which
# would otherwise run first (later plugins are called first) and see no group.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group_of(item)))
    # Stable: within a group the collection order stays as it was.
    items.sort(key=lambda item: group_of(item) != LOOP_GROUP)
