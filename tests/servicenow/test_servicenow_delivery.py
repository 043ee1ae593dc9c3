"""The delivery function against a real local ServiceNow: what arrives, what is retried,
what is dead-lettered and why (docs/contracts.md sections 7 and 8)."""

from __future__ import annotations

import json

import pytest
from conftest import (
    ALARM_TOPIC_ARN,
    API_KEY,
    NO_ROLE_PASSWORD,
    NO_ROLE_USER,
    PASSWORD,
    PREFIX,
    USER,
    World,
    alarm,
    envelope,
    section5,
)

from emulator.servicenow import PATH
from servicenow import handler


def _reasons(world: World) -> list[tuple[str, str]]:
    return [
        (
            m["MessageAttributes"]["status"]["StringValue"],
            m["MessageAttributes"]["reason"]["StringValue"],
        )
        for m in world.dead_letters()
    ]


def test_events_and_alarms_arrive_once_in_bodies_jsonv2_accepts(world: World) -> None:
    failed = section5()
    summary = section5(  # a later event type, with a new additional_info key: passed through
        "schedule/nightly",
        type="BackupRunSummary",
        severity="5",
        resolution_state="Closing",
        additional_info=json.dumps({"succeeded": "9", "failed": "1", "new_key": "x"}),
    )
    world.send(envelope(failed), envelope(summary), envelope(alarm(), ALARM_TOPIC_ARN))

    poll = world.poll()

    assert poll.error is None
    assert len(poll.deleted) == 3
    assert poll.kept == []
    assert world.visible() == 0
    assert world.dead_letters() == []
    bodies = [json.loads(b) for b in world.snow.bodies]
    assert [b["records"] for b in bodies[:2]] == [[failed], [summary]]  # unchanged, one each
    mapped = bodies[2]["records"][0]
    assert mapped["message_key"] == f"{PREFIX}:alarm:{PREFIX}-discovery-errors"
    assert (mapped["severity"], mapped["resolution_state"]) == ("2", "New")
    request = world.snow.requests[0]
    assert (request.method, request.path, request.status) == ("POST", PATH, 200)
    assert request.content_type == "application/json"
    assert request.auth == f"basic:{USER}"


def test_an_api_key_secret_authenticates_with_the_header(world: World) -> None:
    world.set_secret({"api_key": API_KEY})
    world.send(envelope(section5()))

    assert world.poll().deleted
    assert [r.auth for r in world.snow.requests] == [f"api_key:{USER}"]


def test_wrong_credentials_are_reread_once_then_dead_lettered_with_the_reason(
    world: World,
) -> None:
    world.set_secret({"username": USER, "password": "wrong"})
    world.send(envelope(section5("i-1")), envelope(section5("i-2")))

    poll = world.poll()

    assert len(poll.deleted) == 2  # nothing retried forever: both are in the dead-letter queue
    assert [r.status for r in world.snow.requests] == [401, 401, 401]  # one re-read in all
    reasons = _reasons(world)
    assert [status for status, _ in reasons] == ["401", "401"]
    assert all(world.secret_arn in reason and "401" in reason for _, reason in reasons)
    assert world.snow.accepted == []


def test_a_rotated_secret_is_picked_up_on_the_first_401(world: World) -> None:
    world.send(envelope(section5("i-1")))
    assert world.poll().deleted  # the credentials are now cached
    world.snow.add_user(USER, "rotated")  # the password changes in ServiceNow and the secret
    world.set_secret({"username": USER, "password": "rotated"})
    world.send(envelope(section5("i-2")))

    poll = world.poll()

    assert poll.deleted
    assert world.dead_letters() == []
    assert [r.status for r in world.snow.requests] == [200, 401, 200]
    assert [e["node"] for e in world.snow.accepted] == ["i-1", "i-2"]
    world.snow.add_user(USER, PASSWORD)


def test_a_user_without_the_role_is_refused_403_and_dead_lettered(world: World) -> None:
    world.set_secret({"username": NO_ROLE_USER, "password": NO_ROLE_PASSWORD})
    world.send(envelope(section5()))

    world.poll()

    [(status, reason)] = _reasons(world)
    assert status == "403"
    assert "evt_mgmt_integration" in reason


def test_a_schema_rejection_is_dead_lettered_at_once_with_servicenows_reason(
    world: World,
) -> None:
    world.send(envelope(section5(severity="7")), envelope(section5("i-2")))

    poll = world.poll()

    assert len(poll.deleted) == 2
    assert world.visible() == 0
    [(status, reason)] = _reasons(world)
    assert status == "400"
    assert "severity" in reason
    assert "'7'" in reason
    assert [e["node"] for e in world.snow.accepted] == ["i-2"]  # the batch goes on


def test_5xx_is_retried_with_back_off_inside_the_invocation(world: World) -> None:
    world.snow.fail_next(503, count=2)
    world.send(envelope(section5()))

    poll = world.poll()

    assert poll.deleted
    assert poll.kept == []
    assert [r.status for r in world.snow.requests] == [503, 503, 200]
    assert len(world.sleeps) == 2
    assert 0 <= world.sleeps[0] <= 1.0
    assert 0 <= world.sleeps[1] <= 2.0


