"""Attacks on the instance side, on real loop images (issue 12).

Each test ends with nothing frozen past the watchdog's deadline + 1 s and no filesystem
frozen that was not chosen: `victim` is a test filesystem that no freeze names, and the
checks look at every test filesystem through a descriptor opened when it was mounted (an
attack may have moved its path or mounted something over it).

The attacker is `nobody` where an unprivileged user can do the move; where the move needs
rights that the script now refuses to trust (renaming a directory that only root may
change), it is made by root, standing for any change that happens between the choice of a
filesystem and its freeze, so that what is tested is the identity check itself.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from acb_harness import (
    EX_FREEZE,
    EX_HOOK,
    EX_INVALID,
    EX_OK,
    EX_PREREQ,
    EX_THAW,
    SCRIPT,
    TEMPLATE,
    Acb,
    Mounts,
    Writer,
    is_frozen,
    render,
    require,
    ssm_substitute,
)

pytestmark = [pytest.mark.root, pytest.mark.timeout(120)]

NOBODY = 65534
RACE_RUNS = 8  # whole freeze/thaw commands under the race (the pin itself gets 100 or more)


def epoch(value: str) -> float:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


def as_nobody() -> list[str]:
    require(shutil.which("setpriv") is not None, "needs setpriv (util-linux)")
    with contextlib.suppress(KeyError):
        pwd.getpwuid(NOBODY)
        return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
    pytest.skip("needs the user nobody (uid 65534)")


def nobody_dir(path: Path) -> Path:
    path.mkdir(mode=0o755)
    os.chown(path, NOBODY, NOBODY)
    return path


def final_check(mounts: Mounts, deadline: float | None = None) -> None:
    """Nothing of the test's frozen (past the deadline + 1 s, when a watchdog may still be
    due), through the descriptors taken at mount time."""
    if deadline is not None:
        wait = deadline + 1 - time.time()
        assert wait < 30, "deadline too far away for a test"
        if wait > 0:
            time.sleep(wait)
    frozen = [str(m.path) for m in mounts.entries if is_frozen(m.handle)]
    assert frozen == [], f"still frozen: {frozen}"


def wait_gone(pids: list[int], within: float = 5.0) -> list[int]:
    deadline = time.monotonic() + within
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if Path(f"/proc/{p}").exists()]
    return alive


def majmin(path: Path) -> str:
    dev = os.stat(path).st_dev
    return f"{os.major(dev)}:{os.minor(dev)}"


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


@pytest.fixture
def victim(mounts: Mounts) -> Path:
    """A filesystem no freeze names: it must never be frozen."""
    return mounts.ext4("victim")


# --- 1. the symlink swap -------------------------------------------------------------------

RACER = r"""
import os, sys, time
real, target, seconds, hold = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
aside = real + ".real"
end = time.monotonic() + seconds
swaps = 0
try:
    print("racing", flush=True)
    while time.monotonic() < end:
        os.rename(real, aside)
        os.symlink(target, real)
        swaps += 1
        if hold:
            time.sleep(hold)
        os.unlink(real)
        os.rename(aside, real)
        if hold:
            time.sleep(hold)
except KeyboardInterrupt:
    pass
finally:
    if os.path.islink(real):
        os.unlink(real)
    if os.path.isdir(aside) and not os.path.exists(real):
        os.rename(aside, real)
    print(swaps, flush=True)
