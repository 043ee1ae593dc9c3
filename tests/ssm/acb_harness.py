"""Harness for the instance-side tests: run ssm/scripts/freeze-thaw.sh and mount test images.

Safety rules (the script freezes real filesystems with the real kernel):
- only filesystems that the test itself mounted, under its own directory, are ever frozen:
  every freeze passes IncludeMountpoints naming those mounts only, and a dry run first proves
  that the script's candidate list holds nothing else;
- the state and hook directories live on the root filesystem, which the script never freezes;
- the test process never writes into a frozen filesystem (writers are separate processes);
- cleanup thaws, then unmounts, then detaches every loop device, whatever happened;
- every wait is bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ssm" / "scripts" / "freeze-thaw.sh"
TEMPLATE = ROOT / "ssm" / "app-consistent-backup.yaml.tftpl"
HOOKS_DIR = ROOT / "ssm" / "hooks"

EX_OK, EX_INVALID, EX_BUSY, EX_HOOK, EX_FREEZE, EX_THAW, EX_PREREQ, EX_INTERNAL = (
    0,
    10,
    11,
    12,
    13,
    14,
    15,
    16,
)


# --- the SSM document, rendered as modules/instance-documents renders it -----------------

TEMPLATE_VARS = {
    "max_freeze_seconds": "30",
    "hook_timeout_seconds": "30",
    "pre_freeze_hook_dir": "/etc/app-consistent-backup/pre-freeze.d",
    "post_thaw_hook_dir": "/etc/app-consistent-backup/post-thaw.d",
    "execution_timeout_seconds": "600",
}

COMMENT_OR_BLANK_LINE = r"(?m)^[ \t]*(#([^!\n][^\n]*)?)?\n"  # as in modules/instance-documents


def strip_comments(script: str) -> str:
    return re.sub(COMMENT_OR_BLANK_LINE, "", script)


def render(template: str, script: str, **overrides: str) -> str:
    """Python equivalent of the module's templatefile() call for this template."""
    values = {**TEMPLATE_VARS, **overrides}
    script = strip_comments(script)

    def indent(match: re.Match) -> str:
        pad = " " * int(match.group(1))
        return script.replace("\n", "\n" + pad)

    # Template expressions first: the inserted script is not a template.
    out = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], template)
    return re.sub(r"\$\{indent\((\d+), script\)\}", indent, out)


def ssm_substitute(command: str, values: dict[str, str]) -> str:
    """What SSM does with a validated value: textual substitution of {{ Name }}."""
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: values[m.group(1)], command)


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def require(condition: bool, reason: str) -> None:
    """Skip (or, under CI=true, fail) when a prerequisite is missing."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"required under CI=true: {reason}")
    pytest.skip(reason)


def require_root_and_loop() -> None:
    require(os.geteuid() == 0, "needs root to mount loop images and run fsfreeze")
    require(Path("/dev/loop-control").exists(), "needs loop devices (/dev/loop-control)")
    for tool in ("losetup", "mount", "umount", "fsfreeze", "findmnt", "mkfs.ext4", "mkfs.xfs"):
        require(shutil.which(tool) is not None, f"needs {tool} (util-linux, xfsprogs)")


@dataclass
class Result:
    rc: int
    out: dict
    stdout: str
    stderr: str

    @property
    def mountpoints(self) -> list[str]:
        return [fs["mountpoint"] for fs in self.out.get("filesystems", [])]

    def __str__(self) -> str:  # shown by pytest when an assertion fails
        return f"rc={self.rc}\nstdout={self.stdout}\nstderr={self.stderr[-3000:]}"


def parse_last_line(stdout: str) -> dict:
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert lines, "no output"
    return json.loads(lines[-1])


def run_script(
    env: dict[str, str], cwd: Path | str = "/", timeout: float = 60, script: Path = SCRIPT
) -> Result:
    """Run the script with exactly these ACB_* variables (plus a minimal PATH)."""
    full_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", **env}
    proc = subprocess.run(
        ["bash", str(script)],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert len(proc.stdout.splitlines()) == 1, f"stdout must be one JSON line:\n{proc.stdout}"
    return Result(proc.returncode, parse_last_line(proc.stdout), proc.stdout, proc.stderr)


@dataclass
class Acb:
    """Runs the script confined to one test's directory."""

    base: Path
    mount_root: Path
    state_dir: Path = field(init=False)
    pre_dir: Path = field(init=False)
    post_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        self.state_dir = self.base / "state"
        self.pre_dir = self.base / "pre-freeze.d"
        self.post_dir = self.base / "post-thaw.d"
        for d in (self.pre_dir, self.post_dir):
            d.mkdir(mode=0o755, exist_ok=True)

    def env(self, command: str, run_id: str, **params: str) -> dict[str, str]:
        env = {
            "ACB_COMMAND": command,
            "ACB_RUN_ID": run_id,
            "ACB_STATE_DIR": str(self.state_dir),
            "ACB_PRE_FREEZE_HOOK_DIR": str(self.pre_dir),
            "ACB_POST_THAW_HOOK_DIR": str(self.post_dir),
            "ACB_MAX_FREEZE_SECONDS": "30",
            "ACB_HOOK_TIMEOUT_SECONDS": "5",
        }
        env.update(params)
        return env

    def _check_confined(self, include: list[str]) -> None:
        assert include, "a test freeze must name its own mounts in IncludeMountpoints"
        for mp in include:
            assert Path(mp).is_relative_to(self.mount_root), f"{mp} is not a test mount"
            assert os.path.ismount(mp), f"{mp} is not mounted"

    def dry_run(self, include: list[str], run_id: str = "dry", **params: str) -> Result:
        return run_script(
            self.env("dry-run", run_id, ACB_INCLUDE_MOUNTPOINTS=",".join(include), **params)
        )

    def freeze(
        self, include: list[str], run_id: str = "run-1", cwd: Path | str = "/", **params: str
    ) -> Result:
        self._check_confined(include)
        probe = self.dry_run(include, **params)
        if probe.rc == EX_OK:
            for mp in probe.mountpoints:
                assert Path(mp).is_relative_to(self.mount_root), (
                    f"dry run would freeze {mp}, outside the test's mounts: {probe}"
                )
        env = self.env("freeze", run_id, ACB_INCLUDE_MOUNTPOINTS=",".join(include), **params)
        return run_script(env, cwd=cwd)

    def thaw(self, run_id: str = "run-1", **params: str) -> Result:
        return run_script(self.env("thaw", run_id, **params))

    def hook(self, phase: str, name: str, body: str) -> Path:
        path = (self.pre_dir if phase == "pre-freeze" else self.post_dir) / name
        path.write_text("#!/bin/bash\n" + body + "\n")
        path.chmod(0o755)
        return path

    def watchdog_pids(self) -> list[int]:
        pids = []
        needle = str(self.state_dir).encode()
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                cmdline = (proc / "cmdline").read_bytes()
                if b"--watchdog" in cmdline and needle in cmdline:
                    pids.append(int(proc.name))
        return pids

    def kill_watchdogs(self) -> None:
        for pid in self.watchdog_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def sh(*args: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=check)


