"""A one-shot stand-in for the Lambda Python runtime (moto's Invoke needs Docker).

    python lambda_runtime.py CODE_DIR HANDLER TIMEOUT_SECONDS < event.json

Run by the demo as a process of its own, with the deployed function's environment
variables (plus the region, the emulator's endpoint and fake credentials), like a
Lambda execution environment: CODE_DIR is the deployed package, unzipped; HANDLER is
the function's handler setting (``module.function``). The handler's result is the last
line of standard output, prefixed with ``RESULT ``; its logs go to standard error.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import uuid
from typing import Any


class Context:
    """The parts of the Lambda context object the handler uses."""

    def __init__(self, timeout_seconds: float) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = "$LATEST"
        self.invoked_function_arn = os.environ.get("ACB_DEMO_FUNCTION_ARN", "")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main(argv: list[str]) -> int:
    code_dir, handler_setting, timeout = argv[1], argv[2], float(argv[3])
    sys.path.insert(0, code_dir)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
    module_name, _, function_name = handler_setting.rpartition(".")
    handler = getattr(importlib.import_module(module_name), function_name)
    event = json.load(sys.stdin)
    result: Any = handler(event, Context(timeout))
    sys.stdout.flush()
    print("RESULT " + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
