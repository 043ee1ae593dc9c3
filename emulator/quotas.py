"""AWS API request quotas as token buckets in virtual time, and what a throttled call answers.

Every figure names its source (emulator/README.md, "Quotas", has the table with the
links). Where AWS publishes no figure the row says ``assumption`` and takes the
pessimistic reading.

A bucket holds ``burst`` tokens and refills at ``rate`` tokens a second; a call takes
one token or is throttled (AWS: "Each request that you make removes one token from
the API's bucket", EC2 request throttling). The rest of the account ("other
tenants": autoscaling, monitoring, Terraform, consoles) draws on the same buckets:
``other_tenants=0.3`` leaves 70 % of each bucket's burst and refill to the module,
a steady draw rather than bursts of its own (an assumption: AWS cannot know it).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

EC2_THROTTLING = "https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html"
SFN_QUOTAS = "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html"
DDB_ON_DEMAND = (
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html"
)
BACKUP_QUOTAS = "https://docs.aws.amazon.com/general/latest/gr/bk.html"
LARGE_SFN_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")


@dataclass(frozen=True)
class Quota:
    """One token bucket: ``burst`` tokens, refilled at ``rate`` a second."""

    burst: float
    rate: float
    source: str
    assumption: bool = False


@dataclass(frozen=True)
class Throttle:
    """What AWS answers a throttled call, and the error a Step Functions Task sees."""

    code: str
    status: int
    message: str
    step_functions_error: str  # aws-sdk or optimized integration error name
    source: str


# The error each service answers. Step Functions' aws-sdk integrations name an error
# ``Service.ErrorName`` with an ``Exception`` suffix, and an error the SDK does not
# model as the service's base exception (``Ec2.Ec2Exception``: EC2 models no errors).
THROTTLES: dict[str, Throttle] = {
    "ec2": Throttle(
        "RequestLimitExceeded",
        503,
        "Request limit exceeded.",
        "Ec2.Ec2Exception",
        f"{EC2_THROTTLING}; HTTP 503 and the Step Functions name as Step Functions reported "
        "it (github.com/CloudSnorkel/cdk-github-runners/issues/946)",
    ),
    "ssm": Throttle(
        "ThrottlingException",
        400,
        "Rate exceeded",
        "Ssm.ThrottlingException",
        "botocore ssm model (ThrottlingException); DESIGN.md 'ThrottlingException: Rate exceeded'",
    ),
    "states": Throttle(
        "ThrottlingException",
        400,
        "Rate exceeded",
        "Sfn.SfnException",
        "AWS common errors (ThrottlingException, 400); not in the botocore model, so the "
        "aws-sdk integration reports the base exception",
    ),
    "backup": Throttle(
        "ThrottlingException",
        400,
        "Rate exceeded",
        "Backup.BackupException",
        "AWS common errors (ThrottlingException, 400); not in the botocore backup model",
    ),
    "dynamodb": Throttle(
        "ProvisionedThroughputExceededException",
        400,
        "The level of configured provisioned throughput for the table was exceeded.",
        "DynamoDB.ProvisionedThroughputExceededException",
        "botocore dynamodb model; optimized integration names errors DynamoDB.<code>",
    ),
    "sns": Throttle(
        "Throttled",
        429,
        "Rate exceeded",
        "SNS.ThrottledException",
        "botocore sns model (ThrottledException: code Throttled, HTTP 429)",
    ),
    "cloudwatch": Throttle(
        "Throttling",
        400,
        "Rate exceeded",
        "CloudWatch.CloudWatchException",
        "https://repost.aws/knowledge-center/cloudwatch-400-error-throttling",
    ),
    "lambda": Throttle(
        "TooManyRequestsException",
        429,
        "Rate exceeded",
        "Lambda.TooManyRequestsException",
        "botocore lambda model (TooManyRequestsException, HTTP 429)",
    ),
    "secretsmanager": Throttle(
        "ThrottlingException",
        400,
        "Rate exceeded",
        "SecretsManager.SecretsManagerException",
        "AWS common errors (ThrottlingException, 400)",
    ),
}

# moto's service names -> the IAM/API prefix the figures use.
SERVICE_PREFIX = {"stepfunctions": "states", "awslambda": "lambda"}

_EC2_NON_MUTATING = Quota(100, 20, f"{EC2_THROTTLING} (non-mutating actions)")
_EC2_UNFILTERED = Quota(50, 10, f"{EC2_THROTTLING} (unfiltered and unpaginated non-mutating)")
_EC2_MUTATING = Quota(50, 5, f"{EC2_THROTTLING} (mutating actions)")
# Actions EC2 names in its "unfiltered and unpaginated" row: called with neither a
# filter nor pagination they draw on that smaller bucket. Whether an ID list
# (InstanceIds, SnapshotIds) counts as a filter AWS does not say; the pessimistic
# reading is that it does not.
EC2_UNFILTERED_ACTIONS = frozenset(
    {
        "DescribeInstances",
        "DescribeInstanceStatus",
        "DescribeNetworkInterfaces",
        "DescribeSecurityGroups",
        "DescribeSnapshots",
        "DescribeSpotInstanceRequests",
        "DescribeVolumes",
    }
)
_EC2_OWN = {  # "Uncategorized actions" with their own bucket
    "CreateTags": Quota(100, 10, f"{EC2_THROTTLING} (CreateTags)"),
    "DeleteTags": Quota(100, 10, f"{EC2_THROTTLING} (DeleteTags)"),
    "CreateSnapshot": Quota(100, 5, f"{EC2_THROTTLING} (CreateSnapshot)"),
    "DeregisterImage": Quota(100, 5, f"{EC2_THROTTLING} (DeregisterImage)"),
}

_BACKUP_ASSUMED = (
    f"assumption: {BACKUP_QUOTAS} lists default calls per second per API; the copy "
    "available offline did not show the figures, so a low one is assumed"
)
_SSM_ASSUMED = (
    "assumption: AWS publishes no rate for this SSM API; EC2's documented buckets for the "
    "same kind of action are taken"
)


def _sfn(large: tuple[float, float], other: tuple[float, float], region: str, name: str) -> Quota:
    burst, rate = large if region in LARGE_SFN_REGIONS else other
    kind = "large" if region in LARGE_SFN_REGIONS else "other"
    return Quota(burst, rate, f"{SFN_QUOTAS} ({name}, {kind} regions)")


def default_table(region: str) -> dict[str, Quota]:
    """The quota of every API the module calls, keyed ``prefix:Action``."""
    table: dict[str, Quota] = {
        # Step Functions: API action throttling (token buckets).
        "states:StartExecution": _sfn((1300, 300), (800, 150), region, "StartExecution"),
        "states:DescribeExecution": _sfn((300, 15), (250, 10), region, "DescribeExecution"),
        "states:GetExecutionHistory": _sfn((400, 20), (400, 20), region, "GetExecutionHistory"),
        "states:StopExecution": _sfn((1000, 200), (500, 25), region, "StopExecution"),
        # State transitions are throttled too: a throttled transition waits (AWS reports
        # it as ExecutionThrottled), it does not fail. New accounts have lower figures.
        "states:StateTransition": _sfn((5000, 1500), (800, 500), region, "StateTransition"),
        # AWS Backup (see _BACKUP_ASSUMED).
        "backup:StartBackupJob": Quota(5, 5, _BACKUP_ASSUMED, assumption=True),
        "backup:DescribeBackupJob": Quota(10, 10, _BACKUP_ASSUMED, assumption=True),
        "backup:StopBackupJob": Quota(5, 5, _BACKUP_ASSUMED, assumption=True),
        "backup:StartCopyJob": Quota(5, 5, _BACKUP_ASSUMED, assumption=True),
        "backup:DescribeCopyJob": Quota(10, 10, _BACKUP_ASSUMED, assumption=True),
        "backup:ListBackupJobs": Quota(5, 5, _BACKUP_ASSUMED, assumption=True),
        "backup:ListRecoveryPointsByResource": Quota(5, 5, _BACKUP_ASSUMED, assumption=True),
        "backup:DescribeRecoveryPoint": Quota(10, 10, _BACKUP_ASSUMED, assumption=True),
        # SSM (see _SSM_ASSUMED): SendCommand mutates, the two reads do not.
        "ssm:SendCommand": Quota(50, 5, _SSM_ASSUMED + " (mutating: 50, 5/s)", assumption=True),
        "ssm:GetCommandInvocation": Quota(
            100, 20, _SSM_ASSUMED + " (non-mutating: 100, 20/s)", assumption=True
        ),
        "ssm:DescribeInstanceInformation": Quota(
            100, 20, _SSM_ASSUMED + " (non-mutating: 100, 20/s)", assumption=True
        ),
        # DynamoDB on-demand: "a new on-demand table can sustain up to 4,000 writes per
        # second and 12,000 reads per second" (one request unit per small item).
        "dynamodb:UpdateItem": Quota(4000, 4000, f"{DDB_ON_DEMAND} (initial writes)"),
        "dynamodb:PutItem": Quota(4000, 4000, f"{DDB_ON_DEMAND} (initial writes)"),
        "dynamodb:DeleteItem": Quota(4000, 4000, f"{DDB_ON_DEMAND} (initial writes)"),
        "dynamodb:GetItem": Quota(12000, 12000, f"{DDB_ON_DEMAND} (initial reads)"),
        # Low-volume calls (one per run at most): pessimistic assumptions.
        "sns:Publish": Quota(
            1500, 1500, "assumption: the smallest regional Publish rate assumed", assumption=True
        ),
        "cloudwatch:PutMetricData": Quota(
            150,
            150,
            "assumption: CloudWatch publishes a regional TPS; a low one assumed",
            assumption=True,
        ),
        "lambda:Invoke": Quota(
            1000, 1000, "assumption: a low account invocation rate assumed", assumption=True
        ),
        "secretsmanager:GetSecretValue": Quota(
            100, 100, "assumption: a low combined Get/Describe rate assumed", assumption=True
        ),
    }
    return table


def ec2_quota(action: str, filtered_or_paginated: bool) -> tuple[str, Quota]:
    """The bucket an EC2 call draws on: its key and quota."""
    if action in _EC2_OWN:
        return f"ec2:{action}", _EC2_OWN[action]
    if action.startswith(("Describe", "List", "Search", "Get")):
        if action in EC2_UNFILTERED_ACTIONS and not filtered_or_paginated:
            return f"ec2:{action}(unfiltered)", _EC2_UNFILTERED
        return f"ec2:{action}", _EC2_NON_MUTATING
    return f"ec2:{action}", _EC2_MUTATING


ACCOUNT_QUOTA_SOURCE = "the account's quota given to the run (the module's api_budget.quotas)"


@functools.cache
def _ec2_actions() -> frozenset[str]:
    import botocore.session

    return frozenset(botocore.session.get_session().get_service_model("ec2").operation_names)


def account_quotas(rates: Mapping[str, float], region: str) -> dict[str, Quota]:
    """``Quotas.overrides`` for the quotas an account declares: calls a second by ``prefix:Action``.

    The override replaces the bucket the module's calls draw on: for EC2 the filtered one
    (the module filters its DescribeInstances and DescribeSnapshots), so the key is the
    API's own. A raised quota raises the refill rate; AWS says nothing of the burst, so the
    table's is kept, but never below one second's refill.
    """
    table = default_table(region)
    overrides = {}
    for key, rate in rates.items():
        service, _, action = key.partition(":")
        if service == "ec2" and action in _ec2_actions():
            bucket, quota = ec2_quota(action, filtered_or_paginated=True)
        elif key in table:
            bucket, quota = key, table[key]
        else:
            raise ValueError(
                f"quota override {key!r} names no API the emulator meters: expected an EC2 "
                "action (ec2:DescribeSnapshots) or a key of emulator/quotas.py's table "
                "(ssm:SendCommand, backup:StartBackupJob, ...)"
            )
        if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
            raise ValueError(f"quota override {key!r}: {rate!r} is not a rate above 0")
        overrides[bucket] = Quota(
            burst=max(quota.burst, rate), rate=float(rate), source=ACCOUNT_QUOTA_SOURCE
        )
    return overrides


class TokenBucket:
    """A token bucket on a caller-supplied clock (virtual seconds)."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.updated = now

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def take(self, now: float) -> bool:
        """Take a token if there is one (a throttled call takes none)."""
        self._refill(now)
        if self.tokens >= 1.0 - 1e-9:
            self.tokens = max(0.0, self.tokens - 1.0)
            return True
        return False

    def reserve(self, now: float) -> float:
        """Take the next token, waiting for it if need be: the seconds to wait (in turn)."""
        self._refill(now)
        self.tokens -= 1.0
        return 0.0 if self.tokens >= -1e-9 else -self.tokens / self.rate


