"""Instances that carry the selection tag key with a value no schedule selects."""

from __future__ import annotations

import json

import pytest

from discovery import clients, config, handler, selection, tally
from tests.discovery import fleet
from tests.discovery.support import FakeContext, schedule_event

TAG = "AppConsistentBackup"
OPT_OUT = "AppConsistentBackupOptOut"


@pytest.fixture
def schedules(aws, monkeypatch):
    """Two schedules; nightly reports what no schedule selects."""
    monkeypatch.setenv("SCHEDULE_TAG_VALUES", json.dumps({"nightly": "nightly", "weekly": "gold"}))
    monkeypatch.setenv("NOT_SELECTED_REPORTER", "nightly")
    config.load.cache_clear()
    return aws


@pytest.fixture
def tagged(schedules):
    return schedules, {
        "nightly": fleet.make(3, {TAG: "nightly"}),
        "gold": fleet.make(2, {TAG: "gold"}),
        "case": fleet.make(1, {TAG: "Nightly"}),
        "space": fleet.make(1, {TAG: "nightly "}),
        "both": fleet.make(1, {TAG: " GOLD"}),
        "typo": fleet.make(1, {TAG: "nigthly"}),
        "empty": fleet.make(1, {TAG: ""}),
        "opted_out": fleet.make(1, {TAG: "Nightly", OPT_OUT: "true"}),
        "terminated": fleet.make(1, {TAG: "Nightly"}, state="terminated"),
        "untagged": fleet.make(2, {"Other": "nightly"}),
    }


def listing_filters():
    seen = []
    clients.get("ec2").meta.events.register(
        "before-parameter-build.ec2.DescribeInstances",
        lambda **kwargs: seen.append(kwargs["params"]["Filters"]),
    )
    return seen


def test_the_reporter_reports_each_unselected_instance_with_the_closest_schedule(tagged, emf):
    env, tagged = tagged
    filters = listing_filters()

    summary = handler.run(schedule_event(), FakeContext(), env.hand_on)

    assert filters == [[{"Name": "tag-key", "Values": [TAG]}]]  # one listing, by key
    assert env.started_ids() == sorted(tagged["nightly"])  # its own, and only those
    assert summary["started"] == 3
    assert summary["other_schedules"] == 2  # gold: weekly's, not reported
    assert summary["not_selected"] == 5
    by_instance = {m["node"]: m for m in env.messages()}
    assert len(by_instance) == 5
    expected = {
        tagged["case"][0]: ("Nightly", "nightly", "letter case"),
        tagged["space"][0]: ("nightly ", "nightly", "surrounding spaces"),
        tagged["both"][0]: (" GOLD", "weekly", "letter case and surrounding spaces"),
        tagged["typo"][0]: ("nigthly", "nightly", "2 edits"),
        tagged["empty"][0]: ("", "weekly", "empty value"),  # fewest edits: "gold"
    }
    for instance_id, (value, schedule, difference) in expected.items():
        message = by_instance[instance_id]
        info = json.loads(message["additional_info"])
        assert message["type"] == "BackupNotSelected"
        assert message["metric_name"] == "discovery"
        assert message["severity"] == "3"
        assert message["message_key"] == f"acb:not-selected:{instance_id}"
        assert message["resource"].endswith(f":instance/{instance_id}")
        assert (info["tag_value"], info["closest_schedule"], info["difference"]) == (
            value,
            schedule,
            difference,
        )
        assert info["closest_tag_value"] == {"nightly": "nightly", "weekly": "gold"}[schedule]
        assert f"closest: schedule {schedule}" in message["description"].lower()
    attributes = {
        n["attributes"]["instance_id"]["Value"]: n["attributes"] for n in env.notifications()
    }
    assert attributes[tagged["case"][0]]["outcome"]["Value"] == "not-selected"
    assert attributes[tagged["case"][0]]["stage"]["Value"] == "discovery"
    (metrics,) = emf()
    assert metrics["NotSelected"] == 5


def test_other_schedules_list_their_own_value_and_report_nothing(tagged):
    env, _ = tagged
    filters = listing_filters()

    summary = handler.run(
        schedule_event(schedule_name="weekly", tag_value="gold"), FakeContext(), env.hand_on
    )

    assert filters == [[{"Name": f"tag:{TAG}", "Values": ["gold"]}]]
    assert summary["started"] == 2
    assert summary["not_selected"] == 0
    assert env.messages() == []


def test_a_dry_run_of_the_reporter_lists_them_without_notifying(tagged):
    env, tagged = tagged
    result = handler.run(schedule_event(dry_run=True), FakeContext(), env.hand_on)
    assert {n["instance_id"] for n in result["not_selected_instances"]} == {
        tagged[k][0] for k in ("case", "space", "both", "typo", "empty")
    }
    assert env.messages() == []
    assert env.executions() == []


def test_without_a_reporter_nothing_is_reported(aws):
    fleet.make(1, {TAG: "nightly"})
    fleet.make(1, {TAG: "Nightly"})
    summary = handler.run(schedule_event(), FakeContext(), aws.hand_on)
    assert summary["not_selected"] == 0
    assert summary["started"] == 1
    assert aws.messages() == []


def test_past_the_cap_one_message_carries_the_count(schedules, monkeypatch):
    monkeypatch.setattr(tally, "MAX_KEPT", 2)
    fleet.make(5, {TAG: "Nightly"})

    summary = handler.run(schedule_event(), FakeContext(), schedules.hand_on)

    assert summary["not_selected"] == 5
    messages = schedules.messages()
    assert len(messages) == 3
    aggregate = messages[-1]
    assert aggregate["node"] == "schedule/nightly"
    assert aggregate["type"] == "BackupNotSelected"
    assert "3 more instances" in aggregate["description"]


@pytest.mark.parametrize(
    ("value", "closest", "difference"),
    [
        ("NIGHTLY", "nightly", "letter case"),
        ("nightly\t", "nightly", "surrounding spaces"),
        ("nightl", "nightly", "1 edit"),
        ("gold-tier", "weekly", "5 edits"),
        ("Gold ", "weekly", "letter case and surrounding spaces"),
    ],
)
def test_the_closest_schedule(value, closest, difference):
    found = selection._closest(value, (("nightly", "nightly"), ("weekly", "gold")))
    assert (found.schedule_name, found.difference) == (closest, difference)
