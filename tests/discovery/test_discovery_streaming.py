"""Streaming: one page at a time, a cursor that survives hops, throttled pages, a refused
cursor, and a fleet that cannot be finished. EC2 is the scripted stub of stubs.py
(moto cannot throttle a page or refuse a token); Step Functions and SNS are moto."""

from __future__ import annotations

import json
import weakref

import pytest

from discovery import handler, inventory
from tests.discovery import stubs
from tests.discovery.support import MARGIN_SECONDS, FakeContext, budget, schedule_event

TAG = "AppConsistentBackup"
PAGE = 10


def nightly(index: int) -> dict:
    return stubs.simple_instance(index, {TAG: "nightly"})


@pytest.fixture
def listing(aws, monkeypatch):
    """A fleet of 40 selected instances behind the stub, ten a page."""
    monkeypatch.setattr(inventory, "PAGE_SIZE", PAGE)
    fleet = stubs.PagedFleet(size=40, make=nightly)
    fleet.install(handler.clients.get("ec2"))
    return fleet


def tokens(fleet):
    return [r["NextToken"] for r in fleet.requests]


def page_token(page: int) -> str | None:
    return None if page == 1 else stubs.token_for((page - 1) * PAGE)


def test_memory_holds_one_page_whatever_the_fleet(aws, monkeypatch):
    monkeypatch.setattr(inventory, "PAGE_SIZE", 50)
    fleet = stubs.PagedFleet(size=600, make=nightly)
    live: weakref.WeakSet = weakref.WeakSet()

    class Tracked(inventory.Instance):  # the instances the handler reads, counted alive
        __slots__ = ("__weakref__",)

        def __post_init__(self) -> None:
            live.add(self)

    monkeypatch.setattr(inventory, "Instance", Tracked)
    alive = []
    fleet.on_page = lambda _request: alive.append(len(live))
    fleet.install(handler.clients.get("ec2"))
    executions = stubs.Executions(aws.state_machine_arn)
    executions.install(handler.clients.get("stepfunctions"))

    summary = handler.run(schedule_event(), FakeContext(), aws.hand_on)

    assert summary["started"] == 600
    assert summary["pages"] == 12
    # When the next page is asked for, the handler holds none of the pages read
    # before it, only the instances still queued in the pool (2 x MAX_CONCURRENCY).
    assert len(alive) == 12
    assert max(alive) <= 2 * 8 + 1


def test_hops_resume_from_the_cursor_and_read_each_page_once(paced, listing):
    summaries = paced.drive(schedule_event(), budget(15))

    assert len(summaries) >= 3
    assert paced.started_ids() == sorted(f"i-{n:017x}" for n in range(40))  # each once
    assert tokens(listing) == [page_token(p) for p in (1, 2, 3, 4)]  # no page twice
    for summary in summaries[:-1]:
        assert summary["handed_on"] is True
        assert summary["handed_on_pending"] <= PAGE + 2 * 8  # a page, and the pool's queue
    totals = summaries[-1]["run_totals"]
    assert (totals["listed"], totals["pages"], totals["started"]) == (40, 4, 40)
    assert totals["cursor_restarts"] == 0
    assert summaries[-1]["run_complete"] is True


def test_a_throttled_page_waits_and_the_run_goes_on(aws, listing, virtual_time):
    listing.fail(page_token(2), "RequestLimitExceeded", times=3)

    summary = handler.run(schedule_event(), FakeContext(), aws.hand_on)

    assert summary["started"] == 40
    assert summary["run_complete"] is True
    assert tokens(listing) == [page_token(p) for p in (1, 2, 2, 2, 2, 3, 4)]
    assert virtual_time.slept[:3] == [1.0, 2.0, 4.0]  # the back-off, in virtual time


def test_a_page_throttled_until_time_runs_out_is_handed_on_with_its_cursor(aws, listing):
    listing.fail(page_token(2), "RequestLimitExceeded", times=None)
    context = FakeContext(seconds=MARGIN_SECONDS + 60)

    first = handler.run(schedule_event(), context, aws.hand_on)

    assert first["started"] == 10
    assert first["handed_on"] is True
    assert first["listing_throttled"] is True
    (event,) = aws.handed_on
    assert event["continuation"]["next_token"] == page_token(2)
    assert event["continuation"]["pending"] == []
    listing.faults.clear()
    aws.handed_on.clear()

    second = handler.run(event, context, aws.hand_on)

    assert second["started"] == 30
    assert second["run_complete"] is True
    assert second["run_totals"]["pages"] == 4
    assert tokens(listing)[0] is None
    assert tokens(listing).count(None) == 1  # page 1 was never read again
    assert len(aws.executions()) == 40


def test_a_refused_cursor_lists_again_once_and_says_so(paced, listing, emf):
    handler.run(schedule_event(), budget(15), paced.hand_on)
    (event,) = paced.handed_on
    paced.handed_on.clear()
    carried = event["continuation"]["next_token"]
    assert carried == page_token(3)
    listing.fail(carried, "InvalidParameterValue")  # EC2 documents no lifetime: expired
    emf()

    summary = handler.run(event, FakeContext(), paced.hand_on)

    assert summary["cursor_restarts"] == 1
    assert summary["run_complete"] is True
    assert tokens(listing)[-5:] == [page_token(3)] + [page_token(p) for p in (1, 2, 3, 4)]
    # Pages 1 and 2 were started by the first hop: read again, nothing started twice.
    assert summary["already_started"] >= 15
    assert summary["started"] + summary["already_started"] == 40 + len(
        event["continuation"]["pending"]
    )
    assert paced.started_ids() == sorted(f"i-{n:017x}" for n in range(40))
    (metrics,) = emf()
    assert metrics["CursorRestarts"] == 1


def test_a_cursor_refused_twice_fails_the_run_loudly(aws, listing):
    listing.fail(None, "InvalidParameterValue", times=None)
    listing.fail(page_token(2), "InvalidParameterValue", times=None)
    event = schedule_event(
        continuation={
            "hop": 1,
            "chain_started_at": "2026-11-23T01:00:01Z",
            "next_token": page_token(2),
        }
    )
    with pytest.raises(handler.DiscoveryError, match="DescribeInstances"):
        handler.run(event, FakeContext(), aws.hand_on)
    (message,) = aws.messages()
    assert message["metric_name"] == "discovery"
    assert "InvalidParameterValue" in message["description"]


def test_a_fleet_that_cannot_be_finished_is_reported_not_dropped(aws, listing, emf):
    listing.fail(page_token(2), "RequestLimitExceeded", times=None)  # never recovers
    context = FakeContext(seconds=MARGIN_SECONDS + 60)

    with pytest.raises(handler.DiscoveryError, match="no progress"):
        aws.drive(schedule_event(), context)

    assert len(aws.executions()) == 10  # the first page
    (message,) = aws.messages()
    assert message["type"] == "BackupFailed"
    assert message["metric_name"] == "discovery"
    assert message["message_key"] == "acb:discovery:nightly"
    assert "cannot finish: no progress" in message["description"]
    assert "10 started so far" in message["description"]
    assert "the instances the listing did not reach" in message["description"]
    info = json.loads(message["additional_info"])
    assert info["listing_done"] == "False"
    assert info["next_token"] == page_token(2)
    assert info["hop"] == "1"
    metrics = emf()
    assert [m["RunIncomplete"] for m in metrics] == [0, 1]
