"""The fleet figures measure against the module's budgets, not a copy that drifted from them."""

from __future__ import annotations

from pathlib import Path

import hcl2

from emulator.fleet_figures import MODULE_QUOTAS

BUDGET_TF = Path(__file__).resolve().parents[2] / "modules" / "state-machine" / "budget.tf"


def _module_quotas() -> dict[str, float]:
    with BUDGET_TF.open() as handle:
        (block,) = (b for b in hcl2.load(handle)["locals"] if "default_api_quotas" in b)
    return {key.strip('"'): float(value) for key, value in block["default_api_quotas"].items()}


def test_the_bench_budgets_are_shares_of_the_module_quotas() -> None:
    assert _module_quotas() == MODULE_QUOTAS
