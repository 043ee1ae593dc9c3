"""Throttling, time running out, failures to start, and failures of the run itself."""

from __future__ import annotations

import json
import threading

import pytest
from moto.core.exceptions import JsonRESTError
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import EC2Backend
from moto.stepfunctions.models import StepFunctionBackend

from discovery import clients, config, continuation, handler, tally
from tests.discovery import fleet
from tests.discovery.support import FakeContext, budget, schedule_event

TAG = "AppConsistentBackup"


class Fault:
    """Make moto's own backend answer chosen calls with an AWS error.

    The fault sits in the emulator, behind botocore: the client sees an HTTP error
    response, and botocore's retry mode retries it as it would on AWS.
    (A botocore before-send hook cannot do this under moto: botocore calls every
    before-send handler, so moto would still carry out the request.)
    """

    def __init__(self, monkeypatch, backend_class, method, error, *, times=None, when=None):
        self.injected = 0
        self.calls = 0
        self.active = True
        lock = threading.Lock()
        original = getattr(backend_class, method)

        def faulty(backend, *args, **kwargs):
            with lock:
                self.calls += 1
                inject = (
                    self.active
                    and (times is None or self.injected < times)
                    and (when is None or when(*args, **kwargs))
                )
                if inject:
                    self.injected += 1
            if inject:
                raise error()
            return original(backend, *args, **kwargs)

        monkeypatch.setattr(backend_class, method, faulty)


def sfn_error(code, message="injected"):
    return lambda: JsonRESTError(code, message)


def starting(instance_ids):
    """A `when` for StartExecution: the execution name names one of these instances."""
    return lambda _arn, name, _input: any(i in name for i in instance_ids)


def test_throttling_loses_no_instance(aws, monkeypatch):
    ids = fleet.make(80, {TAG: "nightly"}, per_reservation=40)
    # 160 throttles: more than botocore's retry quota absorbs (it stops retrying after
    # ~100 throttled retries), so the handler's own wait-and-retry is exercised too.
    fault = Fault(
        monkeypatch,
        StepFunctionBackend,
        "start_execution",
        sfn_error("ThrottlingException", "Rate exceeded"),
        times=160,
    )

    # The tests' virtual clock adds up back-offs that really overlap in the pool's
    # threads: give the invocation time enough that they cannot reach its deadline.
    summary = handler.run(schedule_event(), FakeContext(seconds=100_000), aws.hand_on)

    assert fault.injected == 160
    assert aws.clock.slept  # botocore's back-off and the handler's waited, in virtual time
    assert aws.started_ids() == sorted(ids)
    assert summary["started"] == 80
    assert summary["failed"] == summary["deferred"] == 0
    assert aws.notifications() == []


def test_time_running_out_hands_the_rest_on_and_continuations_finish(paced):
    ids = fleet.make(130, {TAG: "nightly"}, per_reservation=30)
    skipped = fleet.make(7, {TAG: "nightly"}, state="pending")

    summaries = paced.drive(schedule_event(), budget(40))

    assert len(summaries) >= 4  # 137 instances, about 40 starts per invocation
    assert paced.started_ids() == sorted(ids)  # every one, exactly once
    assert sum(s["started"] for s in summaries) == 130
    assert all(not s["run_complete"] and s["handed_on"] for s in summaries[:-1])
    final = summaries[-1]
    assert final["run_complete"] is True
    assert final["hop"] == len(summaries) - 1
    totals = final["run_totals"]
    assert totals["discovered"] == totals["fleet_size"] == totals["listed"] == 137
    assert totals["started"] == 130
    assert totals["already_started"] == totals["failed"] == totals["cursor_restarts"] == 0
    assert totals["skipped"] == {"state_pending": len(skipped)}
    assert totals["pages"] == 1  # moto's default page: every hop after the first resumed


def test_a_replayed_continuation_starts_nothing_new(paced):
    fleet.make(50, {TAG: "nightly"})
    handler.run(schedule_event(), budget(20), paced.hand_on)
    (event,) = paced.handed_on
    first = handler.run(event, FakeContext(), paced.hand_on)
    again = handler.run(event, FakeContext(), paced.hand_on)  # Lambda retries an async event

    assert first["started"] + 20 <= 50 < first["started"] + 20 + 17  # the pool's queue
    assert again["started"] == 0
    assert again["already_started"] == first["started"]
    assert len(paced.executions()) == 50


