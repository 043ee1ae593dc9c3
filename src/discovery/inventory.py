"""The listing of instances, page by page, and the decision taken for each instance.

DescribeInstances goes through botocore's paginator, filtered server-side by the
selection tag (``tag:<key>`` = the value, or ``tag-key`` = the key alone for the run
that reports instances no schedule selects), at most 1,000 instances a page. The
handler consumes each page before the next one is asked for, so one page is all it
holds (EC2 developer guide, "Pagination in the Amazon EC2 API": paginate describe
calls, at most 1,000 items a page). EC2 filter values treat ``*`` and ``?`` as
wildcards and a backslash as their escape (EC2 API reference, Filter; the filtering page of
the EC2 user guide), so a value is escaped and the match checked again here: only an
exact tag value selects an instance.

The cursor: ``Listing.next_token`` is always the NextToken of the next page to read
(None with ``done`` false: the first page). A continuation carries it to the next
invocation. The EC2 API reference says nothing of how long a NextToken stays valid
(other AWS APIs document 5 minutes to 24 hours), and a continuation is an
asynchronous event that Lambda may deliver minutes or hours later (retries, a
backlog, maximum_event_age_in_seconds): so the pessimistic reading is taken, that a
carried token may be refused. EC2 documents no error code for that either: any
client error (HTTP 4xx) to a request that carries a token, other than throttling and
authorization, is read as "token refused", and the listing starts again from the
first page, once per invocation, and says so (``restarts``). That re-reads what
earlier hops read; idempotent execution names make the overlap harmless.

A page still throttled after botocore's retries (or failing with a 5xx) is asked for
again after a back-off while the invocation has time; otherwise the listing stops
with its cursor intact and the rest is handed on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from botocore.paginate import TokenEncoder

from discovery import clock

PAGE_SIZE = 1000  # DescribeInstances' maximum; tests lower it to see several pages

START = None  # Decision.reason of an instance whose execution is to be started
OPTED_OUT = "opted_out"
STOPPED_BY_POLICY = "stopped_by_policy"
STARTABLE_STATES = ("running", "stopped")

THROTTLING = frozenset(
    {"RequestLimitExceeded", "Throttling", "ThrottlingException", "TooManyRequestsException"}
)
NOT_AUTHORIZED = frozenset(
    {"UnauthorizedOperation", "AuthFailure", "AccessDenied", "AccessDeniedException"}
)
MAX_PAGE_WAIT_SECONDS = 20.0

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Instance:
    instance_id: str
    arn: str
    platform: str  # "linux" or "windows"
    state: str  # EC2 state name
    opted_out: bool
    owner: str = ""  # the reservation's account (carried in a continuation)


@dataclass(frozen=True, slots=True)
class Decision:
    instance: Instance
    reason: str | None  # None: start an execution; otherwise why the instance is skipped

    @property
    def start(self) -> bool:
        return self.reason is None


@dataclass(frozen=True, slots=True)
class Listed:
    """One instance of a page, with its selection tag's value."""

    instance: Instance
    tag_value: str


def escape_filter_value(value: str) -> str:
    """Escape EC2 filter wildcards so that the value matches itself only."""
    return value.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


def platform_of(raw: dict[str, Any]) -> str:
    if raw.get("Platform", "").lower() == "windows":
        return "windows"
    if raw.get("PlatformDetails", "").lower().startswith("windows"):
        return "windows"
    return "linux"


def instance_arn(partition: str, region: str, owner: str, instance_id: str) -> str:
    return f"arn:{partition}:ec2:{region}:{owner}:instance/{instance_id}"


def filters(tag_key: str, tag_value: str | None) -> list[dict[str, Any]]:
    """The server-side filter: the key and its exact value, or (None) the key alone."""
    if tag_value is None:
        return [{"Name": "tag-key", "Values": [escape_filter_value(tag_key)]}]
    return [{"Name": f"tag:{tag_key}", "Values": [escape_filter_value(tag_value)]}]


