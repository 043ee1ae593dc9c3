"""A Wait state's Timestamp is reached on the emulated clock, truncated to the second.

AWS: "Step Functions considers the time value up to seconds and truncates milliseconds"
(Developer Guide, Wait state). moto measured the Timestamp against the host's clock, so on
the emulated clock a Wait until a timestamp ended at the wrong time (here before it).
"""

from __future__ import annotations

import datetime as dt
import json

from emulator.statemachine import emulated_aws


def _run(definition: dict) -> tuple[dict, list[dict]]:
    with emulated_aws() as world:
        described, execution = world.run_definition(definition)
        return described, world.history(execution)


def _at(history: list[dict], event_type: str) -> dt.datetime:
    return next(e["timestamp"] for e in history if e["type"] == event_type)


def test_a_wait_until_a_timestamp_ends_at_its_second_on_the_emulated_clock() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Start",
        "States": {
            # 30.7 s after the emulated clock's now.
            "Start": {
                "Type": "Pass",
                "Assign": {"until": "{% $fromMillis($millis() + 30700) %}"},
                "Next": "Until",
            },
            "Until": {"Type": "Wait", "Timestamp": "{% $until %}", "Next": "Done"},
            "Done": {"Type": "Succeed", "Output": "{% {'until': $until, 'now': $now()} %}"},
        },
    }
    described, history = _run(definition)
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    until = dt.datetime.fromisoformat(output["until"].replace("Z", "+00:00"))
    ended = _at(history, "WaitStateExited").astimezone(dt.UTC)
    entered = _at(history, "WaitStateEntered").astimezone(dt.UTC)
    # The milliseconds are truncated: the wait ends in the timestamp's second, never before it.
    assert ended >= until.replace(microsecond=0)
    assert ended < until.replace(microsecond=0) + dt.timedelta(seconds=1)
    assert dt.timedelta(seconds=29) < ended - entered < dt.timedelta(seconds=31)


def test_a_timestamp_in_the_past_does_not_wait() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Until",
        "States": {
            "Until": {
                "Type": "Wait",
                "Timestamp": "{% $fromMillis($millis() - 3600000) %}",
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    described, history = _run(definition)
    assert described["status"] == "SUCCEEDED", described
    waited = _at(history, "WaitStateExited") - _at(history, "WaitStateEntered")
    assert waited < dt.timedelta(seconds=1)