"""


@contextlib.contextmanager
def racer(
    real: Path, target: str, prefix: list[str] | None = None, hold: float = 0.0
) -> Iterator[None]:
    """A process that keeps swapping directory `real` for a symbolic link to `target` and
    back, staying `hold` seconds in each state (bounded: 60 s at most, stopped when the
    block ends)."""
    if prefix:  # an unprivileged racer: bash, which any user can run
        program = [
            *prefix,
            "bash",
            "-c",
            "echo racing; end=$((SECONDS + 60)); while ((SECONDS < end)); do "
            'mv -T "$1" "$1.real" && ln -s "$2" "$1" && rm "$1" && mv -T "$1.real" "$1"; done',
            "_",
            str(real),
            target,
        ]
    else:
        program = [sys.executable, "-c", RACER, str(real), target, "60", str(hold)]
    proc = subprocess.Popen(program, stdout=subprocess.PIPE, text=True, cwd="/")
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "racing"
        yield
    finally:
        proc.send_signal(signal.SIGINT if not prefix else signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        aside = real.with_name(real.name + ".real")
        if real.is_symlink():
            real.unlink()
        if aside.is_dir() and not real.exists():
            aside.rename(real)


PIN_RACE = r"""
source "$1"
set +eu
mp=$2 id=$3 mm=$4 victim=$5 chosen=$6 least=$7 most=$8
pinned=0 refused=0 missing=0 bad=0
fail() { echo "attempt $a: $1"; bad=$((bad + 1)); }
for ((a = 0; a < most; a++)); do
  ((a >= least && pinned >= 10 && refused >= 10)) && break
  PIN_DEV=()
  if ! pin_record "150 $id $mm - ext4 src $mp"; then
    if [[ $LAST_ERR == "cannot open"* ]]; then missing=$((missing + 1))
    else refused=$((refused + 1)); fi
    continue
  fi
  pinned=$((pinned + 1))
  fsfreeze -f /proc/self/fd/150 || fail "freeze through the pin failed"
  if fsfreeze -f "$victim" 2>/dev/null; then fsfreeze -u "$victim"; else fail "VICTIM FROZEN"; fi
  if fsfreeze -f "$chosen" 2>/dev/null; then fsfreeze -u "$chosen"; fail "chosen not frozen"; fi
  fsfreeze -u /proc/self/fd/150 || fail "thaw through the pin failed"
  exec 150>&-
