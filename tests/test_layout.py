"""The root module, every submodule and every example keep terraform-aws-modules' layout.

Variables are declared in ``variables.tf`` and outputs in ``outputs.tf``, so a reader (and
terraform-docs' users) find a module's interface where they look for it. Blocks are
found where HCL puts them, at the start of a line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts import readme_tables

ROOT = Path(__file__).resolve().parent.parent
DIRS = readme_tables.module_dirs(ROOT)
HOME = {"variable": "variables.tf", "output": "outputs.tf"}


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT)) or "."


def misplaced(directory: Path) -> list[str]:
    found = []
    for path in sorted(directory.glob("*.tf")):
        for kind, name in re.findall(r'^(variable|output) "([^"]+)"', path.read_text(), re.M):
            if path.name != HOME[kind]:
                found.append(f'{kind} "{name}" in {path.name}, not {HOME[kind]}')
    return found


@pytest.mark.parametrize("directory", DIRS, ids=_id)
def test_variables_and_outputs_live_in_their_files(directory: Path):
    assert misplaced(directory) == []


def test_a_misplaced_block_is_found(tmp_path: Path):
    (tmp_path / "main.tf").write_text('variable "region" {\n  type = string\n}\n')
    (tmp_path / "alarms.tf").write_text('output "names" {\n  value = 1\n}\n')
    (tmp_path / "outputs.tf").write_text('output "fine" {\n  value = 1\n}\n')
    assert misplaced(tmp_path) == [
        'output "names" in alarms.tf, not outputs.tf',
        'variable "region" in main.tf, not variables.tf',
    ]
