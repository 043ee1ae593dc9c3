"""Benchmark: discovery and fan-out, streaming, at 10,000 and 100,000 instances.

Two parts, both running the real handler in this process:

1. **moto, 10,000 instances** (moto 5.2.5, fleet.fast_moto): DescribeInstances and
   StartExecution answered by moto through botocore, unpaced (the machinery, not
   the pace): wall and CPU time (moto's own work included: it dominates), CPU per
   1,000 instances, API calls, pages; then the same event replayed (every execution
   already exists). Memory is measured on the stub, where it is the handler's.
2. **stub, module defaults** (10,000 and 100,000 instances): moto's DescribeInstances
   rescans and re-serializes the whole fleet on every page, which makes 100,000
   instances take hours, so the listing is answered inside botocore by
   tests/discovery/stubs.py: EC2's filter semantics, pages of 1,000 matching
   instances in reservations, opaque NextTokens; every instance a deep copy of a
   realistic DescribeInstances item (moto's item, parsed by botocore, completed
   with the fields real EC2 returns and a dozen tags), so a page weighs what a real
   page weighs. StartExecution is answered inside botocore too (new name: started;
   same name again: ExecutionAlreadyExists). The pace, the deadline and every wait
   run on a virtual clock (discovery.clock), with the module's defaults: 50 starts
   a second, a burst of 100, 8 in flight, 900 s invocations, a 60 s margin. Each
   continuation is run as Lambda would run it, and the figures are per hop: pages
   read (and the NextToken each hop starts from, to show no hop reads the fleet
   again), starts, CPU, peak Python memory, payload of the hand-on, and the run's
   virtual duration.

``--baseline DIR`` runs the same parts against another copy of the sources (DIR
holds ``src/discovery``), e.g. the version before streaming: ``git archive 2df33b2
| tar -x -C /tmp/before``. That version has no clock seam: it runs unpaced in one
invocation, and only its memory and CPU are comparable.

usage: python bench/discovery_fanout.py [--sizes 10000,100000] [--no-moto]
                                        [--baseline DIR] [--json]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import copy
import json
import logging
import os
import sys
import threading
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-west-1"
TAG = "AppConsistentBackup"
OPT_OUT = "AppConsistentBackupOptOut"
DEFAULTS = {  # the module's defaults (modules/discovery/variables.tf)
    "MAX_CONCURRENCY": "8",
    "START_RATE_PER_SECOND": "50",
    "START_BURST": "100",
    "CONTINUATION_MARGIN_SECONDS": "60",
}
TIMEOUT_SECONDS = 900


def load(baseline: str | None) -> None:
    src = Path(baseline) / "src" if baseline else ROOT / "src"
    sys.path[:0] = [str(ROOT), str(src)]


class Context:
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:bench-discovery"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return TIMEOUT_SECONDS * 1000


class VirtualClock:
    """Virtual time for the handler's waits; now() moves with it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds = 0.0
        self.start = datetime.now(UTC)

    def monotonic(self) -> float:
        with self._lock:
            return self.seconds

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.seconds += max(0.0, seconds)

    def now(self) -> datetime:
        with self._lock:
            return self.start + timedelta(seconds=self.seconds)


def event(scheduled: str = "2026-11-23T01:00:00Z") -> dict[str, Any]:
    return {
        "schedule_name": "nightly",
        "scheduled_time": scheduled,
        "tag_value": "nightly",
        "dry_run": False,
        "policy": {"retention_days": 35},
    }


def environment(extra: dict[str, str]) -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": REGION,
            "NAME_PREFIX": "bench",
            "STATE_MACHINE_ARN": f"arn:aws:states:{REGION}:123456789012:stateMachine:bench",
            "NOTIFICATION_TOPIC_ARN": f"arn:aws:sns:{REGION}:123456789012:bench",
            **DEFAULTS,
            **extra,
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)


def unpaced() -> contextlib.AbstractContextManager[None]:
    """Measure the machinery, not the pace (both code versions)."""
    from discovery import handler, pacing  # noqa: PLC0415

    class NoPace:
        def __init__(self, *_: Any, **__: Any) -> None: ...

        def acquire(self) -> None:
            return None

    @contextlib.contextmanager
    def patched() -> Any:
        saved = {}
        if hasattr(handler, "TokenBucket"):  # before streaming
            saved["bucket"] = handler.TokenBucket
            handler.TokenBucket = NoPace
        if hasattr(pacing, "for_config"):
            saved["for_config"] = pacing.for_config
            pacing.for_config = lambda _cfg: NoPace()
        try:
            yield
        finally:
            if "bucket" in saved:
                handler.TokenBucket = saved["bucket"]
            if "for_config" in saved:
                pacing.for_config = saved["for_config"]

    return patched()