def is_frozen(mountpoint: str | Path) -> bool:
    """Probe whether a filesystem is frozen without writing to it: freezing an already
    frozen filesystem fails with EBUSY; if the probe froze it, thaw it at once."""
    proc = sh("fsfreeze", "-f", str(mountpoint), check=False)
    if proc.returncode == 0:
        sh("fsfreeze", "-u", str(mountpoint), check=False)
        return False
    assert "Device or resource busy" in proc.stderr, proc.stderr
    return True


class Mounts:
    """Loop-mounted images (and tmpfs/bind mounts) under one test directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.images = root / "images"
        self.images.mkdir(parents=True, exist_ok=True)
        self.mounted: list[Path] = []
        self.loops: list[str] = []

    def _mountpoint(self, name: str, parent: Path | None) -> Path:
        mp = (parent or self.root / "mnt") / name
        mp.mkdir(parents=True, exist_ok=True)
        return mp

    def _image(self, name: str, fstype: str, size_mb: int, parent: Path | None) -> Path:
        img = self.images / f"{name}.img"
        with img.open("wb") as f:
            f.truncate(size_mb * 1024 * 1024)
        mkfs = ["mkfs.ext4", "-q", "-F"] if fstype == "ext4" else ["mkfs.xfs", "-q", "-f"]
        sh(*mkfs, str(img))
        loop = sh("losetup", "-f", "--show", str(img)).stdout.strip()
        self.loops.append(loop)
        mp = self._mountpoint(name, parent)
        sh("mount", "-t", fstype, loop, str(mp))
        self.mounted.append(mp)
        return mp

    def ext4(self, name: str, parent: Path | None = None) -> Path:
        return self._image(name, "ext4", 64, parent)

    def xfs(self, name: str, parent: Path | None = None) -> Path:
        return self._image(name, "xfs", 300, parent)  # xfs needs >= 300 MiB; sparse

    def tmpfs(self, name: str) -> Path:
        mp = self._mountpoint(name, None)
        sh("mount", "-t", "tmpfs", "-o", "size=8m", "acb-test", str(mp))
        self.mounted.append(mp)
        return mp

    def bind(self, source: Path, name: str) -> Path:
        mp = self._mountpoint(name, None)
        sh("mount", "--bind", str(source), str(mp))
        self.mounted.append(mp)
        return mp

    def cleanup(self) -> None:
        for mp in reversed(self.mounted):
            sh("fsfreeze", "-u", str(mp), check=False)  # EINVAL when not frozen: fine
        for mp in reversed(self.mounted):
            if sh("umount", str(mp), check=False).returncode != 0:
                sh("umount", "-l", str(mp), check=False)
        for loop in reversed(self.loops):
            sh("losetup", "-d", loop, check=False)
        self.mounted.clear()
        self.loops.clear()


WRITER = r"""
import os, sys, time
path, payload = sys.argv[1], sys.argv[2]
print("ready", flush=True)
with open(path, "w") as f:
    f.write(payload)
    f.flush()
    os.fsync(f.fileno())
print("done", time.time(), flush=True)
"""


class Writer:
    """A separate process that writes (and fsyncs) one file: it blocks while the filesystem
    is frozen and completes after the thaw."""

    def __init__(self, directory: Path, payload: str = "written across a freeze") -> None:
        self.path = directory / "writer.txt"
        self.payload = payload
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(self.path), payload],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready"

    def state(self) -> str:
        """The process state letter from /proc (D: uninterruptible sleep)."""
        stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0]

    def is_blocked(self, within: float = 2.0) -> bool:
        """True when the writer is still running and sits in D state within `within` s."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if self.state() == "D":
                return True
            time.sleep(0.02)
        return False

    def wait_done(self, timeout: float = 10.0) -> float:
        """Wait (bounded) for completion; return the wall-clock time the write completed."""
        out, _ = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0
        match = re.search(r"done (\S+)", out)
        assert match, out
        return float(match.group(1))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
