"""Which instances a schedule selects, and what to do with each.

DescribeInstances goes through the paginator, filtered server-side by the selection
tag, and every instance of every reservation is read. EC2 filter values treat ``*``
and ``?`` as wildcards, so the value is escaped and the match checked again here:
only an exact tag value selects an instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PAGE_SIZE = 1000  # DescribeInstances' maximum; tests lower it to see several pages

START = None  # Decision.reason of an instance whose execution is to be started
OPTED_OUT = "opted_out"
STOPPED_BY_POLICY = "stopped_by_policy"
STARTABLE_STATES = ("running", "stopped")


@dataclass(frozen=True)
class Instance:
    instance_id: str
    arn: str
    platform: str  # "linux" or "windows"
    state: str  # EC2 state name
    opted_out: bool


@dataclass(frozen=True)
class Decision:
    instance: Instance
    reason: str | None  # None: start an execution; otherwise why the instance is skipped

    @property
    def start(self) -> bool:
        return self.reason is None


def escape_filter_value(value: str) -> str:
    """Escape EC2 filter wildcards so that the value matches itself only."""
    return value.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


def platform_of(raw: dict[str, Any]) -> str:
    if raw.get("Platform", "").lower() == "windows":
        return "windows"
    if raw.get("PlatformDetails", "").lower().startswith("windows"):
        return "windows"
    return "linux"


def describe(ec2: Any, tag_key: str, tag_value: str, opt_out_tag_key: str) -> list[Instance]:
    """Every instance whose tag ``tag_key`` equals ``tag_value`` exactly, sorted by ID."""
    partition, region = ec2.meta.partition, ec2.meta.region_name
    found: dict[str, Instance] = {}
    pages = ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": f"tag:{tag_key}", "Values": [escape_filter_value(tag_value)]}],
        PaginationConfig={"PageSize": PAGE_SIZE},
    )
    for page in pages:
        for reservation in page.get("Reservations", []):
            owner = reservation["OwnerId"]
            for raw in reservation.get("Instances", []):
                tags = {t["Key"]: t.get("Value", "") for t in raw.get("Tags", [])}
                if tags.get(tag_key) != tag_value:
                    continue
                instance_id = raw["InstanceId"]
                found[instance_id] = Instance(
                    instance_id=instance_id,
                    arn=f"arn:{partition}:ec2:{region}:{owner}:instance/{instance_id}",
                    platform=platform_of(raw),
                    state=raw["State"]["Name"],
                    opted_out=tags.get(opt_out_tag_key, "").strip().lower() == "true",
                )
    return [found[key] for key in sorted(found)]


def decide(instance: Instance, stopped_instances: str) -> Decision:
    """Start an execution, or skip the instance with a reason that is counted."""
    if instance.opted_out:
        return Decision(instance, OPTED_OUT)
    if instance.state == "running":
        return Decision(instance, START)
    if instance.state == "stopped":
        return Decision(instance, START if stopped_instances == "backup" else STOPPED_BY_POLICY)
    return Decision(instance, "state_" + instance.state.replace("-", "_"))