def test_429_and_5xx_past_the_attempts_become_batch_item_failures_with_back_off(
    world: World,
) -> None:
    world.snow.fail_next(429, count=3, retry_after=2)
    world.send(*(envelope(section5(f"i-{n}")) for n in range(3)))

    poll = world.poll()

    assert poll.error is None
    assert poll.deleted == []
    assert len(poll.kept) == 3
    assert world.sleeps == [2.0, 2.0]  # Retry-After honoured
    assert len(world.snow.requests) == 3  # the rest of the batch is not hammered
    assert world.visible() == 0  # kept invisible for the back-off (60 s on a first receive)
    assert world.dead_letters() == []


def test_no_answer_at_all_is_retried_later(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICENOW_URL", "http://127.0.0.1:9")  # discard port: refused
    monkeypatch.setenv("MAX_ATTEMPTS", "1")
    handler.config.load.cache_clear()
    world.send(envelope(section5()))

    poll = world.poll()

    assert len(poll.kept) == 1
    assert world.dead_letters() == []


def test_a_redirect_is_never_followed(world: World) -> None:
    world.snow.fail_next(302, headers={"Location": "https://sso.example.com/login"})
    world.send(envelope(section5()))

    world.poll()

    [(status, reason)] = _reasons(world)
    assert status == "302"
    assert "sso.example.com" in reason
    assert "SERVICENOW_URL" in reason


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (json.dumps(section5()), "not an SNS notification"),  # raw delivery switched on
        ("not json", "not JSON"),
        (envelope("plain text published by hand"), "not JSON"),
        (envelope({"hello": "world"}), "neither"),
        (json.dumps({"Type": "SubscriptionConfirmation"}), "SubscriptionConfirmation"),
    ],
)
def test_what_can_never_be_an_event_is_dead_lettered_without_a_request(
    world: World, body: str, why: str
) -> None:
    world.send(body)

    poll = world.poll()

    assert poll.deleted
    assert world.snow.requests == []
    [(status, reason)] = _reasons(world)
    assert status == "-"
    assert why in reason


def test_over_long_fields_are_cut_to_servicenows_maximum(world: World) -> None:
    world.send(envelope(section5(description="x" * 5000)))

    assert world.poll().deleted
    [event] = world.snow.accepted
    assert len(event["description"]) == 4000
    assert event["description"].endswith("...")


def test_a_broken_secret_fails_the_invocation_and_keeps_every_message(world: World) -> None:
    world.set_secret("not json")
    world.send(envelope(section5("i-1")), envelope(section5("i-2")))

    poll = world.poll()

    assert poll.error is not None
    assert "not JSON" in poll.error
    assert len(poll.kept) == 2
    assert world.dead_letters() == []
    assert world.snow.requests == []


def test_alarm_states_map_to_event_management_events(world: World) -> None:
    ok = alarm("OK", OldStateValue="ALARM", AlarmDescription=None)
    math = alarm(
        "INSUFFICIENT_DATA",
        Trigger={
            "Metrics": [
                {"Id": "total", "Expression": "SUM([a, b])"},
                {
                    "Id": "a",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/Scheduler",
                            "MetricName": "InvocationDroppedCount",
                        }
                    },
                },
            ],
            "Period": 300,
        },
    )
    world.send(envelope(ok, ALARM_TOPIC_ARN), envelope(math, ALARM_TOPIC_ARN))

    assert len(world.poll().deleted) == 2
    first, second = world.snow.accepted
    assert (first["severity"], first["resolution_state"]) == ("0", "Closing")
    assert first["time_of_event"] == "2026-11-23 01:06:12"
    assert first["node"] == f"{PREFIX}-discovery"
    assert first["metric_name"] == "AWS/Lambda/Errors"
    assert first["type"] == "AlarmStateChange"
    info = json.loads(first["additional_info"])
    assert info["dimensions"] == f"FunctionName={PREFIX}-discovery"
    assert info["threshold"] == "1"
    assert info["period"] == "300"
    assert all(isinstance(v, str) for v in info.values())
    assert (second["severity"], second["metric_name"]) == ("4", "expression")
    assert second["node"] == second["message_key"].rsplit(":", 1)[-1]  # no dimension: the name
    assert first["message_key"] == second["message_key"]  # one alert per alarm


def test_backoff_doubles_from_a_minute_to_an_hour() -> None:
    assert [handler.backoff_seconds(n) for n in (1, 2, 3, 7, 8, 30)] == [
        60,
        120,
        240,
        3600,
        3600,
        3600,
    ]


def test_an_event_that_is_not_an_sqs_batch_is_an_error(world: World) -> None:
    with pytest.raises(ValueError, match="SQS batch"):
        world.invoke({"detail": {}})
