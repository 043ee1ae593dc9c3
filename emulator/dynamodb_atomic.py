"""DynamoDB's item operations, atomic as AWS makes them.

AWS: "You can use the UpdateItem operation to implement an atomic counter—a numeric
attribute that is incremented, unconditionally, without interfering with other write
requests. (All write requests are applied in the order in which they are received.)"
(DynamoDB Developer Guide, "Working with items and attributes", "Atomic counters"); a
conditional write succeeds only if the condition holds when it is applied ("Conditional
writes", same guide). moto 5.2 reads, changes and stores an item in plain Python, with no
lock: two threads that add 1 to the same counter at once can both read the old value.
Measured here: 10 threads adding 1 fifty times each ended at 475, not 500. The run
ledger counts every execution's outcome and the guard table takes slots with conditional
writes, both from concurrent executions, so ``install()`` makes every item operation of
moto's backend one step, applied in the order the lock is taken.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

from ._patching import original, patch

_lock = threading.RLock()

ITEM_OPERATIONS = (
    "get_item",
    "put_item",
    "update_item",
    "delete_item",
    "batch_get_item",
    "batch_write_item",
    "transact_get_items",
    "transact_write_items",
    "query",
    "scan",
    "execute_statement",
    "execute_transaction",
    "batch_execute_statement",
)


def _atomic(method: Any) -> Any:
    @functools.wraps(method)
    def one_step(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(self, *args, **kwargs)

    return one_step


def install() -> None:
    for name in ITEM_OPERATIONS:
        patch(DynamoDBBackend, name, _atomic(original(DynamoDBBackend, name)))
