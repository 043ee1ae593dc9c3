"""Conformance of the JSONata bridge (jsonata-python in moto) with what Step Functions runs.

AWS runs JSONata 2.0.6 (JavaScript). Each case below is a behaviour the definition relies
on, with the value JSONata 2.x gives; the last test runs them inside a real execution.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

import emulator
from emulator import jsonata_bridge
from emulator.jsonata_bridge import JSONataError, Undefined, evaluate
from emulator.statemachine import ACCOUNT, emulated_aws

CASES = [
    # A path with one match gives the value, not a list of one (JSONata 2.x): build arrays.
    ("$x.a.b", {"x": {"a": [{"b": 1}]}}, 1),
    ("[$x.a.b]", {"x": {"a": [{"b": 1}]}}, [1]),
    ("$x.a.b", {"x": {"a": [{"b": 1}, {"b": 2}]}}, [1, 2]),
    ("$count($x[ok = false])", {"x": [{"ok": False}]}, 1),
    ("[$x[ok = false]]", {"x": [{"ok": False}]}, [{"ok": False}]),
    # Timestamps as AWS writes them, with and without milliseconds.
    ("$toMillis('2026-11-23T01:00:00.123Z')", {}, 1795395600123),
    ("$toMillis('2026-11-23T01:00:00Z')", {}, 1795395600000),
    ("$fromMillis(1795395600123)", {}, "2026-11-23T01:00:00.123Z"),
    # JSON null is a value; a missing field is undefined, and undefined comparisons are false.
    ("$exists($x.a)", {"x": {"a": None}}, True),
    ("$x.a = null", {"x": {"a": None}}, True),
    ("$x.b = 'y'", {"x": {}}, False),
    ("$x.b != 'y'", {"x": {}}, False),
    ("$not($x.b in ['y'])", {"x": {}}, True),
    # Numbers are JavaScript numbers: whole values print without a fraction.
    ("$string(30)", {}, "30"),
    ("$string(2 * 15.0)", {}, "30"),
    ("60 / 2", {}, 30),
    # Strings carrying quotes, backslashes and newlines (an SSM command's output).
    ("$split($x, '\\n')[-1]", {"x": 'log\n{"a": "q\\"uote"}'}, '{"a": "q\\"uote"}'),
    ("$parse($x).a", {"x": '{"a": "q\\"uote"}'}, 'q"uote'),
    # $trim normalises every run of whitespace, newlines included.
    ("$trim($x)", {"x": "a\n b"}, "a b"),
    # A block variable named like a function hides the function.
    ("( $cap := 3; $max([$cap, 5]) )", {}, 5),
    ("$append([], [{'a': 1}])", {}, [{"a": 1}]),
    ("$join([$x.r], '; then ')", {"x": [{"r": "one"}]}, "one"),
    ("$lookup({'a': 1}, 'a')", {}, 1),
    ("$sort([3, 1, 2], function($a, $b) { $a > $b })[0]", {}, 1),
]


@pytest.fixture(scope="module", autouse=True)
def bridge() -> Iterator[None]:
    emulator.install()
    yield
    emulator.uninstall()


@pytest.mark.parametrize(("expression", "variables", "expected"), CASES)
def test_expression(expression: str, variables: dict, expected: object) -> None:
    assert evaluate(expression, variables) == expected


def test_undefined_and_errors_are_told_apart() -> None:
    with pytest.raises(Undefined):
        evaluate("$x.missing", {"x": {}})
    with pytest.raises(JSONataError):
        evaluate("$parse('not json')")
    with pytest.raises(JSONataError):
        evaluate("$toMillis('tomorrow')")
    # Known difference: jsonata-python reads the basic ISO form that JSONata 2.x refuses
    # (D3110). The definition checks a timestamp's form with a regex before $toMillis.
    assert evaluate("$toMillis('20261123T010000Z')") == 1795395600000
    with pytest.raises(JSONataError):
        evaluate("$x.(")  # a syntax error


def test_millis_reads_the_emulated_clock() -> None:
    before = evaluate("$millis()")
    emulator.clock.advance(3600)
    after = evaluate("$millis()")
    assert 3600_000 <= after - before < 3660_000
    assert jsonata_bridge.from_jsonata(jsonata_bridge.to_jsonata({"a": [None]})) == {"a": [None]}


def test_inside_an_execution() -> None:
    """$states.context, variables holding awkward strings, Choice rules' Assign."""
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Pick",
        "States": {
            "Pick": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Condition": "{% $states.input.x = 1 %}",
                        "Next": "Done",
                        "Assign": {"taken": "rule"},
                    }
                ],
                "Default": "Done",
                "Assign": {"taken": "default", "text": "{% $states.input.text %}"},
            },
            "Done": {
                "Type": "Succeed",
                "Output": (
                    "{% {'taken': $taken, 'name': $states.context.Execution.Name, "
                    "'machine': $states.context.StateMachine.Id, "
                    "'entered': $states.context.State.EnteredTime, "
                    "'late': $toMillis($states.context.State.EnteredTime) <= $millis()} %}"
                ),
            },
        },
    }
    with emulated_aws() as world:
        arn = world.sfn.create_state_machine(
            name="conformance",
            definition=json.dumps(definition),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/x",
        )["stateMachineArn"]
        outputs = {}
        for name, value in (("by-rule", 1), ("by-default", 2)):
            execution = world.sfn.start_execution(
                stateMachineArn=arn,
                name=name,
                input=json.dumps({"x": value, "text": 'a "quoted"\nline\\'}),
            )["executionArn"]
            described = world.wait(execution)
            assert described["status"] == "SUCCEEDED", described
            outputs[name] = json.loads(described["output"])
    # A rule whose Next is also the Default's does not run the Default's Assign (moto did).
    assert outputs["by-rule"]["taken"] == "rule"
    assert outputs["by-default"]["taken"] == "default"
    assert outputs["by-rule"]["name"] == "by-rule"
    assert outputs["by-rule"]["machine"] == arn
    assert emulator.parse_iso(outputs["by-rule"]["entered"]) is not None
    assert outputs["by-rule"]["entered"].endswith("Z")
    assert outputs["by-rule"]["late"] is True