def test_still_throttled_when_time_runs_out_is_deferred_not_lost(paced, monkeypatch):
    monkeypatch.setenv("MAX_CONCURRENCY", "1")
    config.load.cache_clear()
    ids = fleet.make(12, {TAG: "nightly"})
    victim = ids[3]
    fault = Fault(
        monkeypatch,
        StepFunctionBackend,
        "start_execution",
        sfn_error("ThrottlingException", "Rate exceeded"),
        when=starting([victim]),
    )

    first = handler.run(schedule_event(), budget(60), paced.hand_on)

    # The victim's back-off used the invocation's time (the one worker waited on it):
    # it is deferred, and what was not offered yet is handed on beside it.
    assert first["deferred"] == 1
    assert first["handed_on"] is True
    (event,) = paced.handed_on
    pending = event["continuation"]["pending"]
    assert [victim, "linux", "running", fleet.ACCOUNT] in pending
    assert first["started"] + len(pending) == 12
    assert event["continuation"]["listing_done"] is True
    fault.active = False
    paced.handed_on.clear()

    second = handler.run(event, FakeContext(), paced.hand_on)

    assert second["started"] == len(pending)
    assert second["pages"] == 0  # nothing listed again
    assert second["run_totals"]["started"] == 12
    assert second["run_totals"]["discovered"] == 12
    assert paced.started_ids() == sorted(ids)


def test_instances_that_cannot_be_started_are_notified_in_the_itsm_format(aws, monkeypatch):
    ids = fleet.make(5, {TAG: "nightly"})
    Fault(
        monkeypatch,
        StepFunctionBackend,
        "start_execution",
        sfn_error("InvalidExecutionInput"),
        when=starting(ids[:2]),
    )

    summary = handler.run(schedule_event(), FakeContext(), aws.hand_on)

    assert summary["failed"] == 2
    assert summary["started"] == 3
    assert summary["failed_by_code"] == {"InvalidExecutionInput": 2}
    notes = aws.notifications()
    assert len(notes) == 2
    note = next(n for n in notes if ids[0] in n["subject"])
    assert note["subject"] == f"[Major] app-consistent-backup failed {ids[0]}"
    message = json.loads(note["message"])
    assert message["source"] == "app-consistent-backup"
    assert message["event_class"] == "acb"
    assert message["node"] == ids[0]
    assert message["resource"] == f"arn:aws:ec2:eu-west-1:{fleet.ACCOUNT}:instance/{ids[0]}"
    assert message["type"] == "BackupFailed"
    assert message["metric_name"] == "start-execution"
    assert message["message_key"] == f"acb:{ids[0]}"
    assert message["severity"] == "2"
    assert message["resolution_state"] == "New"
    assert len(message["time_of_event"]) == 19
    assert message["time_of_event"][10] == " "
    info = json.loads(message["additional_info"])
    assert all(isinstance(v, str) for v in info.values())
    assert info["run_id"] == f"nightly-{ids[0]}-20261123T010000Z"
    assert info["stage"] == "start-execution"
    assert info["error_code"] == "InvalidExecutionInput"
    attributes = {k: v["Value"] for k, v in note["attributes"].items()}
    assert attributes == {
        "severity": "2",
        "stage": "start-execution",
        "outcome": "failed",
        "instance_id": ids[0],
    }


def test_a_fatal_error_stops_the_calls_and_caps_the_notifications(aws, monkeypatch, emf):
    ids = fleet.make(10, {TAG: "nightly"})
    monkeypatch.setenv("MAX_CONCURRENCY", "1")
    config.load.cache_clear()
    monkeypatch.setattr(tally, "MAX_KEPT", 3)
    aws.sfn.delete_state_machine(stateMachineArn=aws.state_machine_arn)
    calls = []
    clients.get("stepfunctions").meta.events.register(
        "before-call.states.StartExecution", lambda **kw: calls.append(1)
    )

    with pytest.raises(handler.DiscoveryError, match="StateMachineDoesNotExist"):
        handler.run(schedule_event(), FakeContext(), aws.hand_on)

    assert len(calls) < len(ids)  # stopped calling once the error proved fatal
    notes = aws.messages()
    assert len(notes) == 5  # three instances, one message with the count, the run stopped
    aggregate, stopped = notes[3], notes[4]
    assert aggregate["metric_name"] == "discovery"
    assert "7 more instances" in aggregate["description"]
    assert json.loads(aggregate["additional_info"])["failed_by_code"] == (
        '{"StateMachineDoesNotExist": 10}'
    )
    assert "cannot finish" in stopped["description"]
    (metrics,) = emf()
    assert metrics["Failed"] == len(ids)
    assert metrics["RunIncomplete"] == 1


