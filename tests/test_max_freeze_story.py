"""One max_freeze_seconds story (issue 14 item 4): default 60, whole seconds 15..900.

Every place that states a default or a range is read from the real file: the root module's
variable and schedule override, the modules' variables and wiring, the state machine's input
check (evaluated with JSONata), the SSM document's default and allowedPattern (matched), the
discovery function, docs/contracts.md, ssm/README.md and the emulator. A place that tells
another story fails the test and is named.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from discovery import events
from emulator import jsonata_bridge
from emulator import ssm as emulated_ssm
from emulator import statemachine as emulated_world
from scripts.tfmodule import _OPTIONS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT, LOWEST, HIGHEST = 60, 15, 900
STORY = (DEFAULT, LOWEST, HIGHEST)
# Values each range check is tried with: the bounds, either side, and what is not whole.
PROBES: list[Any] = [0, 1, 14, 15, 16, 60, 599, 899, 900, 901, 3600, -15, 14.5, 60.5]


def _hcl(path: str) -> dict[str, Any]:
    return hcl2.loads((ROOT / path).read_text(), serialization_options=_OPTIONS)


def _labelled(data: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    for item in data.get(kind, []):
        for label, body in item.items():
            if label.strip('"') == name:
                return body
    raise AssertionError(f"no {kind} {name!r}")


def _bounds(conditions: list[str], subject: str, where: str) -> tuple[int, int]:
    """(lowest, highest) of the one validation that checks ``subject`` is whole and in range."""
    s = re.escape(subject)
    pattern = re.compile(rf"{s} >= (\d+) && {s} <= (\d+) && floor\({s}\) == {s}(?![\w.])")
    found = [m.groups() for c in conditions for m in pattern.finditer(c)]
    assert len(found) >= 1, f"{where}: no whole-number range check of {subject}"
    assert len(set(found)) == 1, f"{where}: {subject} is checked against several ranges {found}"
    lowest, highest = found[0]
    return int(lowest), int(highest)


def _conditions(variable: dict[str, Any]) -> list[str]:
    return [v["condition"] for v in variable.get("validation", [])]


# --------------------------------------------------------------------------- readers
def root_variable() -> tuple[int, int, int]:
    variable = _labelled(_hcl("variables.tf"), "variable", "max_freeze_seconds")
    lowest, highest = _bounds(_conditions(variable), "var.max_freeze_seconds", "variables.tf")
    return variable["default"], lowest, highest


def root_schedule_override() -> tuple[int, int, int]:
    variable = _labelled(_hcl("variables.tf"), "variable", "schedules")
    assert re.search(r"max_freeze_seconds\s*=\s*optional\(number\)", variable["type"]), (
        "a schedule's max_freeze_seconds must default to null (the module-wide value)"
    )
    lowest, highest = _bounds(_conditions(variable), "s.max_freeze_seconds", "schedules")
    main = (ROOT / "main.tf").read_text()
    assert "max_freeze_seconds = coalesce(s.max_freeze_seconds, var.max_freeze_seconds)" in main
    return root_variable()[0], lowest, highest


def discovery_module() -> tuple[int, int, int]:
    variable = _labelled(_hcl("modules/discovery/variables.tf"), "variable", "schedules")
    where = "modules/discovery schedules"
    lowest, highest = _bounds(_conditions(variable), "s.policy.max_freeze_seconds", where)
    return root_variable()[0], lowest, highest  # required there: the root fills it


def instance_documents_module() -> tuple[int, int, int]:
    variable = _labelled(
        _hcl("modules/instance-documents/variables.tf"), "variable", "default_max_freeze_seconds"
    )
    lowest, highest = _bounds(
        _conditions(variable), "var.default_max_freeze_seconds", "instance-documents"
    )
    main = (ROOT / "modules/instance-documents/main.tf").read_text()
    assert re.search(r"\bmax_freeze_seconds\s*=\s*var\.default_max_freeze_seconds\b", main)
    root = _labelled(_hcl("main.tf"), "module", "instance_documents")
    assert root["default_max_freeze_seconds"] == "${var.max_freeze_seconds}", (
        "the root module must hand its max_freeze_seconds to the document's default"
    )
    return variable["default"], lowest, highest


def state_machine_timings() -> tuple[int, int, int]:
    """The thaw margins must fit in the shortest freeze window the story allows."""
    variable = _labelled(_hcl("modules/state-machine/variables.tf"), "variable", "timings")
    margins = [
        int(m.group(1))
        for c in _conditions(variable)
        for m in re.finditer(
            r"thaw_margin_seconds \+ var\.timings\.clock_skew_margin_seconds < (\d+)", c
        )
    ]
    assert len(margins) == 1, "modules/state-machine: the thaw margins' bound is not found"
    return DEFAULT, margins[0], HIGHEST


def _whole_range(accepts: Any, values: list[Any]) -> tuple[int, int]:
    """The bounds ``accepts`` shows on ``values``; refuses anything that is not whole."""
    accepted = [v for v in values if accepts(v)]
    assert accepted, "accepts nothing"
    assert all(float(v).is_integer() for v in accepted), f"accepts {accepted}"
    lowest, highest = int(min(accepted)), int(max(accepted))
    holes = [
        v for v in values if lowest <= v <= highest and float(v).is_integer() and not accepts(v)
    ]
    assert not holes, f"refuses {holes} inside {lowest}..{highest}"
    return lowest, highest


def state_machine_input_check() -> tuple[int, int, int]:
    definition = json.loads((ROOT / "asl/backup_instance.asl.json").read_text())
    checks: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            condition = node.get("Condition")
            if isinstance(condition, str) and "policy.max_freeze_seconds" in condition:
                checks.append(condition)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(definition)
    assert len(checks) == 1, f"asl/: {len(checks)} input checks of policy.max_freeze_seconds"
    expression = checks[0].removeprefix("{%").removesuffix("%}").strip()

    def accepts(value: Any) -> bool:
        states = {"input": {"policy": {"max_freeze_seconds": value}}}
        return not jsonata_bridge.evaluate(expression, {"states": states})  # True: rejected

    assert not accepts(str(DEFAULT)), "asl/: a number as a string must be rejected"
    lowest, highest = _whole_range(accepts, PROBES)
    return DEFAULT, lowest, highest  # the state machine has no default: the input carries it


def _document_parameter() -> dict[str, Any]:
    text = (ROOT / "ssm/app-consistent-backup.yaml.tftpl").read_text()
    head = text.split("\nmainSteps:", 1)[0]
    return yaml.safe_load(head)["parameters"]["MaxFreezeSeconds"]


def ssm_document() -> tuple[int, int, int]:
    parameter = _document_parameter()
    assert parameter["default"] == "${max_freeze_seconds}", (
        "the document's default must be rendered from modules/instance-documents"
    )
    pattern = re.compile(parameter["allowedPattern"])
    for text in ("", "060", "015", "1e2", "60s", " 60", "+60"):
        assert not pattern.search(text), f"allowedPattern admits {text!r}"
    lowest, highest = _whole_range(
        lambda v: pattern.search(str(v)) is not None, [*PROBES, *range(0, 1001)]
    )
    return instance_documents_module()[0], lowest, highest


def discovery_function() -> tuple[int, int, int]:
    lowest, highest = events.MAX_FREEZE_SECONDS
    return events.POLICY_DEFAULTS["max_freeze_seconds"], lowest, highest


def _range_in(text: str, where: str) -> tuple[int, int]:
    found = re.findall(r"(\d+)\.\.(\d+)", text)
    assert found, f"{where}: no range stated"
    assert len(set(found)) == 1, f"{where}: several ranges {found}"
    return int(found[0][0]), int(found[0][1])


def contracts() -> tuple[int, int, int]:
    text = (ROOT / "docs/contracts.md").read_text()
    example = re.search(r'"max_freeze_seconds": (\d+)', text)
    defaults = re.search(r"`max_freeze_seconds` (\d+)\s+\(whole seconds (\d+)\.\.(\d+)\)", text)
    check = re.search(r"`max_freeze_seconds` a whole number (\d+)\.\.(\d+)", text)
    row = re.search(r"^\| `MaxFreezeSeconds` \| ([^|]*) \| `(\d+)`", text, re.M)
    pattern = re.search(r"^MaxFreezeSeconds +(\S+)$", text, re.M)
    for name, match in [
        ("the section 1 example", example),
        ("the section 1 defaults", defaults),
        ("the section 2 check", check),
        ("the section 3 table row", row),
        ("the section 3 allowedPattern", pattern),
    ]:
        assert match, f"docs/contracts.md: {name} of max_freeze_seconds is not found"
    values = {
        "section 1 example": int(example.group(1)),
        "section 1 default": int(defaults.group(1)),
        "section 3 default": int(row.group(2)),
    }
    ranges = {
        "section 1": (int(defaults.group(2)), int(defaults.group(3))),
        "section 2": (int(check.group(1)), int(check.group(2))),
        "section 3 table": _range_in(row.group(1), "section 3 table"),
    }
    assert len(set(values.values())) == 1, f"docs/contracts.md defaults differ: {values}"
    assert len(set(ranges.values())) == 1, f"docs/contracts.md ranges differ: {ranges}"
    assert pattern.group(1) == _document_parameter()["allowedPattern"], (
        "docs/contracts.md section 3 shows another allowedPattern than the document's"
    )
    return values["section 1 default"], *ranges["section 1"]


def ssm_readme() -> tuple[int, int, int]:
    text = (ROOT / "ssm/README.md").read_text()
    row = re.search(r"^\| `MaxFreezeSeconds` \| ([^|]*) \| `(\d+)`", text, re.M)
    assert row, "ssm/README.md: no MaxFreezeSeconds row"
    return int(row.group(2)), *_range_in(row.group(1), "ssm/README.md")


def emulator_document_defaults() -> tuple[int, int, int]:
    module = _hcl("modules/instance-documents/variables.tf")
    hook = _labelled(module, "variable", "default_hook_timeout_seconds")["default"]
    assert emulated_ssm.TEMPLATE_DEFAULTS["hook_timeout_seconds"] == str(hook)
    parameter = emulated_ssm.template_parameters()["MaxFreezeSeconds"]
    pattern = re.compile(parameter["allowedPattern"])
    lowest, highest = _whole_range(lambda v: pattern.search(str(v)) is not None, PROBES)
    return int(parameter["default"]), lowest, highest


def emulator_world() -> tuple[int, int, int]:
    return emulated_world.DEFAULT_POLICY["max_freeze_seconds"], LOWEST, HIGHEST


PLACES = {
    "variables.tf max_freeze_seconds": root_variable,
    "variables.tf schedules[*].max_freeze_seconds": root_schedule_override,
    "modules/discovery schedules[*].policy": discovery_module,
    "modules/instance-documents default_max_freeze_seconds": instance_documents_module,
    "modules/state-machine timings (thaw margins < lowest)": state_machine_timings,
    "asl/backup_instance.asl.json input check": state_machine_input_check,
    "ssm/app-consistent-backup.yaml.tftpl MaxFreezeSeconds": ssm_document,
    "src/discovery/events.py": discovery_function,
    "docs/contracts.md": contracts,
    "ssm/README.md": ssm_readme,
    "emulator/ssm.py rendered document": emulator_document_defaults,
    "emulator/statemachine.py world": emulator_world,
}


@pytest.mark.parametrize("place", PLACES)
def test_every_place_tells_the_story(place: str) -> None:
    told = PLACES[place]()
    assert told == STORY, (
        f"{place} says default {told[0]}, range {told[1]}..{told[2]}; "
        f"the module's story is default {DEFAULT}, whole seconds {LOWEST}..{HIGHEST} "
        "(DECISIONS.md 1, issue 14 item 4)"
    )
