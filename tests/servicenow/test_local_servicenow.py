"""The local ServiceNow refuses what jsonv2's documentation refuses, as ServiceNow answers
(emulator/README.md, "Local ServiceNow"), and keeps only what it accepted."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from conftest import API_KEY, PASSWORD, USER, section5

from emulator.servicenow import PATH, LocalServiceNow

BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def _post(
    snow: LocalServiceNow,
    body: Any,
    *,
    path: str = PATH,
    method: str = "POST",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", "Authorization": BASIC, **(headers or {})}
    request = urllib.request.Request(  # noqa: S310 - the loopback server
        snow.url + path, data=data, headers={k: v for k, v in sent.items() if v}, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_documented_event_is_accepted_and_kept(snow: LocalServiceNow) -> None:
    snow.reset()
    status, answer = _post(snow, {"records": [section5(), section5("i-2")]})
    assert status == 200
    assert answer["result"]["inserted"] == "2"
    assert [e["node"] for e in snow.accepted] == ["i-0123456789abcdef0", "i-2"]
    status, _ = _post(
        snow, {"records": [section5()]}, headers={"Authorization": "", "x-sn-apikey": API_KEY}
    )
    assert status == 200


@pytest.mark.parametrize(
    ("kwargs", "status", "message"),
    [
        ({"path": "/api/now/table/em_event"}, 400, "does not represent any resource"),
        ({"method": "PUT"}, 405, "Method not Supported"),
        ({"headers": {"Authorization": ""}}, 401, "User Not Authenticated"),
        ({"headers": {"Authorization": "Basic " + base64.b64encode(b"x:y").decode()}}, 401, "User"),
        ({"headers": {"Authorization": "", "x-sn-apikey": "nope"}}, 401, "User Not Authenticated"),
        ({"headers": {"Content-Type": "text/plain; charset=UTF-8"}}, 415, "Unsupported media"),
        ({"headers": {"Accept": "text/html"}}, 406, "Not acceptable"),
    ],
)
def test_the_request_itself_is_checked(
    snow: LocalServiceNow, kwargs: dict[str, Any], status: int, message: str
) -> None:
    snow.reset()
    got, answer = _post(snow, {"records": [section5()]}, **kwargs)
    assert got == status
    assert answer["status"] == "failure"
    assert message in answer["error"]["message"]
    assert snow.accepted == []


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{not json", "not JSON"),
        (section5(), "records"),  # the wrapper is missing: SNS's bare object
        ({"records": []}, "records"),
        ({"records": [section5(severity=2)]}, "severity: must be a string"),
        ({"records": [section5(severity="6")]}, "is not 0..5"),
        ({"records": [section5(resolution_state="Closed")]}, "neither New nor Closing"),
        ({"records": [section5(time_of_event="2026-11-23T01:00:34Z")]}, "yyyy-MM-dd HH:mm:ss"),
        ({"records": [section5(description="d" * 4001)]}, "at most 4000"),
        ({"records": [section5(node="n" * 101)]}, "at most 100"),
        ({"records": [section5(additional_info='{"count": 3}')]}, "values must be strings"),
        ({"records": [section5(additional_info="[1]")]}, "JSON object in a string"),
        ({"records": [{**section5(), "priority": "1"}]}, "not an em_event field"),
        ({"records": [{"node": "i-1", "severity": "2"}]}, "source: required"),
        ({"records": [{"source": "s", "severity": "2"}]}, "node or event_class"),
        ({"records": [section5(), "x"]}, "not a JSON object"),
    ],
)
def test_a_record_that_breaks_the_schema_refuses_the_whole_request(
    snow: LocalServiceNow, body: Any, detail: str
) -> None:
    snow.reset()
    status, answer = _post(snow, body)
    assert status == 400
    assert detail in json.dumps(answer)
    assert snow.accepted == []