done
echo "attempts=$a pinned=$pinned refused=$refused missing=$missing bad=$bad"
"""


def test_symlink_swap_race_cannot_redirect_a_pin(acb: Acb, mounts: Mounts, victim: Path) -> None:
    """The watchdog's pin (open the chosen mountpoint, check the descriptor is the chosen
    mount) against a process swapping a directory above the mountpoint for a symbolic link
    to another filesystem's parent, at least 100 attempts, each after the choice was made
    (as in a freeze). Every attempt that found the path redirected is one where a freeze by
    path would have frozen the other filesystem (`refused` counts them); through the pin, it
    is never frozen and the chosen one always is."""
    (mounts.root / "mnt" / "sw" / "P").mkdir(parents=True)
    chosen = mounts.ext4("mnt", parent=mounts.root / "mnt" / "sw" / "P")
    target = mounts.root / "mnt" / "vic"
    target.mkdir()
    victim_fs = mounts.ext4("mnt", parent=target)  # .../vic/mnt: where the swapped path leads
    with racer(chosen.parent, str(target), hold=0.0005):  # both states about as often
        proc = subprocess.run(
            [
                "bash",
                "-c",
                PIN_RACE,
                "_",
                str(acb.script),
                str(chosen),
                str(mounts.entry(chosen).mount_id),
                majmin(chosen),
                mounts.entry(victim_fs).handle,
                mounts.entry(chosen).handle,
                "100",
                "1000",
            ],
            capture_output=True,
            text=True,
            timeout=100,
            check=False,
        )
    summary = dict(kv.split("=") for kv in proc.stdout.strip().splitlines()[-1].split())
    counts = {k: int(v) for k, v in summary.items()}
    assert counts["bad"] == 0, proc.stdout + proc.stderr
    assert counts["attempts"] >= 100
    assert counts["refused"] >= 10, f"the race never redirected the path: {counts}"
    assert counts["pinned"] >= 10, f"the race never left the path alone: {counts}"
    print(f"pin race: {counts}")
    assert not mounts.frozen(victim_fs)
    assert not mounts.frozen(victim)
    final_check(mounts)


def test_symlink_swap_race_against_the_whole_script(acb: Acb, mounts: Mounts, victim: Path) -> None:
    """Freeze and thaw commands while the path is being swapped: each freeze either
    refuses (10: not a mountpoint at that moment; 13: the pin found another filesystem) or
    freezes the chosen filesystem, and its thaw thaws it through the watchdog's descriptor,
    wherever the path points then. The other filesystem is never frozen."""
    (mounts.root / "mnt" / "sw" / "P").mkdir(parents=True)
    chosen = mounts.ext4("mnt", parent=mounts.root / "mnt" / "sw" / "P")
    target = mounts.root / "mnt" / "vic"
    target.mkdir()
    other = mounts.ext4("mnt", parent=target)
    outcomes: dict[int, int] = {}
    with racer(chosen.parent, str(target), hold=0.01):
        for n in range(RACE_RUNS):
            env = acb.env("freeze", f"race-{n}", ACB_INCLUDE_MOUNTPOINTS=str(chosen))
            res = acb.run(env)
            outcomes[res.rc] = outcomes.get(res.rc, 0) + 1
            assert res.rc in (EX_OK, EX_INVALID, EX_FREEZE), res
            assert not mounts.frozen(other), f"attempt {n}: the other filesystem is frozen"
            assert mounts.frozen(chosen) == (res.rc == EX_OK), res
            res = acb.thaw(run_id=f"race-{n}")
            assert res.rc == EX_OK, res
            assert not mounts.frozen(chosen)
            assert not mounts.frozen(other)
    assert sum(outcomes.values()) == RACE_RUNS, outcomes
    print(f"script race, exit codes: {outcomes}")
    final_check(mounts)


def test_unprivileged_user_cannot_race_a_path_above_a_mountpoint(
    acb: Acb, mounts: Mounts, victim: Path, workdir: Path
) -> None:
    """The attack of the review: nobody owns a directory above the mountpoint and swaps it.
    Such a mountpoint is refused outright, named, whether named or chosen automatically."""
    prefix = as_nobody()
    attacker = nobody_dir(mounts.root / "mnt" / "att")
    (attacker / "P").mkdir()
    chosen = mounts.ext4("mnt", parent=attacker / "P")
    target = mounts.root / "mnt" / "vic"
    target.mkdir()
    other = mounts.ext4("mnt", parent=target)
    res = acb.freeze([str(chosen)], run_id="nobody-0")
    assert res.rc == EX_INVALID, res
    assert f"refusing to freeze {chosen}" in res.out["error"]
    assert f"{attacker} is owned by uid {NOBODY}, not root" in res.out["error"]
    dry = acb.run(acb.env("dry-run", "auto"))  # automatic selection, dry run only
    reasons = {s["mountpoint"]: s["reason"] for s in dry.out["skipped"]}
    assert reasons[str(chosen)].startswith("unsafe path:"), reasons
    assert str(chosen) not in dry.mountpoints
    with racer(attacker / "P", str(target), prefix=prefix):
        for n in range(5):
            env = acb.env("freeze", f"nobody-{n}", ACB_INCLUDE_MOUNTPOINTS=str(chosen))
            res = acb.run(env)
            assert res.rc == EX_INVALID, res
            assert not mounts.frozen(other)
            assert not mounts.frozen(chosen)
    final_check(mounts)


# --- 2. mounting over a frozen filesystem's mountpoint --------------------------------------


def test_mount_over_the_mountpoint_during_the_freeze(
    acb: Acb, mounts: Mounts, victim: Path, writers: list[Writer]
) -> None:
    """FUSE lets a user who owns a mountpoint mount over it (a tmpfs stands in here). The
    thaw goes through the watchdog's descriptor, not the path: the filesystem that was
    frozen is thawed, and "not frozen" from the covering mount is never taken as done."""
    fs = mounts.ext4("data")
    res = acb.freeze([str(fs)], run_id="om")
    assert res.rc == EX_OK, res
    writers.append(Writer(fs))
    assert writers[0].is_blocked()
    mounts.tmpfs("cover", at=fs)
    res = acb.thaw(run_id="om")
    assert res.rc == EX_OK, res
    assert [f["state"] for f in res.out["filesystems"]] == ["thawed"]
    writers[0].wait_done(timeout=10)
    final_check(mounts)


def test_watchdog_thaws_through_a_mount_over_the_mountpoint(
    acb: Acb, mounts: Mounts, victim: Path, writers: list[Writer]
) -> None:
    fs = mounts.ext4("data")
    res = acb.freeze([str(fs)], run_id="om-wd", ACB_MAX_FREEZE_SECONDS="1")
    assert res.rc == EX_OK, res
    deadline = epoch(res.out["watchdog"]["deadline"])
    writers.append(Writer(fs))
    assert writers[0].is_blocked()
    mounts.tmpfs("cover", at=fs)
    done = writers[0].wait_done(timeout=10)  # no thaw is sent
    assert done <= deadline + 1
    assert not mounts.frozen(fs)
    res = acb.thaw(run_id="om-wd")
    assert res.out["watchdog"]["outcome"] == "thawed_first", res
    final_check(mounts, deadline)


def test_thaw_without_its_watchdog_never_counts_a_covering_mount_as_thawed(
    acb: Acb, mounts: Mounts, victim: Path
) -> None:
    """With the watchdog gone (killed) and the mountpoint covered, the thaw cannot reach the
    frozen filesystem by its identity: it says so (14) instead of reporting "not-frozen"
    from the covering mount; once the cover is gone, the next thaw reaches it."""
    fs = mounts.ext4("data")
    res = acb.freeze([str(fs)], run_id="om-dead")
    assert res.rc == EX_OK, res
    for pid in acb.watchdog_pids():
        os.kill(pid, signal.SIGKILL)
    assert wait_gone(acb.watchdog_pids()) == []
    mounts.tmpfs("cover", at=fs)
    try:
        res = acb.thaw(run_id="om-dead")
        assert res.rc == EX_THAW, res
        assert [f["state"] for f in res.out["filesystems"]] == ["thaw-failed"]
        assert "cannot reach" in res.out["error"]
        assert mounts.frozen(fs)
    finally:
        cover = mounts.entries.pop()
        os.close(cover.fd)
        subprocess.run(["umount", str(fs)], check=True, timeout=30)
    res = acb.thaw(run_id="om-dead")
    assert res.rc == EX_OK, res
    assert [f["state"] for f in res.out["filesystems"]] == ["thawed"]
    final_check(mounts)


# --- 3. the state directory removed while frozen ----------------------------------------------


def test_watchdog_thaws_when_the_state_directory_is_removed(
    acb: Acb, mounts: Mounts, victim: Path, writers: list[Writer]
) -> None:
    fs = mounts.ext4("data")
    marks = acb.base / "marks"
    acb.hook("pre-freeze", "10-db", "exit 0")
    acb.hook("post-thaw", "10-db", f'echo "$ACB_PHASE $ACB_THAWED_BY" >> {marks}')
    res = acb.freeze([str(fs)], run_id="gone-wd", ACB_MAX_FREEZE_SECONDS="1")
    assert res.rc == EX_OK, res
    deadline = epoch(res.out["watchdog"]["deadline"])
    (watchdog,) = acb.watchdog_pids()
    writers.append(Writer(fs))
    assert writers[0].is_blocked()
    shutil.rmtree(acb.state_dir)  # on a filesystem that is never frozen
    done = writers[0].wait_done(timeout=10)
    assert done <= deadline + 1, f"released {done - deadline:.3f} s after the deadline"
    assert wait_gone([watchdog]) == [], "the watchdog must exit once it has thawed"
    assert marks.read_text().splitlines() == ["post-thaw watchdog"]
    final_check(mounts, deadline)


def test_thaw_after_the_state_directory_was_removed_goes_through_the_watchdog(
    acb: Acb, mounts: Mounts, victim: Path, writers: list[Writer]
) -> None:
    """A sessionless thaw: the files are gone, the watchdog still holds the descriptors, the
    deadline and the names of the pre-freeze hooks that ran; the thaw takes them over,
    thaws, runs the post-thaw counterparts (their logs in the recreated state directory) and
    cancels the watchdog, which leaves no process behind."""
    fs = mounts.ext4("data")
    other = mounts.xfs("more")
    marks = acb.base / "marks"
    acb.hook("pre-freeze", "10-db", "exit 0")
    acb.hook("post-thaw", "10-db", f'echo "$ACB_PHASE $ACB_THAWED_BY" >> {marks}')
    acb.hook("post-thaw", "20-unpaired", f"echo unpaired >> {marks}")
    res = acb.freeze([str(fs), str(other)], run_id="gone-thaw")
    assert res.rc == EX_OK, res
    (watchdog,) = acb.watchdog_pids()
    sleeper = children(watchdog)
    assert sleeper, "the watchdog sleeps in a child process"
    writers.append(Writer(fs))
    assert writers[0].is_blocked()
    shutil.rmtree(acb.state_dir)
    retry = acb.freeze([str(fs), str(other)], run_id="gone-thaw")
    assert retry.rc == EX_OK, retry
    assert retry.out["note"] == "already frozen by this run"
    assert acb.watchdog_pids() == [watchdog], "nothing frozen twice, no second watchdog"
    res = acb.thaw(run_id="gone-thaw")
    assert res.rc == EX_OK, res
    assert res.out["status"] == "thawed"
    assert "session files were gone" in res.out["note"]
    assert res.out["watchdog"]["outcome"] == "cancelled"
    assert sorted(f["state"] for f in res.out["filesystems"]) == ["thawed", "thawed"]
    assert [(h["phase"], h["name"], h["exit_code"]) for h in res.out["hooks"]] == [
        ("post-thaw", "10-db", 0)
    ]
    writers[0].wait_done(timeout=10)
    assert marks.read_text().splitlines() == ["post-thaw thaw"]
    assert wait_gone([watchdog, *sleeper]) == [], "no watchdog and no sleep left behind"
    again = acb.thaw(run_id="gone-thaw")
    assert again.rc == EX_OK, again
    assert "already thawed" in again.out["note"]
    assert marks.read_text().splitlines() == ["post-thaw thaw"]
    final_check(mounts)


def test_watchdog_that_lost_its_files_leaves_a_later_runs_freeze_alone(
    acb: Acb, mounts: Mounts, victim: Path
) -> None:
    """Run one's files are gone and someone thawed its filesystem by hand; run two froze it
    again. At run one's deadline, its watchdog (which thaws everything it holds when it
    cannot read what was frozen) leaves run two's freeze to run two."""
    fs = mounts.ext4("data")
    res = acb.freeze([str(fs)], run_id="first", ACB_MAX_FREEZE_SECONDS="1")
    assert res.rc == EX_OK, res
    deadline = epoch(res.out["watchdog"]["deadline"])
    (first_watchdog,) = acb.watchdog_pids()
    shutil.rmtree(acb.state_dir)
    subprocess.run(["fsfreeze", "-u", mounts.entry(fs).handle], check=True, timeout=30)
    res = acb.freeze([str(fs)], run_id="second", ACB_MAX_FREEZE_SECONDS="30")
    assert res.rc == EX_OK, res
    assert wait_gone([first_watchdog], within=deadline + 5 - time.time()) == []
    assert mounts.frozen(fs), "run two's freeze must last until run two's thaw"
    res = acb.thaw(run_id="second")
    assert res.rc == EX_OK, res
    assert [f["state"] for f in res.out["filesystems"]] == ["thawed"]
    final_check(mounts, deadline)


