"""The git hooks are the Make targets CI runs, and need nothing from the network."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_every_hook_is_a_local_make_target():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.M))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert {repo["repo"] for repo in config["repos"]} == {"local"}  # nothing to download
    assert len(hooks) >= 6
    for hook in hooks:
        assert hook["language"] == "system", hook["id"]
        command, target = hook["entry"].split()
        assert command == "make", hook["id"]
        assert target in targets, f"{hook['id']}: no Makefile target {target}"
        assert hook["pass_filenames"] is False, hook["id"]
    covered = {hook["entry"].split()[1] for hook in hooks}
    assert {"ruff", "shellcheck", "fmt-check", "docs", "asl-lint", "validate"} <= covered
    assert "pre-commit" in targets
