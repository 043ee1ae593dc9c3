"""The README's usage block is valid as written, and pins the release it describes.

The block is validated with ``terraform validate`` after one change: its git source
becomes this checkout (a released tag cannot be fetched offline). So every input it
sets exists, has the right type and passes the module's validations.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SOURCE = re.compile(r'source\s*=\s*"git::(https://[^"?]+)\?ref=([^"]+)"')


def _usage_block() -> str:
    usage = README.split("\n## Usage\n", 1)[1]
    return re.search(r"```hcl\n(.*?)```", usage, re.S).group(1)


def test_the_usage_pins_the_release_the_changelog_describes():
    match = SOURCE.search(_usage_block())
    assert match, "the usage block has no git source with ?ref="
    changelog = (ROOT / "CHANGELOG.md").read_text()
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", changelog, re.M)
    assert releases, "CHANGELOG.md has no release section"
    assert match.group(2) == f"v{releases[0]}"
    assert "40-character" in README  # how to pin a commit until the tag exists


def test_the_usage_block_validates(tmp_path: Path):
    if shutil.which("terraform") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("required under CI=true: terraform on PATH")
        pytest.skip("needs terraform on PATH")
    block = SOURCE.sub(f'source = "{os.path.relpath(ROOT, tmp_path)}"', _usage_block())
    (tmp_path / "main.tf").write_text('provider "aws" {\n  region = "eu-west-1"\n}\n\n' + block)
    env = dict(os.environ, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    config = ROOT / ".tfcli" / "terraformrc"
    if not Path(env.get("TF_CLI_CONFIG_FILE") or "/nonexistent").is_file() and config.exists():
        env["TF_CLI_CONFIG_FILE"] = str(config)
    for args in (["init", "-backend=false", "-input=false"], ["validate", "-no-color"]):
        proc = subprocess.run(
            ["terraform", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