def test_cancelled_watchdog_leaves_no_process_behind(acb: Acb, mounts: Mounts) -> None:
    fs = mounts.ext4("data")
    res = acb.freeze([str(fs)], run_id="cancel", ACB_MAX_FREEZE_SECONDS="600")
    assert res.rc == EX_OK, res
    (watchdog,) = acb.watchdog_pids()
    sleeper = children(watchdog)
    assert sleeper
    held = {int(fd.name) for fd in Path(f"/proc/{watchdog}/fd").iterdir()}
    assert {9, 100} <= held, "the watchdog holds the lock and its pin"
    for pid in sleeper:
        assert not {int(fd.name) for fd in Path(f"/proc/{pid}/fd").iterdir()} & {8, 9, 100}
    assert acb.thaw(run_id="cancel").rc == EX_OK
    assert wait_gone([watchdog, *sleeper]) == [], "an orphan sleep would live for 600 s"
    final_check(mounts)


# --- 4. hooks ---------------------------------------------------------------------------------


def test_hook_directory_renamed_during_a_slow_hook_changes_nothing(
    acb: Acb, mounts: Mounts, victim: Path
) -> None:
    """A hook renames its own directory and plants another, root-owned and trusted, under the
    same name while it runs: the later hooks still come from the directory that was checked
    and opened (the one renamed away), never from the new one."""
    fs = mounts.ext4("data")
    marks = acb.base / "marks"
    pre = acb.pre_dir
    planted = acb.base / "planted"
    planted.mkdir(mode=0o755)
    (planted / "20-good").write_text(f"#!/bin/bash\necho planted >> {marks}\n")
    (planted / "30-extra").write_text(f"#!/bin/bash\necho planted-extra >> {marks}\n")
    for hook in planted.iterdir():
        hook.chmod(0o755)
    acb.hook(
        "pre-freeze",
        "10-swap",
        f'mv "{pre}" "{pre}.old" && mv "{planted}" "{pre}" && echo swapped >> {marks}',
    )
    acb.hook("pre-freeze", "20-good", f"echo good >> {marks}")
    res = acb.freeze([str(fs)], run_id="swap")
    assert res.rc == EX_OK, res
    assert [h["name"] for h in res.out["hooks"]] == ["10-swap", "20-good"]
    assert marks.read_text().splitlines() == ["swapped", "good"]
    assert acb.thaw(run_id="swap").rc == EX_OK
    final_check(mounts)


