"""The script on its own: input re-validation, output shape, concurrency with a running freeze,
and shellcheck."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from acb_harness import (
    EX_INTERNAL,
    EX_INVALID,
    EX_OK,
    EX_THAW,
    ROOT,
    SCRIPT,
    Acb,
    Mounts,
    Result,
    is_frozen,
    require,
    require_script_prerequisites,
    run_script,
)

BAD_VALUES = {
    "ACB_COMMAND": ["stop", "freeze;id", "freeze\n", "$(id)"],
    "ACB_RUN_ID": ["", "a b", "a;id", "$(touch {marker})", "`touch {marker}`", "r\n"],
    "ACB_MAX_FREEZE_SECONDS": ["0", "901", "3600", "1e3", "30;id"],
    "ACB_INCLUDE_MOUNTPOINTS": ["/", "/data/../etc", "data", "/a b", "/x;touch {marker}"],
    "ACB_EXCLUDE_MOUNTPOINTS": ["/a/./b", "/a,"],
    "ACB_PRE_FREEZE_HOOK_DIR": ["relative", "/etc/../tmp", "/a/$(touch {marker})", "/etc"],
    "ACB_POST_THAW_HOOK_DIR": ["/", "/a b", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/lib"],
    "ACB_AUTO_EXCLUDE_PATHS": ["tmp", "/tmp:", "/var/tmp:/a/../b", "/tmp;id"],
    "ACB_HOOK_TIMEOUT_SECONDS": ["0", "1000", "-1"],
    "ACB_STATE_DIR": ["relative", "/run/../tmp"],
    "ACB_AGENT_DIRS": ["relative", "/a:/b/../c"],
}


@pytest.mark.parametrize(
    ("variable", "value"),
    [(k, v) for k, values in BAD_VALUES.items() for v in values],
)
def test_script_rejects_bad_input_before_doing_anything(
    acb: Acb, variable: str, value: str
) -> None:
    marker = acb.base / "pwned"
    env = acb.env("freeze", "r1", ACB_INCLUDE_MOUNTPOINTS="/nonexistent-acb-test")
    env[variable] = value.format(marker=marker)
    res = run_script(env)
    assert res.rc == EX_INVALID, res
    assert res.out["status"] == "failed"
    assert res.out["error"]
    assert not marker.exists()
    assert not acb.state_dir.exists(), "nothing may be created for an invalid request"


def test_output_is_one_json_line_with_the_contract_fields(acb: Acb) -> None:
    res = run_script(acb.env("dry-run", "shape"))
    assert res.rc == EX_OK
    assert set(res.out) >= {
        "command",
        "run_id",
        "status",
        "filesystems",
        "frozen_at",
        "thawed_at",
        "freeze_duration_ms",
        "watchdog",
        "hooks",
        "error",
        "exit_code",
    }
    assert set(res.out["watchdog"]) == {"deadline", "outcome", "thawed_at"}
    assert res.out["exit_code"] == 0


def test_json_strings_are_escaped() -> None:
    require_script_prerequisites()
    program = f"""
eval "$(sed -n '/^json_string() {{/,/^}}/p' {SCRIPT})"
export LC_ALL=C
json_string $'quote" backslash\\\\ tab\\t nl\\n cr\\r bell\\a esc\\e end'
printf '%s' "$REPLY"
"""
    out = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == 'quote" backslash\\ tab\t nl\n cr\r bell\x07 esc\x1b end'


@pytest.mark.root
@pytest.mark.timeout(60)
def test_thaw_during_a_running_freeze_thaws_without_the_lock_and_stops_it(
    acb: Acb, mounts: Mounts
) -> None:
    """A thaw that cannot get the state lock within 10 s (the freeze command is stuck in a
    hook) asks that freeze to stop, and the freeze then freezes nothing."""
    fs = mounts.ext4("slow")
    acb.hook("pre-freeze", "10-slow", "sleep 12")
    results: dict[str, Result] = {}

    def freeze() -> None:
        results["freeze"] = acb.freeze([str(fs)], run_id="slow", ACB_HOOK_TIMEOUT_SECONDS="20")

    t = threading.Thread(target=freeze)
    t.start()
    deadline = time.monotonic() + 5
    while not (acb.state_dir / "runs" / "slow").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    thaw = acb.thaw(run_id="slow")
    t.join(timeout=30)
    assert not t.is_alive()
    assert thaw.rc == EX_THAW, thaw
    assert "asked it to stop" in thaw.out["error"]
    res = results["freeze"]
    assert res.rc == EX_INTERNAL, res
    assert "a thaw for this run arrived" in res.out["error"]
    assert not is_frozen(fs)
    assert not (acb.state_dir / "active").exists()


def test_shellcheck_clean() -> None:
    require(shutil.which("shellcheck") is not None, "needs shellcheck (apt-get install shellcheck)")
    scripts = sorted(str(p) for p in (ROOT / "ssm").rglob("*.sh"))
    assert len(scripts) >= 3
    proc = subprocess.run(["shellcheck", *scripts], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout


def test_shipped_scripts_are_executable() -> None:
    for p in (ROOT / "ssm").rglob("*.sh"):
        assert p.stat().st_mode & 0o111, f"{p} must be executable"
        assert p.read_text().startswith("#!/usr/bin/env bash\n"), p


def test_bash_syntax() -> None:
    require_script_prerequisites()
    for p in sorted((ROOT / "ssm").rglob("*.sh")):
        subprocess.run(["bash", "-n", str(p)], check=True)


def test_readme_documents_every_exit_code_and_parameter() -> None:
    readme = (ROOT / "ssm" / "README.md").read_text()
    for code in ("0", "10", "11", "12", "13", "14", "15", "16"):
        assert f"| {code} |" in readme, code
    for name in (
        "Command",
        "RunId",
        "MaxFreezeSeconds",
        "IncludeMountpoints",
        "ExcludeMountpoints",
        "HookTimeoutSeconds",
        "ACB_PRE_FREEZE_HOOK_DIR",
        "ACB_POST_THAW_HOOK_DIR",
        "ACB_AUTO_EXCLUDE_PATHS",
    ):
        assert f"`{name}`" in readme, name


def test_exit_codes_in_script_match_the_contract() -> None:
    text = SCRIPT.read_text()
    contracts = (ROOT / "docs" / "contracts.md").read_text()
    for code in (10, 11, 12, 13, 14, 15, 16):
        assert re.search(rf"^readonly EX_[A-Z]+={code}$", text, re.MULTILINE), code
        assert f"| {code} |" in contracts, code


def test_no_here_documents_in_the_script() -> None:
    # Here-documents and here-strings may need a temporary file, and TMPDIR could be on a
    # frozen filesystem: the script must not use them.
    for n, line in enumerate(Path(SCRIPT).read_text().splitlines(), 1):
        code = line.split("#", 1)[0]
        assert "<<" not in code, f"line {n}: {line}"
