"""Check docs/provider-floor.md against the code: `python scripts/provider_floor.py`.

The page lists every resource type and argument the Terraform code sets (its
inventory) and the provider releases that added the newest of them. This check fails
when the code sets something the inventory does not list (look up its first release
in the provider's CHANGELOG and write it down), when the inventory lists something the
code no longer sets, or when a ``versions.tf`` does not declare the floor the page
derives (the newest release of its first table) or Terraform's floor.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `scripts` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.readme_tables import module_dirs
from scripts.tfmodule import load, version_floor

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "provider-floor.md"
TERRAFORM_FLOOR = (1, 9, 0)
# Where Terraform code lives beyond the modules and examples (make smoke's own resources).
EXTRA_DIRS = (ROOT / "smoke" / "terraform", ROOT / "smoke" / "terraform" / "emulator")


def _rows(section: str) -> list[list[str]]:
    lines = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def read_page(text: str) -> tuple[dict[str, tuple[int, int, int]], dict[str, set[str]]]:
    """(feature -> release) of the first table, (type -> arguments) of the inventory."""
    parts = re.split(r"^## ", text, flags=re.MULTILINE)
    floor_part = next(p for p in parts if p.startswith("Features that set the floor"))
    inventory_part = next(p for p in parts if p.startswith("Inventory"))
    features = {}
    for feature, since, *_ in _rows(floor_part):
        release = version_floor(f">= {since}")
        if release is None:
            raise ValueError(f"{PAGE.name}: {feature}: no release in {since!r}")
        features[feature.replace("`", "").split(" ")[0]] = release
    inventory = {
        kind.strip("`"): {a.strip() for a in arguments.split(",") if a.strip()}
        for kind, arguments in _rows(inventory_part)
    }
    return features, inventory


def used(directories: list[Path]) -> dict[str, set[str]]:
    """type -> arguments set anywhere (``data.`` prefix for data sources)."""
    found: dict[str, set[str]] = {}
    for directory in directories:
        for resource in load(directory).resources:
            kind = resource.type if resource.mode == "managed" else f"data.{resource.type}"
            found.setdefault(kind, set()).update(resource.arguments)
    return found


def problems(page: str | None = None, directories: list[Path] | None = None) -> list[str]:
    page = PAGE.read_text() if page is None else page
    if directories is None:
        directories = module_dirs(ROOT) + [d for d in EXTRA_DIRS if d.is_dir()]
    features, inventory = read_page(page)
    code = used(directories)
    found = []
    for kind in sorted(code):
        listed = inventory.get(kind)
        if listed is None:
            found.append(f"{kind} is not in the inventory of docs/provider-floor.md")
            continue
        for argument in sorted(code[kind] - listed):
            found.append(f"{kind}.{argument} is not in the inventory of docs/provider-floor.md")
        for argument in sorted(listed - code[kind]):
            found.append(f"docs/provider-floor.md lists {kind}.{argument}, which nothing sets")
    for kind in sorted(set(inventory) - set(code)):
        found.append(f"docs/provider-floor.md lists {kind}, which nothing uses")
    for feature in features:
        kind, _, argument = feature.partition(".")
        if kind not in code or (argument and argument not in code[kind]):
            found.append(f"docs/provider-floor.md: {feature} sets the floor but is not used")
    floor = max(features.values())
    for directory in directories:
        module = load(directory)
        if directory in EXTRA_DIRS:
            continue  # overlays of an example: its versions.tf applies
        where = directory.relative_to(ROOT) if directory.is_relative_to(ROOT) else directory
        constraint = module.required_providers.get("aws", {}).get("version")
        aws = version_floor(constraint)
        # A module with no resource and no module call (a policy document) needs no provider.
        needs_aws = bool(module.resources or module.module_calls) or constraint is not None
        if needs_aws and (aws is None or aws[:2] != floor[:2] or aws > floor):
            found.append(
                f"{where}: hashicorp/aws must be declared `>= {floor[0]}.{floor[1]}` "
                f"(the floor of docs/provider-floor.md), not {constraint!r}"
            )
        terraform = version_floor(module.required_version)
        if terraform is None or terraform[:2] != TERRAFORM_FLOOR[:2]:
            found.append(
                f"{where}: required_version must be `>= 1.9`, not {module.required_version!r}"
            )
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