def test_hook_directory_below_a_directory_of_another_user_is_refused(
    acb: Acb, mounts: Mounts, victim: Path
) -> None:
    """The review's attack: a root-owned hook directory under a directory that nobody owns
    (who could rename it during a slow hook). No hook of it runs, nothing is frozen."""
    fs = mounts.ext4("data")
    marks = acb.base / "marks"
    parent = nobody_dir(acb.base / "users")
    hooks = parent / "pre-freeze.d"
    hooks.mkdir(mode=0o755)
    (hooks / "10-x").write_text(f"#!/bin/bash\necho ran >> {marks}\n")
    (hooks / "10-x").chmod(0o755)
    res = acb.freeze([str(fs)], run_id="owned", ACB_PRE_FREEZE_HOOK_DIR=str(hooks))
    assert res.rc == EX_HOOK, res
    assert f"{parent} is owned by uid {NOBODY}, not root" in res.out["error"]
    assert not marks.exists()
    assert res.out["filesystems"] == []
    assert acb.watchdog_pids() == []
    final_check(mounts)


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o1777])
def test_hook_directory_below_a_writable_directory_is_refused(
    acb: Acb, mounts: Mounts, victim: Path, mode: int
) -> None:
    fs = mounts.ext4("data")
    marks = acb.base / "marks"
    parent = acb.base / "open"
    parent.mkdir()
    parent.chmod(mode)
    hooks = parent / "pre-freeze.d"
    hooks.mkdir(mode=0o755)
    (hooks / "10-x").write_text(f"#!/bin/bash\necho ran >> {marks}\n")
    (hooks / "10-x").chmod(0o755)
    res = acb.freeze([str(fs)], run_id="open", ACB_PRE_FREEZE_HOOK_DIR=str(hooks))
    assert res.rc == EX_HOOK, res
    assert f"{parent} is writable by group or others" in res.out["error"]
    assert not marks.exists()
    final_check(mounts)


