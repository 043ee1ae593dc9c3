"""The delivery function's parts: the secret's shapes, the configuration, timestamps,
and the paths where AWS itself refuses (docs/contracts.md section 7)."""

from __future__ import annotations

import base64
import json

import pytest
from conftest import PASSWORD, PREFIX, USER, Context, World, alarm, envelope, section5

from servicenow import alarms, config, credentials, handler, jsonv2
from servicenow.config import ConfigurationError


@pytest.mark.parametrize(
    ("secret", "headers"),
    [
        (
            {"username": USER, "password": PASSWORD, "engine": "ignored"},
            {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()},
        ),
        ({"api_key": " key-1 "}, {"x-sn-apikey": "key-1"}),
    ],
)
def test_the_two_secret_shapes(secret: dict[str, str], headers: dict[str, str]) -> None:
    parsed = credentials.parse(json.dumps(secret))
    assert parsed.headers == headers
    assert PASSWORD not in repr(parsed)
    assert "key-1" not in repr(parsed)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("username=a password=b", "not JSON"),
        ('["a", "b"]', "JSON object"),
        ('{"username": "a", "password": "b", "api_key": "c"}', "keep one"),
        ('{"user": "a", "pass": "b"}', "neither"),
        ('{"username": "a"}', "both username and password"),
        ('{"username": "a", "password": ""}', "both username and password"),
        ('{"username": "a:b", "password": "c"}', "':'"),
        ('{"api_key": 12345}', "non-empty string"),
        ('{"api_key": "  "}', "non-empty string"),
    ],
)
def test_every_other_secret_shape_is_refused_clearly(text: str, why: str) -> None:
    with pytest.raises(ConfigurationError, match=why):
        credentials.parse(text)


def test_a_missing_or_binary_secret_is_a_configuration_error(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError, match="ResourceNotFoundException"):
        credentials.store.get(world.secret_arn.replace("servicenow", "missing"))
    binary = world.secrets.create_secret(Name="binary", SecretBinary=b"\x00\x01")["ARN"]
    with pytest.raises(ConfigurationError, match="SecretString"):
        credentials.store.get(binary)


def test_the_secret_is_cached_then_read_again(world: World) -> None:
    now = [0.0]
    store = credentials.Store(clock=lambda: now[0])
    first = store.get(world.secret_arn)
    world.set_secret({"api_key": "k"})
    assert store.get(world.secret_arn) is first  # within the 5 minutes
    now[0] = credentials.TTL_SECONDS + 1
    assert store.get(world.secret_arn).kind == "api_key"


GOOD = {
    "SERVICENOW_URL": "https://acme.service-now.com/",
    "SERVICENOW_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:snow-AbCdEf",
    "DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/111122223333/acb-servicenow-dlq",
    "QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/111122223333/acb-servicenow",
    "NAME_PREFIX": "acb",
}


def test_the_configuration_is_read_from_the_environment() -> None:
    cfg = config.from_environment({**GOOD, "MAX_ATTEMPTS": "5"})
    assert cfg.endpoint == "https://acme.service-now.com/api/global/em/jsonv2"
    assert (cfg.max_attempts, cfg.request_timeout_seconds) == (5, 10.0)
    local = config.from_environment({**GOOD, "SERVICENOW_URL": "http://localhost:8080"})
    assert local.endpoint == "http://localhost:8080/api/global/em/jsonv2"


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"SERVICENOW_URL": ""}, "SERVICENOW_URL is missing"),
        ({"SERVICENOW_URL": "http://acme.service-now.com"}, "must use https"),
        ({"SERVICENOW_URL": "https://acme.service-now.com/api/global/em/jsonv2"}, "without a path"),
        ({"SERVICENOW_URL": "ftp://acme"}, "must be https://"),
        ({"SERVICENOW_SECRET_ARN": "snow"}, "Secrets Manager secret ARN"),
        ({"MAX_ATTEMPTS": "0"}, "from 1 to 10"),
        ({"REQUEST_TIMEOUT_SECONDS": "soon"}, "from 1 to 60"),
    ],
)
def test_a_bad_configuration_names_the_variable(changes: dict[str, str], why: str) -> None:
    with pytest.raises(ConfigurationError, match=why):
        config.from_environment({**GOOD, **changes})


def test_missing_variables_are_all_named_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        config.from_environment({})
    for name in ("SERVICENOW_URL", "SERVICENOW_SECRET_ARN", "DEAD_LETTER_QUEUE_URL", "QUEUE_URL"):
        assert name in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-23T01:06:12.345+0000", "2026-11-23 01:06:12"),
        ("2026-11-23T03:06:12+0200", "2026-11-23 01:06:12"),
        ("2026-11-23T01:06:12Z", "2026-11-23 01:06:12"),
        ("2026-11-23T01:06:12", "2026-11-23 01:06:12"),
    ],
)
def test_alarm_times_become_servicenow_utc(value: str, expected: str) -> None:
    assert alarms.time_of_event(value) == expected


def test_an_unreadable_alarm_time_falls_back_to_now() -> None:
    assert len(alarms.time_of_event("yesterday")) == len("2026-11-23 01:06:12")
    event = alarms.to_event(alarm(Trigger={"Metrics": []}), PREFIX)
    assert event["metric_name"] == "expression"


def test_a_dead_letter_queue_that_refuses_leaves_the_message_for_sqs(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", world.dlq_url.replace("-dlq", "-gone"))
    config.load.cache_clear()
    world.send(envelope(section5(severity="9")))

    poll = world.poll()

    assert len(poll.kept) == 1  # after max_receive_count SQS moves it to the dead-letter queue


def test_back_off_survives_a_stale_receipt_handle(world: World) -> None:
    record = {
        "messageId": "m-1",
        "receiptHandle": "not-a-handle",
        "body": envelope(section5()),
        "attributes": {"ApproximateReceiveCount": "many"},
    }
    world.snow.fail_next(503, count=3)
    answer = handler.run({"Records": [record]}, object(), sleep=lambda _s: None)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_retry_after_is_read_as_seconds_only() -> None:
    assert jsonv2._retry_after("3") == 3.0
    assert jsonv2._retry_after("Wed, 21 Oct 2026 07:28:00 GMT") is None  # then: own back-off
    sender = jsonv2.Sender("u", 1, 3, remaining_seconds=lambda: 5.0)
    answer = jsonv2.Answer(503, retry_after=60.0)
    assert sender._delay(1, answer) is None  # too long a wait: back to the queue instead


def test_no_retry_when_the_invocation_is_about_to_end(world: World) -> None:
    world.snow.fail_next(503, count=3)
    world.send(envelope(section5()))
    from emulator import lambda_sqs

    poll = lambda_sqs.poll(
        world.sqs,
        world.queue_url,
        world.queue_arn,
        lambda event: handler.run(event, Context(seconds=3), sleep=world.sleeps.append),
    )
    assert len(poll.kept) == 1
    assert world.sleeps == []
    assert len(world.snow.requests) == 1