class Calls:
    """API calls by operation (before-call), and DescribeInstances' NextTokens."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.tokens: list[str | None] = []

    def attach(self, client: Any, event_name: str = "before-call") -> None:
        # A stub answering the call ends the event's chain, and botocore calls the
        # handlers of the most specific event name first: ahead of a stub, register
        # on its own event name, first.
        client.meta.events.register_first(event_name, self._call)

    def _call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls[model.name] += 1
        if model.name == "DescribeInstances":
            self.tokens.append(params["body"].get("NextToken"))

    def take(self) -> tuple[dict[str, int], list[str | None]]:
        out = dict(self.calls), list(self.tokens)
        self.calls.clear()
        self.tokens.clear()
        return out


def measured(run: Any, memory: bool) -> tuple[Any, dict[str, float]]:
    if memory:
        tracemalloc.start()
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        result = run()
    finally:
        figures = {
            "wall_s": round(time.perf_counter() - wall, 2),
            "cpu_s": round(time.process_time() - cpu, 2),
        }
        if memory:
            figures["peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
            tracemalloc.stop()
    return result, figures


# ------------------------------------------------------------------------- moto


def moto_part(instances: int, memory: bool) -> dict[str, Any]:
    import boto3  # noqa: PLC0415
    from moto import mock_aws  # noqa: PLC0415

    from discovery import clients, config, handler, inventory  # noqa: PLC0415
    from tests.discovery import fleet  # noqa: PLC0415

    environment({})
    per_reservation = 100
    inventory.PAGE_SIZE = 1000 // per_reservation  # moto pages by reservation
    out: dict[str, Any] = {"instances": instances}
    with fleet.fast_moto(), mock_aws():
        sfn = boto3.client("stepfunctions", region_name=REGION)
        os.environ["STATE_MACHINE_ARN"] = sfn.create_state_machine(
            name="bench",
            definition='{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}',
            roleArn=f"arn:aws:iam::{fleet.ACCOUNT}:role/bench",
        )["stateMachineArn"]
        sns = boto3.client("sns", region_name=REGION)
        os.environ["NOTIFICATION_TOPIC_ARN"] = sns.create_topic(Name="bench")["TopicArn"]
        config.load.cache_clear()
        clients.reset()
        mix = split(instances)
        selected = {TAG: "nightly"}
        fleet.make(mix["linux"], selected, per_reservation=per_reservation)
        fleet.make(mix["windows"], selected, per_reservation=per_reservation, windows=True)
        fleet.make(mix["stopped"], selected, per_reservation=per_reservation, state="stopped")
        fleet.make(mix["opted_out"], {**selected, OPT_OUT: "true"}, per_reservation=100)
        calls = Calls()
        for service in ("ec2", "stepfunctions", "sns", "lambda"):
            calls.attach(clients.get(service))
        for label in ("first run", "replay"):
            with unpaced():
                summary, figures = measured(
                    lambda: handler.run(event(), Context(), lambda *_: None), memory
                )
            api, tokens = calls.take()
            out[label] = {
                **figures,
                "cpu_ms_per_1000": round(figures["cpu_s"] * 1e6 / instances, 1),
                "started": summary["started"],
                "already_started": summary["already_started"],
                "skipped": summary["skipped"],
                "api_calls": api,
                "pages": len(tokens),
            }
    return out


def split(instances: int) -> dict[str, int]:
    windows, stopped, opted_out = instances // 50, instances // 50, instances // 100
    return {
        "linux": instances - windows - stopped - opted_out,
        "windows": windows,
        "stopped": stopped,
        "opted_out": opted_out,
    }


# ------------------------------------------------------------------------- stub


def realistic_item() -> dict[str, Any]:
    """One DescribeInstances item as botocore parses it: moto's, completed with what
    real EC2 also returns (and a dozen tags), so that a page weighs what it should."""
    import boto3  # noqa: PLC0415
    from moto import mock_aws  # noqa: PLC0415

    from tests.discovery import fleet  # noqa: PLC0415

    with fleet.fast_moto(), mock_aws():
        fleet.make(1, {TAG: "nightly"})
        ec2 = boto3.client("ec2", region_name=REGION)
        item = ec2.describe_instances()["Reservations"][0]["Instances"][0]
    launched = item["LaunchTime"]
    item.update(
        {
            "ClientToken": "terraform-20261101120000000000000001",
            "EnaSupport": True,
            "KeyName": "ops-2026",
            "IamInstanceProfile": {
                "Arn": "arn:aws:iam::123456789012:instance-profile/app-server",
                "Id": "AIPAEXAMPLEEXAMPLE123",
            },
            "CpuOptions": {"CoreCount": 2, "ThreadsPerCore": 2},
            "CapacityReservationSpecification": {"CapacityReservationPreference": "open"},
            "HibernationOptions": {"Configured": False},
            "EnclaveOptions": {"Enabled": False},
            "PlatformDetails": "Linux/UNIX",
            "UsageOperation": "RunInstances",
            "UsageOperationUpdateTime": launched,
            "PrivateDnsNameOptions": {
                "HostnameType": "ip-name",
                "EnableResourceNameDnsARecord": False,
                "EnableResourceNameDnsAAAARecord": False,
            },
            "MaintenanceOptions": {"AutoRecovery": "default"},
            "CurrentInstanceBootMode": "legacy-bios",
            "BootMode": "uefi-preferred",
        }
    )
    volume = {
        "DeviceName": "/dev/xvda",
        "Ebs": {
            "AttachTime": launched,
            "DeleteOnTermination": True,
            "Status": "attached",
            "VolumeId": "vol-0123456789abcdef0",
        },
    }
    item["BlockDeviceMappings"] = [
        volume,
        {
            **volume,
            "DeviceName": "/dev/sdf",
            "Ebs": {**volume["Ebs"], "DeleteOnTermination": False},
        },
    ]
    item["Tags"] = [
        {"Key": k, "Value": v}
        for k, v in {
            "Name": "app-server-001",
            "Environment": "production",
            "Application": "orders",
            "Owner": "platform-team@example.com",
            "CostCenter": "CC-1234",
            "BusinessUnit": "retail",
            "Compliance": "pci",
            "Patch Group": "linux-prod",
            "aws:autoscaling:groupName": "orders-prod-asg",
            "aws:ec2launchtemplate:id": "lt-0123456789abcdef0",
            "aws:ec2launchtemplate:version": "7",
            TAG: "nightly",
        }.items()
    ]
    return item


def fleet_of(instances: int, template: dict[str, Any]) -> Any:
    """The instance builder: the mix of moto_part, from one realistic item."""
    mix = split(instances)
    windows_from = mix["linux"]
    stopped_from = windows_from + mix["windows"]
    opted_from = stopped_from + mix["stopped"]

    def make(index: int) -> dict[str, Any]:
        item = copy.deepcopy(template)
        item["InstanceId"] = f"i-{index:017x}"
        if windows_from <= index < stopped_from:
            item["PlatformDetails"] = "Windows"
            item["Platform"] = "windows"
        elif stopped_from <= index < opted_from:
            item["State"] = {"Code": 80, "Name": "stopped"}
        elif index >= opted_from:
            item["Tags"] = [*item["Tags"], {"Key": OPT_OUT, "Value": "true"}]
        return item

    return make


class Chain:
    """One run: the schedule's event, then every continuation, as Lambda runs them."""

    def __init__(self, memory: bool, calls: Calls, virtual: VirtualClock) -> None:
        self.memory = memory
        self.calls = calls
        self.virtual = virtual
        self.pending: list[dict[str, Any]] = []
        self.hops: list[dict[str, Any]] = []

    def hand_on(self, _arn: str, next_event: dict[str, Any]) -> None:
        self.pending.append(json.loads(json.dumps(next_event)))

    def hop(self, current: dict[str, Any]) -> None:
        from discovery import handler  # noqa: PLC0415

        began = self.virtual.monotonic()
        summary, figures = measured(
            lambda: handler.run(current, Context(), self.hand_on), self.memory
        )
        api, tokens = self.calls.take()
        payload = len(json.dumps(self.pending[-1], separators=(",", ":"))) if self.pending else 0
        self.hops.append(
            {
                **figures,
                "virtual_s": round(self.virtual.monotonic() - began, 1),
                "pages": len(tokens),
                "first_token": "first page" if tokens and tokens[0] is None else "carried token",
                "describe_instances": api.get("DescribeInstances", 0),
                "started": summary["started"],
                "already_started": summary["already_started"],
                "skipped": summary.get("skipped_total", 0),
                "handed_on_payload_bytes": payload if summary.get("handed_on") else 0,
                "run_complete": summary["run_complete"],
                "tokens": tokens,
            }
        )

    def run(self, streaming: bool) -> None:
        if not streaming:  # the version before streaming: no clock seam, one invocation
            with unpaced():
                self.hop(event())
            return
        from discovery import clock  # noqa: PLC0415

        previous = clock.use(self.virtual, botocore_backoff=True)
        try:
            current: dict[str, Any] | None = event()
            while current is not None:
                self.hop(current)
                current = self.pending.pop(0) if self.pending else None
        finally:
            clock.use(previous)


