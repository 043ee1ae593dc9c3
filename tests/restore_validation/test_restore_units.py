"""The validation's pure parts: configuration, events, and reading what AWS answered."""

from __future__ import annotations

import json

import pytest

from restore_validation import checks, config, events
from restore_validation.checks import Check, Verdict

ENV = {
    "NAME_PREFIX": "acb",
    "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:eu-west-1:111122223333:acb-events",
    "RESTORE_TESTING_PLAN_ARN": (
        "arn:aws:backup:eu-west-1:111122223333:restore-testing-plan:acb_restore_test"
    ),
    "VALIDATION_DOCUMENT_NAME": "acb-restore-validation",
}


def test_configuration_defaults_and_every_problem_named() -> None:
    cfg = config.from_environment(ENV)
    assert (cfg.validation_window_hours, cfg.agent_wait_seconds, cfg.notify_on_success) == (
        24,
        900,
        False,
    )
    with pytest.raises(config.ConfigurationError) as raised:
        config.from_environment(
            {**ENV, "NAME_PREFIX": "", "VALIDATION_WINDOW_HOURS": "0", "NOTIFY_ON_SUCCESS": "yes"}
        )
    message = str(raised.value)
    assert "NAME_PREFIX is missing" in message
    assert "VALIDATION_WINDOW_HOURS='0' must be a whole number from 1 to 168" in message
    assert "NOTIFY_ON_SUCCESS='yes' must be true or false" in message
    with pytest.raises(config.ConfigurationError, match="RESTORE_TESTING_PLAN_ARN"):
        config.from_environment({**ENV, "RESTORE_TESTING_PLAN_ARN": "arn:aws:backup:x"})


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ([], "not a JSON object"),
        ({"source": "aws.ec2", "detail-type": "Restore Job State Change"}, "not an AWS Backup"),
        (
            {"source": "aws.backup", "detail-type": "Restore Job State Change", "detail": {}},
            "restoreJobId",
        ),
        ({"continuation": "x"}, "continuation is not"),
        ({"continuation": {"restore_job_id": "a b", "hop": 1}}, "restore_job_id is malformed"),
        ({"continuation": {"restore_job_id": "A1", "hop": 21}}, "hop must be"),
        ({"continuation": {"restore_job_id": "A1", "hop": True}}, "hop must be"),
        ({"continuation": {"restore_job_id": "A1", "hop": 1, "command_id": "x"}}, "command_id"),
    ],
)
def test_events_refused(event: object, problem: str) -> None:
    with pytest.raises(events.EventError, match=problem):
        events.parse(event)


def test_continuation_round_trip() -> None:
    first = events.parse(
        {
            "source": "aws.backup",
            "detail-type": "Restore Job State Change",
            "detail": {"restoreJobId": "A1-B2"},
        }
    )
    command = "0b3c1e6e-3a25-4a4e-9d2b-0a1b2c3d4e5f"
    again = events.parse(json.loads(json.dumps(events.continuation(first, command))))
    assert again == events.Request("A1-B2", hop=1, command_id=command)
    assert again.continued
    assert not first.continued


def test_instance_problems() -> None:
    assert checks.instance_problem("stopped", []) == "the restored instance is stopped"
    assert (
        checks.instance_problem("running", [{"InstanceStatus": {"Status": "initializing"}}]) is None
    )
    assert (
        checks.instance_problem(
            "running", [{"SystemStatus": {"Status": "impaired", "Details": []}}]
        )
        == "its system status check is impaired"
    )


def _invocation(status: str, stdout: str, stderr: str = "") -> dict:
    return {
        "Status": status,
        "StatusDetails": status,
        "StandardOutputContent": stdout,
        "StandardErrorContent": stderr,
    }


def test_command_results_that_are_not_the_contract_fail() -> None:
    (unreadable,) = checks.from_command(_invocation("Success", "ok\n"))
    assert unreadable == Check(
        "filesystems", "failed", "the validation document's output is unreadable"
    )
    (timed_out,) = checks.from_command(_invocation("TimedOut", "", "still checking\nkilled"))
    assert timed_out.detail == "the validation command ended TimedOut: killed"
    invalid = checks.from_command(
        _invocation("Failed", json.dumps({"status": "failed", "checks": [], "exit_code": 22}))
    )
    assert invalid == [
        Check("filesystems", "failed", "exit 22: prerequisites missing on the instance")
    ]
    cancelled = checks.from_command(
        _invocation(
            "Cancelled", json.dumps({"checks": [{"name": "filesystems", "status": "passed"}]})
        )
    )
    assert cancelled[-1] == Check("filesystems", "failed", "the validation command ended Cancelled")


def test_message_is_one_bounded_line() -> None:
    verdict = Verdict("FAILED", "user:x: exit 1:\n" + "y" * 2000, [Check("user:x", "failed")])
    text = checks.message(verdict, "application-consistent")
    assert "\n" not in text
    assert len(text) == checks.MESSAGE_LIMIT
    assert text.startswith("FAILED: user:x: exit 1: yyy")
    assert verdict.failed_check == Check("user:x", "failed")
