"""A rejected input names what is wrong: the schedule, subscription or destination.

One ``terraform validate`` of a configuration that calls the root module and the
submodules with constant inputs, some good and some bad (Terraform 1.9+ evaluates the
validations of constant module inputs at validate time). Each error must name the bad
keys and none of the good ones. (Validations that refer to another variable, such as a
schedule's retention against the vault lock, are evaluated by plan only.)
``tests/variables.tftest.hcl`` and the submodules' tests prove that each validation
rejects what it should; this proves the user is told which one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

ARN = "arn:aws:{}:eu-west-1:111122223333:{}"
CONFIG = """
provider "aws" {
  region = "eu-west-1"
}

module "root" {
  source = "ROOT"
  schedules = {
    good     = { schedule_expression = "cron(0 1 * * ? *)" }
    Bad_Name = { schedule_expression = "cron(0 2 * * ? *)" }
    five     = { schedule_expression = "cron(0 1 * * *)" }
    paris    = { schedule_expression = "rate(1 day)", timezone = "Paris time" }
    forever  = { schedule_expression = "rate(1 day)", retention_days = 0 }
    late     = { schedule_expression = "rate(1 day)", flexible_window_minutes = 2000 }
    inject   = { schedule_expression = "rate(1 day)", tag_value = "night$(id)" }
    brief    = { schedule_expression = "rate(1 day)", max_freeze_seconds = 14 }
    ignore   = { schedule_expression = "rate(1 day)", on_freeze_failure = "ignore" }
    start    = { schedule_expression = "rate(1 day)", stopped_instances = "start" }
    twin     = { schedule_expression = "rate(1 day)", tag_value = "good" }
  }
  copy_destinations = [
    { destination_vault_arn = "arn:aws:backup:eu-central-1:111122223333:backup-vault:dr" },
    { destination_vault_arn = "not-an-arn", retention_days = 0 },
    { destination_vault_arn = "arn:aws:backup:eu-central-1:111122223333:backup-vault:dr" },
  ]
  notifications = {
    subscriptions = {
      fine    = { protocol = "email", endpoint = "a@example.com" }
      plain   = { protocol = "http", endpoint = "http://x" }
      nohttps = { protocol = "https", endpoint = "http://x" }
      nomail  = { protocol = "email", endpoint = "oncall" }
      badjson = { protocol = "email", endpoint = "b@example.com", filter_policy = "{sev" }
    }
  }
}

module "discovery" {
  source                 = "ROOT/modules/discovery"
  name_prefix            = "acb"
  state_machine_arn      = "arn:aws:states:eu-west-1:111122223333:stateMachine:acb"
  notification_topic_arn = "arn:aws:sns:eu-west-1:111122223333:acb"
  schedules = {
    fine = {
      schedule_expression = "rate(1 day)"
      policy = {
        retention_days = 7, max_freeze_seconds = 60, on_freeze_failure = "skip"
        stopped_instances = "backup", copy_targets = [], notify_on_success = false
      }
    }
    odd = {
      schedule_expression = "daily"
      timezone            = "Mars"
      policy = {
        retention_days = 0, max_freeze_seconds = 0, on_freeze_failure = "x"
        stopped_instances = "x", notify_on_success = false
        copy_targets = [{ destination_vault_arn = "nope", retention_days = 1 }]
      }
    }
  }
}

module "notifications" {
  source      = "ROOT/modules/notifications"
  name_prefix = "acb"
  subscriptions = {
    fine  = { protocol = "email", endpoint = "a@example.com" }
    plain = { protocol = "http", endpoint = "x" }
  }
}
"""


def _terraform_env() -> dict[str, str]:
    env = dict(os.environ, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    config = ROOT / ".tfcli" / "terraformrc"
    if not Path(env.get("TF_CLI_CONFIG_FILE") or "/nonexistent").is_file() and config.exists():
        env["TF_CLI_CONFIG_FILE"] = str(config)
    return env


@pytest.fixture(scope="module")
def errors(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    if shutil.which("terraform") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("required under CI=true: terraform on PATH")
        pytest.skip("needs terraform on PATH")
    work = tmp_path_factory.mktemp("messages")
    source = os.path.relpath(ROOT, work)
    (work / "main.tf").write_text(CONFIG.replace("ROOT", source))
    env = _terraform_env()

    def terraform(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["terraform", *args],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    init = terraform("init", "-backend=false", "-input=false")
    assert init.returncode == 0, init.stdout + init.stderr
    proc = terraform("validate", "-json", "-no-color")
    report = json.loads(proc.stdout)
    assert not report["valid"]
    return [d.get("detail", "") for d in report["diagnostics"] if d["severity"] == "error"]


def _one(errors: list[str], start: str) -> str:
    matching = [e for e in errors if e.startswith(start)]
    assert len(matching) == 1, (start, errors)
    return matching[0]


@pytest.mark.parametrize(
    ("start", "named"),
    [
        ("Schedule names must", '"Bad_Name"'),
        ("schedule_expression of", 'five ("cron(0 1 * * *)")'),
        ("timezone of", 'paris ("Paris time")'),
        ("retention_days of forever", "forever (0)"),
        ("flexible_window_minutes of", "late (2000)"),
        ("tag_value of", 'inject ("night$(id)")'),
        ("max_freeze_seconds of", "brief (14)"),
        ("on_freeze_failure of", 'ignore ("ignore")'),
        ("stopped_instances of", 'start ("start")'),
        ("Schedules good (", 'good ("good"), twin ("good") select the same tag_value'),
        ("copy_destinations [1] (", '"not-an-arn"'),
        ("retention_days of copy_destinations", "[1] (0)"),
        (
            "copy_destinations [0]",
            "[0] (arn:aws:backup:eu-central-1:111122223333:backup-vault:dr), [2]",
        ),
        ("protocol of subscription", 'plain ("http")'),
        ("endpoint of https subscription", 'nohttps ("http://x")'),
        ("endpoint of email subscription", 'nomail ("oncall")'),
        ("filter_policy of subscription", "badjson"),
    ],
)
def test_root_messages_name_the_offending_keys(errors: list[str], start: str, named: str):
    message = " ".join(_one(errors, start).split())
    assert named in message
    for good in ("good (", "fine", "[0] ("):
        assert good not in message or named.startswith(good.strip(" (")), message


@pytest.mark.parametrize(
    "start",
    [
        "Schedule odd: each timezone",
        'Schedule odd ("daily"): each schedule_expression',
        "Schedule odd: each policy.retention_days",
        "Schedule odd: each policy.max_freeze_seconds",
        "Schedule odd: each policy.on_freeze_failure",
        "Schedule odd: each policy.stopped_instances",
        "Schedule odd: each policy.copy_targets",
        "Subscription plain: each subscription's protocol",
    ],
)
def test_submodule_messages_name_the_offending_keys(errors: list[str], start: str):
    _one(errors, start)
