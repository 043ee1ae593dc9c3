"""Lambda entry point: discover the instances a schedule selects, start one execution each.

``handler(event, context)`` is invoked by EventBridge Scheduler with the schedule's
input (docs/contracts.md section 1), or by this function itself with a continuation
of that input when a large fleet outlasts one invocation.

One invocation streams: it reads DescribeInstances a page at a time and offers each
page's instances to the paced StartExecution pool before it asks for the next page,
so the first executions start while the listing has barely begun and memory holds
one page whatever the fleet's size. When fewer than CONTINUATION_MARGIN_SECONDS are
left it stops offering, lets the calls in flight finish, and hands on to a new
invocation the listing's cursor (the next page's NextToken) and the instances it read
but did not start: no hop reads what an earlier hop read. A run that cannot go on
(no progress, too many hops, a hand-on refused, a fatal error) is reported, never
dropped: a ``discovery`` notification and the RunIncomplete metric. A run still
starting when its schedule's next run is due says so once (``overrun``, and the Overran
metric of the hop that says it), unless Lambda retries the hop that said it (then
again, under the same message_key: the same alert); a run that began already past its
interval is a late start, logged, not an overrun.

Time: the context's remaining time is read once, at the start; every later check of
the deadline, and every wait, goes through ``discovery.clock`` (see its docstring for
the virtual-time harness).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from discovery import (
    clients,
    clock,
    config,
    continuation,
    events,
    inventory,
    notify,
    overrun,
    pacing,
    report,
    runsummary,
)
from discovery.dryrun import DryRun
from discovery.fanout import Fanout, Starter
from discovery.inventory import Instance, ListingError
from discovery.ledger import Ledger
from discovery.selection import Selection, Verdict
from discovery.tally import Tally

logger = logging.getLogger(__name__)


class HandOn(Protocol):
    def __call__(self, function_arn: str, event: dict[str, Any]) -> None: ...


class Sink(Protocol):
    fatal: Any

    def offer(self, instance: Instance) -> bool: ...

    def close(self) -> None: ...


class DiscoveryError(RuntimeError):
    """The run could not complete; a notification has been published."""


def handler(event: Any, context: Any) -> dict[str, Any]:
    return run(event, context)


def run(event: Any, context: Any, hand_on: HandOn = continuation.invoke_async) -> dict[str, Any]:
    """The handler, with the continuation's invoker injectable (tests, harnesses)."""
    cfg = config.load()
    try:
        if events.is_summary_request(event):
            return summarize_run(cfg, events.parse_summary_request(event))
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
                    f"Backup run rejected, nothing started: {error}",
                    {"problems": "; ".join(error.problems)},
                )
            ],
        )
        return {"status": "rejected", "errors": error.problems}
    return Run(cfg, request, context, hand_on).execute()


def ledger_of(cfg: config.Config) -> Ledger | None:
    if cfg.run_ledger_table is None:
        return None
    return Ledger(clients.get("dynamodb"), cfg.run_ledger_table, cfg.run_ledger_ttl_seconds)


