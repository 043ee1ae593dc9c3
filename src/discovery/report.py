"""The run summary: one structured log line and CloudWatch Embedded Metric Format metrics.

The summary goes through the ``logging`` module: with the function's JSON log format
the runtime writes the ``summary`` extra as a JSON field. The EMF document is written
to standard output as a line of its own: CloudWatch extracts metrics from any log
event that is a JSON object with an ``_aws`` member, whatever the log format.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from discovery.fanout import Outcome, Result
from discovery.inventory import Decision

logger = logging.getLogger(__name__)

NAMESPACE = "AppConsistentBackup/Discovery"
METRICS = {
    "discovered": "Discovered",
    "started": "Started",
    "already_started": "AlreadyStarted",
    "skipped_total": "Skipped",
    "failed": "Failed",
    "deferred": "Deferred",
}
COUNTS = ("discovered", "started", "already_started", "failed")


def counts(handled: Sequence[Decision], results: Iterable[Result]) -> dict[str, Any]:
    """Counts of the decisions this invocation handled and of their results.

    A deferred instance is handled again by the continuation, so it is counted as
    discovered there, not here.
    """
    outcomes = Counter(r.outcome for r in results)
    skipped = Counter(d.reason for d in handled if not d.start)
    return {
        "discovered": len(handled) - outcomes[Outcome.DEFERRED],
        "started": outcomes[Outcome.STARTED],
        "already_started": outcomes[Outcome.ALREADY_STARTED],
        "failed": outcomes[Outcome.FAILED],
        "deferred": outcomes[Outcome.DEFERRED],
        "skipped": dict(sorted(skipped.items())),
        "skipped_total": sum(skipped.values()),
    }


def add_totals(totals: dict[str, Any], hop: dict[str, Any]) -> dict[str, Any]:
    """Run totals across the invocations of one run (deferred ones are counted when done)."""
    merged: dict[str, Any] = {key: int(totals.get(key, 0)) + hop[key] for key in COUNTS}
    skipped = Counter({k: int(v) for k, v in dict(totals.get("skipped", {})).items()})
    skipped.update(hop["skipped"])
    merged["skipped"] = dict(sorted(skipped.items()))
    return merged


def emf(summary: dict[str, Any], name_prefix: str, now_ms: int | None = None) -> dict[str, Any]:
    return {
        "_aws": {
            "Timestamp": now_ms if now_ms is not None else int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["NamePrefix", "ScheduleName"]],
                    "Metrics": [{"Name": name, "Unit": "Count"} for name in METRICS.values()],
                }
            ],
        },
        "NamePrefix": name_prefix,
        "ScheduleName": summary["schedule_name"],
        **{name: summary[key] for key, name in METRICS.items()},
    }


def emit(summary: dict[str, Any], name_prefix: str, stream: TextIO | None = None) -> None:
    """Log the summary line and write the metrics."""
    logger.info("discovery run summary", extra={"summary": summary})
    if not summary.get("dry_run"):
        out = stream or sys.stdout
        out.write(json.dumps(emf(summary, name_prefix), sort_keys=True) + "\n")
        out.flush()
