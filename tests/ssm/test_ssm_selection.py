"""What the script chooses to freeze (dry runs on real loop mounts: nothing is frozen here)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from acb_harness import (
    EX_INVALID,
    EX_OK,
    EX_PREREQ,
    Acb,
    Mounts,
    require,
    run_script,
    sh,
)

pytestmark = [pytest.mark.root, pytest.mark.timeout(120)]


def test_includes_ext4_and_xfs_deepest_first(acb: Acb, mounts: Mounts) -> None:
    outer = mounts.ext4("outer")
    inner = mounts.xfs("inner", parent=outer)
    other = mounts.ext4("other")
    res = acb.dry_run([str(outer), str(inner), str(other)])
    assert res.rc == EX_OK, res
    assert res.out["status"] == "dry-run"
    # Deepest first (inner before its parent), then by path.
    assert res.mountpoints == [str(inner), str(other), str(outer)]
    fstypes = {fs["mountpoint"]: fs["fstype"] for fs in res.out["filesystems"]}
    assert fstypes == {str(inner): "xfs", str(outer): "ext4", str(other): "ext4"}
    assert all(fs["device"].startswith("/dev/loop") for fs in res.out["filesystems"])


def test_bind_and_repeated_mounts_share_one_freeze(acb: Acb, mounts: Mounts) -> None:
    data = mounts.ext4("data")
    (data / "sub").mkdir()
    bind = mounts.bind(data / "sub", "data-bind")
    again = mounts.bind(data, "data-again")
    res = acb.dry_run([str(data), str(bind), str(again)])
    assert res.rc == EX_OK, res
    assert res.mountpoints == [str(data)], "one freeze per filesystem, at the shortest path"
    reasons = {s["mountpoint"]: s["reason"] for s in res.out["skipped"]}
    assert reasons[str(bind)] == f"same filesystem as {data}"
    assert reasons[str(again)] == f"same filesystem as {data}"


def test_exclude_removes_the_whole_filesystem(acb: Acb, mounts: Mounts) -> None:
    a = mounts.ext4("a")
    b = mounts.xfs("b")
    bind_of_b = mounts.bind(b, "b-bind")
    res = acb.dry_run([str(a), str(b)], ACB_EXCLUDE_MOUNTPOINTS=str(bind_of_b))
    assert res.rc == EX_OK, res
    assert res.mountpoints == [str(a)]


def test_root_filesystem_is_never_chosen_automatically(acb: Acb) -> None:
    res = run_script(acb.env("dry-run", "auto"))
    assert res.rc == EX_OK, res
    assert "/" not in res.mountpoints
    skipped = {s["mountpoint"]: s["reason"] for s in res.out["skipped"]}
    if "/" in skipped:
        assert skipped["/"].startswith("protected: root filesystem")
    for mp in res.mountpoints:
        assert not mp.startswith("/boot")


def test_root_filesystem_refused_even_when_included_through_a_bind_mount(
    acb: Acb, mounts: Mounts, workdir: Path
) -> None:
    on_root = workdir / "on-root"
    on_root.mkdir()
    bind = mounts.bind(on_root, "root-bind")  # the root filesystem, under a test path
    res = acb.dry_run([str(bind)])
    assert res.rc == EX_INVALID, res
    assert "refusing to freeze" in res.out["error"]
    assert "root filesystem" in res.out["error"]
    assert res.out["filesystems"] == []
    # And a freeze is refused the same way, before anything happens.
    res = run_script(acb.env("freeze", "r", ACB_INCLUDE_MOUNTPOINTS=str(bind)))
    assert res.rc == EX_INVALID, res
    assert not (acb.state_dir / "active").exists()


def test_agent_directory_filesystem_is_refused(acb: Acb, mounts: Mounts) -> None:
    agent_fs = mounts.ext4("agent")
    (agent_fs / "amazon" / "ssm").mkdir(parents=True)
    data = mounts.xfs("data")
    env = {"ACB_AGENT_DIRS": str(agent_fs / "amazon" / "ssm")}
    res = acb.dry_run([str(agent_fs), str(data)], **env)
    assert res.rc == EX_INVALID, res
    assert "SSM agent" in res.out["error"]
    # Not included: skipped with its reason, the other one chosen.
    res = acb.dry_run([str(data)], **env)
    assert res.rc == EX_OK, res
    assert res.mountpoints == [str(data)]
    reasons = {s["mountpoint"]: s["reason"] for s in res.out["skipped"]}
    assert "SSM agent" in reasons[str(agent_fs)]


def test_agent_directory_that_does_not_exist_protects_its_nearest_ancestor(
    acb: Acb, mounts: Mounts
) -> None:
    agent_fs = mounts.ext4("agent")
    res = acb.dry_run([str(agent_fs)], ACB_AGENT_DIRS=str(agent_fs / "not" / "there"))
    assert res.rc == EX_INVALID, res


def test_state_directory_filesystem_is_refused(acb: Acb, mounts: Mounts) -> None:
    fs = mounts.ext4("state-fs")
    res = acb.dry_run([str(fs)], ACB_STATE_DIR=str(fs / "state"))
    assert res.rc == EX_INVALID, res
    assert "state directory" in res.out["error"]


def test_working_directory_filesystem_is_refused(acb: Acb, mounts: Mounts) -> None:
    fs = mounts.ext4("cwd-fs")
    env = acb.env("dry-run", "r", ACB_INCLUDE_MOUNTPOINTS=str(fs))
    res = run_script(env, cwd=fs)
    assert res.rc == EX_INVALID, res
    assert "working directory" in res.out["error"]


def test_boot_mountpoints_are_never_chosen(acb: Acb) -> None:
    # No /boot mount is made on the host; the rule is checked through the mount table
    # the script sees: whatever the host has under /boot* is reported as protected.
    res = run_script(acb.env("dry-run", "auto"))
    assert res.rc == EX_OK, res
    for fs in res.out["filesystems"]:
        assert not fs["mountpoint"].startswith("/boot")
    for skipped in res.out["skipped"]:
        if skipped["mountpoint"].startswith("/boot"):
            assert skipped["reason"].startswith("protected")


def test_include_must_name_a_mountpoint(acb: Acb, mounts: Mounts) -> None:
    fs = mounts.ext4("fs")
    (fs / "dir").mkdir()
    res = acb.dry_run([str(fs / "dir")])
    assert res.rc == EX_INVALID, res
    assert "is not a mountpoint" in res.out["error"]


def test_explicit_include_takes_any_filesystem_type(acb: Acb, mounts: Mounts) -> None:
    tmp = mounts.tmpfs("scratch")
    res = acb.dry_run([str(tmp)])
    assert res.rc == EX_OK, res
    assert res.out["filesystems"] == [
        {"mountpoint": str(tmp), "device": "acb-test", "fstype": "tmpfs"}
    ]


def test_automatic_selection_takes_block_device_filesystems_only(acb: Acb, mounts: Mounts) -> None:
    ext4 = mounts.ext4("auto-ext4")
    tmp = mounts.tmpfs("auto-tmpfs")
    res = run_script(acb.env("dry-run", "auto"))
    assert res.rc == EX_OK, res
    assert str(ext4) in res.mountpoints
    assert str(tmp) not in res.mountpoints
    assert "/" not in res.mountpoints


def test_mountpoint_with_a_space_is_reported_intact(acb: Acb, mounts: Mounts) -> None:
    fs = mounts.ext4("with space")
    res = run_script(acb.env("dry-run", "auto"))
    assert res.rc == EX_OK, res
    assert str(fs) in res.mountpoints


def test_dry_run_needs_no_state_and_changes_nothing(acb: Acb, mounts: Mounts) -> None:
    fs = mounts.ext4("fs")
    res = acb.dry_run([str(fs)])
    assert res.rc == EX_OK, res
    assert not acb.state_dir.exists()
    proc = sh("fsfreeze", "-u", str(fs), check=False)
    assert "Invalid argument" in proc.stderr, "dry run must not freeze"


def test_dry_run_lists_hooks(acb: Acb) -> None:
    acb.hook("pre-freeze", "10-first", "exit 0")
    acb.hook("pre-freeze", "20-second", "exit 0")
    acb.hook("post-thaw", "10-first", "exit 0")
    acb.hook("post-thaw", "40-unpaired", "exit 0")
    (acb.pre_dir / "30-not-executable").write_text("#!/bin/bash\n")
    (acb.pre_dir / ".hidden").write_text("#!/bin/bash\n")
    res = run_script(acb.env("dry-run", "hooks"))
    assert res.rc == EX_OK, res
    assert [(h["phase"], h["name"]) for h in res.out["hooks"]] == [
        ("pre-freeze", "10-first"),
        ("pre-freeze", "20-second"),
        ("post-thaw", "10-first"),
    ]
    assert "without a pre-freeze hook of the same name never run: 40-unpaired" in res.out["note"]


def test_freeze_and_thaw_need_root(acb: Acb) -> None:
    """Run as an unprivileged user (dropping root when the tests run as root), from the
    test's own copy of the script: the clone itself may sit where that user cannot read
    (root's home is mode 0700)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        require(shutil.which("setpriv") is not None, "needs setpriv (util-linux)")
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    for command in ("freeze", "thaw"):
        env = acb.env(command, "r", ACB_INCLUDE_MOUNTPOINTS="/nonexistent-acb")
        env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
        proc = subprocess.run(
            [*prefix, "bash", str(acb.script)],
            env=env,
            cwd="/",
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert proc.returncode == EX_PREREQ, proc.stdout + proc.stderr
        assert "must run as root" in json.loads(proc.stdout)["error"]