def summarize_run(cfg: config.Config, request: events.SummaryRequest) -> dict[str, Any]:
    """The state machine's request: publish the run's summary, once (section 5b).
    Raises when it could not be published (Lambda retries the invocation)."""
    ledger = ledger_of(cfg)
    run = f"{request.schedule_name} at {events.format_time(request.scheduled_time)}"
    if ledger is None:
        logger.warning("summary of %s asked for, but no RUN_LEDGER_TABLE is set", run)
        return {"status": "ignored", "why": "no run ledger"}
    result = runsummary.summarize(
        cfg,
        ledger,
        clients.get("sns"),
        request.schedule_name,
        request.scheduled_time,
        published_by=runsummary.RUN_COMPLETE,
    )
    logger.info("run summary of %s", run, extra={"run_summary": result})
    return {"status": "summarized", "schedule_name": request.schedule_name, **result}


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
        self.invoked_at = clock.now()
        self.began = clock.monotonic()
        remaining = context.get_remaining_time_in_millis() / 1000
        self.stop_at = self.began + remaining - cfg.continuation_margin_seconds
        previous = request.continuation or events.Continuation(
            hop=0, chain_started_at=self.invoked_at
        )
        if previous.legacy:
            logger.warning("continuation of an earlier version: listing again from the first page")
        self.previous = previous
        self.hop = previous.hop
        self.overrun_reported = previous.overrun_reported
        self.overran: bool | None = None  # None: not checked yet, or no interval known
        self.overrun_published = 0
        if request.interval_problem is not None:
            logger.error(request.interval_problem)
        self.late_start = overrun.past_interval(request, previous.chain_started_at)
        if self.late_start is not None and self.hop == 0:
            logger.warning(
                "run %s at %s began %d s after its scheduled time, later than the schedule's "
                "interval of %s s: a late start, not an overrun, so no BackupRunOverrun. Likely "
                "causes: EventBridge Scheduler retrying the delivery (up to its maximum event "
                "age), a redrive from its dead-letter queue, a backlog in Lambda's asynchronous "
                "queue (throttling, concurrency), a flexible time window, or a manual replay of "
                "an old scheduled_time",
                request.schedule_name,
                request.scheduled_time_text,
                self.late_start,
                request.interval_seconds,
            )
        self.selection = Selection(cfg, request)
        self.tally = Tally()
        ec2 = clients.get("ec2")
        self.partition, self.region = ec2.meta.partition, ec2.meta.region_name
        self.listing = inventory.Listing(
            ec2,
            inventory.filters(cfg.backup_tag_key, self.selection.listing_value),
            previous.next_token,
            previous.listing_done,
            self.keep_going,
        )
        self.dry = DryRun(request) if request.dry_run else None

    def keep_going(self) -> bool:
        return clock.monotonic() < self.stop_at

    # --- the stream -------------------------------------------------------------------

    def sink(self) -> Sink:
        if self.dry is not None:
            return self.dry
        starter = Starter(
            clients.get("stepfunctions"),
            self.cfg.state_machine_arn,
            self.request,
            self.invoked_at,
            self.keep_going,
        )
        return Fanout(
            starter,
            pacing.for_config(self.cfg),
            self.cfg.max_concurrency,
            self.keep_going,
            self.tally.result,
        )

    def stream(self, sink: Sink) -> None:
        """Offer the pending instances, then each page's, until done or out of time."""
        offering = True
        for instance_id, platform, state, owner in self.previous.pending:
            instance = Instance(
                instance_id=instance_id,
                arn=inventory.instance_arn(self.partition, self.region, owner, instance_id),
                platform=platform,
                state=state,
                opted_out=False,
                owner=owner,
            )
            offering = self.take(sink, instance, offering)
        if not offering:
            return
        for page in self.listing:
            offering = self.consume(sink, page, offering)
            del page  # only the page in hand is held while the next one is read
            if not offering or sink.fatal is not None:
                return

    def consume(self, sink: Sink, page: dict[str, Any], offering: bool) -> bool:
        """Start, skip, pass over or report each instance of one page."""
        listed = inventory.read_page(
            page, self.partition, self.region, self.cfg.backup_tag_key, self.cfg.opt_out_tag_key
        )
        self.tally.listed += len(listed)
        for item in listed:
            offering = self.consider(sink, item, offering)
        if self.dry is not None:
            self.dry.page_done()
        return offering

    def consider(self, sink: Sink, item: inventory.Listed, offering: bool) -> bool:
        """Start, skip, pass over or report one listed instance."""
        verdict = self.selection.verdict(item)
        if verdict is Verdict.SELECTED:
            self.tally.selected += 1
            decision = inventory.decide(item.instance, self.request.policy["stopped_instances"])
            if decision.start:
                return self.take(sink, item.instance, offering)
            self.tally.skip(decision)
            if self.dry is not None:
                self.dry.skip(decision)
        elif verdict is Verdict.OTHER_SCHEDULE:
            self.tally.other_schedules += 1
        elif verdict is Verdict.NOT_SELECTED:
            self.tally.unselected(item)
            if self.dry is not None:
                closest = self.selection.closest(item.tag_value)
                self.dry.unselected(item, closest.schedule_name, closest.difference)
        return offering

    def take(self, sink: Sink, instance: Instance, offering: bool) -> bool:
        """Offer ``instance``, or set it aside for the continuation once time is up."""
        if offering and sink.offer(instance):
            return True
        self.tally.hand_on(instance)
        return False

    # --- the overrun: still starting when the next run is due ---------------------------

    def check_overrun(self) -> None:
        """Once a hop, after its starts: publish the run's BackupRunOverrun if it is past
        its interval, began within it (not a late start) and no earlier hop published it.
        A failed publish is logged and left to the next hop; it never stops the run."""
        if self.overran is not None or self.dry is not None:
            return
        if self.request.interval_seconds is None:
            return
        if self.late_start is not None:
            self.overran = self.overrun_reported  # a late start is no overrun
            return
        elapsed = overrun.past_interval(self.request, clock.now())
        # An earlier hop's report stands, whatever this hop's clock says.
        self.overran = elapsed is not None or self.overrun_reported
        if elapsed is None or self.overrun_reported:
            return
        totals = report.add_totals(self.previous.totals, self.hop_counts())
        try:
            entry = overrun.notification(
                self.cfg,
                self.request,
                elapsed=elapsed,
                totals=totals,
                hop=self.hop,
                listing_done=self.listing.done,
            )
            self.overrun_published = _publish(self.cfg, [entry])
        except Exception:  # the report of an overrun must never cost the run its starts
            logger.exception("the overrun of %s could not be published", self.run_name)
        if self.overrun_published:
            self.overrun_reported = True
        else:
            logger.error(
                "run %s overran its interval, but BackupRunOverrun was not published; the "
                "next hop, if any, tries again",
                self.run_name,
            )

    @property
    def reports_overrun(self) -> bool:
        """This hop found the run past its interval and no earlier hop had published it:
        it publishes the run's BackupRunOverrun, or tried to (check_overrun)."""
        return self.overran is True and not self.previous.overrun_reported

    @property
    def run_name(self) -> str:
        return f"{self.request.schedule_name} at {self.request.scheduled_time_text}"

    # --- the run's end: the ledger and the summary ---------------------------------------

    def close_run(
        self, totals: dict[str, Any], incomplete: bool, not_started: int
    ) -> dict[str, Any] | None:
        """The run's last hop (section 5b): publish the schedule's previous run's summary
        if it never was (overdue), record how many executions this run has and discovery's
        counts, and publish this run's summary if every execution already reported.
        Best effort: an error is logged, never raised; the next run catches up."""
        ledger = ledger_of(self.cfg)
        if ledger is None:
            return None
        name, scheduled = self.request.schedule_name, self.request.scheduled_time
        sns = clients.get("sns")
        result: dict[str, Any] = {}
        try:
            previous = ledger.advance(name, scheduled)
            if previous is not None:
                result["previous_run"] = {
                    "scheduled_time": events.format_time(previous),
                    **runsummary.summarize(
                        self.cfg, ledger, sns, name, previous, published_by=runsummary.NEXT_RUN
                    ),
                }
            counts = {
                key: totals.get(key, 0)
                for key in (
                    "discovered",
                    "started",
                    "already_started",
                    "failed",
                    "skipped",
                    "not_selected",
                    "fleet_size",
                    "listed",
                )
            }
            counts.update(
                hops=self.hop + 1, not_started=not_started, listing_done=self.listing.done
            )
            if self.overran is not None:
                counts["overran"] = self.overran
            expected = int(totals.get("started", 0)) + int(totals.get("already_started", 0))
            record = ledger.record_discovery(
                name,
                scheduled,
                expected=expected,
                state="incomplete" if incomplete else "complete",
                counts=counts,
                now=clock.now(),
            )
            result.update(expected=expected, finished=record.finished)
            if record.due:
                result["summary"] = runsummary.summarize(
                    self.cfg, ledger, sns, name, scheduled, published_by=runsummary.RUN_COMPLETE
                )
        except (ClientError, BotoCoreError, runsummary.SummaryError) as error:
            logger.error("run ledger of %s: %s", self.request.scheduled_time_text, error)
            result["error"] = str(error)
        return result

    # --- the invocation -----------------------------------------------------------------

    def execute(self) -> dict[str, Any]:
        if self.hop > continuation.MAX_HOPS:
            return self.finish(
                give_up=f"stopped after {self.hop} hand-ons (at most {continuation.MAX_HOPS})",
                not_started=len(self.previous.pending),
            )
        sink = self.sink()
        try:
            self.stream(sink)
        except ListingError as error:
            return self.finish(failure=error)
        finally:
            sink.close()
        return self.finish(**self.go_on(sink.fatal))

    def go_on(self, fatal: Any) -> dict[str, Any]:
        """Whether the run is done, goes on in a new invocation, or cannot finish."""
        to_hand_on = self.tally.to_hand_on
        if fatal is not None:
            return {
                "give_up": f"StartExecution answered {fatal.error_code}, which every further "
                "call would repeat",
                "not_started": len(to_hand_on),
            }
        if self.listing.done and not to_hand_on:
            return {}
        if len(to_hand_on) > events.MAX_PENDING:
            return {
                "give_up": f"{len(to_hand_on)} instances to hand on, more than a continuation "
                f"carries ({events.MAX_PENDING}): are DescribeInstances pages over 1,000?",
                "not_started": len(to_hand_on),
            }
        if self.tally.discovered == 0 and self.listing.pages == 0:
            return {
                "give_up": "no progress in this invocation (throttled throughout, or a timeout "
                "too short for the margin?)",
                "not_started": len(to_hand_on),
            }
        self.check_overrun()  # before the hand-on, which carries whether it was reported
        nxt = events.Continuation(
            hop=self.hop + 1,
            chain_started_at=self.previous.chain_started_at,
            next_token=self.listing.next_token,
            listing_done=self.listing.done,
            pending=tuple((i.instance_id, i.platform, i.state, i.owner) for i in to_hand_on),
            totals=report.add_totals(self.previous.totals, self.hop_counts()),
            overrun_reported=self.overrun_reported,
        )
        try:
            self.hand_on(self.context.invoked_function_arn, self.request.as_event(nxt))
        except (ClientError, BotoCoreError, continuation.HandOnError) as error:
            return {
                "give_up": f"the run could not be handed on: {error}",
                "not_started": len(to_hand_on),
            }
        return {"handed_on": len(to_hand_on), "handed": True}

    def hop_counts(self) -> dict[str, Any]:
        return {
            **self.tally.counts(),
            "listed": self.tally.listed,
            "pages": self.listing.pages,
            "cursor_restarts": self.listing.restarts,
        }

    def finish(
        self,
        *,
        handed: bool = False,
        handed_on: int = 0,
        give_up: str | None = None,
        not_started: int = 0,
        failure: ListingError | None = None,
    ) -> dict[str, Any]:
        """Publish, log the summary and the metrics; raise if the run did not go on."""
        self.check_overrun()
        counts = self.hop_counts()
        totals = report.add_totals(self.previous.totals, counts)
        complete = give_up is None and failure is None and not handed
        entries = (
            []
            if self.dry is not None
            else notify.entries(self.cfg, self.request, self.selection, self.tally)
        )
        common = {
            "scheduled_time": self.request.scheduled_time_text,
            "hop": self.hop,
            "listing_done": self.listing.done,
            "next_token": self.listing.next_token,
        }
        name = self.request.schedule_name
        if failure is not None:
            description = f"Discovery failed for schedule {name}: {failure}"
            entries.append(
                notify.discovery_failure(
                    self.cfg, name, description, {**common, "error": str(failure.error)}
                )
            )
        elif give_up is not None:
            description = (
                f"Run of schedule {name} at {self.request.scheduled_time_text} cannot finish: "
                f"{give_up}. {totals['started']} started so far; {not_started} read but not "
                "started"
                + ("" if self.listing.done else ", and the instances the listing did not reach")
            )
            entries.append(
                notify.discovery_failure(
                    self.cfg, name, description, {**common, "not_started": not_started}
                )
            )
        published = _publish(self.cfg, entries)
        incomplete = give_up is not None or failure is not None
        ledger = (
            self.close_run(totals, incomplete, not_started)
            if self.dry is None and not handed
            else None
        )
        summary: dict[str, Any] = {
            "status": "dry_run" if self.dry is not None else ("failed" if incomplete else "done"),
            "schedule_name": name,
            "scheduled_time": self.request.scheduled_time_text,
            "tag_value": self.request.tag_value,
            "dry_run": self.request.dry_run,
            "hop": self.hop,
            "request_id": getattr(self.context, "aws_request_id", None),
            **counts,
            "other_schedules": self.tally.other_schedules,
            "failed_by_code": dict(sorted(self.tally.failed_by_code.items())),
            "listing_done": self.listing.done,
            "listing_throttled": self.listing.interrupted,
            "handed_on": handed,
            "handed_on_pending": handed_on,
            "run_complete": complete,
            "run_incomplete": incomplete,
            "not_started": not_started,
            "run_totals": totals,
            "notifications_published": published + self.overrun_published,
            "overrun": {
                "overran": self.overran,
                "reported": self.overrun_reported,
                "reporting_hop": self.reports_overrun,
            },
            "run_ledger": ledger,
            "timings_ms": {
                "listing": int(self.listing.seconds * 1000),
                "total": int((clock.monotonic() - self.began) * 1000),
            },
        }
        if give_up is not None:
            summary["stopped_because"] = give_up
        if self.request.interval_problem is not None:
            summary["interval_seconds_ignored"] = self.request.interval_problem
        if self.late_start is not None:
            summary["late_start_seconds"] = self.late_start
        report.emit(summary, self.cfg.name_prefix)
        if failure is not None:
            logger.error(description, extra={"details": common})
            raise DiscoveryError(description) from failure
        if give_up is not None:
            logger.error(description, extra={"details": common})
            raise DiscoveryError(f"run not finished: {give_up}")
        if self.dry is not None:
            return {**summary, **self.dry.result()}
        return summary
