"""Static checks of asl/backup_instance.asl.json: validators, state graph, template contract."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import emulator
from emulator.statemachine import DEFINITION, ROOT, TEMPLATE_VARIABLES, render

MODULE_MAIN = ROOT / "modules" / "state-machine" / "main.tf"
VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"
CONTRACT = ROOT / "docs" / "contracts.md"

FREEZE_WINDOW = "FreezeWindow"  # the Parallel state holding the freeze attempt
FREEZE_ATTEMPT = "SendFreezeCommand"
WINDOW_EXIT = "LeaveFreezeWindow"
THAW = "SendThawCommand"
GUARD_RELEASE = "ReleaseInstanceGuard"
GUARDED_ENTRIES = ("DescribeInstance",)  # where a run goes once it holds the guard
TERMINAL_TYPES = ("Succeed", "Fail")
MAX_STATES = 60


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
        quotes = len(re.findall(r'(?<!\\)"', line))  # a \" inside a string is not one
        assert quotes % 2 == 1, f"placeholder outside a JSON string: {match.group(0)}"


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
    statelint = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "statelint_asl.py"),
            str(DEFINITION),
            str(rendered),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert statelint.returncode == 0, statelint.stdout + statelint.stderr


def test_moto_parser_accepts_rendering() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    program, _ = AmazonStateLanguageParser.parse(render())
    assert program is not None


def test_rendering_leaves_no_placeholder() -> None:
    rendered = render()
    assert "${" not in rendered
    settings = json.loads(rendered)["States"]["CheckInput"]["Assign"]["cfg"]
    assert settings["command_poll_seconds"] == "{% $number('2') %}"
    assert settings["thaw_margin_seconds"] == "{% $number('8') %}"
    assert settings["notify_on_success"] == "{% 'false' = 'true' %}"


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
    for states, start in graphs_with_start(template):
        assert reachable(states, start) == set(states)


def graphs_with_start(definition: dict[str, Any]) -> Iterator[tuple[dict, str]]:
    yield definition["States"], definition["StartAt"]
    for state in definition["States"].values():
        for body in [*state.get("Branches", []), state.get("ItemProcessor")]:
            if body:
                yield from graphs_with_start(body)


def test_at_most_sixty_states_map_and_parallel_children_included(template) -> None:
    count = sum(len(states) for states in all_graphs(template))
    assert count <= MAX_STATES, count


def window_states(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (branch,) = template["States"][FREEZE_WINDOW]["Branches"]
    return branch["States"]


def test_the_freeze_window_is_one_construct_whose_every_exit_is_the_thaw(template) -> None:
    window = template["States"][FREEZE_WINDOW]
    assert window["Type"] == "Parallel"
    assert window["Branches"][0]["StartAt"] == FREEZE_ATTEMPT
    # Every exit of the construct, success or error, is the thaw.
    assert successors(window) == [THAW] * len(successors(window))
    assert [c["ErrorEquals"] for c in window["Catch"]] == [["States.ALL"]]
    # Inside, no path ends anywhere but the window's exit, and nothing fails on its own.
    states = window_states(template)
    assert [n for n, s in states.items() if is_terminal(s)] == [WINDOW_EXIT]
    assert [c for c in states if c == FREEZE_ATTEMPT or "freeze" in json.dumps(states[c])]
    # No other state sends the freeze.
    senders = [
        name
        for graph in all_graphs(template)
        for name, state in graph.items()
        if "'Command': ['freeze']" in json.dumps(state.get("Arguments", ""))
    ]
    assert senders == [FREEZE_ATTEMPT]


def test_no_path_from_the_freeze_attempt_ends_without_the_thaw(template) -> None:
    escapes = ends_reachable_avoiding(states_of(template), [FREEZE_WINDOW], THAW)
    assert escapes == [], f"paths that skip {THAW}: {escapes}"


def test_the_checker_finds_a_path_that_skips_the_thaw(template) -> None:
    broken = json.loads(json.dumps(template))
    broken["States"][FREEZE_WINDOW]["Catch"][0]["Next"] = "DecideOutcome"
    escapes = ends_reachable_avoiding(states_of(broken), [FREEZE_WINDOW], THAW)
    assert escapes
    assert escapes[0][:2] == [FREEZE_WINDOW, "DecideOutcome"]


def test_every_path_holding_the_guard_releases_it(template) -> None:
    states = states_of(template)
    for name in ("AcquireInstanceGuard", "TakeOverGuard"):
        assert states[name]["Next"] in GUARDED_ENTRIES
        assert states[name]["Assign"] == {"guardHeld": True}
    escapes = ends_reachable_avoiding(states, list(GUARDED_ENTRIES), GUARD_RELEASE)
    assert escapes == [], f"paths that keep the guard: {escapes}"


def test_every_task_inside_the_freeze_window_catches_everything(template) -> None:
    for name, state in window_states(template).items():
        if state["Type"] in ("Task", "Map", "Parallel"):
            catchers = [c for c in state.get("Catch", []) if c["ErrorEquals"][-1] == "States.ALL"]
            assert catchers, f"{name} has no States.ALL catcher"


def test_one_state_between_the_freeze_confirmed_and_start_backup_job(template) -> None:
    states = window_states(template)
    check = states["GetFreezeResult"]["Next"]
    assert states[check]["Type"] == "Choice"
    frozen = states[check]["Choices"][0]
    assert "'frozen'" in frozen["Condition"]
    assert frozen["Next"] == "StartBackupJob"


def test_every_task_has_a_timeout_and_retries_outside_the_window(template) -> None:
    window = set(window_states(template))
    for states in all_graphs(template):
        for name, state in states.items():
            if state["Type"] != "Task":
                continue
            timeout = state.get("TimeoutSeconds")
            assert timeout, f"{name} has no TimeoutSeconds"
            if name in window and name not in {"SendFreezeCommand", "GetFreezeResult"}:
                # Inside the window a call may take only the time left before the thaw
                # deadline; a failed poll costs a poll instead of a retry.
                assert isinstance(timeout, str), name
                assert "$w.thawBy" in timeout, name
                continue
            assert state.get("Retry"), f"{name} has no Retry"


def test_deadlines_inside_the_window_come_from_time(template) -> None:
    states = window_states(template)
    for name, state in states.items():
        if state["Type"] == "Wait" and name != "WaitForFreezeResult":
            assert "$w.thawBy" in state["Seconds"], name
            assert "$millis()" in state["Seconds"], name
    text = json.dumps(states)
    assert "$states.context.State.EnteredTime" in states[FREEZE_ATTEMPT]["Assign"]["w"]
    assert "$millis() + 1000 > $w.thawBy" in text
    counters = [e for e in expressions({"States": states}) if re.search(r"[Pp]olls|[Aa]ttempts", e)]
    assert counters == []  # no deadline in the window counts iterations


def test_only_service_integrations_no_lambda(template) -> None:
    """No step of an instance's backup runs in a Lambda function; the one invoke is the
    run summary's request (contracts 5b), asynchronous, so nothing waits on it."""
    for states in all_graphs(template):
        for name, state in states.items():
            if state["Type"] == "Task":
                resource = state["Resource"]
                if resource == "arn:aws:states:::lambda:invoke":
                    assert name == "RequestRunSummary", name
                    assert state["Arguments"]["InvocationType"] == "Event"
                    assert set(state["Arguments"]["Payload"]) == {"run_summary"}
                    continue
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
    quoted = r"""['\\"]"""
    used_labels = set(re.findall(rf"consistency{quoted}: {quoted}([a-z-]+){quoted}", text))
    used_labels |= set(re.findall(r"'(crash-consistent[a-z-]*|application-consistent)'", text))
    used_stages = set(re.findall(rf"stage{quoted}: {quoted}([a-z-]+){quoted}", text))
    assert used_labels - {"none"} <= labels, used_labels - labels
    assert used_stages <= stages, used_stages - stages
    severities = set(
        re.findall(r"`(\d)` [a-zA-Z]+ \(", contract.split("- `severity`:")[1].split("\n- ")[0])
    )
    used_severities = set(re.findall(r"'severity': '(\d)'", text))
    assert used_severities <= severities, used_severities - severities
    assert {"1", "2", "3", "4", "5", "0"} <= used_severities | {"0"}


