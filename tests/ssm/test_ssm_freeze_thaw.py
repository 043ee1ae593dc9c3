"""Real freezes and thaws of loop-mounted ext4 and xfs filesystems, with the real kernel."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from acb_harness import (
    EX_BUSY,
    EX_FREEZE,
    EX_OK,
    SCRIPT,
    TEMPLATE,
    Acb,
    Mounts,
    Writer,
    is_frozen,
    render,
    sh,
    ssm_substitute,
)

pytestmark = [pytest.mark.root, pytest.mark.timeout(120)]

ISO_MS = "%Y-%m-%dT%H:%M:%S.%fZ"


def epoch(value: str) -> float:
    assert value.endswith("Z"), value
    assert len(value.split(".")[1]) == 4, value  # milliseconds
    return datetime.strptime(value, ISO_MS).replace(tzinfo=UTC).timestamp()


@pytest.fixture
def two(mounts: Mounts) -> tuple[Path, Path]:
    return mounts.ext4("e4"), mounts.xfs("xf")


def test_freeze_blocks_writers_and_thaw_releases_them(
    acb: Acb, two: tuple[Path, Path], writers: list[Writer]
) -> None:
    ext4, xfs = two
    res = acb.freeze([str(ext4), str(xfs)], run_id="rw-1")
    assert res.rc == EX_OK, res
    out = res.out
    assert out["status"] == "frozen"
    assert sorted(res.mountpoints) == sorted([str(ext4), str(xfs)])
    assert out["watchdog"]["outcome"] == "armed"
    assert epoch(out["freeze_started_at"]) <= epoch(out["frozen_at"])
    assert epoch(out["watchdog"]["deadline"]) > epoch(out["frozen_at"])
    assert len(acb.watchdog_pids()) == 1

    for fs in (ext4, xfs):
        writers.append(Writer(fs, payload=f"data on {fs.name}"))
    for w in writers:
        assert w.is_blocked(), "a write to a frozen filesystem must block"

    res = acb.thaw(run_id="rw-1")
    assert res.rc == EX_OK, res
    out = res.out
    assert out["status"] == "thawed"
    assert out["watchdog"] == {
        "deadline": out["watchdog"]["deadline"],
        "outcome": "cancelled",
        "thawed_at": None,
    }
    assert {fs["state"] for fs in out["filesystems"]} == {"thawed"}
    assert out["freeze_duration_ms"] >= 0
    assert epoch(out["frozen_at"]) <= epoch(out["thawed_at"])
    for w in writers:
        w.wait_done(timeout=10)
        assert w.path.read_text() == w.payload
    # The watchdog was cancelled.
    deadline = time.monotonic() + 5
    while acb.watchdog_pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert acb.watchdog_pids() == []
    assert not (acb.state_dir / "active").exists()


def test_watchdog_thaws_within_max_plus_one_second(
    acb: Acb, two: tuple[Path, Path], writers: list[Writer]
) -> None:
    ext4, xfs = two
    res = acb.freeze([str(ext4), str(xfs)], run_id="wd-1", ACB_MAX_FREEZE_SECONDS="2")
    assert res.rc == EX_OK, res
    started = epoch(res.out["freeze_started_at"])
    deadline = epoch(res.out["watchdog"]["deadline"])
    assert deadline - started <= 2.0
    for fs in (ext4, xfs):
        writers.append(Writer(fs))
    for w in writers:
        assert w.is_blocked()
    done = [w.wait_done(timeout=10) for w in writers]  # no thaw is sent
    for t in done:
        assert t - started <= 2 + 1, f"writer released {t - started:.3f}s after the freeze began"
    assert not is_frozen(ext4)
    assert not is_frozen(xfs)

    res = acb.thaw(run_id="wd-1")
    assert res.rc == EX_OK, res
    assert res.out["status"] == "thawed"
    assert res.out["watchdog"]["outcome"] == "thawed_first"
    wd_thawed = epoch(res.out["watchdog"]["thawed_at"])
    assert deadline <= wd_thawed <= deadline + 1
    assert res.out["thawed_at"] == res.out["watchdog"]["thawed_at"]


def test_partial_failure_thaws_what_was_frozen(
    acb: Acb, mounts: Mounts, writers: list[Writer]
) -> None:
    # tmpfs cannot be frozen (EOPNOTSUPP, measured on this kernel). Same depth: path order,
    # so the ext4 filesystem is frozen before the tmpfs fails and the xfs one never is.
    a = mounts.ext4("a-ext4")
    b = mounts.tmpfs("b-tmpfs")
    c = mounts.xfs("c-xfs")
    acb.hook("pre-freeze", "10-mark", "exit 0")
    acb.hook("post-thaw", "10-mark", f'echo "$ACB_THAWED_BY" > {acb.base}/post')
    res = acb.freeze([str(a), str(b), str(c)], run_id="partial")
    assert res.rc == EX_FREEZE, res
    out = res.out
    assert out["status"] == "failed"
    assert "Operation not supported" in out["error"]
    assert str(b) in out["error"]
    states = {fs["mountpoint"]: fs["state"] for fs in out["filesystems"]}
    assert states == {str(a): "thawed", str(b): "not-frozen"}
    assert out["watchdog"]["outcome"] == "cancelled"
    assert not is_frozen(a)
    assert not is_frozen(c)
    writers.append(Writer(a))
    writers[0].wait_done(timeout=5)
    assert (acb.base / "post").read_text().strip() == "rollback"
    assert not (acb.state_dir / "active").exists()
    deadline = time.monotonic() + 5
    while acb.watchdog_pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert acb.watchdog_pids() == []
    # A thaw for that run has nothing left to do.
    res = acb.thaw(run_id="partial")
    assert res.rc == EX_OK, res
    assert res.out["watchdog"]["outcome"] == "none"


def test_filesystem_frozen_by_someone_else_fails_and_is_left_to_them(
    acb: Acb, two: tuple[Path, Path]
) -> None:
    ext4, xfs = two
    sh("fsfreeze", "-f", str(xfs))  # another tool's freeze
    try:
        res = acb.freeze([str(ext4), str(xfs)], run_id="busy")
        assert res.rc == EX_FREEZE, res
        assert "already frozen by another process" in res.out["error"]
        assert not is_frozen(ext4)
        assert is_frozen(xfs), "a freeze that is not ours must not be thawed"
    finally:
        sh("fsfreeze", "-u", str(xfs), check=False)


def test_nested_mounts_freeze_inner_first_and_thaw_outer_first(
    acb: Acb, mounts: Mounts, writers: list[Writer]
) -> None:
    outer = mounts.ext4("outer")
    inner = mounts.xfs("inner", parent=outer)
    innermost = mounts.ext4("innermost", parent=inner)
    res = acb.freeze([str(outer), str(inner), str(innermost)], run_id="nested")
    assert res.rc == EX_OK, res
    assert res.mountpoints == [str(innermost), str(inner), str(outer)]
    for fs in (outer, inner, innermost):
        writers.append(Writer(fs))
    for w in writers:
        assert w.is_blocked()
    res = acb.thaw(run_id="nested")
    assert res.rc == EX_OK, res
    assert res.mountpoints == [str(innermost), str(inner), str(outer)]  # reported in freeze order
    freeze_log = (acb.state_dir / "runs" / "nested" / "fs").read_text().splitlines()
    assert [line.split()[-1] for line in freeze_log] == [str(innermost), str(inner), str(outer)]
    for w in writers:
        w.wait_done(timeout=10)


def test_bind_mounts_are_frozen_once(acb: Acb, mounts: Mounts, writers: list[Writer]) -> None:
    data = mounts.ext4("data")
    bind = mounts.bind(data, "data-bind")
    res = acb.freeze([str(data), str(bind)], run_id="bind")
    assert res.rc == EX_OK, res  # a second fsfreeze of the same filesystem would be EBUSY
    assert res.mountpoints == [str(data)]
    writers.append(Writer(bind))  # writes through the bind mount block too
    assert writers[0].is_blocked()
    res = acb.thaw(run_id="bind")
    assert res.rc == EX_OK, res
    writers[0].wait_done(timeout=10)


def test_double_freeze_neither_stacks_nor_loses_state(acb: Acb, two: tuple[Path, Path]) -> None:
    ext4, xfs = two
    first = acb.freeze([str(ext4), str(xfs)], run_id="one")
    assert first.rc == EX_OK, first

    again = acb.freeze([str(ext4), str(xfs)], run_id="one")  # a retry of the same run
    assert again.rc == EX_OK, again
    assert again.out["status"] == "frozen"
    assert again.out["frozen_at"] == first.out["frozen_at"]
    assert again.out["watchdog"]["deadline"] == first.out["watchdog"]["deadline"]
    assert "already frozen" in again.out["note"]
    assert len(acb.watchdog_pids()) == 1

    other = acb.freeze([str(ext4)], run_id="two")
    assert other.rc == EX_BUSY, other
    assert "frozen by run one" in other.out["error"]

    # The other run's thaw must not thaw run one's freeze.
    res = acb.thaw(run_id="two")
    assert res.rc == EX_OK, res
    assert res.out["watchdog"]["outcome"] == "none"
    assert is_frozen(ext4)
    assert is_frozen(xfs)

    res = acb.thaw(run_id="one")
    assert res.rc == EX_OK, res
    assert res.out["watchdog"]["outcome"] == "cancelled"
    assert not is_frozen(ext4)
    assert not is_frozen(xfs)


def test_double_thaw_is_idempotent(acb: Acb, two: tuple[Path, Path]) -> None:
    ext4, xfs = two
    assert acb.freeze([str(ext4), str(xfs)], run_id="tt").rc == EX_OK
    first = acb.thaw(run_id="tt")
    assert first.rc == EX_OK, first
    second = acb.thaw(run_id="tt")
    assert second.rc == EX_OK, second
    for key in ("status", "frozen_at", "thawed_at", "freeze_duration_ms", "watchdog"):
        assert second.out[key] == first.out[key], key
    assert sorted(second.mountpoints) == sorted(first.mountpoints)
    assert "already thawed" in second.out["note"]


def test_thaw_treats_not_frozen_as_done(acb: Acb, two: tuple[Path, Path]) -> None:
    ext4, xfs = two
    assert acb.freeze([str(ext4), str(xfs)], run_id="ext").rc == EX_OK
    sh("fsfreeze", "-u", str(xfs))  # thawed behind the script's back
    res = acb.thaw(run_id="ext")
    assert res.rc == EX_OK, res
    states = {fs["mountpoint"]: fs["state"] for fs in res.out["filesystems"]}
    assert states == {str(ext4): "thawed", str(xfs): "not-frozen"}


def test_thaw_without_any_freeze(acb: Acb) -> None:
    acb.hook("pre-freeze", "10-db", "exit 0")
    acb.hook("post-thaw", "10-db", f"touch {acb.base}/ran")
    res = acb.thaw(run_id="never")
    assert res.rc == EX_OK, res
    assert res.out["status"] == "thawed"
    assert res.out["watchdog"]["outcome"] == "none"
    assert res.out["filesystems"] == []
    assert res.out["hooks"] == []
    assert not (acb.base / "ran").exists(), "no pre-freeze hook ran for it: no post-thaw hook runs"


def test_stale_freeze_whose_watchdog_died_is_recovered(acb: Acb, two: tuple[Path, Path]) -> None:
    ext4, xfs = two
    acb.hook("pre-freeze", "10-mark", "exit 0")
    acb.hook("post-thaw", "10-mark", f'echo "$ACB_THAWED_BY $ACB_RUN_ID" >> {acb.base}/post')
    res = acb.freeze([str(ext4)], run_id="lost", ACB_MAX_FREEZE_SECONDS="1")
    assert res.rc == EX_OK, res
    for pid in acb.watchdog_pids():
        os.kill(pid, signal.SIGKILL)
    time.sleep(2.2)  # past the deadline and the grace period
    assert is_frozen(ext4)
    res = acb.freeze([str(xfs)], run_id="next")
    assert res.rc == EX_OK, res
    assert "recovered the stale freeze of run lost" in res.out["note"]
    assert not is_frozen(ext4)
    assert is_frozen(xfs)
    # The lost run's post-thaw hooks ran (releasing what its pre-freeze hooks held).
    assert (acb.base / "post").read_text().splitlines() == ["recovery lost"]
    res = acb.thaw(run_id="lost")
    assert res.out["watchdog"]["outcome"] == "thawed_first"
    assert acb.thaw(run_id="next").rc == EX_OK


def test_state_survives_between_processes(acb: Acb, two: tuple[Path, Path]) -> None:
    """The thaw is a new process (as after an agent restart): it finds the freeze in the
    state directory and thaws it."""
    ext4, xfs = two
    assert acb.freeze([str(ext4), str(xfs)], run_id="restart").rc == EX_OK
    assert (acb.state_dir / "active").read_text().strip() == "restart"
    res = acb.thaw(run_id="restart")
    assert res.rc == EX_OK, res
    assert {fs["state"] for fs in res.out["filesystems"]} == {"thawed"}


def test_nothing_to_freeze(acb: Acb, mounts: Mounts) -> None:
    fs = mounts.ext4("only")
    res = acb.freeze([str(fs)], run_id="none", ACB_EXCLUDE_MOUNTPOINTS=str(fs))
    assert res.rc == EX_OK, res
    assert res.out["status"] == "nothing-to-freeze"
    assert res.out["filesystems"] == []
    assert acb.watchdog_pids() == []


def test_watchdog_thaws_even_while_another_command_holds_the_state_lock(
    acb: Acb, two: tuple[Path, Path], writers: list[Writer]
) -> None:
    """At its deadline the watchdog does not wait for a freeze command stuck with the lock
    (e.g. in fsfreeze -f behind a slow flush): it thaws without the lock, and closes the
    session once it gets the lock."""
    ext4, xfs = two
    res = acb.freeze([str(ext4), str(xfs)], run_id="stuck", ACB_MAX_FREEZE_SECONDS="1")
    assert res.rc == EX_OK, res
    started = epoch(res.out["freeze_started_at"])
    holder = subprocess.Popen(
        ["flock", str(acb.state_dir / "lock"), "sleep", "3"], stdout=subprocess.DEVNULL
    )
    try:
        writers.append(Writer(xfs))
        done = writers[0].wait_done(timeout=10)
        assert done - started <= 1 + 1
        assert (acb.state_dir / "runs" / "stuck" / "fired").exists()
        assert (acb.state_dir / "active").exists(), "closed only under the lock"
    finally:
        holder.wait(timeout=10)
    deadline = time.monotonic() + 5
    while (acb.state_dir / "active").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    res = acb.thaw(run_id="stuck")
    assert res.rc == EX_OK, res
    assert res.out["watchdog"]["outcome"] == "thawed_first"
    assert not is_frozen(ext4)
    assert not is_frozen(xfs)


def test_rendered_document_freezes_and_thaws(
    acb: Acb, two: tuple[Path, Path], writers: list[Writer]
) -> None:
    """The document as the module renders it, run the way the agent runs it: parameters
    substituted into the text, the file executed (sh -c _script.sh honours its #!)."""
    ext4, xfs = two
    document = yaml.safe_load(render(TEMPLATE.read_text(), SCRIPT.read_text()))
    command = document["mainSteps"][0]["inputs"]["runCommand"][0]
    defaults = {n: p.get("default", "") for n, p in document["parameters"].items()}
    include = f"{ext4},{xfs}"
    assert acb.dry_run([str(ext4), str(xfs)]).mountpoints == [str(ext4), str(xfs)]

    def run(name: str, **values: str) -> dict:
        script = acb.base / f"_script-{name}.sh"
        script.write_text(ssm_substitute(command, {**defaults, **values}))
        script.chmod(0o700)
        proc = subprocess.run(
            ["sh", "-c", str(script)],
            env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "ACB_STATE_DIR": str(acb.state_dir)},
            cwd="/",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        out = json.loads(proc.stdout.splitlines()[-1])
        assert proc.returncode == out["exit_code"], proc.stderr
        return out

    params = {"RunId": "doc-run", "IncludeMountpoints": include, "MaxFreezeSeconds": "20"}
    frozen = run("freeze", Command="freeze", **params)
    assert frozen["status"] == "frozen", frozen
    writers.append(Writer(ext4))
    assert writers[0].is_blocked()
    assert len(acb.watchdog_pids()) == 1  # the watchdog runs a copy of the rendered script
    thawed = run("thaw", Command="thaw", **params)
    assert thawed["status"] == "thawed", thawed
    assert thawed["watchdog"]["outcome"] == "cancelled"
    writers[0].wait_done(timeout=10)
