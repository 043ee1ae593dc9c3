"""The real Terraform, run on a copy of the module in a temporary directory.

Nothing is written into the repository: the root module (its ``*.tf``, ``modules/``,
``asl/`` and ``ssm/``) and ``examples/local`` are copied under the demo's temporary
directory, so the example's ``source = "../../"`` resolves to the copy, and the state,
``.terraform/`` and the lock file live there. The CLI configuration is the one the
Makefile exports (``TF_CLI_CONFIG_FILE``: the provider mirror); run directly, the demo
writes one with ``scripts/terraform-cli-config.sh``. Terraform runs in a session of its
own, so that an interrupt reaches the demo first, which stops Terraform gracefully and
then destroys what was created.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from queue import Empty, Queue
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "local"
MODULE_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf")
MODULE_DIRS = ("modules", "asl", "ssm")
_PLAN = re.compile(r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy")
_DONE = re.compile(r": (Creation|Destruction|Modifications) complete after")
HEARTBEAT = 10.0  # seconds between progress lines while Terraform works


Say = Callable[[str], None]


def _pump(proc: subprocess.Popen[str], queue: Queue[str | None]) -> None:
    """Every line of Terraform's output into ``queue``, then None."""
    for line in proc.stdout or ():
        queue.put(line)
    queue.put(None)


class TerraformError(RuntimeError):
    """A Terraform command failed; ``log`` is its output."""

    def __init__(self, message: str, log: str) -> None:
        super().__init__(message)
        self.log = log


class Terraform:
    def __init__(
        self, workdir: Path, endpoint: str, say: Say, variables: dict[str, str] | None = None
    ) -> None:
        self.workdir = workdir
        self.endpoint = endpoint
        self.variables = dict(variables or {})  # further -var of apply and destroy
        self.say = say
        self.stage = workdir / "module"
        self.chdir = self.stage / "examples" / "local"
        self.applied = False  # an apply was started: destroy is needed
        self.env = self._environment()

    # ------------------------------------------------------------------ set-up
    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1", TF_INPUT="0")
        config = env.get("TF_CLI_CONFIG_FILE")
        if not config or not Path(config).is_file():
            config = str(self.workdir / "terraformrc")
            command = [str(ROOT / "scripts" / "terraform-cli-config.sh"), config]
            if env.get("TF_PLUGIN_DIR"):
                command.append(env["TF_PLUGIN_DIR"])
            subprocess.run(command, check=True, capture_output=True, timeout=60)  # noqa: S603
            env["TF_CLI_CONFIG_FILE"] = config
        if not env.get("TF_PLUGIN_CACHE_DIR"):
            # The Makefile's cache: the provider is linked from the mirror, not copied.
            cache = ROOT / ".tfcli" / "plugin-cache"
            cache.mkdir(parents=True, exist_ok=True)
            env["TF_PLUGIN_CACHE_DIR"] = str(cache)
        return env

    def stage_module(self) -> None:
        self.stage.mkdir(parents=True, exist_ok=True)
        for name in MODULE_FILES:
            shutil.copy2(ROOT / name, self.stage / name)
        ignore = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "tests", "*.tfstate*")
        for name in MODULE_DIRS:
            shutil.copytree(ROOT / name, self.stage / name, ignore=ignore)
        self.chdir.mkdir(parents=True)
        for path in EXAMPLE.glob("*.tf"):
            shutil.copy2(path, self.chdir / path.name)

    # ------------------------------------------------------------------ commands
    def _run(self, args: list[str], what: str, timeout: float, progress: bool = False) -> str:
        command = ["terraform", f"-chdir={self.chdir}", *args]
        log_path = self.workdir / f"terraform-{args[0]}.log"
        lines: list[str] = []
        started = time.monotonic()
        proc = subprocess.Popen(  # noqa: S603 - terraform from PATH, fixed arguments
            command,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # Ctrl-C reaches the demo, which stops terraform itself
        )
        # Lines come through a queue, so that a silent Terraform (planning, or waiting on
        # one slow resource) still gets a progress line every HEARTBEAT seconds.
        queue: Queue[str | None] = Queue()
        threading.Thread(target=_pump, args=(proc, queue), daemon=True).start()
        total, done, shown = 0, 0, started
        try:
            while True:
                try:
                    line = queue.get(timeout=1.0)
                except Empty:
                    line = ""
                if line is None:
                    break
                if line:
                    lines.append(line)
                now = time.monotonic()
                if now - started > timeout:
                    raise TimeoutError(f"terraform {what} took more than {timeout:.0f} s")
                if not progress:
                    continue
                match = _PLAN.search(line)
                if match:
                    total = int(match.group(1)) + int(match.group(3))
                    self.say(f"  {what}: planned, {total} resources ({now - started:.0f} s)")
                    shown = now
                finished = bool(_DONE.search(line))
                done += finished
                if (finished and done == total) or now - shown >= HEARTBEAT:
                    shown = now
                    where = f"{done}/{total} resources" if total else "planning"
                    self.say(f"  {what}: {where} ({now - started:.0f} s)")
            code = proc.wait(timeout=max(1.0, timeout - (time.monotonic() - started)))
        except BaseException:
            self._stop(proc)
            raise
        finally:
            log_path.write_text("".join(lines))
        output = "".join(lines)
        if code != 0:
            raise TerraformError(f"terraform {what} failed (exit {code}): see {log_path}", output)
        return output

    @staticmethod
    def _stop(proc: subprocess.Popen[str]) -> None:
        """Stop terraform gracefully (it saves its state), bounded; then kill it."""
        if proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGINT, 60.0), (signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def init(self) -> None:
        self._run(["init", "-input=false", "-no-color"], "init", timeout=120)

    def apply(self) -> None:
        self.applied = True
        self._run(
            [
                "apply",
                "-auto-approve",
                "-input=false",
                "-no-color",
                "-parallelism=20",
                f"-var=endpoint={self.endpoint}",
                *(f"-var={k}={v}" for k, v in self.variables.items()),
            ],
            "apply",
            timeout=240,
            progress=True,
        )

    def outputs(self) -> dict[str, Any]:
        proc = subprocess.run(  # noqa: S603
            ["terraform", f"-chdir={self.chdir}", "output", "-json", "-no-color"],  # noqa: S607
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            start_new_session=True,
        )
        if proc.returncode != 0:
            raise TerraformError("terraform output failed", proc.stdout + proc.stderr)
        return {name: value["value"] for name, value in json.loads(proc.stdout).items()}

    def destroy(self) -> None:
        self._run(
            [
                "destroy",
                "-auto-approve",
                "-input=false",
                "-no-color",
                "-refresh=false",
                "-parallelism=20",
                f"-var=endpoint={self.endpoint}",
                *(f"-var={k}={v}" for k, v in self.variables.items()),
            ],
            "destroy",
            timeout=240,
            progress=True,
        )
        self.applied = False

    def state_resources(self) -> int:
        """Resources left in the state (0 after a complete destroy)."""
        state = self.chdir / "terraform.tfstate"
        if not state.exists():
            return 0
        data = json.loads(state.read_text() or "{}")
        return sum(1 for r in data.get("resources", []) if r.get("mode") == "managed")
