"""The handler against moto: a mixed fleet over many pages, replays, dry runs, exact tag
matching, and starts that begin before the listing ends."""

from __future__ import annotations

import json

import pytest

from discovery import clients, handler, inventory
from tests.discovery import fleet
from tests.discovery.support import FakeContext, schedule_event

TAG = "AppConsistentBackup"
OPT_OUT = "AppConsistentBackupOptOut"


@pytest.fixture
def mixed_fleet(aws, monkeypatch):
    """About 100 selected instances in 25 reservations and 5 pages, and others that
    must not be."""
    monkeypatch.setattr(inventory, "PAGE_SIZE", 5)  # moto pages by reservation
    selected = {TAG: "nightly"}
    groups = {
        "linux": fleet.make(40, selected, per_reservation=10)
        + fleet.make(8, selected, per_reservation=1),
        "windows": fleet.make(12, selected, windows=True, per_reservation=6),
        "stopped": fleet.make(16, selected, state="stopped", per_reservation=8),
        "pending": fleet.make(5, selected, state="pending"),
        "terminated": fleet.make(6, selected, state="terminated"),
        "opted_out": fleet.make(8, {**selected, OPT_OUT: "True"}, per_reservation=4),
        "opt_out_false": fleet.make(3, {**selected, OPT_OUT: "false"}),
        # Not selected: another value, a case variant, a prefix, another key, no tag.
        "other": fleet.make(10, {TAG: "weekly"})
        + fleet.make(5, {TAG: "Nightly"})
        + fleet.make(5, {TAG: "nightly-extra"})
        + fleet.make(5, {"Backup": "nightly"})
        + fleet.make(5, {}),
    }
    return aws, groups


def test_every_tagged_instance_gets_one_execution_and_a_replay_starts_nothing(mixed_fleet):
    env, groups = mixed_fleet
    eligible = set(
        groups["linux"] + groups["windows"] + groups["stopped"] + groups["opt_out_false"]
    )
    assert len(eligible) > 75

    pages = []
    clients.get("ec2").meta.events.register(
        "before-parameter-build.ec2.DescribeInstances",
        lambda **kwargs: pages.append(dict(kwargs["params"])),
    )

    summary = handler.run(schedule_event(), FakeContext(), env.hand_on)

    assert len(pages) >= 5  # several pages, each asked for once, with the tag filter
    assert all(p["Filters"] == [{"Name": f"tag:{TAG}", "Values": ["nightly"]}] for p in pages)
    assert "NextToken" not in pages[0]
    assert all("NextToken" in p for p in pages[1:])
    assert summary["pages"] == len(pages)
    inputs = env.execution_inputs()
    assert {i["instance_id"] for i in inputs.values()} == eligible
    windows_ids = {i["instance_id"] for i in inputs.values() if i["platform"] == "windows"}
    assert windows_ids == set(groups["windows"])
    assert len(inputs) == len(eligible)  # one each
    assert summary["started"] == len(eligible)
    assert summary["already_started"] == 0
    assert summary["failed"] == 0
    assert summary["skipped"] == {
        "opted_out": 8,
        "state_pending": 5,
        "state_terminated": 6,
    }
    assert summary["fleet_size"] == summary["discovered"] == len(eligible) + 19
    assert summary["run_complete"] is True
    assert summary["handed_on"] is False
    assert env.handed_on == []
    assert env.notifications() == []

    # Names and inputs follow docs/contracts.md section 2.
    linux, windows, stopped = groups["linux"][0], groups["windows"][0], groups["stopped"][0]
    name = f"nightly-{linux}-20261123T010000Z"
    assert inputs[name] == {
        "instance_id": linux,
        "instance_arn": f"arn:aws:ec2:eu-west-1:{fleet.ACCOUNT}:instance/{linux}",
        "platform": "linux",
        "instance_state": "running",
        "run_id": name,
        "schedule_name": "nightly",
        "scheduled_time": "2026-11-23T01:00:00Z",
        "scheduled_epoch": 1795395600,
        "policy": schedule_event()["policy"],
    }
    assert inputs[f"nightly-{windows}-20261123T010000Z"]["platform"] == "windows"
    stopped_input = inputs[f"nightly-{stopped}-20261123T010000Z"]
    assert stopped_input["instance_state"] == "stopped"
    assert stopped_input["platform"] == "linux"
    assert all(len(n) <= 80 for n in inputs)

    # Replaying the same event (a scheduler retry, a manual re-run) starts nothing new.
    again = handler.run(schedule_event(), FakeContext(), env.hand_on)
    assert again["started"] == 0
    assert again["already_started"] == len(eligible)
    assert len(env.execution_inputs()) == len(eligible)


def test_stopped_instances_skipped_by_policy(aws):
    running = fleet.make(3, {TAG: "nightly"})
    stopped = fleet.make(4, {TAG: "nightly"}, state="stopped")
    event = schedule_event()
    event["policy"]["stopped_instances"] = "skip"

    summary = handler.run(event, FakeContext(), aws.hand_on)

    started = {i["instance_id"] for i in aws.execution_inputs().values()}
    assert started == set(running)
    assert summary["skipped"] == {"stopped_by_policy": len(stopped)}


def test_tag_value_matches_exactly_wildcards_included(aws):
    literal = fleet.make(2, {TAG: "db*"})
    fleet.make(2, {TAG: "db-1"})
    fleet.make(2, {TAG: "dbx"})
    question = fleet.make(1, {TAG: "a?c"})
    fleet.make(1, {TAG: "abc"})

    summary = handler.run(schedule_event(tag_value="db*"), FakeContext(), aws.hand_on)
    assert summary["started"] == 2
    assert {i["instance_id"] for i in aws.execution_inputs().values()} == set(literal)

    handler.run(schedule_event(tag_value="a?c", schedule_name="other"), FakeContext(), aws.hand_on)
    other = {
        i["instance_id"] for i in aws.execution_inputs().values() if i["schedule_name"] == "other"
    }
    assert other == set(question)


