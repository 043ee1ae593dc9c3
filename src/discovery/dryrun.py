"""A dry run: what would be started, and why the others would not; nothing is started.

It takes the fan-out's place in the stream, so a dry run reads the fleet exactly as a
real run does (page by page, handing on when time runs short). It logs every
instance, a page's worth per line, and returns the first MAX_LISTED of each list
with the totals: the response of a synchronous invocation is at most 6 MB.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from discovery import naming
from discovery.events import Request
from discovery.inventory import Decision, Instance, Listed

logger = logging.getLogger(__name__)

MAX_LISTED = 1000


class DryRun:
    fatal = None  # never: nothing is called

    def __init__(self, request: Request) -> None:
        self.request = request
        self.would_start = 0
        self.instances: list[dict[str, Any]] = []
        self.skipped: dict[str, list[str]] = defaultdict(list)
        self.not_selected: list[dict[str, str]] = []
        self._page_ids: list[str] = []
        self._page_skips: dict[str, list[str]] = defaultdict(list)

    def offer(self, instance: Instance) -> bool:
        self.would_start += 1
        self._page_ids.append(instance.instance_id)
        if len(self.instances) < MAX_LISTED:
            self.instances.append(
                {
                    "instance_id": instance.instance_id,
                    "platform": instance.platform,
                    "instance_state": instance.state,
                    "execution_name": naming.execution_name(self.request, instance.instance_id),
                }
            )
        return True

    def skip(self, decision: Decision) -> None:
        reason = str(decision.reason)
        self._page_skips[reason].append(decision.instance.instance_id)
        if len(self.skipped[reason]) < MAX_LISTED:
            self.skipped[reason].append(decision.instance.instance_id)

    def unselected(self, listed: Listed, closest_schedule: str, difference: str) -> None:
        if len(self.not_selected) < MAX_LISTED:
            self.not_selected.append(
                {
                    "instance_id": listed.instance.instance_id,
                    "tag_value": listed.tag_value,
                    "closest_schedule": closest_schedule,
                    "difference": difference,
                }
            )

    def page_done(self) -> None:
        if self._page_ids:
            logger.info("dry run: would start", extra={"instance_ids": self._page_ids})
            self._page_ids = []
        for reason, ids in sorted(self._page_skips.items()):
            logger.info("dry run: would skip", extra={"reason": reason, "instance_ids": ids})
        self._page_skips.clear()

    def result(self) -> dict[str, Any]:
        return {
            "would_start": self.would_start,
            "instances": self.instances,
            "skipped_instances": dict(self.skipped),
            "not_selected_instances": self.not_selected,
            "lists_truncated_at": MAX_LISTED,
        }

    def close(self) -> None:
        self.page_done()

    def __enter__(self) -> DryRun:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()
