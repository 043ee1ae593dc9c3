"""DynamoDB's TransactWriteItems, undone item by item instead of table by table.

AWS: a transaction's actions "are completed atomically so that either all of them
succeed, or all of them fail" (DynamoDB API reference, TransactWriteItems). moto 5.2
keeps that promise by deep-copying every table the transaction names before it starts
and putting the copies back when an action fails. The guard table holds one item per
instance, per freeze slot and per second of a pace gate (docs/contracts.md section 9),
so each AcquireFreezeSlot copied thousands of items: at 100 instances the fleet
benchmark's peak memory rose from 390 MB to 570 MB, and at 1,000 one run outgrew 12 GB.

``install()`` keeps moto's transaction (its checks, its errors, its order) and changes
only the undo: the items the transaction names are copied before it runs and put back
if it fails, and moto's table copy becomes the table itself. It runs under
``emulator/dynamodb_atomic.py``'s lock, so nothing else sees the items in between.
"""

from __future__ import annotations

import copy
import types
from typing import Any

from moto.dynamodb import models as _models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from ._patching import original, patch
from .dynamodb_atomic import atomic


def _deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    # moto's undo copy of a whole table: the table itself; the undo is done item by item.
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


_copy_without_tables = types.SimpleNamespace(deepcopy=_deepcopy, copy=copy.copy)


def _key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _snapshot(backend: DynamoDBBackend, items: list[dict[str, Any]]) -> list[tuple]:
    saved = []
    for item in items:
        op_type, op = next(iter(item.items()))
        if op_type == "ConditionCheck" or op.get("TableName") not in backend.tables:
            continue
        try:
            key = _key(backend, op_type, op)
            current = backend.get_item(op["TableName"], key)
        except Exception:  # noqa: S112 - moto rejects the request itself, before any write
            continue
        saved.append((op["TableName"], key, None if current is None else current.to_json()))
    return saved


def _restore(backend: DynamoDBBackend, saved: list[tuple]) -> None:
    for table_name, key, before in saved:
        if before is None:
            backend.delete_item(table_name, key)
        else:
            backend.put_item(table_name, before["Attributes"])


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    saved = _snapshot(self, transact_items) if len(transact_items) <= 100 else []
    try:
        original(DynamoDBBackend, "transact_write_items")(self, transact_items)
    except Exception:
        _restore(self, saved)
        raise


def install() -> None:
    """After ``dynamodb_atomic.install()``: the transaction stays one step under its lock."""
    patch(_models, "copy", _copy_without_tables)
    patch(DynamoDBBackend, "transact_write_items", atomic(_transact_write_items))