def test_policy_defaults_are_filled_in_the_execution_input(aws):
    fleet.make(1, {TAG: "nightly"})
    event = schedule_event()
    event["policy"] = {"retention_days": 7}
    handler.run(event, FakeContext(), aws.hand_on)
    (document,) = aws.execution_inputs().values()
    assert document["policy"] == {
        "retention_days": 7,
        "max_freeze_seconds": 60,
        "on_freeze_failure": "crash-consistent",
        "stopped_instances": "backup",
        "copy_targets": [],
        "notify_on_success": False,
    }


def test_dry_run_lists_and_starts_nothing(aws, caplog):
    running = fleet.make(3, {TAG: "nightly"})
    opted = fleet.make(2, {TAG: "nightly", OPT_OUT: "true"})
    caplog.set_level("INFO")

    result = handler.run(schedule_event(dry_run=True), FakeContext(), aws.hand_on)

    assert aws.executions() == []
    assert result["status"] == "dry_run"
    assert result["would_start"] == 3
    assert sorted(i["instance_id"] for i in result["instances"]) == sorted(running)
    assert result["instances"][0]["execution_name"].startswith("nightly-i-")
    assert {k: sorted(v) for k, v in result["skipped_instances"].items()} == {
        "opted_out": sorted(opted)
    }
    assert result["started"] == 0
    logged = [r for r in caplog.records if r.getMessage().startswith("dry run")]
    assert any(getattr(r, "reason", None) == "opted_out" for r in logged)


def test_summary_is_one_log_line_and_metrics_are_emf(aws, caplog, emf):
    fleet.make(2, {TAG: "nightly"})
    fleet.make(1, {TAG: "nightly", OPT_OUT: "true"})
    caplog.set_level("INFO")

    handler.run(schedule_event(), FakeContext(), aws.hand_on)

    (record,) = [r for r in caplog.records if r.getMessage() == "discovery run summary"]
    summary = record.summary
    json.dumps(summary)  # serializable as the runtime's JSON formatter needs
    assert summary["started"] == 2
    assert summary["skipped"] == {"opted_out": 1}
    (metrics,) = emf()
    directive = metrics["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "AppConsistentBackup/Discovery"
    assert directive["Dimensions"] == [["NamePrefix", "ScheduleName"]]
    names = {m["Name"] for m in directive["Metrics"]}
    assert names == {
        "Discovered",
        "Started",
        "AlreadyStarted",
        "Skipped",
        "Failed",
        "Deferred",
        "NotSelected",
        "RunIncomplete",
        "NotStarted",
        "CursorRestarts",
        "Overran",
    }
    assert metrics["RunIncomplete"] == metrics["NotStarted"] == metrics["CursorRestarts"] == 0
    assert metrics["Overran"] == 0  # no interval_seconds: not checked
    assert metrics["Started"] == 2
    assert metrics["Skipped"] == 1
    assert metrics["ScheduleName"] == "nightly"
    assert metrics["NamePrefix"] == "acb"


def test_execution_already_exists_counts_as_already_started(aws):
    ids = fleet.make(4, {TAG: "nightly"})
    handler.run(schedule_event(), FakeContext(), aws.hand_on)
    # Once an execution has ended, a same-named start answers ExecutionAlreadyExists
    # (AWS and moto alike); while it runs with identical input, both return it.
    for execution in aws.executions():
        aws.sfn.stop_execution(executionArn=execution["executionArn"])

    summary = handler.run(schedule_event(), FakeContext(), aws.hand_on)

    assert summary["already_started"] == len(ids)
    assert summary["started"] == 0
    assert summary["failed"] == 0
    assert aws.notifications() == []


def test_a_changed_policy_for_the_same_run_starts_nothing_twice(aws):
    fleet.make(3, {TAG: "nightly"})
    handler.run(schedule_event(), FakeContext(), aws.hand_on)
    event = schedule_event()
    event["policy"]["retention_days"] = 90  # different input, same execution name

    summary = handler.run(event, FakeContext(), aws.hand_on)

    assert summary["already_started"] == 3
    assert len(aws.executions()) == 3


def test_starts_begin_before_the_listing_ends(aws, monkeypatch):
    monkeypatch.setattr(inventory, "PAGE_SIZE", 2)  # two reservations of 20 a page
    ids = fleet.make(120, {TAG: "nightly"}, per_reservation=20)
    calls = []
    for service, operation in (("ec2", "DescribeInstances"), ("stepfunctions", "StartExecution")):
        clients.get(service).meta.events.register(
            f"before-call.*.{operation}", lambda model, **_: calls.append(model.name)
        )

    summary = handler.run(schedule_event(), FakeContext(), aws.hand_on)

    listings = [i for i, name in enumerate(calls) if name == "DescribeInstances"]
    assert len(listings) == 3  # 120 instances, 40 a page: each page read once
    first_start = calls.index("StartExecution")
    assert first_start < listings[1]  # the first page's starts did not wait for the rest
    # Each page is offered before the next one is asked for: at most the pool's queue
    # (2 x MAX_CONCURRENCY) of a page is still waiting when its successor is read.
    for page, position in enumerate(listings[1:], start=1):
        assert calls[:position].count("StartExecution") >= page * 40 - 16
    assert summary["started"] == len(ids)
