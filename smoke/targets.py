"""Where the smoke runs: an AWS account, or the local emulator (its end-to-end test).

Everything the smoke does goes through the same code in ``smoke.run``; these classes
hold the only differences between an account and the emulator:

- credentials and endpoint: the usual AWS environment / fake keys and the emulator's
  loopback endpoint, for boto3 and, through ``smoke/terraform/emulator`` (an override
  file), for the provider;
- the instance's AMI: the public SSM parameter (Amazon Linux 2023) / an AMI registered
  in the emulator, named by a parameter of its own (moto's public parameters name AMIs
  it does not load);
- the instance's SSM agent: the real one, /data mounted by the instance's user data /
  the emulator's agent (Online once running), the readiness command answered at once;
- running the discovery function: Lambda ``Invoke`` / the deployed package run by
  ``demo.lambda_runtime`` with the deployed function's environment (moto's Invoke
  needs Docker);
- time: AWS's clocks, the latencies are real / the emulator's emulated clock, the
  latencies are its assumptions;
- how often the smoke looks: every 2 to 5 seconds / every 0.1 second.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from demo.run import deployed_code, invoke_discovery

ROOT = Path(__file__).resolve().parents[1]
TERRAFORM = Path(__file__).resolve().parent / "terraform"


class AwsTarget:
    name = "aws"
    clock_note = "AWS's own timestamps (job, snapshots) and the instance's clock (freeze)"
    poll_seconds = 5.0
    fast_poll_seconds = 2.0
    agent_timeout = 900.0
    execution_timeout = float(os.environ.get("SMOKE_TIMEOUT_MINUTES", "60")) * 60
    notification_wait = 120.0

    def __init__(self, region: str) -> None:
        self.region = region
        self._session = boto3.Session(region_name=region)
        self._config = Config(retries={"mode": "standard", "total_max_attempts": 5})

    def client(self, service: str, read_timeout: float | None = None) -> Any:
        config = self._config
        if read_timeout:
            config = config.merge(Config(read_timeout=read_timeout))
        return self._session.client(service, config=config)

    def overlays(self) -> list[Path]:
        return [TERRAFORM]

    def terraform_variables(self) -> dict[str, str]:
        return {"region": self.region}

    def prepare(self, workdir: Path) -> dict[str, str]:
        """Extra Terraform variables, from what exists before the apply."""
        return {}

    def invoke_discovery(
        self, function: dict[str, Any], event: dict[str, Any], deployment: Any, workdir: Path
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(the event the function got, what it answered)."""
        client = self.client("lambda", read_timeout=float(function.get("Timeout", 900)) + 60)
        answer = client.invoke(
            FunctionName=function["FunctionName"],
            InvocationType="RequestResponse",
            Payload=json.dumps(event).encode(),
        )
        payload = answer["Payload"].read().decode() or "null"
        if answer.get("FunctionError"):
            raise RuntimeError(f"the discovery function failed: {payload[:2000]}")
        return event, json.loads(payload)

    def now(self) -> _dt.datetime:
        return _dt.datetime.now(tz=_dt.UTC)

    def stop(self) -> None:
        return None


class EmulatorTarget(AwsTarget):
    """The local emulator (``emulator.server.LocalEmulator``), for the smoke's test."""

    name = "emulator"
    clock_note = "the emulator's emulated clock: every latency here is one of its assumptions"
    poll_seconds = 0.1
    fast_poll_seconds = 0.1
    agent_timeout = 60.0
    execution_timeout = 240.0
    notification_wait = 15.0

    def __init__(self, aws: Any) -> None:  # a started LocalEmulator
        self.aws = aws
        self.region = aws.region

    def client(self, service: str, read_timeout: float | None = None) -> Any:
        return self.aws.client(service)

    def overlays(self) -> list[Path]:
        return [TERRAFORM, TERRAFORM / "emulator"]

    def terraform_variables(self) -> dict[str, str]:
        return {"region": self.region, "endpoint": self.aws.endpoint}

    def prepare(self, workdir: Path) -> dict[str, str]:
        ec2 = self.client("ec2")
        image = ec2.register_image(
            Name="al2023-ami-emulated",
            RootDeviceName="/dev/xvda",
            BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
        )["ImageId"]
        name = "/acb-smoke/emulated-ami"
        self.client("ssm").put_parameter(
            Name=name, Value=image, Type="String", DataType="aws:ec2:image", Overwrite=True
        )
        return {"smoke_ami_parameter": name}

    def invoke_discovery(
        self, function: dict[str, Any], event: dict[str, Any], deployment: Any, workdir: Path
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        # The demo's runner fills in the schedule's placeholder the same way as
        # smoke.run.schedule_event (the time of the call), and returns its event.
        code = deployed_code(self.aws, function, workdir / "lambda" / "task")
        return invoke_discovery(self.aws, deployment, code, workdir / "discovery.log")

    def now(self) -> _dt.datetime:
        return self.aws.clock.now()
