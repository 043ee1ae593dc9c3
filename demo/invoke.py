"""Run a deployed function's package on one event, as Lambda would (moto's Invoke needs Docker).

The handler runs in a process of its own (``demo/lambda_runtime.py``) with the deployed
function's environment variables, plus the region, the emulator's endpoint and fake
credentials. The event, the output and the logs are appended to ``log``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

RUNTIME = Path(__file__).resolve().parent / "lambda_runtime.py"


def function(aws: Any, config: dict[str, Any], code_dir: Path, event: Any, log: Path) -> Any:
    """The handler's result; RuntimeError when it fails (as the invocation would)."""
    environment = {
        "PATH": "/usr/bin:/bin",
        "LC_ALL": "C.UTF-8",
        **config.get("Environment", {}).get("Variables", {}),
        "AWS_REGION": aws.region,
        "AWS_DEFAULT_REGION": aws.region,
        "AWS_ENDPOINT_URL": aws.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": config["FunctionName"],
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.get("MemorySize", "")),
        "ACB_DEMO_FUNCTION_ARN": config["FunctionArn"],
    }
    proc = subprocess.run(  # noqa: S603 - this interpreter, the demo's own runtime script
        [sys.executable, str(RUNTIME), str(code_dir), config["Handler"], str(config["Timeout"])],
        input=json.dumps(event),
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    with log.open("a") as out:
        out.write(
            f"$ handler(event)\n{json.dumps(event, indent=2)}\n--- stdout\n{proc.stdout}"
            f"--- stderr\n{proc.stderr}\n"
        )
    results = [line[7:] for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not results:
        raise RuntimeError(f"{config['FunctionName']} failed (exit {proc.returncode}): see {log}")
    return json.loads(results[-1])
