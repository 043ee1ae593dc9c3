"""Lambda entry point: discover the instances a schedule selects, start one execution each.

``handler(event, context)`` is invoked by EventBridge Scheduler with the schedule's
input (docs/contracts.md section 1), or by this function itself with a continuation
of that input when a large fleet outlasts one invocation.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from discovery import clients, config, continuation, events, inventory, naming, notify, report
from discovery.fanout import Outcome, Starter, fan_out
from discovery.inventory import Decision
from discovery.pacing import TokenBucket

logger = logging.getLogger(__name__)

HandOn = Callable[[str, dict[str, Any]], None]
LOG_CHUNK = 500  # instance IDs per dry-run log line


class DiscoveryError(RuntimeError):
    """The run could not complete; a notification has been published."""


def handler(event: Any, context: Any) -> dict[str, Any]:
    return run(event, context)


def run(event: Any, context: Any, hand_on: HandOn = continuation.invoke_async) -> dict[str, Any]:
    """The handler, with the continuation's invoker injectable (tests)."""
    cfg = config.load()
    try:
        request = events.parse(event)
    except events.EventError as error:
        logger.error("rejected a malformed event: %s", error, extra={"problems": error.problems})
        name = event.get("schedule_name") if isinstance(event, dict) else None
        if not isinstance(name, str) or not events.SCHEDULE_NAME_RE.match(name):
            name = "unknown"
        _publish(
            cfg,
            [
                notify.discovery_failure(
                    cfg,
                    name,
                    f"Backup run rejected: {error}",
                    {"problems": "; ".join(error.problems)},
                )
            ],
        )
        return {"status": "rejected", "errors": error.problems}
    return Run(cfg, request, context, hand_on).execute()


def _publish(cfg: config.Config, entries: list[dict[str, Any]]) -> int:
    if not entries:
        return 0
    return notify.publish(clients.get("sns"), cfg.notification_topic_arn, entries)


