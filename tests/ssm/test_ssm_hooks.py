"""Hooks: run by the script around real freezes, and the shipped samples (against fake clients)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from acb_harness import (
    EX_HOOK,
    EX_OK,
    HOOKS_DIR,
    Acb,
    Mounts,
    is_frozen,
    require_script_prerequisites,
)

# --- hooks run by the script (root: real freezes) -----------------------------------------


@pytest.fixture
def fs(mounts: Mounts) -> Path:
    return mounts.ext4("db")


def marker_hook(acb: Acb, phase: str, name: str, log: Path, rc: int = 0) -> None:
    acb.hook(
        phase,
        name,
        f'echo "{name} $1 $ACB_PHASE $ACB_RUN_ID $ACB_THAWED_BY $ACB_MAX_FREEZE_SECONDS" >> {log}\n'
        f'echo "output of {name}"\nexit {rc}',
    )


@pytest.mark.root
@pytest.mark.timeout(60)
def test_hooks_run_in_order_around_the_freeze(acb: Acb, fs: Path) -> None:
    log = acb.base / "hooks.log"
    marker_hook(acb, "pre-freeze", "10-a", log)
    marker_hook(acb, "pre-freeze", "20-b", log)
    marker_hook(acb, "post-thaw", "10-a", log)
    marker_hook(acb, "post-thaw", "20-b", log)
    res = acb.freeze([str(fs)], run_id="hooks")
    assert res.rc == EX_OK, res
    assert [(h["phase"], h["name"], h["exit_code"]) for h in res.out["hooks"]] == [
        ("pre-freeze", "10-a", 0),
        ("pre-freeze", "20-b", 0),
    ]
    assert "output of 10-a" in res.stderr, "hook output goes to stderr, never to stdout"
    res = acb.thaw(run_id="hooks")
    assert res.rc == EX_OK, res
    assert [(h["phase"], h["name"]) for h in res.out["hooks"]] == [
        ("post-thaw", "20-b"),  # reverse order
        ("post-thaw", "10-a"),
    ]
    assert log.read_text().splitlines() == [
        "10-a pre-freeze pre-freeze hooks  30",
        "20-b pre-freeze pre-freeze hooks  30",
        "20-b post-thaw post-thaw hooks thaw 30",
        "10-a post-thaw post-thaw hooks thaw 30",
    ]


@pytest.mark.root
@pytest.mark.timeout(60)
def test_failing_pre_freeze_hook_aborts_cleanly(acb: Acb, fs: Path) -> None:
    log = acb.base / "hooks.log"
    marker_hook(acb, "pre-freeze", "10-ok", log)
    marker_hook(acb, "pre-freeze", "20-fails", log, rc=3)
    marker_hook(acb, "pre-freeze", "30-never", log)
    for name in ("10-ok", "20-fails", "30-never", "40-unpaired"):
        marker_hook(acb, "post-thaw", name, log)
    res = acb.freeze([str(fs)], run_id="hookfail")
    assert res.rc == EX_HOOK, res
    assert res.out["status"] == "failed"
    assert "pre-freeze hook 20-fails failed with exit code 3" in res.out["error"]
    assert res.out["filesystems"] == []
    assert not is_frozen(fs)
    assert acb.watchdog_pids() == []
    names = [line.split()[0:2] for line in log.read_text().splitlines()]
    # The hooks that ran (the failing one too: it may have done half its work) are undone by
    # their post-thaw counterparts, in reverse order; the others never run.
    assert names == [
        ["10-ok", "pre-freeze"],
        ["20-fails", "pre-freeze"],
        ["20-fails", "post-thaw"],
        ["10-ok", "post-thaw"],
    ]
    assert "rollback" in log.read_text().splitlines()[-1]
    assert not (acb.state_dir / "active").exists()
    # The state machine's thaw after a failed freeze finds nothing to do.
    res = acb.thaw(run_id="hookfail")
    assert res.rc == EX_OK, res
    assert res.out["watchdog"]["outcome"] == "none"


@pytest.mark.root
@pytest.mark.timeout(60)
def test_hanging_pre_freeze_hook_is_killed_and_aborts(acb: Acb, fs: Path) -> None:
    acb.hook("pre-freeze", "10-hangs", "sleep 6123 & sleep 6123")  # a child too: killed with it
    start = time.monotonic()
    res = acb.freeze([str(fs)], run_id="hang", ACB_HOOK_TIMEOUT_SECONDS="1")
    elapsed = time.monotonic() - start
    assert res.rc == EX_HOOK, res
    (hook,) = res.out["hooks"]
    assert hook["timed_out"] is True
    assert hook["exit_code"] == 124
    assert "timed out after 1s" in res.out["error"]
    assert elapsed < 20
    assert not is_frozen(fs)
    leftover = subprocess.run(["pgrep", "-f", "sleep 6123"], capture_output=True, check=False)
    assert leftover.returncode == 1, "the hook and its children must be gone"


@pytest.mark.root
@pytest.mark.timeout(60)
def test_failing_post_thaw_hook_does_not_fail_the_thaw(acb: Acb, fs: Path) -> None:
    acb.hook("pre-freeze", "10-fails", "exit 0")
    acb.hook("post-thaw", "10-fails", "exit 7")
    assert acb.freeze([str(fs)], run_id="postfail").rc == EX_OK
    res = acb.thaw(run_id="postfail")
    assert res.rc == EX_OK, res
    assert res.out["status"] == "thawed"
    assert res.out["hooks"][0]["exit_code"] == 7
    assert "post-thaw hook 10-fails failed with exit code 7" in res.out["error"]
    assert not is_frozen(fs)


@pytest.mark.root
@pytest.mark.timeout(60)
def test_hook_writable_by_others_is_refused(acb: Acb, fs: Path) -> None:
    hook = acb.hook("pre-freeze", "10-open", "exit 0")
    hook.chmod(0o777)
    res = acb.freeze([str(fs)], run_id="insecure")
    assert res.rc == EX_HOOK, res
    assert "writable by group or others" in res.out["error"]
    assert not is_frozen(fs)


@pytest.mark.root
@pytest.mark.timeout(60)
def test_watchdog_runs_post_thaw_hooks(acb: Acb, fs: Path) -> None:
    log = acb.base / "hooks.log"
    acb.hook("pre-freeze", "10-a", "exit 0")
    marker_hook(acb, "post-thaw", "10-a", log)
    marker_hook(acb, "post-thaw", "20-unpaired", log)
    assert acb.freeze([str(fs)], run_id="wdhooks", ACB_MAX_FREEZE_SECONDS="1").rc == EX_OK
    (watchdog,) = acb.watchdog_pids()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{watchdog}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # the watchdog exits once its hooks are done and recorded
    assert log.read_text().split()[:2] == ["10-a", "post-thaw"]
    assert "watchdog" in log.read_text()
    res = acb.thaw(run_id="wdhooks")
    assert res.out["watchdog"]["outcome"] == "thawed_first"
    assert [h["name"] for h in res.out["hooks"]] == ["10-a"]  # what the watchdog ran
    assert len(log.read_text().splitlines()) == 1, "post-thaw hooks run once per freeze"


# --- the shipped sample hooks, against fake clients -----------------------------------------

FAKE_MYSQL = """#!/bin/bash
# Records every statement; answers the hook's SELECT markers like `mysql --batch` would.
echo "connect $*" >> "$FAKE_LOG"
while IFS= read -r line; do
  echo "$line" >> "$FAKE_LOG"
  case $line in
    'FLUSH TABLES WITH READ LOCK;')
      if [[ -n ${FAKE_FAIL:-} ]]; then echo "ERROR 1205: Lock wait timeout exceeded"; exit 1; fi ;;
    'SELECT "ACB_LOCKED";') echo ACB_LOCKED ;;
    'SELECT "ACB_UNLOCKED";') echo ACB_UNLOCKED ;;
  esac