def read_page(
    page: dict[str, Any], partition: str, region: str, tag_key: str, opt_out_tag_key: str
) -> list[Listed]:
    """The instances of one DescribeInstances page that carry ``tag_key``."""
    listed = []
    for reservation in page.get("Reservations", []):
        owner = reservation["OwnerId"]
        for raw in reservation.get("Instances", []):
            tags = {t["Key"]: t.get("Value", "") for t in raw.get("Tags", [])}
            if tag_key not in tags:
                continue
            instance_id = raw["InstanceId"]
            listed.append(
                Listed(
                    Instance(
                        instance_id=instance_id,
                        arn=instance_arn(partition, region, owner, instance_id),
                        platform=platform_of(raw),
                        state=raw["State"]["Name"],
                        opted_out=tags.get(opt_out_tag_key, "").strip().lower() == "true",
                        owner=owner,
                    ),
                    tags[tag_key],
                )
            )
    return listed


def decide(instance: Instance, stopped_instances: str) -> Decision:
    """Start an execution, or skip the instance with a reason that is counted."""
    if instance.opted_out:
        return Decision(instance, OPTED_OUT)
    if instance.state == "running":
        return Decision(instance, START)
    if instance.state == "stopped":
        return Decision(instance, START if stopped_instances == "backup" else STOPPED_BY_POLICY)
    return Decision(instance, "state_" + instance.state.replace("-", "_"))


class ListingError(RuntimeError):
    """DescribeInstances failed in a way a retry will not mend."""

    def __init__(self, error: ClientError) -> None:
        self.error = error
        super().__init__(f"DescribeInstances: {error}")


class Listing:
    """DescribeInstances, one page at a time, resumable from a carried cursor."""

    def __init__(
        self,
        ec2: Any,
        page_filters: list[dict[str, Any]],
        next_token: str | None,
        done: bool,
        keep_going: Callable[[], bool],
    ) -> None:
        self.ec2 = ec2
        self.filters = page_filters
        self.next_token = next_token
        self.done = done
        self.keep_going = keep_going
        self.pages = 0  # pages read by this invocation
        self.seconds = 0.0  # spent waiting for DescribeInstances
        self.restarts = 0  # carried or fresh tokens refused: listed again from the first page
        self.interrupted = False  # the last request failed (throttled, 5xx): handed on as is

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Each page, once; stops when the listing ends or ``keep_going`` says stop.

        The caller must finish a page (start, skip or set aside each of its
        instances) before it asks for the next one: ``next_token`` has moved past it.
        """
        wait = 1.0
        while not self.done and self.keep_going():
            try:
                for page in self._paginate():
                    self.pages += 1
                    wait = 1.0
                    self.interrupted = False
                    token = page.get("NextToken") or None
                    self.next_token, self.done = token, token is None
                    yield page
                    if self.done or not self.keep_going():
                        return
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
                if code in THROTTLING or status >= 500:  # botocore's retries are spent
                    self.interrupted = True  # until a page comes: the loop checks the time
                    clock.sleep(wait)
                    wait = min(wait * 2, MAX_PAGE_WAIT_SECONDS)
                    continue
                if self.next_token is not None and code not in NOT_AUTHORIZED and not self.restarts:
                    logger.warning(
                        "DescribeInstances refused the listing's NextToken (%s): listing again "
                        "from the first page",
                        code,
                    )
                    self.restarts += 1
                    self.next_token = None
                    continue
                raise ListingError(error) from error

    def _paginate(self) -> Iterator[dict[str, Any]]:
        config: dict[str, Any] = {"PageSize": PAGE_SIZE}
        if self.next_token is not None:
            # The paginator's own token format: an EC2 NextToken (often base64 JSON
            # itself) given raw would be misread by botocore's decoder.
            config["StartingToken"] = TokenEncoder().encode({"NextToken": self.next_token})
        paginator = self.ec2.get_paginator("describe_instances")
        pages = iter(paginator.paginate(Filters=self.filters, PaginationConfig=config))
        while True:
            began = clock.monotonic()
            try:
                page = next(pages)
            except StopIteration:
                return
            finally:
                self.seconds += clock.monotonic() - began
            yield page
