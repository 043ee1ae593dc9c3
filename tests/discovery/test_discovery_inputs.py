"""Malformed events and configuration give clear errors; the small modules on their own."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from discovery import clients, config, continuation, events, handler, inventory, notify, pacing
from tests.discovery.support import FUNCTION_ARN, FakeContext, schedule_event

GOOD_ENV = {
    "STATE_MACHINE_ARN": "arn:aws:states:eu-west-1:111122223333:stateMachine:acb-backup",
    "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:eu-west-1:111122223333:acb-notifications",
    "NAME_PREFIX": "acb",
}


# --- configuration ------------------------------------------------------------------


def test_configuration_defaults():
    cfg = config.from_environment(GOOD_ENV)
    assert cfg.backup_tag_key == "AppConsistentBackup"
    assert cfg.opt_out_tag_key == "AppConsistentBackupOptOut"
    assert cfg.max_concurrency == 8
    assert cfg.start_rate_per_second == 50
    assert cfg.start_burst == 100
    assert cfg.continuation_margin_seconds == 60


def test_configuration_names_every_missing_or_malformed_variable():
    env = {"STATE_MACHINE_ARN": "arn:aws:sns:eu-west-1:111122223333:x", "MAX_CONCURRENCY": "lots"}
    with pytest.raises(config.ConfigurationError) as error:
        config.from_environment(env)
    text = str(error.value)
    assert (
        "STATE_MACHINE_ARN='arn:aws:sns:eu-west-1:111122223333:x' must be a Step Functions" in text
    )
    assert "NOTIFICATION_TOPIC_ARN is missing" in text
    assert "NAME_PREFIX is missing" in text
    assert "MAX_CONCURRENCY='lots' must be a int from 1 to 64" in text


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MAX_CONCURRENCY", "0", "from 1 to 64"),
        ("START_RATE_PER_SECOND", "5000", "from 0.1 to 1300"),
        ("START_BURST", "1.5", "int"),
        ("CONTINUATION_MARGIN_SECONDS", "1", "from 5 to 600"),
        ("BACKUP_TAG_KEY", "bad\u0000key", "EC2 tag key"),
        ("OPT_OUT_TAG_KEY", "AppConsistentBackup", "must differ"),
    ],
)
def test_configuration_rejects_bad_values(name, value, message):
    with pytest.raises(config.ConfigurationError, match=message):
        config.from_environment({**GOOD_ENV, name: value})


def test_the_handler_refuses_to_run_without_configuration(aws, monkeypatch):
    monkeypatch.delenv("STATE_MACHINE_ARN")
    config.load.cache_clear()
    with pytest.raises(config.ConfigurationError, match="STATE_MACHINE_ARN is missing"):
        handler.handler(schedule_event(), FakeContext())


# --- events -------------------------------------------------------------------------


def broken(path, value):
    event = schedule_event()
    target = event
    *parents, last = path
    for key in parents:
        target = target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return event


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ([1, 2], "must be a JSON object"),
        (broken(["schedule_name"], KeyError), "schedule_name=None must match"),
        (broken(["schedule_name"], "Nightly Backup"), "schedule_name='Nightly Backup'"),
        (broken(["scheduled_time"], KeyError), "scheduled_time must be an RFC 3339"),
        (broken(["scheduled_time"], "<aws.scheduler.scheduled-time>"), "unfilled placeholder"),
        (broken(["scheduled_time"], "yesterday"), "is not an RFC 3339 time"),
        (broken(["scheduled_time"], "2026-11-23T01:00:00"), "has no time zone"),
        (broken(["tag_value"], ""), "tag_value='' must be a string of 1-256"),
        (broken(["dry_run"], "yes"), "dry_run must be true or false"),
        (broken(["surprise"], 1), "unknown fields ['surprise']"),
        (broken(["policy"], "gold"), "policy must be an object"),
        (broken(["policy", "retention_days"], 0), "policy.retention_days=0"),
        (broken(["policy", "retention_days"], True), "policy.retention_days=True"),
        (broken(["policy", "max_freeze_seconds"], 4000), "policy.max_freeze_seconds=4000"),
        (broken(["policy", "on_freeze_failure"], "ignore"), "policy.on_freeze_failure='ignore'"),
        (broken(["policy", "stopped_instances"], "start"), "policy.stopped_instances='start'"),
        (broken(["policy", "notify_on_success"], "no"), "policy.notify_on_success"),
        (broken(["policy", "retension_days"], 3), "policy has unknown fields ['retension_days']"),
        (broken(["policy", "copy_targets"], "dr"), "policy.copy_targets must be a list"),
        (broken(["policy", "copy_targets"], [{"vault": "x"}]), "copy_targets[0] must be"),
        (
            broken(
                ["policy", "copy_targets"],
                [{"destination_vault_arn": "arn:aws:s3:::bucket", "retention_days": 0}],
            ),
            "is not a backup vault ARN",
        ),
        (broken(["continuation"], "next"), "continuation must be an object"),
        (broken(["continuation"], {"hop": 0}), "continuation.hop must be"),
        (
            broken(
                ["continuation"], {"hop": 1, "chain_started_at": "2026-11-23T01:00:00Z", "x": 1}
            ),
            "continuation has unknown fields ['x']",
        ),
        (
            broken(
                ["continuation"],
                {
                    "hop": 1,
                    "chain_started_at": "2026-11-23T01:00:00Z",
                    "resume_from_instance_id": "vm-1",
                    "retry_instance_ids": ["nope"],
                    "totals": [],
                },
            ),
            "resume_from_instance_id must be an instance ID",
        ),
    ],
)
def test_malformed_events_are_rejected_with_a_clear_error(event, message):
    with pytest.raises(events.EventError) as error:
        events.parse(event)
    assert message in str(error.value)


def test_every_problem_is_reported_at_once():
    event = {"schedule_name": "x y", "tag_value": 3, "policy": {"retention_days": -1}}
    with pytest.raises(events.EventError) as error:
        events.parse(event)
    assert len(error.value.problems) == 4  # name, time, tag value, retention


def test_the_handler_answers_a_malformed_event_with_errors_and_a_notification(aws):
    result = handler.handler({"schedule_name": "nightly", "tag_value": "x"}, FakeContext())
    assert result["status"] == "rejected"
    assert any("scheduled_time" in e for e in result["errors"])
    (note,) = aws.notifications()
    message = json.loads(note["message"])
    assert message["metric_name"] == "discovery"
    assert message["node"] == "schedule/nightly"
    assert aws.executions() == []


def test_a_malformed_event_without_a_usable_name_is_still_notified(aws):
    result = handler.handler("not an event", FakeContext())
    assert result["status"] == "rejected"
    (note,) = aws.notifications()
    assert json.loads(note["message"])["node"] == "schedule/unknown"


def test_scheduled_time_is_normalised_to_utc_seconds():
    request = events.parse(schedule_event(scheduled_time="2026-11-23T02:00:00.250+01:00"))
    assert request.scheduled_time_text == "2026-11-23T01:00:00Z"


def test_a_continuation_survives_its_own_round_trip():
    request = events.parse(schedule_event())
    nxt = events.Continuation(
        hop=2,
        chain_started_at=datetime(2026, 11, 23, 1, 0, 3, tzinfo=UTC),
        resume_from_instance_id="i-0123456789abcdef0",
        retry_instance_ids=("i-0123456789abcdef1",),
        totals={"started": 5},
    )
    again = events.parse(json.loads(json.dumps(request.as_event(nxt))))
    assert again.continuation == nxt
    assert again.policy == request.policy


# --- inventory ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "platform"),
    [
        ({"Platform": "windows"}, "windows"),
        ({"PlatformDetails": "Windows with SQL Server Standard"}, "windows"),
        ({"PlatformDetails": "Red Hat Enterprise Linux"}, "linux"),
        ({}, "linux"),
    ],
)
def test_platform_detection(raw, platform):
    assert inventory.platform_of(raw) == platform


def test_filter_values_are_escaped():
    assert inventory.escape_filter_value(r"a*b?c\d") == r"a\*b\?c\\d"


@pytest.mark.parametrize(
    ("state", "stopped", "reason"),
    [
        ("running", "backup", None),
        ("stopped", "backup", None),
        ("stopped", "skip", "stopped_by_policy"),
        ("shutting-down", "backup", "state_shutting_down"),
        ("stopping", "backup", "state_stopping"),
    ],
)
def test_decisions(state, stopped, reason):
    instance = inventory.Instance("i-0123456789abcdef0", "arn", "linux", state, opted_out=False)
    assert inventory.decide(instance, stopped).reason == reason


# --- pacing ---------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_token_bucket_allows_the_burst_then_the_rate():
    clock = Clock()
    bucket = pacing.TokenBucket(10, 5, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        bucket.acquire()
    assert clock.now == 0  # the burst costs nothing
    for _ in range(10):
        bucket.acquire()
    assert clock.now == pytest.approx(1.0)  # then 10 a second
    clock.now += 100
    assert bucket.try_acquire() == 0
    assert bucket._tokens == pytest.approx(4)  # refilled up to the burst, not beyond


def test_token_bucket_rejects_nonsense():
    with pytest.raises(ValueError, match="rate_per_second"):
        pacing.TokenBucket(0, 1)


def test_time_at_the_start_execution_quota():
    assert pacing.time_to_start(10_000, 300, 1300) == pytest.approx(29.0)
    assert pacing.time_to_start(1000, 300, 1300) == 0


# --- notifications ----------------------------------------------------------------------


def test_notification_fields_are_servicenow_ready():
    cfg = config.from_environment(GOOD_ENV)
    entry = notify.notification(
        cfg,
        node="i-0123456789abcdef0",
        resource="arn:aws:ec2:eu-west-1:111122223333:instance/i-0123456789abcdef0",
        event_type="BackupFailed",
        stage="start-execution",
        outcome="failed",
        severity="2",
        description="d",
        message_key="acb:i-0123456789abcdef0",
        additional={"count": 3, "missing": None},
        now=datetime(2026, 11, 23, 1, 0, 34, 999, tzinfo=UTC),
    )
    message = json.loads(entry["Message"])
    assert message["time_of_event"] == "2026-11-23 01:00:34"
    assert json.loads(message["additional_info"]) == {
        "count": "3",
        "missing": "",
        "stage": "start-execution",
    }
    assert entry["Subject"] == "[Major] app-consistent-backup failed i-0123456789abcdef0"


def test_publish_is_best_effort():
    sns = boto3.client("sns", region_name="eu-west-1")
    topic = GOOD_ENV["NOTIFICATION_TOPIC_ARN"]
    entries = [{"Subject": "s", "Message": "m", "MessageAttributes": {}} for _ in range(12)]
    with Stubber(sns) as stub:
        stub.add_client_error("publish_batch", "AuthorizationError")
        stub.add_response(
            "publish_batch",
            {"Successful": [], "Failed": [{"Id": "10", "Code": "x", "SenderFault": True}]},
        )
        assert notify.publish(sns, topic, entries) == 0


# --- the continuation's invoker ------------------------------------------------------------


@pytest.fixture
def lambda_stub(monkeypatch):
    client = boto3.client("lambda", region_name="eu-west-1")
    monkeypatch.setattr(clients, "_clients", {"lambda": client})
    with Stubber(client) as stub:
        yield stub


def test_invoke_async_invokes_itself_as_an_event(lambda_stub):
    event = schedule_event(continuation={"hop": 1})
    lambda_stub.add_response(
        "invoke",
        {"StatusCode": 202},
        {
            "FunctionName": FUNCTION_ARN,
            "InvocationType": "Event",
            "Payload": json.dumps(event, separators=(",", ":")).encode(),
        },
    )
    continuation.invoke_async(FUNCTION_ARN, event)
    lambda_stub.assert_no_pending_responses()


def test_invoke_async_refuses_an_unexpected_status(lambda_stub):
    lambda_stub.add_response("invoke", {"StatusCode": 200})
    with pytest.raises(continuation.HandOnError, match="200"):
        continuation.invoke_async(FUNCTION_ARN, {})


def test_invoke_async_errors_surface(lambda_stub):
    lambda_stub.add_client_error("invoke", "TooManyRequestsException")
    with pytest.raises(ClientError):
        continuation.invoke_async(FUNCTION_ARN, {})


def test_invoke_async_refuses_an_oversized_payload(lambda_stub):
    with pytest.raises(continuation.HandOnError, match="256 KB"):
        continuation.invoke_async(FUNCTION_ARN, {"blob": "x" * 300_000})


def test_clients_are_created_once(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    clients.reset()
    first = clients.get("sns")
    assert clients.get("sns") is first
    assert first.meta.config.retries["mode"] == "standard"
    clients.reset()
    assert clients.get("sns") is not first
    clients.reset()


def test_policy_is_deep_copied_not_shared():
    event = schedule_event()
    original = copy.deepcopy(event)
    events.parse(event)
    assert event == original
