"""AWS Backup at fleet scale: start latencies drawn per instance, one job per resource at a time."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

import emulator
from emulator.backup_realism import JobDuration, StartLatency
from emulator.statemachine import ACCOUNT, REGION, VAULT, World, emulated_aws

pytestmark = pytest.mark.usefixtures("fleet_hooks")


@pytest.fixture(scope="module")
def world(fleet_hooks: None) -> Iterator[World]:
    with emulated_aws() as shared:
        yield shared


def test_start_latencies_follow_the_assumed_distribution_and_repeat() -> None:
    draws = [StartLatency().sample(random.Random(7)) for _ in range(3)]  # noqa: S311
    assert draws[0] == draws[1] == draws[2]  # same seed, same draw
    generator = random.Random(1)  # noqa: S311 - a simulation
    sample = sorted(StartLatency().sample(generator) for _ in range(2000))
    assert 9 < sample[1000] < 15  # median about 12 s
    assert sample[-1] <= 3600  # "within an hour"
    assert min(JobDuration().sample(generator) for _ in range(200)) >= 60


def start(world: World, instance_id: str, token: str) -> str:
    return world.backup.start_backup_job(
        BackupVaultName=VAULT,
        ResourceArn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}",
        IamRoleArn=f"arn:aws:iam::{ACCOUNT}:role/acb-backup",
        IdempotencyToken=f"{instance_id}-{token}",
        StartWindowMinutes=60,
    )["BackupJobId"]


def state(world: World, job_id: str) -> str:
    return world.backup.describe_backup_job(BackupJobId=job_id)["State"]


def test_a_second_job_on_a_resource_waits_for_the_first(world: World) -> None:
    instance_id = world.instance()
    emulator.backup.plan(instance_id, start_after=5, run_seconds=600)
    first, second = start(world, instance_id, "one"), start(world, instance_id, "two")
    emulator.clock.advance(10)
    assert (state(world, first), state(world, second)) == ("RUNNING", "CREATED")
    emulator.clock.advance(600)  # the first ends at 605, the second starts at 610
    assert (state(world, first), state(world, second)) == ("COMPLETED", "RUNNING")
    assert start(world, instance_id, "one") == first  # idempotent: no third job


def test_a_job_held_past_its_start_window_expires(world: World) -> None:
    instance_id = world.instance()
    emulator.backup.plan(instance_id, start_after=5, run_seconds=7200)
    first, second = start(world, instance_id, "one"), start(world, instance_id, "two")
    emulator.clock.advance(3601)
    assert (state(world, first), state(world, second)) == ("RUNNING", "EXPIRED")


def test_every_snapshot_of_a_started_job_is_in_ec2_from_its_start_time(world: World) -> None:
    # The refresh moves only due jobs: a snapshot taken a moment after the first (its own
    # StartTime) must come into EC2 then, not when the job next changes state.
    instance_id = world.instance(volume_keys=[None, None, None])
    emulator.backup.plan(instance_id, start_after=5, run_seconds=600)
    job_id = start(world, instance_id, "spread")
    emulator.clock.advance(5.1)  # started: the first snapshot exists, the others not yet
    assert state(world, job_id) == "RUNNING"
    emulator.clock.advance(1)
    (job,) = [j for j in emulator.backup.jobs(region=REGION) if j.backup_job_id == job_id]
    found = world.ec2.describe_snapshots(SnapshotIds=job.snapshot_ids)["Snapshots"]
    assert sorted(s["SnapshotId"] for s in found) == sorted(job.snapshot_ids)
    assert len(found) == 3
