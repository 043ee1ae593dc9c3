"""A Catcher whose Next is its own state re-enters it (ASL: a Catcher's Next "must exactly
match one of the state machine's state names"; moto continued with the state's Next)."""

from __future__ import annotations

import json

from emulator.statemachine import GUARD_TABLE, emulated_aws


def test_a_catcher_naming_its_own_state_runs_it_again() -> None:
    write = {
        "TableName": GUARD_TABLE,
        "Key": {"instance_id": {"S": "i-0123456789abcdef0"}},
        "UpdateExpression": "ADD attempts :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Start",
        "States": {
            "Start": {"Type": "Pass", "Assign": {"again": False}, "Next": "Write"},
            "Write": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:updateItem",
                # Refused the first time (no such item), unconditional once caught.
                "Arguments": (
                    "{% $merge([" + json.dumps(write) + ", $again ? {} : "
                    "{'ConditionExpression': 'attribute_exists(instance_id)'}]) %}"
                ),
                "Catch": [
                    {
                        "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                        "Assign": {"again": True},
                        "Next": "Write",
                    }
                ],
                "Next": "Done",
            },
            "Done": {"Type": "Succeed", "Output": "{% {'again': $again} %}"},
        },
    }
    with emulated_aws() as world:
        described, execution = world.run_definition(definition)
        history = world.history(execution)
        item = world.guard_item("i-0123456789abcdef0")
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e
    ]
    assert described["status"] == "SUCCEEDED", described
    assert entered == ["Start", "Write", "Write", "Done"]
    assert json.loads(described["output"]) == {"again": True}
    assert item is not None
    assert item["attempts"]["N"] == "1"