def test_symbolic_links_are_followed_and_each_path_checked(
    acb: Acb, mounts: Mounts, victim: Path
) -> None:
    """A hook that is a link to a file in a directory nobody owns, or a hook directory that is
    a link into one, is refused; a link to a root-only file (how the MySQL sample is
    installed as a post-thaw hook) is fine."""
    fs = mounts.ext4("data")
    marks = acb.base / "marks"
    users = nobody_dir(acb.base / "users")
    theirs = users / "hook"
    theirs.write_text(f"#!/bin/bash\necho theirs >> {marks}\n")
    theirs.chmod(0o755)
    (acb.pre_dir / "10-link").symlink_to(theirs)
    res = acb.freeze([str(fs)], run_id="link-file")
    assert res.rc == EX_HOOK, res
    assert f"{users} is owned by uid {NOBODY}" in res.out["error"]
    (acb.pre_dir / "10-link").unlink()

    linked = acb.base / "linked.d"
    linked.symlink_to(nobody_dir(users / "hooks.d"))
    res = acb.freeze([str(fs)], run_id="link-dir", ACB_PRE_FREEZE_HOOK_DIR=str(linked))
    assert res.rc == EX_HOOK, res
    assert f"{users} is owned by uid {NOBODY}" in res.out["error"]
    assert not marks.exists()

    acb.hook("pre-freeze", "10-db", f'echo "$1" >> {marks}')
    (acb.post_dir / "10-db").symlink_to(Path("..") / acb.pre_dir.name / "10-db")
    res = acb.freeze([str(fs)], run_id="link-ok")
    assert res.rc == EX_OK, res
    assert acb.thaw(run_id="link-ok").rc == EX_OK
    assert marks.read_text().splitlines() == ["pre-freeze", "post-thaw"]
    final_check(mounts)


