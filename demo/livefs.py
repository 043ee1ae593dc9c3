"""Real filesystems for the demo's live instance: loop images the demo mounts itself.

Safety rules (the real ``fsfreeze`` runs on them):
- only images created and mounted here are ever frozen (``emulator.real_agent`` confines
  the script to them with IncludeMountpoints); the images live in the demo's temporary
  directory, the mountpoints and the agent's directories in one of their own below
  directories only root can change (the script refuses a mountpoint, hook or state
  directory anywhere else, e.g. in /tmp);
- the demo's own process never writes into them: the writer is a separate process;
- ``cleanup()`` thaws, kills the script's watchdogs, stops the writer, unmounts and
  detaches the loop devices, whatever happened; it is idempotent and bounded, and the
  demo calls it from ``finally``, on SIGINT/SIGTERM and at exit.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

TOOLS = ("losetup", "mount", "umount", "fsfreeze", "findmnt", "mkfs.ext4", "setsid", "flock")

WRITER = r"""
import os, sys, time
path, seconds = sys.argv[1], float(sys.argv[2])
deadline = time.monotonic() + seconds
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
n = 0
while time.monotonic() < deadline:
    os.write(fd, f"{n} {time.time():.6f} application write\n".encode())
    os.fsync(fd)
    print(f"{time.time():.6f}", flush=True)
    n += 1
    time.sleep(0.01)
