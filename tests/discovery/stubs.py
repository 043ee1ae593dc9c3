"""AWS answered inside botocore: DescribeInstances from a fleet generated on demand,
and StartExecution with Step Functions' idempotency.

``PagedFleet``, DescribeInstances:

A faithful stand-in for EC2's listing where moto is too slow (100,000 instances) or
where a test must script pages, tokens and faults exactly:

- filters ``tag:<key>`` (exact value, EC2's ``*``/``?`` wildcards and ``\\`` escapes)
  and ``tag-key``, joined with AND as EC2 does;
- pages of at most ``MaxResults`` matching instances (EC2: 5-1000), grouped in
  reservations with an ``OwnerId``; ``NextToken`` continues after the last instance
  returned and is opaque (base64 of JSON, like EC2's own tokens, so that passing one
  raw to botocore's paginator as a StartingToken would be misread);
- scripted faults per token: an error code and how many times.

Instances are built by ``make(index)`` when a page needs them: the stub holds no
fleet. It plugs in with ``install(client)`` (a ``before-call`` handler, so botocore
builds and validates the request as usual but sends nothing) and records every
request.

``Executions``, StartExecution: a new name starts (startDate now); the same name
again answers ExecutionAlreadyExists, as AWS does once that execution has ended (the
handler counts both "already" answers alike). It keeps the names (a set of strings)
and nothing else.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.awsrequest import AWSResponse

ACCOUNT = "123456789012"


@functools.lru_cache(maxsize=256)
def wildcard(pattern: str) -> re.Pattern[str]:
    """EC2's filter value: * and ? are wildcards, a backslash escapes the next character."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        i += 1
    return re.compile("^" + "".join(out) + "$", re.DOTALL)


def token_for(index: int) -> str:
    return base64.b64encode(json.dumps({"v": "2", "c": index}).encode()).decode()


def index_of(token: str) -> int:
    return int(json.loads(base64.b64decode(token))["c"])


def simple_instance(index: int, tags: dict[str, str], state: str = "running") -> dict[str, Any]:
    return {
        "InstanceId": f"i-{index:017x}",
        "State": {"Code": 16, "Name": state},
        "PlatformDetails": "Linux/UNIX",
        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
    }


@dataclass
class Fault:
    code: str
    times: int | None  # None: every time
    status: int = 400
    injected: int = 0


@dataclass
class PagedFleet:
    size: int
    make: Callable[[int], dict[str, Any]]
    per_reservation: int = 25
    owner: str = ACCOUNT
    requests: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[str | None, Fault] = field(default_factory=dict)
    on_page: Callable[[dict[str, Any]], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, token: str | None, code: str, times: int | None = 1, status: int = 400) -> None:
        """Answer requests carrying ``token`` (None: the first page) with an error."""
        self.faults[token] = Fault(code, times, status)

    def install(self, client: Any) -> None:
        client.meta.events.register_first("before-call.ec2.DescribeInstances", self)

    def token_of_page(self, page: int, page_size: int) -> str | None:
        """The NextToken that asks for page ``page`` (1-based) of an unfiltered listing."""
        return None if page == 1 else token_for((page - 1) * page_size)

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        body = params["body"]
        request = {
            "NextToken": body.get("NextToken"),
            "MaxResults": int(body.get("MaxResults", 1000)),
            "Filters": _filters(body),
        }
        with self._lock:
            self.requests.append(request)
            fault = self.faults.get(request["NextToken"])
            if fault is not None and (fault.times is None or fault.injected < fault.times):
                fault.injected += 1
                return _error(fault)
        start = index_of(request["NextToken"]) if request["NextToken"] else 0
        matches: list[dict[str, Any]] = []
        index = start
        limit = max(5, min(1000, request["MaxResults"]))
        while index < self.size and len(matches) < limit:
            raw = self.make(index)
            index += 1
            if _passes(raw, request["Filters"]):
                matches.append(raw)
        parsed: dict[str, Any] = {
            "Reservations": [
                {
                    "ReservationId": f"r-{start + offset:017x}",
                    "OwnerId": self.owner,
                    "Groups": [],
                    "Instances": matches[offset : offset + self.per_reservation],
                }
                for offset in range(0, len(matches), self.per_reservation)
            ],
            "ResponseMetadata": {"HTTPStatusCode": 200, "RequestId": "stub"},
        }
        if index < self.size:
            parsed["NextToken"] = token_for(index)
        if self.on_page is not None:
            self.on_page(request)
        return AWSResponse("https://ec2.invalid/", 200, {}, None), parsed


def _filters(body: dict[str, Any]) -> dict[str, list[str]]:
    """Filter.N.Name / Filter.N.Value.M of the query protocol, as name -> values."""
    names: dict[str, str] = {}
    values: dict[str, list[str]] = {}
    for key, value in body.items():
        parts = key.split(".")
        if parts[0] != "Filter" or len(parts) < 3:
            continue
        if parts[2] == "Name":
            names[parts[1]] = value
        elif parts[2] == "Value":
            values.setdefault(parts[1], []).append(value)
    return {names[n]: values.get(n, []) for n in names}


def _passes(raw: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    tags = {t["Key"]: t.get("Value", "") for t in raw.get("Tags", [])}
    for name, patterns in filters.items():
        regexes = [wildcard(p) for p in patterns]
        if name == "tag-key":
            if not any(r.match(key) for key in tags for r in regexes):
                return False
        elif name.startswith("tag:"):
            key = name[4:]
            if key not in tags or not any(r.match(tags[key]) for r in regexes):
                return False
        else:
            raise NotImplementedError(f"the stub has no filter {name}")
    return True


def _error(fault: Fault) -> Any:
    parsed = {
        "Error": {"Code": fault.code, "Message": f"injected {fault.code}"},
        "ResponseMetadata": {"HTTPStatusCode": fault.status, "RequestId": "stub"},
    }
    return AWSResponse("https://ec2.invalid/", fault.status, {}, None), parsed


@dataclass
class Executions:
    state_machine_arn: str
    names: set[str] = field(default_factory=set)
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self, client: Any) -> None:
        client.meta.events.register_first("before-call.states.StartExecution", self)

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        name = json.loads(params["body"])["name"]
        with self._lock:
            self.calls += 1
            exists = name in self.names
            self.names.add(name)
        if exists:
            parsed: dict[str, Any] = {
                "Error": {"Code": "ExecutionAlreadyExists", "Message": f"{name} exists"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
            return AWSResponse("https://states.invalid/", 400, {}, None), parsed
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name
        parsed = {
            "executionArn": arn,
            "startDate": _now(),
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }
        return AWSResponse("https://states.invalid/", 200, {}, None), parsed


def _now() -> datetime:
    """The handler's own clock, so that virtual time agrees (a version without the
    seam: real time)."""
    try:
        from discovery import clock
    except ImportError:
        return datetime.now(UTC)
    return clock.now()