def stub_part(instances: int, memory: bool, template: dict[str, Any]) -> dict[str, Any]:
    from discovery import clients, config, handler, inventory  # noqa: PLC0415
    from tests.discovery import stubs  # noqa: PLC0415

    environment({})
    inventory.PAGE_SIZE = 1000
    config.load.cache_clear()
    clients.reset()
    calls = Calls()
    calls.attach(clients.get("ec2"), "before-call.ec2.DescribeInstances")
    listing = stubs.PagedFleet(size=instances, make=fleet_of(instances, template))
    executions = stubs.Executions(os.environ["STATE_MACHINE_ARN"])
    listing.install(clients.get("ec2"))
    executions.install(clients.get("stepfunctions"))
    streaming = hasattr(handler, "Run") and hasattr(handler.Run, "stream")
    chain = Chain(memory, calls, VirtualClock())
    chain.run(streaming)
    hops = chain.hops
    read = [token for hop in hops for token in hop.pop("tokens")]
    return {
        "instances": instances,
        "hops": hops,
        "completed": hops[-1]["run_complete"],
        "executions_started": len(executions.names),
        "start_execution_calls": executions.calls,
        "pages_total": len(read),
        "no_page_read_twice": len(set(read)) == len(read),
        "virtual_run_s": round(sum(h["virtual_s"] for h in hops), 1) if streaming else None,
        "cpu_ms_per_1000": round(sum(h["cpu_s"] for h in hops) * 1e6 / instances, 1),
        "peak_mb_max": max((h.get("peak_mb", 0) for h in hops), default=None),
    }


