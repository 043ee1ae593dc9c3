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
from collections import Counter
from typing import Any, TextIO

from discovery import clock

logger = logging.getLogger(__name__)

NAMESPACE = "AppConsistentBackup/Discovery"
METRICS = {
    "discovered": "Discovered",
    "started": "Started",
    "already_started": "AlreadyStarted",
    "skipped_total": "Skipped",
    "failed": "Failed",
    "deferred": "Deferred",
    "not_selected": "NotSelected",
    "run_incomplete": "RunIncomplete",
    "not_started": "NotStarted",
    "cursor_restarts": "CursorRestarts",
}
OVERRAN = "Overran"
# Summed over the hops of one run (run_totals); deferred ones are counted when done.
TOTALS = (
    "discovered",
    "started",
    "already_started",
    "failed",
    "not_selected",
    "fleet_size",
    "listed",
    "pages",
    "cursor_restarts",
)


def add_totals(totals: dict[str, Any], hop: dict[str, Any]) -> dict[str, Any]:
    """Run totals across the invocations of one run."""
    merged: dict[str, Any] = {}
    for key in TOTALS:
        try:
            merged[key] = int(totals.get(key, 0)) + int(hop.get(key, 0))
        except (TypeError, ValueError):  # a hand-edited continuation: count this hop only
            merged[key] = int(hop.get(key, 0))
    skipped: Counter[str] = Counter()
    for reason, count in dict(totals.get("skipped", {}) or {}).items():
        if isinstance(count, int) and not isinstance(count, bool):
            skipped[str(reason)] += count
    skipped.update(hop.get("skipped", {}))
    merged["skipped"] = dict(sorted(skipped.items()))
    return merged


def overran(summary: dict[str, Any]) -> int:
    """1 on the hop that reports the run's overrun (publishes its BackupRunOverrun, or
    tries to), else 0. Not 1 on every later hop too: like the counts, whose sum over a
    run's hops is the run's, Sum per period then counts overrunning runs, not hops (a
    number the function's timeout sets as much as the fleet)."""
    # The hop that reports it is one that found the run overran (handler.reports_overrun).
    return int((summary.get("overrun") or {}).get("reporting_hop") is True)


def emf(summary: dict[str, Any], name_prefix: str, now_ms: int | None = None) -> dict[str, Any]:
    return {
        "_aws": {
            "Timestamp": now_ms if now_ms is not None else int(clock.now().timestamp() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["NamePrefix", "ScheduleName"]],
                    "Metrics": [
                        {"Name": name, "Unit": "Count"} for name in (*METRICS.values(), OVERRAN)
                    ],
                }
            ],
        },
        "NamePrefix": name_prefix,
        "ScheduleName": summary["schedule_name"],
        **{name: int(summary.get(key, 0)) for key, name in METRICS.items()},
        OVERRAN: overran(summary),
    }


def emit(summary: dict[str, Any], name_prefix: str, stream: TextIO | None = None) -> None:
    """Log the summary line and write the metrics."""
    logger.info("discovery run summary", extra={"summary": summary})
    if not summary.get("dry_run"):
        out = stream or sys.stdout
        out.write(json.dumps(emf(summary, name_prefix), sort_keys=True) + "\n")
        out.flush()