def test_usr_sbin_as_hook_directory_is_no_longer_expressible(
    acb: Acb, mounts: Mounts, victim: Path
) -> None:
    """The review ran every program of /usr/sbin through PostThawHookDir. The document has no
    such parameter any more (SSM refuses a command naming one); its directories are fixed in
    its text, which an environment cannot change; and the script refuses a system program
    directory outright."""
    fs = mounts.ext4("data")
    marks = acb.base / "marks"
    acb.hook("pre-freeze", "10-db", "exit 0")
    acb.hook("post-thaw", "10-db", f"echo ran >> {marks}")
    text = render(
        TEMPLATE.read_text(),
        SCRIPT.read_text(),
        pre_freeze_hook_dir=str(acb.pre_dir),
        post_thaw_hook_dir=str(acb.post_dir),
    )
    document = yaml.safe_load(text)
    assert not {"PreFreezeHookDir", "PostThawHookDir"} & set(document["parameters"])
    command = document["mainSteps"][0]["inputs"]["runCommand"][0]
    defaults = {n: p.get("default", "") for n, p in document["parameters"].items()}
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "ACB_STATE_DIR": str(acb.state_dir),
        "ACB_PRE_FREEZE_HOOK_DIR": "/usr/sbin",
        "ACB_POST_THAW_HOOK_DIR": "/usr/sbin",
    }
    for n, command_name in enumerate(("freeze", "thaw")):
        script = acb.base / f"_script-{n}.sh"
        script.write_text(
            ssm_substitute(
                command,
                {
                    **defaults,
                    "Command": command_name,
                    "RunId": "sbin",
                    "IncludeMountpoints": str(fs),
                    "MaxFreezeSeconds": "15",
                },
            )
        )
        script.chmod(0o700)
        proc = subprocess.run(
            [str(script)], env=env, cwd="/", capture_output=True, text=True, timeout=60, check=False
        )
        assert proc.returncode == EX_OK, proc.stdout + proc.stderr
        assert "/usr/sbin" not in proc.stdout
    assert marks.read_text().splitlines() == ["ran"], "only the document's own hooks ran"
    for variable in ("ACB_PRE_FREEZE_HOOK_DIR", "ACB_POST_THAW_HOOK_DIR"):
        res = acb.run(acb.env("freeze", "sbin2", **{variable: "/usr/sbin"}))
        assert res.rc == EX_INVALID, res
        assert "system program directory" in res.out["error"]
    final_check(mounts)


