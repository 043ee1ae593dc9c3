"""AWS Backup at fleet scale: when jobs start, one job per resource at a time, cheap refreshes.

* **Start latency.** AWS says of an on-demand job only that it "will transition to
  Running within an hour" (AWS Backup guide, creating-a-backup), and the EC2 snapshot's
  point in time is fixed when it is created. ``StartLatency`` draws each instance's
  latency (StartBackupJob to the snapshots' start) from a log-normal distribution,
  capped at the start window: an assumption, not an AWS figure (defaults: median 12 s,
  sigma 1.0, so p10 3.3 s, p90 43 s, p99 123 s). ``JobDuration`` draws how long the job
  then runs (median 20 minutes, sigma 0.6): also an assumption.
* **One job per resource.** "AWS Backup limits the backups to one concurrent backup
  per resource. Therefore, additional scheduled or on-demand backup requests for the
  resource are queued and will start only after the existing backup job is completed.
  If the backup job is not started or completed within the backup window, the request
  fails." (Amazon Timestream developer guide, backups-limits; the AWS Backup quota "one
  backup job per resource at a time" is not adjustable.) A second StartBackupJob on a
  resource whose job is still running is accepted and waits: it starts when the first
  ends (plus its own start latency), or ends EXPIRED at the end of its start window.
* **Speed only, behaviour unchanged:** ``emulator.backup.refresh`` moves only the jobs
  due to change (a heap by the time each job next changes on its own) instead of every
  job ever started: each Backup call refreshed them all, quadratic over a fleet.
"""

from __future__ import annotations

import datetime as _dt
import heapq
import itertools
import math
import random
from dataclasses import dataclass, replace
from typing import Any

from . import backup as _backup
from ._patching import patch


@dataclass(frozen=True)
class StartLatency:
    """Seconds from StartBackupJob to the snapshots' start (assumption: log-normal)."""

    median: float = 12.0
    sigma: float = 1.0
    cap: float = 3600.0  # "within an hour"

    def sample(self, generator: random.Random) -> float:
        value = self.median * math.exp(self.sigma * generator.gauss(0.0, 1.0))
        return round(min(self.cap, max(0.5, value)), 3)


@dataclass(frozen=True)
class JobDuration:
    """Seconds a job runs once its snapshots started (assumption: log-normal)."""

    median: float = 1200.0
    sigma: float = 0.6

    def sample(self, generator: random.Random) -> float:
        return round(max(60.0, self.median * math.exp(self.sigma * generator.gauss(0.0, 1.0))), 3)


def _due(job: Any, now: Any) -> Any:
    """When ``job`` next changes on its own (None once terminal): refreshing it earlier
    changes nothing, so only due jobs need a refresh."""
    if job.state in _backup.TERMINAL:
        return None
    if job.stop_requested_at is not None:
        return now
    if job.unborn:  # a snapshot of the job comes into EC2 at its StartTime
        return min(when for when, _ in job.unborn)
    plan = job.plan
    if plan.start_after is None or plan.outcome == "EXPIRED":
        return job.created_at + _dt.timedelta(minutes=job.start_window_minutes)
    if job.started_at is None:  # not started yet (or ends before it starts)
        return job.created_at + _dt.timedelta(seconds=plan.start_after)
    return job.started_at + _dt.timedelta(seconds=plan.run_seconds)


def _agenda(state: dict[str, Any], now: Any) -> list[Any]:
    """The jobs not yet terminal, as a heap by due time (built on first use, then kept)."""
    agenda = state.get("_acb_agenda")
    if agenda is None:
        agenda = state["_acb_agenda"] = []
        state["_acb_seen"] = 0
    if state["_acb_seen"] != len(state["jobs"]):  # jobs started since: add them
        for job in list(state["jobs"].values())[state["_acb_seen"] :]:
            _schedule(agenda, job, now)
        state["_acb_seen"] = len(state["jobs"])
    return agenda


_order = itertools.count()


def _schedule(agenda: list[Any], job: Any, now: Any) -> None:
    due = _due(job, now)
    if due is not None:
        heapq.heappush(agenda, (due, next(_order), job))


def _refresh(backend: Any) -> None:
    now = _backup._now()
    ec2 = _backup._ec2(backend)
    state = _backup._state(backend)
    agenda = _agenda(state, now)
    moved = []
    while agenda and agenda[0][0] <= now:
        _, _, job = heapq.heappop(agenda)
        job.refresh(now, ec2)
        if job.state == "COMPLETED" and job.image_id in ec2.amis:
            ec2.amis[job.image_id].state = "available"
        moved.append(job)
    for job in moved:
        _schedule(agenda, job, now)
    for copy in state["copies"].values():
        copy.refresh(now)


def _queue_behind_running_job(response: Any) -> Any:
    """StartBackupJob, then hold the new job until the resource's running job ends."""
    state = _backup._state(response.backup_backend)
    before = len(state["jobs"])
    answer = _originals["start"](response)
    if len(state["jobs"]) == before:  # refused, or the idempotency token's earlier job
        return answer
    job = next(reversed(state["jobs"].values()))
    by_resource = state.setdefault("_acb_by_resource", {})
    earlier = by_resource.setdefault(job.resource_arn, [])
    earlier.append(job)
    if job.state in _backup.TERMINAL or job.plan.start_after is None:
        return answer
    busy_until = None
    for other in earlier[:-1]:
        if other.state in _backup.TERMINAL:
            continue
        if other.plan.start_after is None:  # never starts: holds the resource until EXPIRED
            end = other.created_at.timestamp() + other.start_window_minutes * 60
        else:
            end = (
                other.created_at.timestamp()
                + other.plan.start_after
                + (0 if other.plan.before_start else other.plan.run_seconds)
            )
        busy_until = end if busy_until is None else max(busy_until, end)
    if busy_until is None:
        return answer
    wait = max(0.0, busy_until - job.created_at.timestamp())
    start_after = wait + job.plan.start_after
    if start_after >= job.start_window_minutes * 60:
        job.plan = replace(job.plan, start_after=None)  # EXPIRED at the window's end
    else:
        job.plan = replace(job.plan, start_after=start_after)
    return answer


def _stop_at_once(response: Any) -> Any:
    """StopBackupJob, then end that job now (its place in the agenda is not due yet)."""
    answer = _originals["stop"](response)
    job = _backup._job(response)
    job.refresh(_backup._now(), _backup._ec2(response.backup_backend))
    return answer


_originals: dict[str, Any] = {}  # the emulator's StartBackupJob and StopBackupJob


def install() -> None:
    """Wrap the emulator's StartBackupJob and refresh (after ``emulator.install()``)."""
    from moto.backup.responses import BackupResponse

    current = BackupResponse.start_backup_job
    if current is _queue_behind_running_job:
        return
    _originals["start"] = current
    _originals["stop"] = BackupResponse.stop_backup_job
    patch(BackupResponse, "start_backup_job", _queue_behind_running_job)
    patch(BackupResponse, "stop_backup_job", _stop_at_once)
    patch(_backup, "refresh", _refresh)
