"""Harness for the instance-side tests: run ssm/scripts/freeze-thaw.sh and mount test images.

Safety rules (the script freezes real filesystems with the real kernel):
- only filesystems that the test itself mounted, under its own directory, are ever frozen:
  every freeze passes IncludeMountpoints naming those mounts only, and a dry run first proves
  that the script's candidate list holds nothing else;
- the state and hook directories live on the root filesystem, which the script never freezes;
- the test process never writes into a frozen filesystem (writers are separate processes);
- cleanup thaws each mount through a descriptor opened when it was mounted (a path could be
  mounted over or moved by an attack test), then unmounts, then detaches every loop device,
  whatever happened;
- every wait is bounded.

The script refuses a mountpoint, hook or state directory below a directory that is not root's
alone, so the tests' own directories live below one that is (`secure_parent`, e.g. /run), not
in /tmp. The script runs in the form the document ships it (no comments, blank lines or
indentation), from a copy in the test's directory that any user can read.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
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
    "max_freeze_seconds": "60",
    "hook_timeout_seconds": "30",
    "pre_freeze_hook_dir": "/etc/app-consistent-backup/pre-freeze.d",
    "post_thaw_hook_dir": "/etc/app-consistent-backup/post-thaw.d",
    "auto_exclude_paths": "/var/log/audit:/tmp:/var/tmp",
    "execution_timeout_seconds": "600",
}

# As in modules/instance-documents: comment lines (not `#!`), blank lines and indentation go.
COMMENT_BLANK_OR_INDENT = r"(?m)^[ \t]*((#([^!\n][^\n]*)?)?\n)?"


def strip_comments(script: str) -> str:
    return re.sub(COMMENT_BLANK_OR_INDENT, "", script)


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


@functools.cache
def _script_prerequisites() -> str | None:
    bash = shutil.which("bash")
    if bash is None:
        return "needs bash 4.2 or later"
    major = subprocess.run(
        [bash, "-c", "echo ${BASH_VERSINFO[0]}"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if not major.isdigit() or int(major) < 4:
        return f"needs bash 4.2 or later (found {major or 'none'})"
    for tool in ("findmnt", "flock", "setsid", "fsfreeze"):
        if shutil.which(tool) is None:
            return f"needs util-linux ({tool} is missing)"
    if not Path("/proc/self/mountinfo").exists():
        return "needs Linux /proc"
    return None


def require_script_prerequisites() -> None:
    """The script needs bash 4 and util-linux: skip with the reason where they are missing."""
    missing = _script_prerequisites()
    require(missing is None, missing or "")


def require_root_and_loop() -> None:
    require_script_prerequisites()
    require(os.geteuid() == 0, "needs root to mount loop images and run fsfreeze")
    require(Path("/dev/loop-control").exists(), "needs loop devices (/dev/loop-control)")
    for tool in ("losetup", "mount", "umount", "fsfreeze", "findmnt", "mkfs.ext4", "mkfs.xfs"):
        require(shutil.which(tool) is not None, f"needs {tool} (util-linux, xfsprogs)")


def root_only(path: Path) -> bool:
    """Every directory from / to `path` is owned by root and not writable by group or others
    (what the script demands above a mountpoint, a hook or its state directory)."""
    path = path.resolve()
    for p in [path, *path.parents]:
        st = p.stat()
        if st.st_uid != 0 or st.st_mode & 0o022:
            return False
    return True


def secure_parent() -> Path:
    """Where a root test makes its directory: below directories that only root can change.
    /tmp will not do (writable by everyone, sticky or not)."""
    for base in (Path("/run"), Path("/var/lib"), Path("/root"), Path("/")):
        if base.is_dir() and os.access(base, os.W_OK) and root_only(base):
            return base
    return Path(tempfile.gettempdir())


def ship_script(directory: Path) -> Path:
    """The script as the document carries it, in `directory` (readable by anyone)."""
    path = directory / "freeze-thaw.sh"
    path.write_text(strip_comments(SCRIPT.read_text()))
    path.chmod(0o755)
    return path


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
    require_script_prerequisites()
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
        self.script = ship_script(self.base)

    def run(self, env: dict[str, str], cwd: Path | str = "/", timeout: float = 60) -> Result:
        return run_script(env, cwd=cwd, timeout=timeout, script=self.script)

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
        return self.run(
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
        return self.run(env, cwd=cwd)

    def thaw(self, run_id: str = "run-1", **params: str) -> Result:
        return self.run(self.env("thaw", run_id, **params))

    def hook(self, phase: str, name: str, body: str) -> Path:
        path = (self.pre_dir if phase == "pre-freeze" else self.post_dir) / name
        path.write_text("#!/bin/bash\n" + body + "\n")
        path.chmod(0o755)
        return path

    def _watchdog_processes(self) -> dict[int, int]:
        """Every process whose command line is one of this harness's watchdogs, with its parent."""
        found = {}
        needle = str(self.state_dir).encode()
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                cmdline = (proc / "cmdline").read_bytes()
                if b"--watchdog" in cmdline and needle in cmdline:
                    stat = (proc / "stat").read_text()
                    found[int(proc.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
        return found

    def watchdog_pids(self) -> list[int]:
        # A watchdog's own forks (its `sleep ... &`, a command substitution) carry its command
        # line until they exec: they are not watchdogs of their own.
        found = self._watchdog_processes()
        return sorted(pid for pid, parent in found.items() if parent not in found)

    def kill_watchdogs(self) -> None:
        for pid in self._watchdog_processes():
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
    if "Operation not supported" in proc.stderr:  # e.g. tmpfs: cannot be frozen at all
        return False
    assert "Device or resource busy" in proc.stderr, proc.stderr
    return True


def mount_targets() -> dict[int, str]:
    """Mount ID -> mountpoint, from /proc/self/mountinfo (octal escapes undone)."""
    targets = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split(" ")
        targets[int(fields[0])] = re.sub(
            r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4]
        )
    return targets


def mount_id_of(fd: int) -> int:
    for line in Path(f"/proc/self/fdinfo/{fd}").read_text().splitlines():
        if line.startswith("mnt_id:"):
            return int(line.split()[1])
    raise RuntimeError("no mnt_id in fdinfo (Linux < 3.15)")


@dataclass
class Mounted:
    path: Path  # where it was mounted (an attack may move it)
    fd: int  # our descriptor on it: reaches it whatever happens to the path
    mount_id: int

    @property
    def handle(self) -> str:
        return f"/proc/{os.getpid()}/fd/{self.fd}"


class Mounts:
    """Loop-mounted images (and tmpfs/bind mounts) under one test directory; the images
    themselves in a directory of their own (`images`, default: a new one in the temp dir)."""

    def __init__(self, root: Path, images: Path | None = None) -> None:
        self.root = root
        self.images = images or Path(tempfile.mkdtemp(prefix="acb-images-"))
        self.images.mkdir(parents=True, exist_ok=True)
        self.entries: list[Mounted] = []
        self.loops: list[str] = []

    @property
    def mounted(self) -> list[Path]:
        return [m.path for m in self.entries]

    def _mountpoint(self, name: str, parent: Path | None) -> Path:
        mp = (parent or self.root / "mnt") / name
        mp.mkdir(parents=True, exist_ok=True)
        return mp

    def _track(self, mp: Path) -> Path:
        fd = os.open(mp, os.O_RDONLY | os.O_DIRECTORY)
        self.entries.append(Mounted(mp, fd, mount_id_of(fd)))
        return mp

    def entry(self, mp: Path) -> Mounted:
        """The first mount made at `mp` (not one mounted over it later)."""
        return next(m for m in self.entries if m.path == mp)

    def frozen(self, mp: Path) -> bool:
        """Is the filesystem mounted at `mp` by this test frozen (through its descriptor)?"""
        return is_frozen(self.entry(mp).handle)

    def _image(self, name: str, fstype: str, size_mb: int, parent: Path | None) -> Path:
        img = self.images / f"{len(self.loops)}-{name}.img"  # names repeat in other dirs
        with img.open("wb") as f:
            f.truncate(size_mb * 1024 * 1024)
        mkfs = ["mkfs.ext4", "-q", "-F"] if fstype == "ext4" else ["mkfs.xfs", "-q", "-f"]
        sh(*mkfs, str(img))
        loop = sh("losetup", "-f", "--show", str(img)).stdout.strip()
        self.loops.append(loop)
        mp = self._mountpoint(name, parent)
        sh("mount", "-t", fstype, loop, str(mp))
        return self._track(mp)

    def ext4(self, name: str, parent: Path | None = None) -> Path:
        return self._image(name, "ext4", 64, parent)

    def xfs(self, name: str, parent: Path | None = None) -> Path:
        return self._image(name, "xfs", 300, parent)  # xfs needs >= 300 MiB; sparse

    def tmpfs(self, name: str, at: Path | None = None) -> Path:
        """A tmpfs at mnt/<name>, or over an existing directory `at` (a mount over a mount)."""
        mp = at or self._mountpoint(name, None)
        sh("mount", "-t", "tmpfs", "-o", "size=8m", "acb-test", str(mp))
        return self._track(mp)

    def bind(self, source: Path, name: str) -> Path:
        mp = self._mountpoint(name, None)
        sh("mount", "--bind", str(source), str(mp))
        return self._track(mp)

    def cleanup(self) -> None:
        # Thaw through our descriptors (EINVAL when not frozen: fine), then unmount each
        # mount where the mount table shows it now, newest first.
        for m in reversed(self.entries):
            sh("fsfreeze", "-u", m.handle, check=False)
        for m in self.entries:
            with contextlib.suppress(OSError):
                os.close(m.fd)
        for m in reversed(self.entries):
            target = mount_targets().get(m.mount_id)
            if target is None or not Path(target).is_relative_to(self.root):
                continue  # gone (and its ID perhaps reused by a mount that is not ours)
            if sh("umount", target, check=False).returncode != 0:
                sh("umount", "-l", target, check=False)
        for loop in reversed(self.loops):
            sh("losetup", "-d", loop, check=False)
        self.entries.clear()
        self.loops.clear()
        shutil.rmtree(self.images, ignore_errors=True)


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
