"""Malformed events and configuration give clear errors; the small modules on their own."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from discovery import clients, config, continuation, events, handler, inventory, notify, pacing
from tests.discovery import fleet
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
    assert cfg.schedule_tag_values == {}
    assert cfg.not_selected_reporter is None


def test_configuration_of_the_schedules_tag_values():
    cfg = config.from_environment(
        {
            **GOOD_ENV,
            "SCHEDULE_TAG_VALUES": '{"nightly": "nightly", "weekly": "gold tier"}',
            "NOT_SELECTED_REPORTER": "weekly",
        }
    )
    assert cfg.schedule_tag_values == {"nightly": "nightly", "weekly": "gold tier"}
    assert cfg.not_selected_reporter == "weekly"


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
        ("START_RATE_PER_SECOND", "5000", "from 0.01 to 1300"),
        ("START_BURST", "1.5", "int"),
        ("CONTINUATION_MARGIN_SECONDS", "1", "from 5 to 600"),
        ("BACKUP_TAG_KEY", "bad\u0000key", "EC2 tag key"),
        ("OPT_OUT_TAG_KEY", "AppConsistentBackup", "must differ"),
        ("SCHEDULE_TAG_VALUES", "nightly", "must be a JSON object"),
        ("SCHEDULE_TAG_VALUES", "{}", "non-empty JSON object"),
        ("SCHEDULE_TAG_VALUES", '{"Nightly": "x"}', "invalid entries for ['Nightly']"),
        ("SCHEDULE_TAG_VALUES", '{"nightly": ""}', "invalid entries for ['nightly']"),
        ("NOT_SELECTED_REPORTER", "nightly", "must be one of the schedules"),
        ("NOT_SELECTED_REPORTER", "Not A Name", "must be a schedule name"),
    ],
)
def test_configuration_rejects_bad_values(name, value, message):
    with pytest.raises(config.ConfigurationError, match=re.escape(message)):
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
        (broken(["scheduled_time"], "yesterday"), "is not an RFC 3339 date-time"),
        (broken(["scheduled_time"], "2026-11-23T01:00:00"), "is not an RFC 3339 date-time"),
        (broken(["tag_value"], ""), "tag_value='' must be a string of 1-256"),
        (broken(["dry_run"], "yes"), "dry_run must be true or false"),
        (broken(["surprise"], 1), "unknown fields ['surprise']"),
        (broken(["policy"], "gold"), "policy must be an object"),
        (broken(["policy", "retention_days"], 0), "policy.retention_days=0"),
        (broken(["policy", "retention_days"], True), "policy.retention_days=True"),
        (broken(["policy", "max_freeze_seconds"], 4000), "policy.max_freeze_seconds=4000"),
        (broken(["policy", "max_freeze_seconds"], 14), "from 15 to 900"),
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
                    "pending": [["i-0123456789abcdef0", "linux", "pending", "111122223333"]],
                },
            ),
            "continuation.pending must be",
        ),
        (
            broken(
                ["continuation"],
                {"hop": 1, "chain_started_at": "2026-11-23T01:00:00Z", "next_token": 7},
            ),
            "continuation.next_token must be null or a token",
        ),
        (
            broken(
                ["continuation"],
                {
                    "hop": 1,
                    "chain_started_at": "2026-11-23T01:00:00Z",
                    "next_token": "x",
                    "retry_instance_ids": [],
                },
            ),
            "mixes the fields of two versions",
        ),
        (
            broken(["continuation"], {"hop": 1, "chain_started_at": "20261123T010000Z"}),
            "continuation.chain_started_at='20261123T010000Z' is not an RFC 3339",
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


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        ("2026-11-23T01:00:00Z", "2026-11-23T01:00:00Z"),  # what the Scheduler writes
        ("2026-11-23t01:00:00z", "2026-11-23T01:00:00Z"),  # RFC 3339 5.6, note
        ("2026-11-23T02:00:00.250+01:00", "2026-11-23T01:00:00Z"),  # fraction, offset
        ("2026-11-23T01:00:00.999999999Z", "2026-11-23T01:00:00Z"),  # dropped, not rounded
        ("2026-11-22T20:30:00-04:30", "2026-11-23T01:00:00Z"),
        ("2026-11-23T01:00:00-00:00", "2026-11-23T01:00:00Z"),  # UTC, local offset unknown
        ("2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"),
    ],
)
def test_scheduled_time_accepts_rfc3339_date_times(raw, utc):
    assert events.parse(schedule_event(scheduled_time=raw)).scheduled_time_text == utc


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("20261123T010000Z", "not an RFC 3339 date-time"),  # ISO 8601 basic format
        ("2026-W48-1T01:00:00Z", "not an RFC 3339 date-time"),  # ISO week date
        ("2026-327T01:00:00Z", "not an RFC 3339 date-time"),  # ISO ordinal date
        ("2026-11-23 01:00:00Z", "not an RFC 3339 date-time"),  # space separator
        ("2026-11-23T01:00Z", "not an RFC 3339 date-time"),  # no seconds
        ("2026-11-23T01:00:00", "not an RFC 3339 date-time"),  # no offset
        ("2026-11-23T01:00:00+0100", "not an RFC 3339 date-time"),  # offset without colon
        ("2026-11-23T01:00:00.Z", "not an RFC 3339 date-time"),  # empty fraction
        ("2026-11-23", "not an RFC 3339 date-time"),  # a date alone
        ("2026-11-23T01:00:00Z ", "not an RFC 3339 date-time"),  # trailing space
        ("\uff12026-11-23T01:00:00Z", "not an RFC 3339 date-time"),  # non-ASCII digit
        ("2026-11-31T01:00:00Z", "not a valid time: day is out of range"),
        ("2026-02-29T01:00:00Z", "not a valid time: day is out of range"),
        ("2026-11-23T24:00:00Z", "not a valid time: hour"),
        ("2026-11-23T01:00:60Z", "not a valid time: a leap second"),
        ("2026-11-23T01:00:00+24:00", "not a valid time: the offset"),
    ],
)
def test_scheduled_time_rejects_what_rfc3339_does_not_allow(raw, why):
    with pytest.raises(events.EventError) as error:
        events.parse(schedule_event(scheduled_time=raw))
    assert why in str(error.value)
    assert "2026-11-23T01:00:00Z" in str(error.value) or "valid time" in str(error.value)


@pytest.mark.parametrize("raw", ["20261123T010000Z", "2026-W48-1T01:00:00Z"])
def test_an_iso8601_only_time_starts_nothing_and_is_notified(aws, raw):
    fleet.make(2, {"AppConsistentBackup": "nightly"})
    result = handler.handler(schedule_event(scheduled_time=raw), FakeContext())
    assert result["status"] == "rejected"
    assert aws.executions() == []
    (message,) = aws.messages()
    assert message["metric_name"] == "discovery"
    assert "nothing started" in message["description"]
    assert raw in message["description"]


def test_problems_quote_values_briefly():
    with pytest.raises(events.EventError) as error:
        events.parse(schedule_event(tag_value="x" * 300_000, schedule_name="y" * 5000))
    text = str(error.value)
    assert len(text) < 1000
    assert "(300000 characters)" in text
    assert "(5000 characters)" in text


def test_a_continuation_survives_its_own_round_trip():
    request = events.parse(schedule_event())
    nxt = events.Continuation(
        hop=2,
        chain_started_at=datetime(2026, 11, 23, 1, 0, 3, tzinfo=UTC),
        next_token="eyJ2IjoiMiIsImMiOjEwMDB9",  # noqa: S106 - an EC2 NextToken
        listing_done=False,
        pending=(("i-0123456789abcdef1", "windows", "stopped", "111122223333"),),
        totals={"started": 5},
    )
    again = events.parse(json.loads(json.dumps(request.as_event(nxt))))
    assert again.continuation == nxt
    assert again.policy == request.policy


def test_the_largest_continuation_stays_far_below_the_async_payload_limit():
    request = events.parse(schedule_event(tag_value="v" * 256))
    pending = tuple(
        (f"i-{n:017x}", "windows", "stopped", "111122223333") for n in range(events.MAX_PENDING)
    )
    nxt = events.Continuation(
        hop=99,
        chain_started_at=datetime(2026, 11, 23, 1, 0, 3, tzinfo=UTC),
        next_token="t" * events.MAX_NEXT_TOKEN,
        pending=pending,
        totals={key: 10**9 for key in ("started", "listed", "discovered", "already_started")},
    )
    payload = json.dumps(request.as_event(nxt), separators=(",", ":")).encode()
    assert len(payload) < 200 * 1024  # Lambda's asynchronous limit: 256 KB
    assert events.parse(json.loads(payload)).continuation == nxt


def test_a_continuation_of_the_previous_version_lists_again():
    event = schedule_event(
        continuation={
            "hop": 3,
            "chain_started_at": "2026-11-23T01:00:03Z",
            "resume_from_instance_id": "i-0123456789abcdef0",
            "retry_instance_ids": ["i-0123456789abcdef1"],
            "totals": {"started": 7},
        }
    )
    nxt = events.parse(event).continuation
    assert nxt is not None
    assert nxt.legacy
    assert (nxt.hop, nxt.next_token, nxt.listing_done, nxt.pending) == (3, None, False, ())


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
    bucket = pacing.TokenBucket(10, 5, monotonic=clock, sleep=clock.sleep)
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


def test_the_pace_follows_the_installed_clock(virtual_time):
    cfg = config.from_environment({**GOOD_ENV, "START_RATE_PER_SECOND": "4", "START_BURST": "2"})
    pacer = pacing.for_config(cfg)
    for _ in range(10):
        pacer.acquire()
    assert sum(virtual_time.slept) == pytest.approx(2.0)  # 2 free, then 8 at 4 a second


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


def _fits(entry):
    return notify.entry_bytes(entry) <= notify.MAX_MESSAGE_BYTES


def test_a_notification_too_large_for_sns_is_shortened_not_dropped(aws, monkeypatch):
    # The case: a 300 KB tag value quoted in the description and again in
    # additional_info. Problems now quote values briefly; without that, the notification
    # itself must still arrive.
    monkeypatch.setattr(events, "show", repr)
    huge = "\u00e9" * 150_000 + "x" * 150_000
    result = handler.handler(schedule_event(tag_value=huge), FakeContext())
    assert result["status"] == "rejected"

    (note,) = aws.notifications()  # moto drops a message over 256 KB: it arrived
    entry = {
        "Subject": note["subject"],
        "Message": note["message"],
        "MessageAttributes": {
            k: {"DataType": "String", "StringValue": v["Value"]}
            for k, v in note["attributes"].items()
        },
    }
    assert _fits(entry)
    message = json.loads(note["message"])
    info = json.loads(message["additional_info"])
    assert message["metric_name"] == "discovery"
    assert message["description"].startswith("Backup run rejected, nothing started")
    assert info["truncated"] == "additional_info.problems,description"
    assert info["problems"].startswith("tag_value='")
    assert info["problems"].endswith("characters]")
    assert info["schedule_name"] == "nightly"


def test_shortening_cuts_the_longest_fields_and_says_so():
    cfg = config.from_environment(GOOD_ENV)
    entry = notify.notification(
        cfg,
        node="schedule/nightly",
        resource=GOOD_ENV["STATE_MACHINE_ARN"],
        event_type="BackupFailed",
        stage="discovery",
        outcome="failed",
        severity="2",
        description="d" * 200_000,
        message_key="acb:discovery:nightly",
        additional={"tag_value": "\u00e9" * 150_000, "small": "kept", "other": "o" * 90_000},
    )
    assert _fits(entry)
    assert notify.entry_bytes(entry) > notify.MAX_MESSAGE_BYTES - 1024  # cut no more than needed
    message = json.loads(entry["Message"])
    info = json.loads(message["additional_info"])
    assert info["small"] == "kept"
    assert info["truncated"] == ("additional_info.other,additional_info.tag_value,description")
    assert info["tag_value"].endswith("... [truncated from 150000 characters]")
    assert message["description"].startswith("ddd")
    assert message["description"].endswith("... [truncated from 200000 characters]")
    assert info["other"].startswith("ooo")
    assert message["source"] == "app-consistent-backup"
    assert message["node"] == "schedule/nightly"


def test_a_small_notification_is_left_whole():
    cfg = config.from_environment(GOOD_ENV)
    entry = notify.discovery_failure(cfg, "nightly", "d" * 1000, {"x": "y" * 1000})
    info = json.loads(json.loads(entry["Message"])["additional_info"])
    assert "truncated" not in info
    assert info["x"] == "y" * 1000


def test_batches_respect_the_count_and_the_total_size():
    def entry(size):
        return {"Subject": "s", "Message": "m" * size, "MessageAttributes": {}}

    sizes = [100_000, 100_000, 100_000, 10, 10] + [1] * 12
    batches = notify.batches([entry(s) for s in sizes])
    assert [len(b) for b in batches] == [2, 10, 5]
    for batch in batches:
        assert sum(notify.entry_bytes(e) for e in batch) <= notify.MAX_MESSAGE_BYTES


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
