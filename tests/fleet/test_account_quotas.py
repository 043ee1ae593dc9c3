"""An account's own quotas (the module's api_budget.quotas) in the fleet harness and its bench.

A raised quota reaches the bucket the module's calls draw on and the budgets the figures
measure against; bench/fleet.py takes it as ``--quota API=RATE`` only with the admission
the module derives for it (``--freeze-slots``, ``--start-rate``), since that derivation
lives in Terraform.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from emulator.fleet import run_fleet
from emulator.fleet_figures import figures, invariant_breaches
from emulator.quotas import ACCOUNT_QUOTA_SOURCE, Quotas, account_quotas
from emulator.statemachine import REGION

ROOT = Path(__file__).resolve().parents[2]
RAISED = {"ssm:SendCommand": 20.0, "backup:StartBackupJob": 20.0, "ec2:DescribeSnapshots": 200.0}
# What budget.tf derives for RAISED (asserted by the tftest run
# the_fleet_bench_raised_quotas_give_its_admission): SendCommand's and StartBackupJob's
# budgets of 10 a second allow 10 freeze slots, turning over in 30 s: 0.33 starts a second.
ADMISSION = ["--freeze-slots", "10", "--start-rate", "0.33"]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_fleet", ROOT / "bench" / "fleet.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_raised_quota_reaches_the_bucket_the_module_draws_on() -> None:
    quotas = Quotas(region=REGION, other_tenants=0.3, overrides=account_quotas(RAISED, REGION))
    key, quota = quotas.quota("ssm", "SendCommand")
    assert (key, quota.rate, quota.burst) == ("ssm:SendCommand", 20.0, 50)  # the table's burst
    assert quota.source == ACCOUNT_QUOTA_SOURCE
    assert not quota.assumption
    _, start = quotas.quota("backup", "StartBackupJob")
    assert (start.rate, start.burst) == (20.0, 20.0)  # the table's burst (5) is below the rate
    # EC2: the filtered bucket (the module filters its DescribeSnapshots); the table's burst
    # (100) is below a second's refill, so the burst is that.
    key, snapshots = quotas.quota("ec2", "DescribeSnapshots", None)
    assert (key, snapshots.rate, snapshots.burst) == ("ec2:DescribeSnapshots", 200.0, 200.0)
    key, unfiltered = quotas.quota("ec2", "DescribeSnapshots", object())
    assert (key, unfiltered.rate) == ("ec2:DescribeSnapshots(unfiltered)", 10)
    assert quotas.ours(quota).rate == pytest.approx(14.0)  # other tenants still take 30 %
    _, untouched = quotas.quota("ssm", "GetCommandInvocation")
    assert untouched.rate == 20


@pytest.mark.parametrize(
    "key", ["ssm:SendCommands", "ec2:DescribeSnapshots(unfiltered)", "SendCommand", "s3:GetObject"]
)
def test_a_key_naming_no_metered_api_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"'{key}' names no API the emulator meters")):
        account_quotas({key: 20.0}, REGION)


def test_a_rate_not_above_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="'ssm:SendCommand': 0 is not a rate above 0"):
        account_quotas({"ssm:SendCommand": 0}, REGION)


def test_the_bench_reads_the_quotas_and_the_admission(bench: ModuleType) -> None:
    argv = [f"--quota={api}={rate:g}" for api, rate in RAISED.items()]
    config, _ = bench.config_of(["--instances", "6", *argv, *ADMISSION])
    assert config.quota_overrides == RAISED
    assert (config.freeze_slots, config.start_rate_per_second) == (10, 0.33)
    assert bench.config_of([])[0] == bench.FleetConfig(instances=1000)  # the defaults stay


@pytest.mark.usefixtures("fleet_hooks")  # run_fleet installs them; the fixture takes them out
def test_the_poll_gate_the_module_derives_reaches_the_definition(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["--quota", "backup:DescribeBackupJob=14", "--job-poll-gate-calls", "7", *ADMISSION]
    config, _ = bench.config_of(argv)
    deployed: list[dict[str, object]] = []

    class Deployed(Exception):
        pass

    def deploy(variables: dict[str, object]) -> None:
        deployed.append(variables)
        raise Deployed

    monkeypatch.setattr("emulator.statemachine.emulated_aws", deploy)
    with pytest.raises(Deployed):
        run_fleet(config)
    assert deployed == [{"freeze_slots": 10, "job_poll_gate_calls": 7}]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--quota", "ssm:SendCommand=20"], "--quota needs --freeze-slots and --start-rate"),
        (["--quota", "ssm:SendCommand=20", "--freeze-slots", "10"], "terraform output admission"),
        (["--quota", "ssm:SendCommand=20", "--start-rate", "0.33"], "--quota needs"),
        (["--quota", "ssm:SendCommand", *ADMISSION], "argument --quota: 'ssm:SendCommand' is not"),
        (["--quota", "ssm:SendCommand=fast", *ADMISSION], "'fast' is not a number"),
        (["--quota", "ssm:SendCommand=0", *ADMISSION], "argument --quota: .* not a rate above 0"),
        (["--quota=ssm:SendCommand=-5", *ADMISSION], "argument --quota: .* not a rate above 0"),
        (
            ["--quota", "ssm:Nope=20", *ADMISSION],
            "argument --quota: quota override 'ssm:Nope' names no API",
        ),
        (
            ["--quota", "ssm:SendCommand=20", "--quota", "ssm:SendCommand=30", *ADMISSION],
            "an API is given twice",
        ),
        (
            ["--quota", "backup:DescribeBackupJob=20", *ADMISSION],
            "--quota backup:DescribeBackupJob needs --job-poll-gate-calls",
        ),
        (["--job-poll-gate-calls", "0"], "argument --job-poll-gate-calls: '0' is not a whole"),
        (["--freeze-slots", "0"], "argument --freeze-slots: '0' is not a whole number"),
        (["--start-rate", "none"], "argument --start-rate: 'none' is not a rate"),
    ],
)
def test_the_bench_refuses_a_wrong_command_line(
    bench: ModuleType, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        bench.main(argv)
    assert exited.value.code == 2
    assert re.search(message, capsys.readouterr().err)


@pytest.mark.usefixtures("fleet_hooks")
def test_a_fleet_with_raised_quotas_keeps_under_the_budgets_they_give(bench: ModuleType) -> None:
    argv = ["--instances", "6", "--no-baseline", *ADMISSION]
    config, _ = bench.config_of(argv + [f"--quota={api}={rate:g}" for api, rate in RAISED.items()])
    run = run_fleet(config)
    result = figures(run, None)
    assert result["quota_overrides"] == RAISED
    budgets = result["budget_calls_per_second"]
    assert budgets["ssm:SendCommand"] == 10.0  # half the account's 20, not of the assumed 5
    assert budgets["backup:StartBackupJob"] == 10.0
    assert budgets["ec2:DescribeSnapshots"] == 100.0
    assert budgets["ssm:GetCommandInvocation"] == 10.0  # no override: the module's table
    assert run.apis["ssm:SendCommand"].quota.rate == 20.0  # the bucket the run drew on
    over = {
        api: peak for api, peak in result["peak_calls_per_second"].items() if peak > budgets[api]
    }
    assert over == {}
    assert result["freeze_slots"] == 10
    assert result["start_pace_floor_seconds"] == round(6 / 0.33, 3)
    # The slots hold every window back to back at best: no run thaws its last before that.
    assert 0 < result["slot_floor_seconds"] <= result["last_thaw_seconds"]
    assert result["job_tail_seconds"] == round(
        result["completion_seconds"] - result["last_thaw_seconds"], 3
    )
    assert invariant_breaches(run) == []
    assert result["throttled_calls"] == 0
    # The start pace reached discovery: six starts 1/0.33 s apart, where the default 0.06 a
    # second would have spread them over 83 s.
    starts = sorted(i.started for i in run.instances if i.started is not None)
    assert len(starts) == 6
    assert starts[-1] - starts[0] < 5 / 0.06 / 2
