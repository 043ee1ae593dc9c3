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

Groups are queued longest first (`make pytest` passes `--no-loadscope-reorder`, which keeps this
order; xdist would otherwise queue the groups with the most tests first): the loop-device group,
then the groups in FIRST, then the rest as collected. The two end-to-end groups mostly wait on
Terraform's AWS provider (its SQS and KMS waiters poll for half a minute), so `make pytest` runs
more workers than the machine has cores and they wait beside the tests that compute.
Without xdist (a plain `pytest tests/x`), the markers are inert and the order is the same.

Coverage of src/ (`make pytest` runs `--cov=src`) is traced only in the tests that can run src/
code in pytest's own process: the trace function slows every line Python runs, src/ or not
(tests/statemachine/test_fault_matrix.py took 66 s of CPU traced, 39 s untraced). The tests
in UNTRACED exercise the emulator, the state machine's definition, the SSM document and the
demo, whose Lambda functions run in processes of their own; tests/statemachine/test_run_ledger.py
runs the discovery handler in-process and stays traced, like every other test. tests/fleet runs
the discovery handler in-process too, but over the same lines tests/discovery covers: untraced,
its fleets cost half the CPU (about 15 s a 60-instance fleet instead of 30) and the coverage
report is the same to the line (2,372 statements, 88 missed, on a31fb9c).
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
LOOP_GROUP = "loop-devices"
# Relative to tests/: every test below these mounts images, freezes them or runs the demo's
# real freeze (tests/e2e), whether or not it is marked `root`.
LOOP_DEVICES = ("ssm", "e2e/test_e2e_demo.py", "restore_validation/test_restore_document.py")
# Relative to tests/: where no src/ code runs in pytest's process (see above), and exceptions.
UNTRACED = ("statemachine", "emulator", "ssm", "e2e", "demo", "fleet")
TRACED = ("statemachine/test_run_ledger.py", "statemachine/schedule_run.py")
# Relative to tests/: the groups queued right after the loop-device group, the longest first
# (set-up wall time in `make test` on 2 cores, 3516f59: the fleet's two 200-instance runs and
# two of 60 179 s, two slots pacing them; the smoke 153 s, mostly waiting; the others compute
# less). The smoke still goes first: it mostly waits, so the fleet's computing overlaps it;
# queued the other way round, `make test` took 35 s longer (c6ddcf5).
FIRST = (
    "e2e/test_smoke_e2e.py",
    "fleet/test_fleet.py",
    "discovery/test_run_ledger_storm.py",
    "statemachine/test_fault_matrix.py",
)


def _relative(item: pytest.Item) -> str:
    path = item.path.resolve()
    return path.relative_to(TESTS).as_posix() if path.is_relative_to(TESTS) else str(path)


def _under(rel: str, places: tuple[str, ...]) -> bool:
    return any(rel == p or rel.startswith(p + "/") for p in places)


def group_of(item: pytest.Item) -> str:
    rel = _relative(item)
    if item.get_closest_marker("root") is not None or _under(rel, LOOP_DEVICES):
        return LOOP_GROUP
    return rel


# tryfirst: pytest-xdist reads the groups in its own pytest_collection_modifyitems, which
# would otherwise run first (later plugins are called first) and see no group.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group_of(item)))
    # Stable: within a group, and among the groups not named, the collection order stays.
    items.sort(key=_queue_position)


def _queue_position(item: pytest.Item) -> int:
    group = group_of(item)
    if group == LOOP_GROUP:
        return 0
    return 1 + FIRST.index(group) if group in FIRST else 1 + len(FIRST)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Coverage paused around an untraced test: its set-up (module worlds too) and teardown.

    The collector itself is paused, not the Coverage object stopped: on an xdist worker
    pytest-cov starts two, and stopping the top one resumes the one below it.
    """
    plugin = item.config.pluginmanager.get_plugin("_cov")
    controller = getattr(plugin, "cov_controller", None)
    collector = getattr(getattr(controller, "cov", None), "_collector", None)
    rel = _relative(item)
    pause = (
        collector is not None
        and controller.started
        and _under(rel, UNTRACED)
        and not _under(rel, TRACED)
    )
    if pause:
        collector.pause()
    try:
        yield
    finally:
        if pause:
            collector.resume()
