"""One restore test's validation: wait for the restored instance to boot and its SSM agent to
register, run the validation document on it, and report (docs/contracts.md section 6).

Every wait goes through a clock (real in Lambda, emulated in the tests) and every deadline
is computed from the restore job's CompletionDate, so a continuation resumes where the
previous invocation stopped without carrying a clock of its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from restore_validation import checks, events, notify
from restore_validation.checks import Check, Verdict
from restore_validation.config import Config

logger = logging.getLogger(__name__)

CONSISTENCY_TAG = "app-consistent-backup:consistency"
WINDOW_MARGIN = timedelta(minutes=10)  # AWS deletes the instance at the window's end
AGENT_POLL_SECONDS = 15.0  # first pause; each pause doubles, up to MAX_POLL_SECONDS
COMMAND_POLL_SECONDS = 5.0
MAX_POLL_SECONDS = 60.0
SETTLE_WAIT = timedelta(minutes=10)  # for DescribeRestoreJob to show the event's state
HAND_ON_MARGIN_MS = 60_000  # hand on while this much of the invocation is left
SEND_TIMEOUT_SECONDS = 600  # SendCommand's delivery timeout
FINAL = ("SUCCESSFUL", "FAILED", "TIMED_OUT")
PREVIOUS_WINDOW = timedelta(days=60)  # how far back the previous test is looked for

HandOn = Callable[[str, dict[str, Any]], None]


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class Aws:
    backup: Any
    ec2: Any
    ssm: Any
    sns: Any


class HandedOn(Exception):
    """The validation continues in a new invocation."""


class Validation:
    def __init__(
        self,
        cfg: Config,
        aws: Aws,
        request: events.Request,
        *,
        clock: Clock,
        context: Any,
        hand_on: HandOn,
    ) -> None:
        self.cfg, self.aws, self.request = cfg, aws, request
        self.clock, self.context, self.hand_on = clock, context, hand_on
        self.job: dict[str, Any] = {}
        self.instance_id = ""
        self.command_id = request.command_id
        self.consistency = "unknown"

    # ------------------------------------------------------------------ entry
    def run(self) -> dict[str, Any]:
        try:
            self.job = self.aws.backup.describe_restore_job(
                RestoreJobId=self.request.restore_job_id
            )
        except (ClientError, BotoCoreError) as error:
            return self._finish(Verdict("FAILED", f"validation could not run: {_error(error)}"))
        created_by = (self.job.get("CreatedBy") or {}).get("RestoreTestingPlanArn")
        if created_by != self.cfg.restore_testing_plan_arn:
            logger.info(
                "ignored restore job %s: not created by this module's restore testing plan (%s)",
                self.request.restore_job_id,
                created_by,
            )
            return {"status": "ignored", "reason": "not this module's restore test"}
        if not self.request.continued and self.job.get("ValidationStatus") in FINAL:
            logger.info(
                "restore job %s is already validated (%s)",
                self.request.restore_job_id,
                self.job["ValidationStatus"],
            )
            return {"status": "ignored", "reason": "already validated"}
        try:
            verdict = self._validate()
        except HandedOn:
            return {"status": "handed-on", "hop": self.request.hop + 1}
        except TimeoutError as error:
            verdict = Verdict("TIMED_OUT", str(error), [Check("restore-job", "passed")])
        except (ClientError, BotoCoreError) as error:
            verdict = Verdict(
                "FAILED",
                f"validation could not run: {_error(error)}",
                [Check("restore-job", "passed")],
            )
        return self._finish(verdict)

    # ------------------------------------------------------------------ the checks
    def _validate(self) -> Verdict:
        self._settle()
        status = self.job.get("Status")
        if status in ("FAILED", "ABORTED"):
            reason = (
                f"the restore job ended {status}: {self.job.get('StatusMessage') or 'no message'}"
            )
            return Verdict("RESTORE_FAILED", reason, [Check("restore-job", "failed", reason)])
        arn = self.job.get("CreatedResourceArn") or ""
        if status != "COMPLETED" or ":instance/" not in arn or not self.job.get("CompletionDate"):
            reason = f"the restore job is {status} and restored no instance ({arn or 'none'})"
            return Verdict("RESTORE_FAILED", reason, [Check("restore-job", "failed", reason)])
        self.instance_id = arn.rsplit("/", 1)[-1]
        done = [Check("restore-job", "passed", self.instance_id)]
        self.consistency = self._consistency()
        if not self.request.continued:
            self._put("VALIDATING", f"validating {self.instance_id}")
        completed = _utc(self.job["CompletionDate"])
        deadline = completed + timedelta(hours=self.cfg.validation_window_hours) - WINDOW_MARGIN
        agent_deadline = min(deadline, completed + timedelta(seconds=self.cfg.agent_wait_seconds))
        if self.command_id is None:
            verdict = self._wait_for_agent(done, agent_deadline, deadline)
            if verdict is not None:
                return verdict
            done += [Check("boot", "passed", "running"), Check("ssm-agent", "passed", "Online")]
            self.command_id = self._send()
        else:
            done += [Check("boot", "passed", "running"), Check("ssm-agent", "passed", "Online")]
        return self._wait_for_command(done, deadline)

    def _settle(self) -> None:
        """The event can precede what DescribeRestoreJob shows: wait for a terminal state."""
        until = self.clock.now() + SETTLE_WAIT
        pause = COMMAND_POLL_SECONDS
        while self.job.get("Status") in ("PENDING", "RUNNING") and self.clock.now() < until:
            self._pause(pause, None)
            pause = min(pause * 2, MAX_POLL_SECONDS)
            self.job = self.aws.backup.describe_restore_job(
                RestoreJobId=self.request.restore_job_id
            )

    def _wait_for_agent(
        self, done: list[Check], agent_deadline: datetime, deadline: datetime
    ) -> Verdict | None:
        pause = AGENT_POLL_SECONDS
        while True:
            problem = self._boot_problem()
            if problem is not None:
                return Verdict(
                    "FAILED",
                    f"boot: {problem}",
                    checks.with_skipped([*done, Check("boot", "failed", problem)]),
                )
            if self._agent_online():
                return None
            now = self.clock.now()
            if now >= agent_deadline:
                if agent_deadline >= deadline:
                    reason = "the validation window ended before the SSM agent came online"
                    return Verdict(
                        "TIMED_OUT",
                        reason,
                        checks.with_skipped(
                            [
                                *done,
                                Check("boot", "passed", "running"),
                                Check("ssm-agent", "failed", reason),
                            ]
                        ),
                    )
                minutes = self.cfg.agent_wait_seconds // 60
                reason = (
                    f"the SSM agent of {self.instance_id} did not come online within "
                    f"{minutes} minutes of the restore (is the instance profile restored: "
                    "iamInstanceProfileName UseBackedUpValue? can it reach Systems Manager?)"
                )
                return Verdict(
                    "FAILED",
                    f"ssm-agent: {reason}",
                    checks.with_skipped(
                        [
                            *done,
                            Check("boot", "passed", "running"),
                            Check("ssm-agent", "failed", reason),
                        ]
                    ),
                )
            self._pause(min(pause, (agent_deadline - now).total_seconds() + 1), None)
            pause = min(pause * 2, MAX_POLL_SECONDS)

    def _wait_for_command(self, done: list[Check], deadline: datetime) -> Verdict:
        pause = COMMAND_POLL_SECONDS
        while True:
            invocation = self._invocation()
            if invocation is not None and invocation.get("Status") not in checks.RUNNING_COMMAND:
                found = checks.from_command(invocation)
                result = done + found
                failed = next((c for c in found if c.status == "failed"), None)
                if failed is None:
                    return Verdict(
                        "SUCCESSFUL", f"{len(found)} checks passed on {self.instance_id}", result
                    )
                return Verdict("FAILED", f"{failed.name}: {failed.detail}", result)
            now = self.clock.now()
            if now >= deadline:
                reason = "the validation window ended while the checks were still running"
                return Verdict("TIMED_OUT", reason, [*done, Check("filesystems", "failed", reason)])
            self._pause(min(pause, (deadline - now).total_seconds() + 1), self.command_id)
            pause = min(pause * 2, MAX_POLL_SECONDS)

    # ------------------------------------------------------------------ AWS calls
    def _boot_problem(self) -> str | None:
        reservations = self.aws.ec2.describe_instances(InstanceIds=[self.instance_id])[
            "Reservations"
        ]
        found = [i for r in reservations for i in r.get("Instances", [])]
        state = found[0]["State"]["Name"] if found else "terminated"
        if state == "pending":
            return None
        statuses = self.aws.ec2.describe_instance_status(
            InstanceIds=[self.instance_id], IncludeAllInstances=True
        ).get("InstanceStatuses", [])
        return checks.instance_problem(state, statuses)

    def _agent_online(self) -> bool:
        found = self.aws.ssm.describe_instance_information(
            Filters=[{"Key": "InstanceIds", "Values": [self.instance_id]}]
        ).get("InstanceInformationList", [])
        return any(i.get("PingStatus") == "Online" for i in found)

    def _send(self) -> str:
        response = self.aws.ssm.send_command(
            DocumentName=self.cfg.validation_document_name,
            InstanceIds=[self.instance_id],
            Parameters={
                "RestoreJobId": [self.request.restore_job_id],
                "CheckTimeoutSeconds": [str(self.cfg.check_timeout_seconds)],
            },
            TimeoutSeconds=SEND_TIMEOUT_SECONDS,
            Comment=f"restore test {self.request.restore_job_id}"[:100],
        )
        return response["Command"]["CommandId"]

    def _invocation(self) -> dict[str, Any] | None:
        try:
            return self.aws.ssm.get_command_invocation(
                CommandId=self.command_id, InstanceId=self.instance_id
            )
        except ClientError as error:
            # Right after SendCommand the invocation may not exist yet.
            if error.response.get("Error", {}).get("Code") == "InvocationDoesNotExist":
                return None
            raise

    def _consistency(self) -> str:
        image_id = (self.job.get("RecoveryPointArn") or "").rsplit("/", 1)[-1]
        if not image_id.startswith("ami-"):
            return "unknown"
        try:
            images = self.aws.ec2.describe_images(ImageIds=[image_id]).get("Images", [])
        except (ClientError, BotoCoreError) as error:
            logger.warning("could not read the recovery point's label: %s", error)
            return "unknown"
        tags = {t["Key"]: t["Value"] for image in images for t in image.get("Tags", [])}
        return tags.get(CONSISTENCY_TAG, "unknown")

    def _put(self, status: str, text: str) -> str | None:
        try:
            self.aws.backup.put_restore_validation_result(
                RestoreJobId=self.request.restore_job_id,
                ValidationStatus=status,
                ValidationStatusMessage=text,
            )
        except (ClientError, BotoCoreError) as error:
            logger.error("could not put the validation result %s: %s", status, error)
            return _error(error)
        return None

    def _pause(self, seconds: float, command_id: str | None) -> None:
        """Sleep, or hand on to a new invocation when this one is running out of time."""
        if self.context.get_remaining_time_in_millis() - seconds * 1000 < HAND_ON_MARGIN_MS:
            if self.request.hop + 1 > events.MAX_HOPS:
                raise TimeoutError("the validation outlasted its continuations")
            self.hand_on(
                self.context.invoked_function_arn, events.continuation(self.request, command_id)
            )
            raise HandedOn
        self.clock.sleep(seconds)

    # ------------------------------------------------------------------ report
    def _finish(self, verdict: Verdict) -> dict[str, Any]:
        put_error = None
        if verdict.status in FINAL:
            put_error = self._put(verdict.status, checks.message(verdict, self.consistency))
        entry = self._notification(verdict, put_error)
        published = entry is not None and notify.publish(
            self.aws.sns, self.cfg.notification_topic_arn, entry
        )
        result = {
            "status": verdict.status,
            "reason": verdict.reason,
            "restore_job_id": self.request.restore_job_id,
            "restored_instance_id": self.instance_id,
            "consistency": self.consistency,
            "checks": verdict.summary(),
            "notified": published,
        }
        logger.info("restore test validated", extra={"result": result})
        return result

    def _notification(self, verdict: Verdict, put_error: str | None) -> dict[str, Any] | None:
        source_arn = self.job.get("SourceResourceArn") or ""
        node = source_arn.rsplit("/", 1)[-1] if ":instance/" in source_arn else ""
        node = node or self.instance_id or "restore-test"
        if verdict.status == "SUCCESSFUL":
            try:
                open_alert = self._previous_failed()
            except (ClientError, BotoCoreError) as error:
                # A clear that closes nothing is harmless; a missed one leaves a ticket open.
                logger.warning("could not read the previous restore test: %s", error)
                open_alert = True
            if open_alert:
                severity = "0"
            elif self.cfg.notify_on_success:
                severity = "5"
            else:
                return None
            event_type, outcome = "RestoreTestSucceeded", "succeeded"
        elif verdict.status == "TIMED_OUT":
            event_type, outcome, severity = "RestoreTestFailed", "timed-out", "3"
        else:
            event_type, outcome, severity = "RestoreTestFailed", "failed", "2"
        reason = verdict.reason + (
            f"; the result could not be put: {put_error}" if put_error else ""
        )
        point = (self.job.get("RecoveryPointArn") or "unknown").rsplit("/", 1)[-1]
        status = verdict.status if verdict.status in FINAL else "FAILED (restore job)"
        return notify.notification(
            self.cfg,
            node=node,
            resource=source_arn
            or self.job.get("CreatedResourceArn")
            or self.request.restore_job_id,
            event_type=event_type,
            outcome=outcome,
            severity=severity,
            description=(
                f"Restore test of {node} from {point} (labelled {self.consistency}): "
                f"{status}: {reason}"
            )[:2000],
            additional={
                "restore_job_id": self.request.restore_job_id,
                "restore_testing_plan_arn": self.cfg.restore_testing_plan_arn,
                "recovery_point_arn": self.job.get("RecoveryPointArn"),
                "restored_instance_id": self.instance_id,
                "validation_status": verdict.status if verdict.status in FINAL else "",
                "consistency": self.consistency,
                "checks": verdict.summary(),
                "command_id": self.command_id,
                "reason": reason,
            },
            now=self.clock.now(),
        )

    def _previous_failed(self) -> bool:
        """Whether this plan's previous test of the same instance left an alert open."""
        source = self.job.get("SourceResourceArn")
        created = self.job.get("CreationDate")
        if not source or not created:
            return False
        pages = self.aws.backup.get_paginator("list_restore_jobs").paginate(
            ByRestoreTestingPlanArn=self.cfg.restore_testing_plan_arn,
            ByCreatedBefore=_utc(created),
            ByCreatedAfter=_utc(created) - PREVIOUS_WINDOW,
        )
        earlier = [
            j
            for page in pages
            for j in page.get("RestoreJobs", [])
            if j.get("SourceResourceArn") == source
            and j.get("RestoreJobId") != self.request.restore_job_id
        ]
        if not earlier:
            return False
        last = max(earlier, key=lambda j: _utc(j["CreationDate"]))
        return last.get("Status") in ("FAILED", "ABORTED") or last.get("ValidationStatus") in (
            "FAILED",
            "TIMED_OUT",
        )


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _error(error: Exception) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'Error')}: {details.get('Message', '')}"[:300]
    return str(error)[:300]