@dataclass
class Quotas:
    """The buckets of one account and region, with other tenants taking their share."""

    region: str = "eu-west-1"
    other_tenants: float = 0.3
    table: Mapping[str, Quota] | None = None
    overrides: Mapping[str, Quota] = field(default_factory=dict)  # by bucket key, EC2's too
    unknown: Quota = field(
        default_factory=lambda: Quota(
            50, 5, "assumption: an API without a row gets EC2's mutating bucket", assumption=True
        )
    )
    _buckets: dict[str, TokenBucket] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        if not 0 <= self.other_tenants < 1:
            raise ValueError("other_tenants is a share of each bucket, from 0 to below 1")
        if self.table is None:
            self.table = default_table(self.region)

    def quota(self, service: str, action: str, request: Any = None) -> tuple[str, Quota]:
        """The bucket key and quota of a call (``request``: moto's response object, for EC2)."""
        if service == "ec2":
            key, quota = ec2_quota(action, _ec2_filtered_or_paginated(request))
        else:
            key = f"{service}:{action}"
            assert self.table is not None
            quota = self.table.get(key, self.unknown)
        return key, self.overrides.get(key, quota)

    def ours(self, quota: Quota) -> Quota:
        """The part of a quota left to the module once other tenants took theirs."""
        share = 1.0 - self.other_tenants
        return replace(quota, burst=max(1.0, quota.burst * share), rate=quota.rate * share)

    def _bucket(self, key: str, quota: Quota, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            mine = self.ours(quota)
            bucket = self._buckets[key] = TokenBucket(mine.burst, mine.rate, now)
        return bucket

    def admit(self, key: str, quota: Quota, now: float) -> bool:
        return self._bucket(key, quota, now).take(now)

    def delay(self, key: str, quota: Quota, now: float) -> float:
        """Seconds a throttled-by-waiting action (a state transition) waits for its token."""
        return self._bucket(key, quota, now).reserve(now)


def _ec2_filtered_or_paginated(request: Any) -> bool:
    if request is None:
        return True
    query = getattr(request, "querystring", {}) or {}
    return (
        any(k.startswith("Filter.") for k in query)
        or "MaxResults" in query
        or ("NextToken" in query)
    )


def floor_seconds(calls: int, rate: float) -> float:
    """Seconds a budget of ``rate`` calls a second needs for ``calls`` calls."""
    return math.inf if rate <= 0 else calls / rate
