"""Lambda entry point: validate an instance restored by the module's restore testing plan.

``handler(event, context)`` is invoked by EventBridge with AWS Backup's "Restore Job State
Change" event, or by this function itself with a continuation (docs/contracts.md section 6).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from restore_validation import clients, config, events, notify
from restore_validation.validate import Aws, Clock, HandOn, RealClock, Validation

logger = logging.getLogger(__name__)


def invoke_async(function_arn: str, event: dict[str, Any]) -> None:
    """Hand the validation on to a new invocation of this function."""
    clients.get("lambda").invoke(
        FunctionName=function_arn, InvocationType="Event", Payload=json.dumps(event).encode()
    )


def handler(event: Any, context: Any) -> dict[str, Any]:
    return run(event, context)


def run(
    event: Any, context: Any, *, clock: Clock | None = None, hand_on: HandOn = invoke_async
) -> dict[str, Any]:
    """The handler, with the clock and the continuation's invoker injectable (tests)."""
    cfg = config.load()
    aws = Aws(
        backup=clients.get("backup"),
        ec2=clients.get("ec2"),
        ssm=clients.get("ssm"),
        sns=clients.get("sns"),
    )
    try:
        request = events.parse(event)
    except events.EventError as error:
        logger.error("rejected an event: %s", error)
        entry = notify.notification(
            cfg,
            node="restore-test",
            resource=cfg.restore_testing_plan_arn,
            event_type="RestoreTestFailed",
            outcome="failed",
            severity="2",
            description=f"Restore validation rejected an event: {error}",
            additional={"reason": str(error)},
        )
        notify.publish(aws.sns, cfg.notification_topic_arn, entry)
        return {"status": "rejected", "reason": str(error)}
    validation = Validation(
        cfg, aws, request, clock=clock or RealClock(), context=context, hand_on=hand_on
    )
    return validation.run()
