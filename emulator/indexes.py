"""Speed only, behaviour unchanged: lookups that scanned the whole fleet at every call.

``DescribeInstanceInformation`` (emulator/ssm.py) builds the information of every
instance of the region, then filters: at a thousand instances each preflight call
built a thousand records. With an ``InstanceIds`` filter (the state machine's only
form) this answers from the named instances alone, through the same helpers and the
same filter rules; any other call goes to the original.
"""

from __future__ import annotations

from typing import Any

from . import ssm as _ssm
from ._patching import patch


def _describe_instance_information(self: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.ec2.models import ec2_backends

    wanted = _ssm.information_filters(self)
    if "InstanceIds" not in wanted:
        return _originals["describe"](self)
    ec2 = ec2_backends[self.current_account][self.region]
    # The named instances, in the order all_instances() gives them.
    instances = _named_instances(ec2, set(wanted["InstanceIds"]))
    infos = _ssm.information_of(instances, wanted, self.current_account, self.region)
    return ActionResult({"InstanceInformationList": infos})


def _named_instances(ec2: Any, named: set[str]) -> list[Any]:
    found = []
    for reservation in ec2.reservations.values():
        for instance in reservation.instances:
            if instance.id in named:
                found.append(instance)
    return found


_originals: dict[str, Any] = {}


def install() -> None:
    from moto.ssm.responses import SimpleSystemManagerResponse as Response

    current = Response.describe_instance_information
    if current is _describe_instance_information:
        return
    _originals["describe"] = current
    patch(Response, "describe_instance_information", _describe_instance_information)