def test_polling_intervals_come_from_the_settings(template) -> None:
    for states in all_graphs(template):
        for name, state in states.items():
            if state["Type"] == "Wait" and "Timestamp" in state:
                # A gated poll waits for the second its gate reserved, a poll interval ahead.
                assert name == "WaitForBackupJob", name
                assert "$pollAt" in state["Timestamp"], name
                assert "$jobPoll" in json.dumps(template["States"]["ReserveJobPoll"]["Arguments"])
            elif state["Type"] == "Wait":
                assert str(state.get("Seconds")).startswith("{%"), name
                assert re.search(r"\$cfg\.|\$jobPoll|\$copy\.poll", state["Seconds"]), name


# ------------------------------------------------------------------ lint: AWS and moto quirks
JSONPATH_FIELDS = {
    "Parameters",
    "ResultPath",
    "ResultSelector",
    "InputPath",
    "OutputPath",
    "ItemsPath",
    "SecondsPath",
    "TimestampPath",
    "Variable",
}


def all_values(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from all_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_values(item)


def test_lint_jsonata_only(template) -> None:
    assert template["QueryLanguage"] == "JSONata"
    for key, value in all_values(template["States"]):
        assert key not in JSONPATH_FIELDS, f"JSONPath field {key} in a JSONata definition"
        assert not key.endswith(".$"), key
        if isinstance(value, str) and "{%" in value:
            # AWS evaluates a string only when the whole string is one {% %} expression.
            assert value.startswith("{%"), value
            assert value.endswith("%}"), value
            assert value.count("{%") == 1, value


def expressions(template: dict[str, Any]) -> Iterator[str]:
    for _, value in all_values(template["States"]):
        if isinstance(value, str) and value.startswith("{%"):
            yield value


def test_lint_no_function_shadowed_and_only_functions_aws_offers(template) -> None:
    builtins = (
        "max|min|count|sum|string|number|length|substring|split|join|merge|append|lookup|"
        "contains|match|replace|trim|round|floor|exists|type|sort|not|boolean|millis|toMillis|"
        "parse|partition|range|hash|uuid|random"
    )
    for expression in expressions(template):
        # A block variable named like a function hides it for the rest of the block
        # ("$max := ...; $max([..])" calls a number).
        assert not re.search(rf"\$({builtins})\s*:=", expression), expression
        # $eval is not available in Step Functions ($parse is); moto stubs $hash.
        assert "$eval(" not in expression, expression
        assert "$hash(" not in expression, expression
        # $trim turns every newline into a space: never use it on multi-line output.
        assert "$trim($string($r.StandardOutputContent" not in expression, expression


def test_lint_branch_variables_never_reuse_outer_names(template) -> None:
    outer = set()
    for state in template["States"].values():
        outer |= set(state.get("Assign", {}))
        for rule in state.get("Choices", []):
            outer |= set(rule.get("Assign", {}))
        for catcher in state.get("Catch", []):
            outer |= set(catcher.get("Assign", {}))
    for state in template["States"].values():
        for body in [*state.get("Branches", []), state.get("ItemProcessor")]:
            if not body:
                continue
            inner = set()
            for child in body["States"].values():
                inner |= set(child.get("Assign", {}))
                for rule in child.get("Choices", []):
                    inner |= set(rule.get("Assign", {}))
                for catcher in child.get("Catch", []):
                    inner |= set(catcher.get("Assign", {}))
            # AWS rejects, and moto raises IllegalOuterScopeWrite, when a branch assigns an
            # outer variable: a branch's facts leave through its output.
            assert not inner & outer, inner & outer


def test_lint_sdk_error_names_are_spelled_as_step_functions_does(template) -> None:
    names = [
        name
        for key, value in all_values(template["States"])
        if key == "ErrorEquals"
        for name in value
    ]
    assert len(names) > 50  # every Retry and Catch is read
    for name in names:
        prefix = name.split(".")[0]
        # moto writes "ssm.Invalid..." and "ec2.ec2Exception"; AWS "Ssm.", "Ec2.". The
        # optimized integrations name theirs "DynamoDB." and "Lambda." (developer guide).
        assert prefix in {"States", "Ssm", "Ec2", "Backup", "Sfn", "DynamoDB", "Kms", "Lambda"}, (
            name
        )