class Run:
    def __init__(
        self, cfg: config.Config, request: events.Request, context: Any, hand_on: HandOn
    ) -> None:
        self.cfg = cfg
        self.request = request
        self.context = context
        self.hand_on = hand_on
        previous = request.continuation
        self.hop = previous.hop if previous else 0
        self.invoked_at = datetime.now(UTC)
        self.chain_started_at = previous.chain_started_at if previous else self.invoked_at
        self.previous_totals = previous.totals if previous else {}
        self.margin_ms = cfg.continuation_margin_seconds * 1000

    def keep_going(self) -> bool:
        return self.context.get_remaining_time_in_millis() > self.margin_ms

    def fail(self, description: str, additional: dict[str, Any]) -> DiscoveryError:
        """Publish a discovery-stage failure and return the error to raise."""
        additional = {
            "scheduled_time": self.request.scheduled_time_text,
            "hop": self.hop,
            **additional,
        }
        _publish(
            self.cfg,
            [
                notify.discovery_failure(
                    self.cfg, self.request.schedule_name, description, additional
                )
            ],
        )
        logger.error(description, extra={"details": additional})
        return DiscoveryError(description)

    def discover(self) -> list[inventory.Instance]:
        try:
            return inventory.describe(
                clients.get("ec2"),
                self.cfg.backup_tag_key,
                self.request.tag_value,
                self.cfg.opt_out_tag_key,
            )
        except (ClientError, BotoCoreError) as error:
            raise self.fail(
                f"Discovery failed for schedule {self.request.schedule_name}: DescribeInstances: "
                f"{error}",
                {"error": str(error)},
            ) from error

    def select(self, decisions: list[Decision]) -> tuple[list[Decision], int]:
        """This invocation's work: instances to retry first, then the rest from the cursor.

        Returns the work and how many of its first entries are retries.
        """
        previous = self.request.continuation
        if previous is None:
            return decisions, 0
        retry = set(previous.retry_instance_ids)
        retries = [d for d in decisions if d.instance.instance_id in retry]
        resume = previous.resume_from_instance_id
        rest = [
            d
            for d in decisions
            if resume is not None
            and d.instance.instance_id >= resume
            and d.instance.instance_id not in retry
        ]
        return retries + rest, len(retries)

    def execute(self) -> dict[str, Any]:
        began = time.monotonic()
        instances = self.discover()
        policy = self.request.policy
        decisions = [inventory.decide(i, policy["stopped_instances"]) for i in instances]
        work, retries = self.select(decisions)
        discovered_ms = int((time.monotonic() - began) * 1000)
        if self.request.dry_run:
            return self.dry_run(instances, work, discovered_ms)
        if self.hop > continuation.MAX_HOPS:
            raise self.fail(
                f"Run of schedule {self.request.schedule_name} stopped after {self.hop} hand-ons: "
                f"{len(work)} instances not started",
                {"not_started": len(work)},
            )

        starter = Starter(
            clients.get("stepfunctions"),
            self.cfg.state_machine_arn,
            self.request,
            self.invoked_at,
            self.keep_going,
        )
        bucket = TokenBucket(self.cfg.start_rate_per_second, self.cfg.start_burst)
        result = fan_out(work, starter, bucket, self.cfg.max_concurrency, self.keep_going)
        fanned_ms = int((time.monotonic() - began) * 1000) - discovered_ms

        handled = work[: result.next_index]
        deferred = [r for r in result.results if r.outcome is Outcome.DEFERRED]
        counts = report.counts(handled, result.results)
        totals = report.add_totals(self.previous_totals, counts)
        unhandled = work[result.next_index :]
        retry_ids = [d.instance.instance_id for d in work[result.next_index : retries]]
        retry_ids += [r.instance.instance_id for r in deferred]
        cursor = max(result.next_index, retries)
        resume_from = work[cursor].instance.instance_id if cursor < len(work) else None
        to_hand_on = len(unhandled) + len(deferred)

        entries = notify.failures(
            self.cfg, self.request, [r for r in result.results if r.outcome is Outcome.FAILED]
        )
        hand_on_error: str | None = None
        if to_hand_on:
            progressed = bool(handled) and (
                len(deferred) < len(result.results) or counts["skipped_total"] > 0
            )
            if not progressed:
                hand_on_error = "no progress in this invocation (timeout too short for the margin?)"
            else:
                nxt = events.Continuation(
                    hop=self.hop + 1,
                    chain_started_at=self.chain_started_at,
                    resume_from_instance_id=resume_from,
                    retry_instance_ids=tuple(retry_ids),
                    totals=totals,
                )
                try:
                    self.hand_on(self.context.invoked_function_arn, self.request.as_event(nxt))
                except (ClientError, BotoCoreError, continuation.HandOnError) as error:
                    hand_on_error = str(error)
            if hand_on_error:
                entries.append(
                    notify.discovery_failure(
                        self.cfg,
                        self.request.schedule_name,
                        f"{to_hand_on} instances of schedule {self.request.schedule_name} not "
                        f"started: the run could not be handed on: {hand_on_error}",
                        {
                            "scheduled_time": self.request.scheduled_time_text,
                            "hop": self.hop,
                            "not_started": to_hand_on,
                            "resume_from_instance_id": resume_from,
                        },
                    )
                )
        published = _publish(self.cfg, entries)

        summary: dict[str, Any] = {
            **self._header(instances),
            **counts,
            "failed_by_code": dict(
                sorted(
                    Counter(
                        r.error_code for r in result.results if r.outcome is Outcome.FAILED
                    ).items()
                )
            ),
            "handed_on": 0 if hand_on_error else to_hand_on,
            "not_handed_on": to_hand_on if hand_on_error else 0,
            "run_complete": to_hand_on == 0,
            "run_totals": totals,
            "notifications_published": published,
            "timings_ms": {
                "discovery": discovered_ms,
                "fan_out": fanned_ms,
                "total": int((time.monotonic() - began) * 1000),
            },
        }
        report.emit(summary, self.cfg.name_prefix)
        if hand_on_error:
            raise DiscoveryError(f"run not handed on: {hand_on_error}")
        return summary

    def _header(self, instances: list[inventory.Instance]) -> dict[str, Any]:
        return {
            "status": "dry_run" if self.request.dry_run else "done",
            "schedule_name": self.request.schedule_name,
            "scheduled_time": self.request.scheduled_time_text,
            "tag_value": self.request.tag_value,
            "dry_run": self.request.dry_run,
            "hop": self.hop,
            "request_id": getattr(self.context, "aws_request_id", None),
            "fleet_size": len(instances),
        }

    def dry_run(
        self, instances: list[inventory.Instance], work: list[Decision], discovered_ms: int
    ) -> dict[str, Any]:
        """What would be started, and why the others would not: nothing is started."""
        would_start = [
            {
                "instance_id": d.instance.instance_id,
                "platform": d.instance.platform,
                "instance_state": d.instance.state,
                "execution_name": naming.execution_name(self.request, d.instance.instance_id),
            }
            for d in work
            if d.start
        ]
        skipped: dict[str, list[str]] = {}
        for d in work:
            if not d.start:
                skipped.setdefault(str(d.reason), []).append(d.instance.instance_id)
        counts = report.counts(work, [])
        summary: dict[str, Any] = {
            **self._header(instances),
            **counts,
            "would_start": len(would_start),
            "timings_ms": {"discovery": discovered_ms},
        }
        report.emit(summary, self.cfg.name_prefix)
        for offset in range(0, len(would_start), LOG_CHUNK):
            chunk = [w["instance_id"] for w in would_start[offset : offset + LOG_CHUNK]]
            logger.info("dry run: would start", extra={"instance_ids": chunk})
        for reason, ids in sorted(skipped.items()):
            for offset in range(0, len(ids), LOG_CHUNK):
                logger.info(
                    "dry run: would skip",
                    extra={"reason": reason, "instance_ids": ids[offset : offset + LOG_CHUNK]},
                )
        return {**summary, "instances": would_start, "skipped_instances": skipped}
