"""The emulator as a local AWS endpoint: moto's server, in this process, with the extensions.

    from emulator.server import LocalEmulator

    with LocalEmulator() as aws:          # http://127.0.0.1:<free port>
        aws.endpoint, aws.region, aws.account
        ...                               # terraform apply -var endpoint=..., boto3 clients
    # stopped, moto's state reset, every patch undone

What ``start()`` does, in this order (the order matters):

1. moto's configuration: Step Functions executes state machines
   (``execute_state_machine``; switched on later, moto would keep state machines in
   another backend: they "do not exist" and destroy loses them) and IAM knows the AWS
   managed policies (the vault module attaches AWSBackupServiceRolePolicyForBackup).
2. ``emulator.install()``: AWS Backup jobs, SSM agents, the interpreter's patches, the
   Step Functions calls the Terraform provider makes.
3. Executions run one at a time (``serial_executions``, on by default): every Wait state
   and Retry interval advances one emulated clock shared by all executions, so two
   executions running side by side would see each other's waits (a 900 s job poll of one
   moves the other past its 30 s freeze deadline). Run one after another, each execution
   sees time pass as it would alone, which is what each sees on AWS. They still start
   together and are listed RUNNING until their turn.
4. moto's server on 127.0.0.1 at a free port, in a daemon thread of this process (so the
   caller can drive the emulator's Python API: plans, agents, faults), and ``MOTO_PORT``
   set to that port: the interpreter's Task states call the server there.

``stop()`` shuts the server down, resets moto's state and restores the configuration,
the environment and moto's classes. Both are idempotent.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import urllib.request
from typing import Any

import emulator

from ._patching import original, patch

ACCOUNT = "123456789012"  # moto's default account
_ENVIRONMENT = ("MOTO_PORT", "MOTO_EC2_LOAD_DEFAULT_AMIS")
_turn = threading.Lock()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def install_serial_executions() -> None:
    """Run the Step Functions executions of this process one at a time (see above)."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    logic = original(ExecutionWorker, "_execution_logic")

    def _one_at_a_time(self: Any) -> None:
        with _turn:
            logic(self)

    patch(ExecutionWorker, "_execution_logic", _one_at_a_time)


def uninstall_serial_executions() -> None:
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    ExecutionWorker._execution_logic = original(ExecutionWorker, "_execution_logic")


class LocalEmulator:
    """moto's server with the emulator's extensions on a loopback port (see module doc)."""

    def __init__(
        self,
        region: str = "eu-west-1",
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        serial_executions: bool = True,
        fast_waits: bool = True,
        log_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.region = region
        self.account = ACCOUNT
        self.host = host
        self.port = port
        self.serial_executions = serial_executions
        self.fast_waits = fast_waits
        self.clock = emulator.clock
        self._server: Any = None
        self.server_thread: threading.Thread | None = None  # kept after stop(), to check
        self._saved_config: dict[str, Any] = {}
        self._saved_environment: dict[str, str | None] = {}
        self._was_installed = False
        self.log_path = log_path
        self._log_handler: Any = None
        self._saved_loggers: dict[str, tuple[int, bool]] = {}

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalEmulator:
        if self._server is not None:
            return self
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        self._redirect_logs()

        self._saved_config = {
            "execute_state_machine": default_user_config["stepfunctions"].get(
                "execute_state_machine", False
            ),
            "load_aws_managed_policies": default_user_config["iam"].get(
                "load_aws_managed_policies", False
            ),
        }
        default_user_config["stepfunctions"]["execute_state_machine"] = True
        default_user_config["iam"]["load_aws_managed_policies"] = True
        self._was_installed = emulator.installed()
        emulator.install(fast_waits=self.fast_waits)
        if self.serial_executions:
            install_serial_executions()
        self._saved_environment = {key: os.environ.get(key) for key in _ENVIRONMENT}
        os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"  # 5,000 AMIs a region: not needed
        self._reset_moto()  # a clean account, whatever ran in this process before
        last_error: Exception | None = None
        for _attempt in range(5):  # a port found free can be taken before we bind it
            port = self.port or free_port(self.host)
            server = ThreadedMotoServer(ip_address=self.host, port=port, verbose=False)
            try:
                server.start()
            except OSError as error:
                last_error = error
                continue
            self.port = port
            self._server = server
            self.server_thread = getattr(server, "_thread", None)
            break
        else:
            self._restore()
            raise RuntimeError(f"could not start moto's server: {last_error}")
        os.environ["MOTO_PORT"] = str(self.port)
        self._wait_ready()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(Exception):
                server.stop()
            self._reset_moto()
            self._restore()

    def __enter__(self) -> LocalEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ helpers
    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.endpoint}/moto-api/data.json"
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
                    answer.read(1)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _redirect_logs(self) -> None:
        """No line per request; moto's and the server's warnings to ``log_path`` (or nowhere).

        moto's interpreter logs every caught JSONPath miss and every Catch as an error, and
        the server logs a traceback for any operation moto lacks: the caller's output stays
        readable, and the file keeps them.
        """
        import logging

        handler: logging.Handler = (
            logging.FileHandler(self.log_path) if self.log_path else logging.NullHandler()
        )
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        self._log_handler = handler
        for name in ("werkzeug", "moto"):
            logger = logging.getLogger(name)
            self._saved_loggers[name] = (logger.level, logger.propagate)
            logger.addHandler(handler)
            logger.propagate = False
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no INFO line per request

    def _restore_logs(self) -> None:
        import logging

        for name, (level, propagate) in self._saved_loggers.items():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            logger.propagate = propagate
            if self._log_handler is not None:
                logger.removeHandler(self._log_handler)
        if self._log_handler is not None:
            self._log_handler.close()
        self._saved_loggers.clear()
        self._log_handler = None

    @staticmethod
    def _reset_moto() -> None:
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()

    def _restore(self) -> None:
        from moto.core.config import default_user_config

        if self._saved_config:
            default_user_config["stepfunctions"]["execute_state_machine"] = self._saved_config[
                "execute_state_machine"
            ]
            default_user_config["iam"]["load_aws_managed_policies"] = self._saved_config[
                "load_aws_managed_policies"
            ]
        for key, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._restore_logs()
        if self.serial_executions:
            uninstall_serial_executions()
        if not self._was_installed:
            emulator.uninstall()

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for this emulator (fake credentials, the emulator's region)."""
        import boto3

        return boto3.client(
            service,
            region_name=self.region,
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - the emulator's fake credentials
            **kwargs,
        )


def main(argv: list[str] | None = None) -> int:
    """``python -m emulator.server [--port N]``: the emulator in the foreground, until Ctrl-C.

    For trying examples/local by hand: ``terraform -chdir=examples/local apply
    -var endpoint=http://127.0.0.1:N`` (``make demo`` does all of it and cleans up).
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m emulator.server", description=main.__doc__)
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument("--region", default="eu-west-1")
    parser.add_argument("--log", default=None, help="file for moto's and the server's log")
    args = parser.parse_args(argv)
    aws = LocalEmulator(args.region, port=args.port, log_path=args.log)
    aws.start()
    print(f"emulator listening on {aws.endpoint} (region {aws.region}); Ctrl-C stops it")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        aws.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
