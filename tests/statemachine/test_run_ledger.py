"""The run ledger end to end (docs/contracts.md 5b): the real discovery handler starts the
real state machine's executions in the emulated account, the executions count their
outcomes in the ledger and queue the summary request (asynchronous Lambda invocations,
``emulator.lambda_async``), the same handler publishes the summary. What the operator
hears is read back from the topic."""

from __future__ import annotations

from collections import Counter

import emulator
from emulator.statemachine import RUN_LEDGER, World
from tests.statemachine import schedule_run as sr
from tests.statemachine.schedule_run import FIRST, SECOND


def _types(events: list[dict]) -> Counter:
    return Counter(e["type"] for e in events)


def test_a_mass_failure_is_one_own_event_one_storm_and_one_summary(world: World) -> None:
    instances = [world.instance() for _ in range(6)]
    emulator.faults.inject("backup", "StartBackupJob", "AccessDeniedException", times=1000)
    with sr.discovery_for(world, storm_threshold=1):
        started = sr.discover()
        assert started["started"] == len(instances)
        executions = sr.wait_all(world)
        assert len(executions) == len(instances)
        asked = sr.summarize_requested()
        events = sr.events()

        # One own message (the threshold), one storm, one summary: 3, not one per instance.
        assert len(events) == 3, _types(events)
        assert _types(events) == Counter(
            {"BackupFailed": 1, "BackupStorm": 1, "BackupRunSummary": 1}
        )
        storm = next(e for e in events if e["type"] == "BackupStorm")
        code = sr.info(storm)["reason_code"]
        # The error's name is what Step Functions makes of the service's answer.
        assert code.startswith("backup-job/start-failed/Backup.")
        assert storm["message_key"] == f"acb:storm:nightly:{code}"
        assert storm["node"] == "schedule/nightly"
        assert sr.info(storm)["count"] == "2"  # the threshold's own, then the storm's

        summary = next(e for e in events if e["type"] == "BackupRunSummary")
        details = sr.info(summary)
        assert summary["message_key"] == "acb:run-summary:nightly"
        assert (summary["severity"], details["status"]) == ("5", "complete")
        assert details["failed"] == str(len(instances))
        assert details["expected"] == details["finished"] == str(len(instances))
        assert details["storms"] == f"{code}={len(instances)}"
        assert set(details["storm_instances"].split(": ", 1)[1].split(", ")) == set(instances)
        assert [a for a in asked if a.get("published")], asked

        # Exactly once: a re-delivered request, a scheduler retry of the run and the
        # requests still queued publish nothing more.
        again = sr.handler.run(
            {"run_summary": {"schedule_name": "nightly", "scheduled_time": FIRST}}, sr.context()
        )
        assert (again["published"], again["why"]) == (False, "published already")
        sr.discover()
        sr.summarize_requested()
        assert len(sr.events()) == 3
    item = world.ledger_item("run/nightly/20261123T010000Z")
    assert item is not None
    assert item["summary"]["S"] == "complete"
    assert item[f"group_count:{code}"]["N"] == str(len(instances))


def test_a_run_whose_executions_never_report_is_summarised_incomplete_by_the_next(
    world: World,
) -> None:
    """Silence heard: the executions' records are refused (as if they died before their
    end), so the run never completes its count; the schedule's next run publishes its
    summary, marked incomplete, and its own when complete."""
    instances = [world.instance() for _ in range(2)]
    refused = emulator.faults.inject(
        "dynamodb",
        "UpdateItem",
        "AccessDeniedException",
        times=1000,
        when=lambda param: (
            param("TableName") == RUN_LEDGER
            and str(param("UpdateExpression", "")).startswith("ADD finished")
        ),
    )
    with sr.discovery_for(world):
        sr.discover(FIRST)
        sr.wait_all(world)
        assert sr.summarize_requested() == []  # nobody completed the count
        assert refused.hits == len(instances)
        assert [e["type"] for e in sr.events()] == []  # successes: nothing to say yet
        emulator.faults.clear("dynamodb")

        sr.discover(SECOND)
        overdue = [e for e in sr.events() if e["type"] == "BackupRunSummary"]
        assert len(overdue) == 1
        details = sr.info(overdue[0])
        assert details["scheduled_time"] == FIRST
        assert (details["status"], details["published_by"]) == ("incomplete", "next-run")
        assert (details["expected"], details["finished"]) == ("2", "0")
        assert (overdue[0]["severity"], overdue[0]["resolution_state"]) == ("3", "New")

        sr.wait_all(world)
        sr.summarize_requested()
        summaries = [sr.info(e) for e in sr.events() if e["type"] == "BackupRunSummary"]
        assert [(s["scheduled_time"], s["status"]) for s in summaries] == [
            (FIRST, "incomplete"),
            (SECOND, "complete"),
        ]
        assert summaries[1]["succeeded"] == "2"


def test_executions_past_the_member_list_cap_still_count_and_end_as_their_outcome(
    world: World,
) -> None:
    """The ledger as the run's first 50 failures for one reason left it (a full member
    list): the next executions failing for that reason are refused the append, record
    again without it (the Catch re-enters RecordRunOutcome), are counted, and end as the
    failure they are, folded into the storm."""
    instances = [world.instance() for _ in range(3)]
    emulator.faults.inject("backup", "StartBackupJob", "AccessDeniedException", times=1000)
    code = "backup-job/start-failed/Backup.BackupException"
    earlier = [f"i-{n:017x}" for n in range(50)]
    world.ddb.put_item(
        TableName=RUN_LEDGER,
        Item={
            "ledger_key": {"S": "run/nightly/20261123T010000Z"},
            "finished": {"N": "50"},
            "outcome:failed": {"N": "50"},
            "consistency:none": {"N": "50"},
            f"group_count:{code}": {"N": "50"},
            f"group_members:{code}": {"L": [{"S": i} for i in earlier]},
            f"group_info:{code}": {
                "M": {
                    "stage": {"S": "backup-job"},
                    "type": {"S": "BackupFailed"},
                    "severity": {"S": "2"},
                    "outcome": {"S": "failed"},
                    "reason": {"S": "StartBackupJob failed"},
                    "first": {"S": earlier[0]},
                }
            },
        },
    )
    with sr.discovery_for(world, storm_threshold=1):
        sr.discover()
        executions = sr.wait_all(world)
        assert len(executions) == len(instances)
        for execution in executions:
            arn = execution["executionArn"]
            described = world.sfn.describe_execution(executionArn=arn)
            assert (described["status"], described.get("error")) == ("FAILED", "BackupFailed")
            recorded = [
                e
                for e in world.history(arn)
                if e.get("stateEnteredEventDetails", {}).get("name") == "RecordRunOutcome"
            ]
            assert len(recorded) == 2  # refused the append, then recorded without it
        # Past the threshold's own message and the storm (the first 50 sent them): nothing
        # of their own. (The summary is not examined: the seeded ledger has no discovery
        # record of those 50, so this run's discovery finds the count complete at once.)
        assert [e["type"] for e in sr.events() if e["type"] != "BackupRunSummary"] == []
    item = world.ledger_item("run/nightly/20261123T010000Z")
    assert item is not None
    assert item[f"group_count:{code}"]["N"] == "53"
    assert item["finished"]["N"] == "53"
    assert [m["S"] for m in item[f"group_members:{code}"]["L"]] == earlier
