"""moto's interpreter on the scheduler: Map, Parallel, Wait and Retry in virtual time, at once."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterator

import pytest

import emulator
from emulator import scheduler as S
from emulator.statemachine import ACCOUNT, World, emulated_aws

pytestmark = pytest.mark.usefixtures("fleet_hooks")
START = _dt.datetime(2026, 11, 23, 1, tzinfo=_dt.UTC)

DEFINITION = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "EachItem",
                    "States": {
                        "EachItem": {
                            "Type": "Map",
                            "ItemsPath": "$.waits",
                            "MaxConcurrency": 2,
                            "Iterator": {
                                "StartAt": "Pause",
                                "States": {
                                    "Pause": {"Type": "Wait", "SecondsPath": "$", "End": True}
                                },
                            },
                            "End": True,
                        }
                    },
                },
                {
                    "StartAt": "LongPause",
                    "States": {"LongPause": {"Type": "Wait", "Seconds": 3600, "End": True}},
                },
            ],
            "ResultPath": "$.fan",
            "Next": "Fail once",
        },
        "Fail once": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:backup:describeBackupJob",
            "Parameters": {"BackupJobId": "does-not-exist"},
            "Retry": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "IntervalSeconds": 10,
                    "MaxAttempts": 2,
                    "BackoffRate": 3,
                }
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Done"}],
            "End": True,
        },
        "Done": {"Type": "Succeed"},
    },
}


@pytest.fixture(scope="module")
def world(fleet_hooks: None) -> Iterator[World]:
    with emulated_aws() as shared:
        yield shared


def test_many_executions_with_map_and_parallel_run_at_once_in_virtual_time(world: World) -> None:
    arn = world.sfn.create_state_machine(
        name="concurrent",
        definition=json.dumps(DEFINITION),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/x",
    )["stateMachineArn"]
    scheduler = S.Scheduler(START, stall_seconds=120)
    emulator.clock.attach(scheduler)
    try:
        with scheduler.driving():
            executions = [
                world.sfn.start_execution(
                    stateMachineArn=arn,
                    name=f"run-{n}",
                    input=json.dumps({"waits": [60 * n, 30, 90, 45]}),
                )["executionArn"]
                for n in range(1, 6)
            ]
        ended = scheduler.now()
    finally:
        emulator.clock.detach()
    described = [world.sfn.describe_execution(executionArn=a) for a in executions]
    assert {d["status"] for d in described} == {"SUCCEEDED"}
    # Everything ran at once: the slowest branch (an hour) plus the retries (10 s, then
    # 30 s), not the sum of every execution's waits (hours more).
    assert 3600 + 40 <= ended < 3600 + 40 + 60
    durations = {(d["stopDate"] - d["startDate"]).total_seconds() // 1 for d in described}
    assert durations == {3640.0}
    output = json.loads(described[0]["output"])
    assert output["error"]["Error"] == "Backup.ResourceNotFoundException"