# ------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--moto-instances", type=int, default=10_000)
    parser.add_argument("--no-moto", action="store_true")
    parser.add_argument("--baseline", help="a directory holding src/discovery to measure")
    parser.add_argument("--json", action="store_true", help="print the results as JSON only")
    args = parser.parse_args(argv)
    load(args.baseline)
    logging.getLogger("discovery").setLevel(logging.WARNING)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    results: dict[str, Any] = {"code": args.baseline or "this tree"}
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):  # EMF lines
        if not args.no_moto:  # time only: under tracemalloc, moto's own work would dominate
            results["moto"] = moto_part(args.moto_instances, memory=False)
        template = realistic_item()
        results["template_item_bytes"] = len(json.dumps(template, default=str))
        results["stub"] = {}
        for size in sizes:
            results["stub"][size] = {
                "cpu": stub_part(size, memory=False, template=template),
                "memory": stub_part(size, memory=True, template=template),
            }
    if args.json:
        print(json.dumps(results, indent=2, default=str))
        return 0
    report(results)
    return 0


def report(results: dict[str, Any]) -> None:
    print(f"code: {results['code']}")
    moto = results.get("moto")
    if moto:
        print(f"\nmoto, {moto['instances']} instances (unpaced; moto's own work included):")
        for label in ("first run", "replay"):
            run = moto[label]
            print(
                f"  {label}: wall {run['wall_s']} s, CPU {run['cpu_s']} s "
                f"({run['cpu_ms_per_1000']} ms per 1,000); started {run['started']}, "
                f"already {run['already_started']}, skipped {run['skipped']}; "
                f"{run['pages']} pages; calls {run['api_calls']}"
            )
    print(f"\nstub (realistic items of {results['template_item_bytes']} bytes as JSON):")
    for size, parts in results["stub"].items():
        cpu, mem = parts["cpu"], parts["memory"]
        virtual = cpu["virtual_run_s"]
        print(
            f"  {size} instances: {len(cpu['hops'])} hop(s), completed {cpu['completed']}, "
            f"{cpu['executions_started']} executions from {cpu['start_execution_calls']} "
            f"StartExecution calls, {cpu['pages_total']} pages, each read once: "
            f"{cpu['no_page_read_twice']}; CPU {cpu['cpu_ms_per_1000']} ms per 1,000; "
            f"peak {mem['peak_mb_max']} MB"
            + (f"; run {virtual} s virtual ({virtual / 60:.1f} min)" if virtual else "")
        )
        for index, (hop, hop_mem) in enumerate(zip(cpu["hops"], mem["hops"], strict=True)):
            print(
                f"    hop {index}: {hop['pages']} pages from the {hop['first_token']}, "
                f"{hop['describe_instances']} DescribeInstances, started {hop['started']}, "
                f"already {hop['already_started']}, skipped {hop['skipped']}, "
                f"virtual {hop['virtual_s']} s, CPU {hop['cpu_s']} s, "
                f"peak {hop_mem.get('peak_mb')} MB, hand-on {hop['handed_on_payload_bytes']} B"
            )


if __name__ == "__main__":
    sys.exit(main())
