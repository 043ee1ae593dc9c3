"""Static checks of asl/backup_instance.asl.json: validators, state graph, template contract."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import emulator
from emulator.statemachine import DEFINITION, ROOT, TEMPLATE_VARIABLES, render

MODULE_MAIN = ROOT / "modules" / "state-machine" / "main.tf"
VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"
CONTRACT = ROOT / "docs" / "contracts.md"

FREEZE_ATTEMPT = "SendFreezeCommand"
THAW = "SendThawCommand"
GUARD_RELEASE = "ReleaseInstanceGuard"
GUARDED_ENTRIES = ("HasScheduledEpoch",)  # where a run goes once it holds the guard
TERMINAL_TYPES = ("Succeed", "Fail")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return json.loads(DEFINITION.read_text())


def states_of(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return definition["States"]


def successors(state: dict[str, Any]) -> list[str]:
    found = [state["Next"]] if "Next" in state else []
    found += [rule["Next"] for rule in state.get("Choices", [])]
    if "Default" in state:
        found.append(state["Default"])
    found += [catcher["Next"] for catcher in state.get("Catch", [])]
    return found


def is_terminal(state: dict[str, Any]) -> bool:
    return state["Type"] in TERMINAL_TYPES or state.get("End") is True


def all_graphs(definition: dict[str, Any]) -> Iterator[dict[str, dict[str, Any]]]:
    """The top level and every Map/Parallel body."""
    yield definition["States"]
    for state in definition["States"].values():
        if state["Type"] == "Map":
            yield from all_graphs(state.get("ItemProcessor") or state["Iterator"])
        for branch in state.get("Branches", []):
            yield from all_graphs(branch)


def ends_reachable_avoiding(
    states: dict[str, dict[str, Any]], starts: list[str], avoid: str
) -> list[list[str]]:
    """Paths from ``starts`` to an end that never enter ``avoid`` (one path per end found)."""
    escapes, seen = [], set()
    stack = [(start, [start]) for start in starts]
    while stack:
        name, path = stack.pop()
        if name == avoid or name in seen:
            continue
        seen.add(name)
        if is_terminal(states[name]):
            escapes.append(path)
            continue
        stack.extend((nxt, [*path, nxt]) for nxt in successors(states[name]))
    return escapes


def reachable(
    states: dict[str, dict[str, Any]], start: str, stop_at: str | None = None
) -> set[str]:
    seen, stack = set(), [start]
    while stack:
        name = stack.pop()
        if name in seen or name == stop_at:
            continue
        seen.add(name)
        stack.extend(successors(states[name]))
    return seen


# ------------------------------------------------------------------ validators
def test_template_is_json_with_placeholders_only_inside_strings() -> None:
    text = DEFINITION.read_text()
    json.loads(text)  # valid JSON as it is, so linters and editors can read it
    for match in re.finditer(r"\$\{[^}]*\}", text):
        line = text[: match.start()].rsplit("\n", 1)[-1]
        assert line.count('"') % 2 == 1, f"placeholder outside a JSON string: {match.group(0)}"


def test_asl_validator_accepts_template_and_rendering(tmp_path: Path) -> None:
    if not VALIDATOR.exists() or shutil.which("node") is None:
        if os.environ.get("CI"):
            pytest.fail("asl-validator is not installed (npm ci)")
        pytest.skip("asl-validator not installed: run `npm ci` (the Makefile does)")
    rendered = tmp_path / "rendered.asl.json"
    rendered.write_text(render())
    for path in (DEFINITION, rendered):
        result = subprocess.run(
            [str(VALIDATOR), "--json-path", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_moto_parser_accepts_rendering() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    program, _ = AmazonStateLanguageParser.parse(render())
    assert program is not None


def test_rendering_leaves_no_placeholder() -> None:
    rendered = render()
    assert "${" not in rendered
    settings = json.loads(rendered)["States"]["LoadSettings"]["Parameters"]
    assert settings["command_poll_seconds.$"] == "States.StringToJson('2')"
    assert settings["freeze_window_offset_seconds.$"] == "States.StringToJson('-8')"


def test_renderer_escapes_like_terraform() -> None:
    assert emulator.render('"$${x} ${a}"', {"a": 'q"'}) == '"${x} q\\""'
    with pytest.raises(emulator.template.TemplateError):
        emulator.render('"${a}"', {})
    with pytest.raises(emulator.template.TemplateError):
        emulator.placeholders('"${upper(a)}"')


def test_terraform_module_passes_exactly_the_template_variables() -> None:
    text = MODULE_MAIN.read_text()
    call = re.search(
        r"templatefile\(\s*\"\$\{path\.module\}/\.\./\.\./asl/"
        r"backup_instance\.asl\.json\"\s*,\s*local\.(\w+)\s*\)",
        text,
    )
    assert call, "the state machine's definition must be templatefile(asl file, local.<map>)"
    block = re.search(rf"{call.group(1)}\s*=\s*\{{(.*?)\n  \}}", text, re.S)
    assert block, f"local.{call.group(1)} not found"
    passed = set(re.findall(r"^\s*(\w+)\s*=", block.group(1), re.M))
    used = emulator.placeholders(DEFINITION.read_text())
    assert passed == used
    assert set(TEMPLATE_VARIABLES) == used


# ------------------------------------------------------------------ the graph
def test_every_transition_targets_a_state_and_every_state_is_reachable(template) -> None:
    for states in all_graphs(template):
        for name, state in states.items():
            for target in successors(state):
                assert target in states, f"{name} -> {target}"
    states = states_of(template)
    assert reachable(states, template["StartAt"]) == set(states)


def test_no_path_from_the_freeze_attempt_ends_without_the_thaw(template) -> None:
    escapes = ends_reachable_avoiding(states_of(template), [FREEZE_ATTEMPT], THAW)
    assert escapes == [], f"paths that skip {THAW}: {escapes}"


def test_the_checker_finds_a_path_that_skips_the_thaw(template) -> None:
    broken = json.loads(json.dumps(template))
    broken["States"]["RecordBackupJobStartFailure"]["Next"] = "ClassifyOutcome"
    escapes = ends_reachable_avoiding(states_of(broken), [FREEZE_ATTEMPT], THAW)
    assert escapes
    assert "RecordBackupJobStartFailure" in escapes[0]


def test_every_path_holding_the_guard_releases_it(template) -> None:
    states = states_of(template)
    for name in ("AcquireInstanceGuard", "TakeOverGuard"):
        assert states[name]["Next"] in GUARDED_ENTRIES
    escapes = ends_reachable_avoiding(states, list(GUARDED_ENTRIES), GUARD_RELEASE)
    assert escapes == [], f"paths that keep the guard: {escapes}"


def test_states_between_freeze_and_thaw_catch_everything(template) -> None:
    states = states_of(template)
    window = reachable(states, FREEZE_ATTEMPT, stop_at=THAW)
    for name in window:
        state = states[name]
        if state["Type"] in ("Task", "Map", "Parallel"):
            catchers = [c for c in state.get("Catch", []) if c["ErrorEquals"] == ["States.ALL"]]
            assert catchers, f"{name} has no States.ALL catcher"


def test_every_task_retries_and_has_a_timeout(template) -> None:
    for states in all_graphs(template):
        for name, state in states.items():
            if state["Type"] != "Task":
                continue
            assert state.get("TimeoutSeconds"), f"{name} has no TimeoutSeconds"
            assert state.get("Retry"), f"{name} has no Retry"
            errors = {e for retrier in state["Retry"] for e in retrier["ErrorEquals"]}
            assert errors & {"States.Timeout", "States.ALL"}, name


def test_only_service_integrations_no_lambda(template) -> None:
    for states in all_graphs(template):
        for name, state in states.items():
            if state["Type"] == "Task":
                resource = state["Resource"]
                assert resource.startswith(
                    (
                        "arn:aws:states:::aws-sdk:",
                        "arn:aws:states:::dynamodb:",
                        "arn:aws:states:::sns:",
                    )
                ), f"{name}: {resource}"


def test_only_contract_labels_stages_and_severities(template) -> None:
    contract = CONTRACT.read_text()
    labels = set(
        re.findall(r"^\| `([a-z-]+)` \| ", contract.split("## 4.")[1].split("## 5.")[0], re.M)
    )
    stages = set(
        re.findall(
            r"`([a-z-]+)`", contract.split("`metric_name` is the stage:")[1].split("\n- ")[0]
        )
    )
    text = json.dumps(template)
    used_labels = set(re.findall(r'"consistency": "([a-z-]+)"', text)) - {"none"}
    used_stages = set(re.findall(r'"stage": "([a-z-]+)"', text))
    assert used_labels <= labels, used_labels - labels
    assert used_stages <= stages, used_stages - stages
    severities = set(
        re.findall(r"`(\d)` [a-zA-Z]+ \(", contract.split("- `severity`:")[1].split("\n- ")[0])
    )
    used_severities = set(re.findall(r'"severity": "(\d)"', text))
    assert used_severities <= severities, used_severities - severities


def test_polling_intervals_come_from_the_template(template) -> None:
    for states in all_graphs(template):
        for name, state in states.items():
            if state["Type"] == "Wait":
                assert "SecondsPath" in state, f"{name} waits a literal time"
