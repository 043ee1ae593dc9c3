"""Benchmark: discovery + fan-out of 10,000 instances in moto.

Measures, in one process with moto 5.2.5:

1. the handler against moto (DescribeInstances pages of 1,000 instances, one
   StartExecution per instance, unpaced): wall time, discovery and fan-out times,
   API calls and HTTP attempts by operation;
2. the same event replayed (every instance already started);
3. the handler's own overhead per instance: the same fan-out with StartExecution
   answered inside botocore (before-call) instead of by moto, so that what is left
   is the handler, its pool and botocore's request building;
4. what the fan-out takes at the Step Functions StartExecution quota (1,300 burst,
   300/s; 800 and 150/s in the smaller regions) and at the module's default pace.

usage: python bench/discovery_fanout.py [--instances N] [--concurrency C] [--json]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import logging
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import boto3  # noqa: E402
from botocore.awsrequest import AWSResponse  # noqa: E402
from moto import mock_aws  # noqa: E402

from discovery import clients, config, continuation, handler, inventory, pacing  # noqa: E402
from tests.discovery import fleet  # noqa: E402

REGION = "eu-west-1"
TAG = "AppConsistentBackup"


class Context:
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{fleet.ACCOUNT}:function:bench-discovery"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


class Unpaced(pacing.TokenBucket):
    def acquire(self) -> None:
        return None


def event(scheduled: str) -> dict[str, Any]:
    return {
        "schedule_name": "nightly",
        "scheduled_time": scheduled,
        "tag_value": "nightly",
        "dry_run": False,
        "policy": {"retention_days": 35},
    }


class Calls:
    """API calls (before-call) and HTTP attempts (before-send) by operation."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.attempts: collections.Counter[str] = collections.Counter()

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call", self._call)
        client.meta.events.register("before-send", self._send)

    def _call(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def _send(self, request: Any, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        action = target.rsplit(".", 1)[-1] if target else _query_action(request)
        self.attempts[action] += 1

    def reset(self) -> dict[str, Any]:
        out = {"calls": dict(self.calls), "http_attempts": dict(self.attempts)}
        self.calls.clear()
        self.attempts.clear()
        return out


def _query_action(request: Any) -> str:
    body = request.body or b""
    body = body.decode() if isinstance(body, bytes) else str(body)
    for part in body.split("&"):
        if part.startswith("Action="):
            return part[len("Action=") :]
    return request.url.rsplit("/", 1)[-1]


def instant_start_execution(model: Any, params: dict[str, Any], **_: Any) -> Any:
    """Answer StartExecution inside botocore: no emulator behind it."""
    if model.name != "StartExecution":
        return None
    name = json.loads(params["body"])["name"]
    parsed = {
        "executionArn": f"arn:aws:states:{REGION}:{fleet.ACCOUNT}:execution:bench:{name}",
        "startDate": datetime.now(UTC),
        "ResponseMetadata": {"HTTPStatusCode": 200},
    }
    return (AWSResponse("https://states.invalid/", 200, {}, None), parsed)


def run(instances: int, concurrency: int) -> dict[str, Any]:
    env = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "NAME_PREFIX": "bench",
        "MAX_CONCURRENCY": str(concurrency),
    }
    os.environ.update(env)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    logging.getLogger("discovery").setLevel(logging.WARNING)
    handler.TokenBucket = Unpaced  # type: ignore[misc]  # measure the machinery, not the pace
    # AWS returns up to 1,000 instances a page; moto pages by reservation (here 100
    # instances each), so 10 reservations a page gives AWS-sized pages.
    per_reservation = 100
    inventory.PAGE_SIZE = 1000 // per_reservation
    results: dict[str, Any] = {"instances": instances, "max_concurrency": concurrency}

    with (
        mock_aws(),
        fleet.fast_moto(),
        open(os.devnull, "w") as devnull,
        contextlib.redirect_stdout(devnull),  # the EMF lines
    ):
        sfn = boto3.client("stepfunctions", region_name=REGION)
        sns = boto3.client("sns", region_name=REGION)
        os.environ["STATE_MACHINE_ARN"] = sfn.create_state_machine(
            name="bench",
            definition='{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}',
            roleArn=f"arn:aws:iam::{fleet.ACCOUNT}:role/bench",
        )["stateMachineArn"]
        os.environ["NOTIFICATION_TOPIC_ARN"] = sns.create_topic(Name="bench")["TopicArn"]
        config.load.cache_clear()
        clients.reset()

        began = time.perf_counter()
        windows = instances // 50
        stopped = instances // 50
        opted_out = instances // 100
        linux = instances - windows - stopped - opted_out
        selected = {TAG: "nightly"}
        fleet.make(linux, selected, per_reservation=per_reservation)
        fleet.make(windows, selected, per_reservation=per_reservation, windows=True)
        fleet.make(stopped, selected, per_reservation=per_reservation, state="stopped")
        fleet.make(
            opted_out,
            {**selected, "AppConsistentBackupOptOut": "true"},
            per_reservation=per_reservation,
        )
        results["fleet_build_s"] = round(time.perf_counter() - began, 2)

        calls = Calls()
        for service in ("ec2", "stepfunctions", "sns", "lambda"):
            calls.attach(clients.get(service))

        def timed(label: str, scheduled: str) -> dict[str, Any]:
            started = time.perf_counter()
            summary = handler.run(event(scheduled), Context(), continuation.invoke_async)
            wall = time.perf_counter() - started
            return {
                "label": label,
                "wall_s": round(wall, 3),
                "discovery_s": summary["timings_ms"]["discovery"] / 1000,
                "fan_out_s": summary["timings_ms"]["fan_out"] / 1000,
                "per_instance_ms": round(wall * 1000 / instances, 3),
                "started": summary["started"],
                "already_started": summary["already_started"],
                "skipped": summary["skipped"],
                "failed": summary["failed"],
                **calls.reset(),
            }

        results["moto"] = timed("handler against moto", "2026-11-23T01:00:00Z")
        results["replay"] = timed("same event replayed", "2026-11-23T01:00:00Z")

        def instant(model: Any, params: dict[str, Any], **kwargs: Any) -> Any:
            calls.calls[f"{model.name} (answered in botocore)"] += 1
            return instant_start_execution(model, params, **kwargs)

        clients.get("stepfunctions").meta.events.register_first(
            "before-call.states.StartExecution", instant
        )
        results["instant"] = timed(
            "StartExecution answered in botocore (handler overhead)", "2026-11-24T01:00:00Z"
        )

    eligible = results["moto"]["started"]
    results["quota_model_s"] = {
        "large_regions_1300_burst_300_per_s": round(pacing.time_to_start(eligible, 300, 1300), 1),
        "other_regions_800_burst_150_per_s": round(pacing.time_to_start(eligible, 150, 800), 1),
        "module_default_pace_100_burst_50_per_s": round(pacing.time_to_start(eligible, 50, 100), 1),
    }
    results["starts_per_900s_invocation_at_default_pace"] = 100 + 50 * (900 - 60)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", action="store_true", help="print the results as JSON only")
    args = parser.parse_args(argv)
    results = run(args.instances, args.concurrency)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(
        f"{results['instances']} instances, max_concurrency {results['max_concurrency']}, "
        f"fleet built in {results['fleet_build_s']} s"
    )
    for key in ("moto", "replay", "instant"):
        r = results[key]
        print(f"\n{r['label']}:")
        print(
            f"  wall {r['wall_s']} s (discovery {r['discovery_s']} s, fan-out {r['fan_out_s']} s), "
            f"{r['per_instance_ms']} ms per instance"
        )
        print(
            f"  started {r['started']}, already started {r['already_started']}, "
            f"skipped {r['skipped']}, failed {r['failed']}"
        )
        print(f"  API calls {r['calls']}; HTTP attempts {r['http_attempts']}")
    print("\nfan-out time at the StartExecution quota (burst, then refill):")
    for name, seconds in results["quota_model_s"].items():
        print(f"  {name}: {seconds} s")
    print(
        f"starts one 900 s invocation makes at the default pace: "
        f"{results['starts_per_900s_invocation_at_default_pace']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