def test_discovery_failure_is_notified_and_raised(aws, monkeypatch):
    fleet.make(2, {TAG: "nightly"})
    Fault(
        monkeypatch,
        EC2Backend,
        "describe_instances",
        lambda: EC2ClientError("UnauthorizedOperation", "You are not authorized"),
    )

    with pytest.raises(handler.DiscoveryError, match="DescribeInstances"):
        handler.run(schedule_event(), FakeContext(), aws.hand_on)

    (note,) = aws.notifications()
    message = json.loads(note["message"])
    assert message["metric_name"] == "discovery"
    assert message["node"] == "schedule/nightly"
    assert message["message_key"] == "acb:discovery:nightly"
    assert aws.executions() == []


def test_a_continuation_that_cannot_be_handed_on_is_notified_and_raised(paced, emf):
    fleet.make(30, {TAG: "nightly"})

    def broken(_arn, _event):
        raise continuation.HandOnError("asynchronous self-invocation answered 500")

    with pytest.raises(handler.DiscoveryError, match="could not be handed on"):
        handler.run(schedule_event(), budget(10), broken)

    (message,) = paced.messages()
    assert message["metric_name"] == "discovery"
    assert message["type"] == "BackupFailed"
    info = json.loads(message["additional_info"])
    not_started = int(info["not_started"])
    assert 30 - 10 - 17 <= not_started <= 20  # the rest of the page (the pool's queue aside)
    assert f"{not_started} read but not started" in message["description"]
    (metrics,) = emf()
    assert metrics["RunIncomplete"] == 1
    assert metrics["NotStarted"] == not_started


def test_more_to_hand_on_than_a_continuation_carries_is_reported(paced, monkeypatch):
    monkeypatch.setattr(handler.events, "MAX_PENDING", 10)
    fleet.make(30, {TAG: "nightly"})  # one moto page
    with pytest.raises(handler.DiscoveryError, match="more than a continuation carries"):
        handler.run(schedule_event(), budget(5), paced.hand_on)
    assert paced.handed_on == []
    (message,) = paced.messages()
    assert "cannot finish" in message["description"]


def test_no_progress_is_an_error_not_a_loop(aws):
    fleet.make(3, {TAG: "nightly"})
    with pytest.raises(handler.DiscoveryError, match="no progress"):
        handler.run(schedule_event(), FakeContext(0), aws.hand_on)
    assert aws.handed_on == []
    assert len(aws.notifications()) == 1


def test_too_many_hand_ons_stop_the_run(aws):
    fleet.make(1, {TAG: "nightly"})
    event = schedule_event(
        continuation={
            "hop": continuation.MAX_HOPS + 1,
            "chain_started_at": "2026-11-23T01:00:05Z",
            "next_token": "opaque",
        }
    )
    with pytest.raises(handler.DiscoveryError, match="hand-ons"):
        handler.run(event, FakeContext(), aws.hand_on)
    assert aws.executions() == []
    (message,) = aws.messages()
    assert "cannot finish" in message["description"]


def test_an_unexpected_error_fails_one_instance_not_the_run(aws):
    ids = fleet.make(3, {TAG: "nightly"})
    real = clients.get("stepfunctions").start_execution

    def flaky(**kwargs):
        if ids[0] in kwargs["name"]:
            raise RuntimeError("surprise")
        return real(**kwargs)

    sfn = clients.get("stepfunctions")
    original = sfn.start_execution
    sfn.start_execution = flaky
    try:
        summary = handler.run(schedule_event(), FakeContext(), aws.hand_on)
    finally:
        sfn.start_execution = original

    assert summary["failed_by_code"] == {"RuntimeError": 1}
    assert summary["started"] == 2
    (note,) = aws.notifications()
    assert ids[0] in note["subject"]
