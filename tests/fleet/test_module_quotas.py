"""The fleet figures measure against the module's budgets, not a copy that drifted from them."""

from __future__ import annotations

import re
from pathlib import Path

from emulator.fleet_figures import MODULE_QUOTAS

BUDGET_TF = Path(__file__).resolve().parents[2] / "modules" / "state-machine" / "budget.tf"


def _module_quotas() -> dict[str, float]:
    # The table's own lines, `"prefix:Action" = number`: python-hcl2 would read the same in
    # about 4 s of CPU (its grammar), where this takes a millisecond.
    text = BUDGET_TF.read_text()
    block = re.search(r"default_api_quotas = \{\n(.*?)\n  \}", text, re.S)
    assert block is not None, "budget.tf has no default_api_quotas table"
    rows = re.findall(r'^\s*"([a-z0-9]+:[A-Za-z]+)"\s*=\s*([0-9.]+)\s*$', block[1], re.M)
    assert len(rows) == len(block[1].strip().splitlines()), "a row of the table was not read"
    return {api: float(quota) for api, quota in rows}


def test_the_bench_budgets_are_shares_of_the_module_quotas() -> None:
    assert _module_quotas() == MODULE_QUOTAS
