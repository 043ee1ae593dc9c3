"""The README's tables are those generated from the code, and name everything."""

import re
from pathlib import Path

import pytest

from scripts import readme_tables

ROOT = Path(__file__).resolve().parent.parent
MODULES = [ROOT, *sorted(p.parent for p in (ROOT / "modules").glob("*/variables.tf"))]


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(ROOT)) or ".")
def test_readme_tables_are_current(module):
    readme = module / "README.md"
    assert readme.exists(), f"{readme} is missing"
    current = readme.read_text()
    assert current == readme_tables.render(current, readme_tables.tables(module)), (
        f"{readme} tables are stale: run python scripts/readme_tables.py "
        f"{module.relative_to(ROOT) or '.'}"
    )


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(ROOT)) or ".")
def test_every_variable_and_output_is_documented(module):
    readme = (module / "README.md").read_text()
    names = re.findall(r'^variable "([^"]+)"', (module / "variables.tf").read_text(), re.M)
    names += re.findall(r'^output "([^"]+)"', (module / "outputs.tf").read_text(), re.M)
    assert names, f"{module} declares no variable or output"
    missing = [n for n in names if not re.search(rf"^\| {re.escape(n)} \|", readme, re.M)]
    assert not missing, f"{module / 'README.md'} does not document {missing}"


def test_generator_notices_a_new_variable(tmp_path):
    for name in ("variables.tf", "outputs.tf", "versions.tf", "README.md"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    with (tmp_path / "variables.tf").open("a") as f:
        f.write('\nvariable "brand_new" {\n  description = "New."\n  type        = bool\n}\n')
    assert readme_tables.main(["--check", str(tmp_path)]) == 1
    assert readme_tables.main([str(tmp_path)]) == 0
    assert "| brand_new | New. | `bool` |  | yes |" in (tmp_path / "README.md").read_text()
