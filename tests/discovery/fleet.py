"""Build large EC2 fleets in moto quickly (shared by the tests and bench/).

moto 5.2.5 looks up an instance's tags by scanning every tag of the region, once per
instance serialized, so DescribeInstances over N instances costs O(N^2) (2,000
instances: 19 s for one page). ``fast_moto`` replaces that lookup with a dictionary
access returning the same records, and stops moto from loading its 15,000 default
images into every new EC2 backend (a quarter of a second each time); ``make``
registers the two images it launches from, as moto defines them. ``make`` creates
instances through moto's backend, skipping the per-instance AMI and volume scans of
RunInstances and the serialization of its response; the instances are the same moto
objects that RunInstances creates, and everything the handler does goes through the
real API.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any
from unittest import mock

from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.parse import default_timestamp_parser as parse_timestamp
from moto.ec2.models import ec2_backends
from moto.ec2.models.amis import AMIS, Ami
from moto.ec2.models.core import TaggedEC2Resource
from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix
from moto.sns.models import sns_backends
from moto.stepfunctions.models import stepfunctions_backends

ACCOUNT = DEFAULT_ACCOUNT_ID
REGION = "eu-west-1"
LINUX_AMI = "ami-760aaa0f"  # moto's Amazon Linux image (no Platform)
WINDOWS_AMI = "ami-03cf127a"  # moto's Windows image (Platform: windows)


def _indexed_tags(self: Any) -> list[dict[str, str]]:
    if not self.id:
        return []
    kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(self.id), "")
    return [
        {"resource_id": self.id, "key": key, "value": value, "resource_type": kind}
        for key, value in self.ec2_backend.tags.get(self.id, {}).items()
    ]


@contextlib.contextmanager
def fast_moto() -> Iterator[None]:
    with (
        mock.patch.object(TaggedEC2Resource, "get_tags", _indexed_tags),
        mock.patch.dict(os.environ, {"MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}),
    ):
        yield


def _image(ec2: Any, ami_id: str) -> None:
    """Register one of moto's default images in a backend that skipped loading them."""
    if ami_id in ec2.amis:
        return
    spec = dict(next(a for a in AMIS if a["ami_id"] == ami_id), owner_alias="amazon")
    if isinstance(spec.get("creation_date"), str):
        spec["creation_date"] = parse_timestamp(spec["creation_date"])
    ec2.amis[ami_id] = Ami(ec2, **spec)


def backend(region: str = REGION) -> Any:
    return ec2_backends[ACCOUNT][region]


def make(
    count: int,
    tags: dict[str, str],
    *,
    per_reservation: int = 100,
    windows: bool = False,
    state: str = "running",
    region: str = REGION,
) -> list[str]:
    """Create ``count`` instances in reservations of ``per_reservation``; return their IDs."""
    ec2 = backend(region)
    ami = WINDOWS_AMI if windows else LINUX_AMI
    _image(ec2, ami)
    image = ec2.describe_images(filters={"image-id": ami})
    ids: list[str] = []
    with (
        mock.patch.object(type(ec2), "describe_images", return_value=image),
        mock.patch.object(type(ec2), "describe_volumes", return_value=[]),
    ):
        remaining = count
        while remaining:
            size = min(per_reservation, remaining)
            reservation = ec2.run_instances(
                ami,
                size,
                None,
                [],
                is_instance_type_default=True,
                region_name=region,
                tags={"instance": dict(tags)},
            )
            ids += [i.id for i in reservation.instances]
            remaining -= size
    if state == "stopped":
        ec2.stop_instances(ids)
    elif state == "terminated":
        ec2.terminate_instances(ids)
    elif state != "running":
        for instance_id in ids:
            ec2.get_instance(instance_id)._state.name = state
    return ids


def execution_inputs(env: Any) -> dict[str, str]:
    """Execution name -> input document, straight from moto's backend (no API paging)."""
    machine = stepfunctions_backends[ACCOUNT][REGION].describe_state_machine(env.state_machine_arn)
    return {e.name: e.execution_input for e in machine.executions}


def notifications(topic_arn: str) -> list[dict[str, Any]]:
    """Messages published to the topic: subject, message and attributes."""
    topic = sns_backends[ACCOUNT][REGION].topics[topic_arn]
    return [
        {"subject": subject, "message": message, "attributes": attributes}
        for _id, message, subject, attributes, _group in topic.sent_notifications
    ]