done
echo "disconnect" >> "$FAKE_LOG"
"""


@pytest.fixture
def fake_mysql(tmp_path: Path) -> dict[str, str]:
    client = tmp_path / "mysql"
    client.write_text(FAKE_MYSQL)
    client.chmod(0o755)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ACB_MYSQL_CLIENT": str(client),
        "ACB_MYSQL_DEFAULTS_FILE": str(tmp_path / "absent.cnf"),
        "ACB_HOOK_STATE_DIR": str(tmp_path / "hooks"),
        "ACB_MAX_FREEZE_SECONDS": "30",
        "ACB_MYSQL_LOCK_WAIT_SECONDS": "2",
        "FAKE_LOG": str(tmp_path / "mysql.log"),
    }


def run_hook(name: str, phase: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    require_script_prerequisites()  # the samples need bash 4 and util-linux's setsid
    return subprocess.run(
        [str(HOOKS_DIR / name), phase],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_mysql_hook_holds_the_lock_in_one_session_across_the_freeze(
    fake_mysql: dict[str, str],
) -> None:
    log = Path(fake_mysql["FAKE_LOG"])
    pre = run_hook("mysql-flush-lock.sh", "pre-freeze", fake_mysql)
    assert pre.returncode == 0, pre.stderr
    # The hook has exited, but the session that holds the lock is still open.
    lines = log.read_text().splitlines()
    assert lines[0].startswith("connect ")
    assert "--batch" in lines[0]
    assert "FLUSH TABLES WITH READ LOCK;" in lines
    assert "disconnect" not in lines
    time.sleep(0.3)
    assert "disconnect" not in log.read_text()

    post = run_hook("mysql-flush-lock.sh", "post-thaw", fake_mysql)
    assert post.returncode == 0, post.stderr
    assert wait_for(lambda: "disconnect" in log.read_text())
    lines = log.read_text().splitlines()
    assert lines.index("UNLOCK TABLES;") > lines.index("FLUSH TABLES WITH READ LOCK;")
    assert lines.count("connect " + lines[0][len("connect ") :]) == 1, "one session only"

    again = run_hook("mysql-flush-lock.sh", "post-thaw", fake_mysql)
    assert again.returncode == 0, "post-thaw is idempotent"


def test_mysql_hook_fails_when_the_lock_cannot_be_taken(fake_mysql: dict[str, str]) -> None:
    env = {**fake_mysql, "FAKE_FAIL": "1"}
    pre = run_hook("mysql-flush-lock.sh", "pre-freeze", env)
    assert pre.returncode != 0
    assert "could not take the lock" in pre.stderr
    state = Path(fake_mysql["ACB_HOOK_STATE_DIR"]) / "mysql"
    assert wait_for(lambda: not (state / "holder.pid").exists())


def test_mysql_hook_releases_the_lock_by_itself_when_no_thaw_comes(
    fake_mysql: dict[str, str],
) -> None:
    env = {**fake_mysql, "ACB_MAX_FREEZE_SECONDS": "1", "ACB_MYSQL_HOLD_MARGIN_SECONDS": "0"}
    log = Path(fake_mysql["FAKE_LOG"])
    assert run_hook("mysql-flush-lock.sh", "pre-freeze", env).returncode == 0
    assert wait_for(lambda: "disconnect" in log.read_text(), timeout=10)
    assert "UNLOCK TABLES;" in log.read_text()


def test_postgresql_hook_runs_checkpoint(tmp_path: Path) -> None:
    psql = tmp_path / "psql"
    psql.write_text('#!/bin/bash\necho "$*" > "$FAKE_LOG"\n')
    psql.chmod(0o755)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ACB_PSQL_CLIENT": str(psql),
        "ACB_PG_OS_USER": "",
        "FAKE_LOG": str(tmp_path / "psql.log"),
    }
    res = run_hook("postgresql-checkpoint.sh", "pre-freeze", env)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "psql.log").read_text().split() == [
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        "CHECKPOINT",
    ]
    # Nothing to do after the thaw.
    (tmp_path / "psql.log").unlink()
    assert run_hook("postgresql-checkpoint.sh", "post-thaw", env).returncode == 0
    assert not (tmp_path / "psql.log").exists()


def test_postgresql_hook_failure_is_reported(tmp_path: Path) -> None:
    psql = tmp_path / "psql"
    psql.write_text("#!/bin/bash\nexit 2\n")
    psql.chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "ACB_PSQL_CLIENT": str(psql), "ACB_PG_OS_USER": ""}
    res = run_hook("postgresql-checkpoint.sh", "pre-freeze", env)
    assert res.returncode == 2
    assert "CHECKPOINT failed" in res.stderr
