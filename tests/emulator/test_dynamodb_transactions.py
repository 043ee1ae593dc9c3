"""TransactWriteItems all or nothing, undone item by item (emulator/dynamodb_transactions.py).

The undo copies only the items a transaction names; moto's own undo (a copy of every
table named) is switched off, so these fail if the item-by-item undo is wrong.
"""

import pytest
from botocore.exceptions import ClientError
from moto.dynamodb import models


def _add(key: str, condition: str | None = None) -> dict:
    update = {
        "TableName": "t",
        "Key": {"k": {"S": key}},
        "UpdateExpression": "ADD calls :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    if condition:
        update["ConditionExpression"] = condition
        update["ExpressionAttributeValues"][":k"] = {"N": "1"}
    return {"Update": update}


def _calls(ddb, key: str) -> int | None:
    item = ddb.get_item(TableName="t", Key={"k": {"S": key}}).get("Item")
    return None if item is None else int(item["calls"]["N"])


def test_both_actions_apply_together(ddb) -> None:
    ddb.transact_write_items(TransactItems=[_add("slot"), _add("second")])
    assert (_calls(ddb, "slot"), _calls(ddb, "second")) == (1, 1)


def test_a_failed_condition_undoes_the_actions_before_it(ddb) -> None:
    ddb.put_item(TableName="t", Item={"k": {"S": "slot"}, "calls": {"N": "5"}})
    ddb.put_item(TableName="t", Item={"k": {"S": "second"}, "calls": {"N": "1"}})
    with pytest.raises(ClientError) as raised:
        ddb.transact_write_items(
            TransactItems=[
                _add("slot"),  # applied, then undone
                _add("new"),  # created, then removed
                _add("second", "attribute_not_exists(calls) OR calls < :k"),
            ]
        )
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in raised.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "ConditionalCheckFailed"]
    assert (_calls(ddb, "slot"), _calls(ddb, "new"), _calls(ddb, "second")) == (5, None, 1)


def test_no_table_is_copied_whole(ddb) -> None:
    table = models.dynamodb_backends["123456789012"]["eu-west-1"].tables["t"]
    assert models.copy.deepcopy(table) is table
    assert models.copy.deepcopy({"a": [1]}) == {"a": [1]}