"""


def unavailable() -> str | None:
    """Why real freezes cannot run here (None when they can)."""
    if os.geteuid() != 0:
        return "not root"
    if not Path("/dev/loop-control").exists():
        return "no loop devices (/dev/loop-control)"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"missing {', '.join(missing)}"
    return None


def secure_parent() -> Path:
    """A writable directory whose every ancestor is root's and not writable by group or
    others (what the script demands above mountpoints and its own directories)."""

    def root_only(path: Path) -> bool:
        stats = [p.stat() for p in (path, *path.parents)]
        return all(st.st_uid == 0 and not st.st_mode & 0o022 for st in stats)

    for base in (Path("/run"), Path("/var/lib"), Path("/root")):
        if base.is_dir() and os.access(base, os.W_OK) and root_only(base.resolve()):
            return base
    raise RuntimeError("no directory below root-only directories to mount the demo's images")


def _sh(*args: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed system tools on our own images
        list(args), capture_output=True, text=True, timeout=timeout, check=check
    )


@dataclass
class Mount:
    name: str
    mountpoint: Path
    device: str
    fstype: str


@dataclass
class Writer:
    """A separate process appending and fsyncing a line every 10 ms; we keep the times."""

    proc: subprocess.Popen[str]
    path: Path
    completions: list[float] = field(default_factory=list)

    def start_reading(self) -> None:
        def read() -> None:
            if self.proc.stdout is None:
                return
            for line in self.proc.stdout:
                with contextlib.suppress(ValueError):
                    self.completions.append(float(line))

        threading.Thread(target=read, daemon=True, name="demo-writer-reader").start()

    def longest_wait(self, start: float, end: float) -> float | None:
        """Longest gap between two completed writes around [start, end] (seconds)."""
        times = sorted(self.completions)
        gaps = [
            later - earlier
            for earlier, later in itertools.pairwise(times)
            if later >= start and earlier <= end
        ]
        return max(gaps) if gaps else None

    def wrote_after(self, moment: float, within: float = 3.0) -> bool:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if any(t > moment for t in self.completions):
                return True
            time.sleep(0.02)
        return False


class LiveFilesystems:
    """Two loop-mounted filesystems (ext4, and xfs when mkfs.xfs exists) under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.images = root / "images"
        self.secure = Path(tempfile.mkdtemp(prefix="acb-demo-live-", dir=secure_parent()))
        self.secure.chmod(0o755)
        self.mount_root = self.secure / "mnt"
        self.agent_dir = self.secure / "agent"  # the real agent's state, hooks and scripts
        self.mounts: list[Mount] = []
        self.loops: list[str] = []
        self.writer: Writer | None = None
        self.watchdog_dirs: list[Path] = []
        self._cleaned = False

    @property
    def mountpoints(self) -> list[str]:
        return [str(m.mountpoint) for m in self.mounts]

    def create(self) -> None:
        self.images.mkdir(parents=True, exist_ok=True)
        self._image("data", "ext4", 64)
        if shutil.which("mkfs.xfs"):
            self._image("logs", "xfs", 300)  # xfs needs >= 300 MiB; the image is sparse
        else:
            self._image("logs", "ext4", 64)

    def _image(self, name: str, fstype: str, size_mb: int) -> None:
        image = self.images / f"{name}.img"
        with image.open("wb") as handle:
            handle.truncate(size_mb * 1024 * 1024)
        mkfs = ["mkfs.ext4", "-q", "-F"] if fstype == "ext4" else ["mkfs.xfs", "-q", "-f"]
        _sh(*mkfs, str(image), timeout=60)
        loop = _sh("losetup", "-f", "--show", str(image)).stdout.strip()
        self.loops.append(loop)
        mountpoint = self.mount_root / name
        mountpoint.mkdir(parents=True, exist_ok=True)
        _sh("mount", "-t", fstype, loop, str(mountpoint))
        self.mounts.append(Mount(name, mountpoint, loop, fstype))

    def start_writer(self, seconds: float = 240.0) -> Writer:
        """An application writing to the first filesystem (a process of its own)."""
        path = self.mounts[0].mountpoint / "app.log"
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", WRITER, str(path), str(seconds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.writer = Writer(proc, path)
        self.writer.start_reading()
        return self.writer

    # ------------------------------------------------------------------ cleanup
    def thaw_all(self) -> None:
        for mount in reversed(self.mounts):
            _sh("fsfreeze", "-u", str(mount.mountpoint), check=False)  # EINVAL if not frozen

    def kill_watchdogs(self) -> int:
        killed = 0
        needles = [str(d).encode() for d in self.watchdog_dirs]
        if not needles:
            return 0
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                cmdline = (proc / "cmdline").read_bytes()
                if b"--watchdog" in cmdline and any(n in cmdline for n in needles):
                    os.kill(int(proc.name), signal.SIGKILL)
                    killed += 1
        return killed

    def cleanup(self) -> None:
        if self._cleaned:
            return
        self._cleaned = True
        with contextlib.suppress(Exception):
            self.thaw_all()
        with contextlib.suppress(Exception):
            self.kill_watchdogs()
        if self.writer is not None and self.writer.proc.poll() is None:
            self.writer.proc.terminate()
            try:
                self.writer.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.writer.proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.writer.proc.wait(timeout=5)
        for mount in reversed(self.mounts):
            with contextlib.suppress(Exception):
                if _sh("umount", str(mount.mountpoint), check=False).returncode != 0:
                    _sh("umount", "-l", str(mount.mountpoint), check=False)
        for loop in reversed(self.loops):
            with contextlib.suppress(Exception):
                _sh("losetup", "-d", loop, check=False)
        self.mounts.clear()
        self.loops.clear()
        # Never walk into a filesystem still mounted (it could be frozen: a removal would
        # block for ever).
        if str(self.secure) not in Path("/proc/self/mounts").read_text():
            shutil.rmtree(self.secure, ignore_errors=True)

    def leftovers(self) -> list[str]:
        """Anything of ours still mounted or attached (empty after cleanup)."""
        found = []
        mounts = Path("/proc/self/mounts").read_text()
        if str(self.mount_root) in mounts:
            found.append(f"mounts under {self.mount_root}")
        if self.secure.exists():
            found.append(f"directory {self.secure}")
        listing = _sh("losetup", "-a", check=False).stdout
        if str(self.images) in listing:
            found.append(f"loop devices of {self.images}")
        return found
