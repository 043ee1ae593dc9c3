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

    wanted: dict[str, set[str]] = {}
    for item in self._get_param("Filters", []) or []:
        wanted[item["Key"]] = set(item.get("Values") or [])
    for item in self._get_param("InstanceInformationFilterList", []) or []:
        wanted[item["key"]] = set(item.get("valueSet") or [])
    if "InstanceIds" not in wanted:
        return _originals["describe"](self)
    ec2 = ec2_backends[self.current_account][self.region]
    named = set(wanted["InstanceIds"])
    infos = []
    # The named instances, in the order all_instances() gives them.
    for instance in _named_instances(ec2, named):
        target = _ssm.agent(instance.id, self.current_account, self.region)
        ping = target.ping_status(instance)
        if ping is None:
            continue
        info = _ssm._information(instance, target, ping)
        checks = {
            "InstanceIds": info["InstanceId"],
            "PingStatus": ping,
            "PlatformTypes": info["PlatformType"],
        }
        if all(key not in wanted or value in wanted[key] for key, value in checks.items()):
            infos.append(info)
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
