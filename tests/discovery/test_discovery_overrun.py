"""A run still starting instances when its schedule's next run is due: one
BackupRunOverrun a run (docs/contracts.md sections 1, 5 and 5b); a run that began
already past its interval is a late start, not an overrun.

The function's clock starts a day in the past, so that moto's real-time startDate of
each execution is later than the invocation (the handler tells "started" from "already
started" by that); the scheduled time is set relative to that clock. Virtual time only:
a paced start advances it by a second.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from discovery import clients, clock, config, events, handler, overrun, report, runsummary
from discovery.ledger import RunRecord
from tests.discovery import fleet
from tests.discovery.support import FakeContext, VirtualClock, budget, schedule_event

TAG = "AppConsistentBackup"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
INFO_KEYS = {
    "schedule_name",
    "scheduled_time",
    "interval_seconds",
    "elapsed_seconds",
    "started",
    "already_started",
    "start_rate_per_second",
    "capacity",
    "hop",
    "listing_done",
    "stage",
}


@pytest.fixture
def run_clock(virtual_time: VirtualClock) -> Iterator[VirtualClock]:
    """Virtual time whose now() starts at START and moves with the paced starts."""
    started = VirtualClock(start=START)
    previous = clock.use(started, botocore_backoff=True)
    yield started
    clock.use(previous, botocore_backoff=True)


def event_at(seconds_before_start: int, **fields: Any) -> dict[str, Any]:
    """A schedule's event whose scheduled time is that long before the clock's start."""
    scheduled = START - timedelta(seconds=seconds_before_start)
    return schedule_event(scheduled_time=events.format_time(scheduled), **fields)


def overruns(env: Any) -> list[dict[str, Any]]:
    return [m for m in env.messages() if m["type"] == "BackupRunOverrun"]


def not_checked(reported: bool = False) -> dict[str, Any]:
    return {"overran": None, "reported": reported, "reporting_hop": False}


def within(reported: bool = False) -> dict[str, Any]:
    return {"overran": False, "reported": reported, "reporting_hop": False}


def test_a_run_past_its_interval_reports_the_overrun_once_across_hops(paced, run_clock, emf):
    ids = fleet.make(50, {TAG: "nightly"})

    # Begins 5 s before the interval ends; its first hop (about 20 s) ends past it.
    summaries = paced.drive(event_at(3600 - 5, interval_seconds=3600), budget(20))

    assert len(summaries) >= 2
    assert paced.started_ids() == sorted(ids)  # the report stopped no start
    (message,) = overruns(paced)
    assert [s["overrun"] for s in summaries] == [
        {"overran": True, "reported": True, "reporting_hop": hop == 0}
        for hop in range(len(summaries))
    ]
    # Once a run, as the event: the later hops still overran, but Sum counts runs.
    assert [m["Overran"] for m in emf()] == [1] + [0] * (len(summaries) - 1)
    assert [s["notifications_published"] for s in summaries[:2]] == [1, 0]
    scheduled = events.format_time(START - timedelta(seconds=3600 - 5))
    assert message["node"] == "schedule/nightly"
    assert message["resource"] == paced.state_machine_arn
    assert message["metric_name"] == "discovery"
    assert message["message_key"] == "acb:overrun:nightly"
    assert (message["severity"], message["resolution_state"]) == ("3", "New")
    info = json.loads(message["additional_info"])
    assert set(info) == INFO_KEYS
    first = summaries[0]["run_totals"]
    assert info["schedule_name"] == "nightly"
    assert info["scheduled_time"] == scheduled
    assert info["interval_seconds"] == "3600"
    assert int(info["elapsed_seconds"]) > 3600
    assert info["started"] == str(first["started"])
    assert info["already_started"] == "0"
    assert (info["start_rate_per_second"], info["capacity"]) == ("1", "3600")  # paced: 1/s
    assert (info["hop"], info["listing_done"], info["stage"]) == ("0", "true", "discovery")
    description = message["description"]
    for part in (
        f"Run of schedule nightly at {scheduled} has been starting instances for "
        f"{info['elapsed_seconds']} s, longer than the schedule's interval of 3600 s",
        f"{first['started']} started so far, at 1 a second, a capacity of 3600 instances",
        "next run overlaps this one",
        "queue for the freeze slots",
        "after timings.slot_wait_max_seconds end unfrozen",
        "declare the account's quotas or raise the budgets (api_budget, docs/fleet.md)",
        "split the fleet across schedules",
    ):
        assert part in description
    assert "6 hours" not in description  # the Lambda does not know the module's timings
    assert all("late_start_seconds" not in s for s in summaries)
    (attributes,) = [
        n["attributes"] for n in paced.notifications() if "BackupRunOverrun" in n["message"]
    ]
    assert attributes["outcome"]["Value"] == "overrun"
    assert attributes["instance_id"]["Value"] == "schedule/nightly"


def test_the_first_hop_past_the_interval_reports_it(paced, run_clock):
    fleet.make(150, {TAG: "nightly"})

    # Hops of about 100 and 50 virtual seconds; the interval ends in the second.
    summaries = paced.drive(event_at(3600 - 130, interval_seconds=3600), budget(100))

    assert len(summaries) == 2
    assert summaries[0]["overrun"] == within()
    assert summaries[1]["overrun"] == {"overran": True, "reported": True, "reporting_hop": True}
    (message,) = overruns(paced)
    info = json.loads(message["additional_info"])
    assert info["hop"] == "1"
    assert info["started"] == str(summaries[1]["run_totals"]["started"]) == "150"


def test_a_run_within_its_interval_reports_no_overrun(paced, run_clock, emf):
    fleet.make(50, {TAG: "nightly"})

    summaries = paced.drive(event_at(60, interval_seconds=86400), budget(20))

    assert len(summaries) >= 2
    assert overruns(paced) == []
    assert all(s["overrun"] == within() for s in summaries)
    assert [m["Overran"] for m in emf()] == [0] * len(summaries)


def test_a_schedule_input_without_an_interval_reports_no_overrun(paced, run_clock, emf):
    fleet.make(30, {TAG: "nightly"})

    summaries = paced.drive(event_at(3 * 86400), budget(20))

    assert len(summaries) >= 2
    assert overruns(paced) == []
    assert all(s["overrun"] == not_checked() for s in summaries)
    assert [m["Overran"] for m in emf()] == [0] * len(summaries)


@pytest.mark.parametrize("value", [0, -5, 3600.5, "86400", True, None, [3600]])
def test_a_malformed_interval_is_ignored_and_logged_not_the_run_lost(aws, run_clock, caplog, value):
    ids = fleet.make(5, {TAG: "nightly"})
    caplog.set_level(logging.ERROR)

    (summary,) = aws.drive(event_at(3 * 86400, interval_seconds=value))

    assert summary["status"] == "done"
    assert aws.started_ids() == sorted(ids)
    assert aws.messages() == []  # neither rejected nor reported as overrun
    assert summary["interval_seconds_ignored"].startswith("interval_seconds=")
    assert "must be a whole number of seconds >= 1" in summary["interval_seconds_ignored"]
    assert summary["overrun"] == not_checked()
    logged = [r for r in caplog.records if r.getMessage().startswith("interval_seconds=")]
    assert [r.levelno for r in logged] == [logging.ERROR]


def test_a_malformed_interval_is_not_handed_on(paced, run_clock, caplog):
    fleet.make(30, {TAG: "nightly"})
    caplog.set_level(logging.ERROR)

    handler.run(event_at(60, interval_seconds="daily"), budget(20), paced.hand_on)

    (event,) = paced.handed_on
    assert "interval_seconds" not in event
    assert event["continuation"]["overrun_reported"] is False


def failing_overrun_publishes(times: int) -> list[int]:
    """Make the next ``times`` PublishBatch calls carrying the overrun fail (throttled)."""
    failed: list[int] = []

    def answer(params: dict[str, Any], **_: Any) -> Any:
        body = json.dumps(params.get("body", ""))
        if "BackupRunOverrun" not in body or len(failed) >= times:
            return None
        failed.append(1)
        parsed = {
            "Error": {"Code": "Throttling", "Message": "Rate exceeded"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://sns.invalid/", 400, {}, None), parsed

    clients.get("sns").meta.events.register_first("before-call.sns.PublishBatch", answer)
    return failed


def test_a_failed_publish_stops_no_start_and_the_next_hop_tries_again(
    paced, run_clock, caplog, emf
):
    ids = fleet.make(50, {TAG: "nightly"})
    failed = failing_overrun_publishes(times=1)
    caplog.set_level(logging.ERROR)

    summaries = paced.drive(event_at(3600 - 5, interval_seconds=3600), budget(20))

    assert failed == [1]
    assert paced.started_ids() == sorted(ids)
    assert summaries[0]["overrun"] == {"overran": True, "reported": False, "reporting_hop": True}
    assert summaries[1]["overrun"] == {"overran": True, "reported": True, "reporting_hop": True}
    # Each hop that tried to publish says so: the metric sees what the lost message said.
    assert [m["Overran"] for m in emf()][:2] == [1, 1]
    assert [s["status"] for s in summaries] == ["done"] * len(summaries)
    (message,) = overruns(paced)
    assert json.loads(message["additional_info"])["hop"] == "1"
    assert any("BackupRunOverrun was not published" in r.getMessage() for r in caplog.records)


def test_a_publish_failing_throughout_loses_no_start(paced, run_clock, emf):
    ids = fleet.make(50, {TAG: "nightly"})
    failed = failing_overrun_publishes(times=1000)

    summaries = paced.drive(event_at(3600 - 5, interval_seconds=3600), budget(20))

    assert len(failed) == len(summaries) >= 2  # each hop tried once
    assert paced.started_ids() == sorted(ids)
    assert overruns(paced) == []
    assert [m["Overran"] for m in emf()] == [1] * len(summaries)  # no message: the metric
    assert summaries[-1]["run_complete"] is True


def test_the_event_and_its_continuation_carry_the_fields():
    request = events.parse(schedule_event(interval_seconds=86400))
    assert request.interval_seconds == 86400
    assert request.interval_problem is None
    nxt = events.Continuation(hop=1, chain_started_at=START, overrun_reported=True)
    again = events.parse(request.as_event(nxt))
    assert again.interval_seconds == 86400
    assert again.continuation is not None
    assert again.continuation.overrun_reported is True
    assert "interval_seconds" not in events.parse(schedule_event()).as_event()

    bad = request.as_event(nxt)
    bad["continuation"]["overrun_reported"] = "yes"
    with pytest.raises(events.EventError, match="overrun_reported must be true or false"):
        events.parse(bad)


@pytest.mark.parametrize(
    ("discovered", "expected"),
    [({"overran": True}, "true"), ({"overran": False}, "false"), ({"started": 3}, "")],
)
def test_the_run_summary_says_whether_the_run_overran(discovered, expected):
    cfg = config.Config(
        state_machine_arn="arn:aws:states:eu-west-1:123456789012:stateMachine:acb-backup-instance",
        notification_topic_arn="arn:aws:sns:eu-west-1:123456789012:acb-notifications",
        name_prefix="acb",
    )
    record = RunRecord(
        schedule_name="nightly",
        scheduled=START,
        expected=3,
        finished=3,
        discovery_state="complete",
        discovery=discovered,
    )

    entry = runsummary.summary_entry(cfg, record, runsummary.RUN_COMPLETE)

    message = json.loads(entry["Message"])
    assert json.loads(message["additional_info"])["overran"] == expected
    sentence = "Discovery overran the schedule's interval"
    assert (sentence in message["description"]) is (expected == "true")


def test_the_last_hop_records_the_overrun_in_the_ledger(paced, run_clock, monkeypatch):
    recorded: list[dict[str, Any]] = []

    class FakeLedger:
        def advance(self, *_: Any) -> None:
            return None

        def record_discovery(self, *_: Any, counts: dict[str, Any], **__: Any) -> Any:
            recorded.append(counts)
            return RunRecord(schedule_name="nightly", scheduled=START)

    monkeypatch.setattr(handler, "ledger_of", lambda _cfg: FakeLedger())
    fleet.make(5, {TAG: "nightly"})

    paced.drive(event_at(3600 - 2, interval_seconds=3600), FakeContext())  # ends past it
    paced.drive(event_at(7200, interval_seconds=3600), FakeContext())  # a late start
    paced.drive(event_at(60, interval_seconds=3600), FakeContext())
    paced.drive(event_at(60))

    assert [c.get("overran", "absent") for c in recorded] == [True, False, False, "absent"]


LATE_START = "a late start, not an overrun"


def test_a_run_that_began_past_its_interval_is_a_late_start_not_an_overrun(
    paced, run_clock, caplog
):
    # Delivered 7200 s after its scheduled time (a retried delivery, a redrive, Lambda's
    # queue): nothing started yet, and its fleet's size is not the cause.
    ids = fleet.make(50, {TAG: "nightly"})
    caplog.set_level(logging.WARNING)

    summaries = paced.drive(event_at(7200, interval_seconds=3600), budget(20))

    assert len(summaries) >= 2
    assert paced.started_ids() == sorted(ids)
    assert overruns(paced) == []
    assert all(s["overrun"] == within() for s in summaries)
    assert [s["late_start_seconds"] for s in summaries] == [7200] * len(summaries)
    (logged,) = [r for r in caplog.records if LATE_START in r.getMessage()]  # hop 0 only
    assert logged.levelno == logging.WARNING
    scheduled = events.format_time(START - timedelta(seconds=7200))
    for part in (
        f"run nightly at {scheduled} began 7200 s after its scheduled time",
        "interval of 3600 s",
        "maximum event age",
        "dead-letter queue",
        "asynchronous queue",
        "flexible time window",
    ):
        assert part in logged.getMessage()


def test_a_run_that_began_within_its_interval_and_ends_past_it_still_reports(paced, run_clock):
    fleet.make(30, {TAG: "nightly"})

    summaries = paced.drive(event_at(3600 - 1, interval_seconds=3600), budget(20))

    (message,) = overruns(paced)
    assert json.loads(message["additional_info"])["hop"] == "0"
    assert all("late_start_seconds" not in s for s in summaries)


def continued(
    seconds_before_start: int, began_after: int, *, reported: bool = False, **fields: Any
) -> dict[str, Any]:
    """Hop 1 of a run scheduled that long before the clock's start, whose first hop
    began ``began_after`` seconds after its scheduled time."""
    request = events.parse(event_at(seconds_before_start, **fields))
    began = request.scheduled_time + timedelta(seconds=began_after)
    nxt = events.Continuation(hop=1, chain_started_at=began, overrun_reported=reported)
    return request.as_event(nxt)


def test_a_dry_run_past_its_interval_publishes_nothing(paced, run_clock):
    fleet.make(5, {TAG: "nightly"})

    # Began 60 s after its scheduled time, now 7200 s after: an overrun, but dry.
    summaries = paced.drive(continued(7200, 60, interval_seconds=3600, dry_run=True))

    assert paced.messages() == []
    assert paced.started_ids() == []
    assert all(s["status"] == "dry_run" for s in summaries)
    assert all(s["overrun"] == not_checked() for s in summaries)


def test_a_later_hop_keeps_the_overrun_an_earlier_hop_reported(paced, run_clock, emf):
    # Hop 0 reported the overrun; this hop's clock is behind (100 s after the scheduled
    # time, within the interval): it must not say the run did not overrun.
    fleet.make(5, {TAG: "nightly"})
    event = continued(100, 0, reported=True, interval_seconds=3600)

    (summary,) = paced.drive(event, FakeContext())

    assert summary["overrun"] == {"overran": True, "reported": True, "reporting_hop": False}
    assert summary["notifications_published"] == 0
    assert overruns(paced) == []
    (metrics,) = emf()
    assert metrics["Overran"] == 0  # hop 0 counted it


def test_a_continuation_without_overrun_reported_parses_as_false():
    request = events.parse(schedule_event(interval_seconds=86400))
    event = request.as_event(events.Continuation(hop=1, chain_started_at=START))
    del event["continuation"]["overrun_reported"]

    again = events.parse(event)

    assert again.continuation is not None
    assert again.continuation.overrun_reported is False


@pytest.mark.parametrize(
    ("interval", "rate", "expected"),
    [
        (86400, 0.35, 30240),  # binary floats: floor(30239.999...) = 30239
        (86400, 0.06, 5184),
        (3600, 0.41, 1476),
        (86400, 0.57, 49248),
        (3600, 1.0, 3600),
        (86400, 0.01, 864),
        (7, 0.5, 3),
    ],
)
def test_the_capacity_is_the_floor_of_the_exact_decimal_product(interval, rate, expected):
    # As Terraform's floor(interval * rate), computed in decimal big floats.
    assert overrun.capacity(interval, rate) == expected


@pytest.mark.parametrize(
    ("overrun_field", "expected"),
    [
        ({"overran": True, "reported": True, "reporting_hop": True}, 1),
        ({"overran": True, "reported": False, "reporting_hop": True}, 1),  # publish failed
        ({"overran": True, "reported": True, "reporting_hop": False}, 0),  # a later hop
        ({"overran": False, "reported": False, "reporting_hop": False}, 0),
        ({"overran": None, "reported": False, "reporting_hop": False}, 0),
        ({"overran": None}, 0),
        (None, 0),
    ],
)
def test_the_overran_metric_is_1_on_the_hop_that_reports_the_overrun(overrun_field, expected):
    summary: dict[str, Any] = {"schedule_name": "nightly", "started": 3}
    if overrun_field is not None:
        summary["overrun"] = overrun_field

    document = report.emf(summary, "acb", now_ms=0)

    assert document["Overran"] == expected
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert {"Name": "Overran", "Unit": "Count"} in directive["Metrics"]