# --- 5. the state directory -------------------------------------------------------------------


def test_state_directory_of_another_user_is_refused_before_anything_in_it_is_touched(
    acb: Acb, mounts: Mounts
) -> None:
    """Its ownership is checked first: a link planted in it is neither followed by chmod nor
    used."""
    fs = mounts.ext4("data")
    protected = acb.base / "protected"
    protected.mkdir(mode=0o755)
    state = nobody_dir(acb.base / "their-state")
    (state / "runs").symlink_to(protected)
    (state / "lock").symlink_to(acb.base / "clobbered")
    res = acb.freeze([str(fs)], run_id="st", ACB_STATE_DIR=str(state))
    assert res.rc == EX_PREREQ, res
    assert f"{state} is owned by uid {NOBODY}" in res.out["error"]
    assert protected.stat().st_mode & 0o777 == 0o755
    assert not (acb.base / "clobbered").exists()
    assert not mounts.frozen(fs)
    res = acb.freeze([str(fs)], run_id="st", ACB_STATE_DIR=str(nobody_dir(acb.base / "u") / "s"))
    assert res.rc == EX_PREREQ, res
    assert "unsafe state directory" in res.out["error"]
    # root's own state directory with a link where a subdirectory belongs: refused, unfollowed
    ours = acb.base / "our-state"
    ours.mkdir(mode=0o700)
    (ours / "runs").symlink_to(protected)
    res = acb.freeze([str(fs)], run_id="st", ACB_STATE_DIR=str(ours))
    assert res.rc == EX_PREREQ, res
    assert f"{ours}/runs is not a directory of this user" in res.out["error"]
    assert protected.stat().st_mode & 0o777 == 0o755
    final_check(mounts)


# --- 6. automatic selection ---------------------------------------------------------------------


def test_automatic_selection_leaves_out_filesystems_services_keep_writing(
    acb: Acb, mounts: Mounts
) -> None:
    audit = mounts.ext4("audit")
    (audit / "log" / "audit").mkdir(parents=True)
    scratch = mounts.xfs("scratch")
    data = mounts.ext4("data")
    keep = f"{audit}/log/audit:{scratch}:/nonexistent/acb/var/tmp"
    res = acb.run(acb.env("dry-run", "auto", ACB_AUTO_EXCLUDE_PATHS=keep))
    assert res.rc == EX_OK, res
    reasons = {s["mountpoint"]: s["reason"] for s in res.out["skipped"]}
    assert reasons[str(audit)] == f"left out of automatic selection: holds {audit}/log/audit"
    assert reasons[str(scratch)] == f"left out of automatic selection: holds {scratch}"
    assert str(data) in res.mountpoints
    assert str(audit) not in res.mountpoints
    # Overridable: an empty list leaves nothing out; naming one includes it all the same.
    res = acb.run(acb.env("dry-run", "auto", ACB_AUTO_EXCLUDE_PATHS=""))
    assert {str(audit), str(scratch), str(data)} <= set(res.mountpoints)
    res = acb.dry_run([str(audit)], ACB_AUTO_EXCLUDE_PATHS=keep)
    assert res.mountpoints == [str(audit)]


def test_default_exclusions_are_the_modules() -> None:
    text = SCRIPT.read_text()
    assert "readonly DEFAULT_AUTO_EXCLUDE=/var/log/audit:/tmp:/var/tmp\n" in text
    variables = (SCRIPT.parents[2] / "modules/instance-documents/variables.tf").read_text()
    assert 'default     = ["/var/log/audit", "/tmp", "/var/tmp"]' in variables
