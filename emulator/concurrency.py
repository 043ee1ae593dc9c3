"""Hooks that put moto's Step Functions interpreter, and botocore's retries, on the scheduler.

Installed by ``emulator.fleet`` (``install()``, undone by ``emulator.uninstall()``).
Every hook falls back to moto's and botocore's own behaviour when no scheduler is
being driven, so the single-execution mode of tests/statemachine and the demo is
untouched:

* the interpreter's threads (one per execution, one per Task state for its
  TimeoutSeconds, Map and Parallel workers) and its events, conditions and
  semaphores become scheduler participants and virtual primitives, so a Task's
  TimeoutSeconds and an execution's TimeoutSeconds elapse in virtual time;
* an execution's start and stop dates come from the emulated clock (moto stamps them
  with the host's clock);
* the full jitter of Retry rules (``JitterStrategy: FULL``) draws from a seeded
  generator, and moto's identifiers from its seeded ``mock_random``;
* botocore's retry back-off sleeps (standard and legacy modes) sleep virtual time in a
  participant, with jitter from the seeded generator.

Speed only, behaviour unchanged: moto deep-copies the state document at every access
(``copy.deepcopy``); for JSON values a plain recursive copy gives the same result in a
fraction of the time. botocore's per-request ``uuid4`` comes from the seeded generator.
``ExecutionState._evaluate_with_timeout`` runs the
Task in the calling thread when the Task's timeout cannot expire before the call
returns (no Task here takes more than a few virtual seconds against a timeout of 30
or more); that saves one thread and two baton hand-overs per Task state. When a call
does outlast the timeout, the state fails with ``States.Timeout`` as moto's own code
would, at the moment the call returns.
"""

from __future__ import annotations

import copy
import datetime as _dt
import importlib
import marshal
import random
import sys
import threading
import types
import uuid
from typing import Any

from . import scheduler as _scheduler
from ._patching import patch
from .clock import EmulatedClock

_INTERPRETER_MODULES = (
    "moto.stepfunctions.parser.asl.component.program.program",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration"
    ".inline_iteration_component",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor"
    ".map_run_record",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.job",
    "moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branch_worker",
    "moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branches_decl",
    "moto.stepfunctions.parser.asl.component.state.exec.execute_state",
    "moto.stepfunctions.parser.asl.eval.count_down_latch",
    "moto.stepfunctions.parser.asl.eval.environment",
    "moto.stepfunctions.parser.backend.execution_worker",
)
_DATED_MODULES = (
    "moto.stepfunctions.parser.models",
    "moto.stepfunctions.parser.backend.execution",
)

_rng: list[random.Random] = [random.Random(0)]  # noqa: S311 - jitter, not security


def seed(value: int) -> None:
    """Seed Retry jitter and moto's identifiers (instance, command, execution IDs)."""
    from moto.moto_api._internal import mock_random

    _rng[0] = random.Random(value)  # noqa: S311
    mock_random.seed(value)


def random_unit() -> float:
    """A draw in [0, 1) from the seeded generator (the definition's ``$random()``)."""
    return _rng[0].random()


def install(clock: EmulatedClock, *, inline_tasks: bool = True) -> None:
    for name in _INTERPRETER_MODULES:
        importlib.import_module(name)
    for name, module in list(sys.modules.items()):
        if not name.startswith("moto.stepfunctions.parser") or module is None:
            continue
        if getattr(module, "threading", None) is threading:
            patch(module, "threading", _scheduler.threading_shim)
        if getattr(module, "Thread", None) is threading.Thread:
            patch(module, "Thread", _scheduler.VirtualThread)

    # Execution start and stop dates from the emulated clock while a scheduler runs.
    class _ClockDatetime(_dt.datetime):
        @classmethod
        def now(cls, tz: Any = None) -> _dt.datetime:  # type: ignore[override]
            if clock.scheduler is not None:
                current = clock.now()
                return current if tz is None else current.astimezone(tz)
            return _dt.datetime.now(tz)

    dated = types.SimpleNamespace(
        **{k: getattr(_dt, k) for k in dir(_dt) if not k.startswith("__")}
    )
    dated.datetime = _ClockDatetime
    for name in _DATED_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "datetime", None) is _dt:
            patch(module, "datetime", dated)

    # Full jitter of Retry rules from a seeded generator.
    from moto.stepfunctions.parser.asl.component.common.retry import jitter_strategy_decl

    patch(
        jitter_strategy_decl,
        "random",
        types.SimpleNamespace(uniform=lambda a, b: _rng[0].uniform(a, b)),  # noqa: PLW0108 - reseedable
    )

    # botocore's back-off between attempts: virtual in a participant.
    import botocore.endpoint
    import botocore.retries.standard

    time_shim = types.SimpleNamespace(
        **{k: getattr(_time(), k) for k in dir(_time()) if not k.startswith("__")}
    )
    time_shim.sleep = _scheduler.sleep
    patch(botocore.endpoint, "time", time_shim)
    patch(botocore.retries.standard, "time", time_shim)
    backoff = botocore.retries.standard.ExponentialBackoff
    init = backoff.__init__

    def _seeded_init(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) < 2 and "random" not in kwargs:
            kwargs["random"] = lambda: _rng[0].random()  # noqa: PLW0108 - reseedable
        init(self, *args, **kwargs)

    patch(backoff, "__init__", _seeded_init)

    if inline_tasks:
        _install_inline_tasks()
    _install_fast_copies()
    _install_unshared_reads()
    _install_caches()
    # botocore stamps every request with a fresh uuid4 (os.urandom: milliseconds here).
    patch(
        botocore.endpoint,
        "uuid",
        types.SimpleNamespace(uuid4=lambda: uuid.UUID(int=_rng[0].getrandbits(128), version=4)),
    )


def json_copy(value: Any) -> Any:
    """``copy.deepcopy`` for plain data (dicts, lists, scalars), in C; deepcopy otherwise.

    ``marshal`` rebuilds exactly the builtin containers and scalars (keeping shared
    references shared, as deepcopy's memo does) and refuses anything else, which then
    goes to ``copy.deepcopy``.
    """
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    try:
        return marshal.loads(marshal.dumps(value))  # noqa: S302 - our own bytes, this instant
    except ValueError:
        return copy.deepcopy(value)


def _install_caches() -> None:
    """Parse each ResultPath once (moto parses it at every state) and list a response
    class's operations once per class (moto inspects the class at every request)."""
    import functools

    from jsonpath_ng import parse
    from moto.core import responses
    from moto.stepfunctions.parser.asl.component.common.path import result_path

    patch(result_path, "parse", functools.lru_cache(maxsize=4096)(parse))
    names = responses.method_names_from_class

    @functools.lru_cache(maxsize=512)
    def _cached(cls: type, version: int) -> list[str]:
        return names(cls)

    def method_names_from_class(cls: type) -> list[str]:
        # Patching an operation onto the class changes the count: a fresh listing.
        return _cached(cls, sum(len(vars(k)) for k in cls.__mro__))

    patch(responses, "method_names_from_class", method_names_from_class)


def _install_unshared_reads() -> None:
    """History events serialize the state's input: read it in place (moto copies it first)."""
    from moto.stepfunctions.parser.api import (
        HistoryEventExecutionDataDetails,
        StateEnteredEventDetails,
        StateExitedEventDetails,
    )
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

    def entered(self: Any, env: Any) -> Any:
        return StateEnteredEventDetails(
            name=self.name,
            input=to_json_str(env.states._states_data["input"], separators=(",", ":")),
            inputDetails=HistoryEventExecutionDataDetails(truncated=False),
        )

    def exited(self: Any, env: Any) -> Any:
        details = StateExitedEventDetails(
            name=self.name,
            output=to_json_str(env.states._states_data["input"], separators=(",", ":")),
            outputDetails=HistoryEventExecutionDataDetails(truncated=False),
        )
        assigned = env.variable_store.get_assigned_variables()
        env.variable_store.reset_tracing()
        if assigned:
            details["assignedVariables"] = assigned
            details["assignedVariablesDetails"] = {"truncated": False}
        return details

    patch(CommonStateField, "_get_state_entered_event_details", entered)
    patch(CommonStateField, "_get_state_exited_event_details", exited)


def _install_fast_copies() -> None:
    """moto copies the whole state document at every access with ``copy.deepcopy``."""
    shim = types.SimpleNamespace(
        deepcopy=lambda value, memo=None: (
            json_copy(value) if memo is None else copy.deepcopy(value, memo)
        ),
        copy=copy.copy,
    )
    for name, module in list(sys.modules.items()):
        if (
            name.startswith("moto.stepfunctions.parser.asl")
            and module is not None
            and getattr(module, "copy", None) is copy
        ):
            patch(module, "copy", shim)


def _time() -> Any:
    import time

    return time


def _install_inline_tasks() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import (
        ExecutionState,
    )
    from moto.stepfunctions.parser.asl.eval.environment import Environment

    threaded = ExecutionState._evaluate_with_timeout
    timeout_error = execute_state.EvalTimeoutError

    def _evaluate_with_timeout(self: Any, env: Environment) -> None:
        found = _scheduler.current()
        if found is None:
            return threaded(self, env)
        scheduler = found[0]
        self.timeout.eval(env=env)
        timeout_seconds = env.stack.pop()
        frame = env.open_frame()
        frame.states.reset(input_value=env.states.get_input())
        frame.stack = json_copy(env.stack)
        began = scheduler.now()
        try:
            self._eval_execution(frame)
            outputs = list(frame.stack)
        finally:
            frame.set_ended()
            env.close_frame(frame)
        if timeout_seconds is not None and scheduler.now() - began > timeout_seconds:
            raise timeout_error()
        env.stack.append(outputs.pop())
        if not self._is_language_query_jsonpath():
            env.states.set_result(env.stack[-1])
        if self.assign_decl:
            self.assign_decl.eval(env=env)
        if self.result_selector:
            self.result_selector.eval(env=env)
        if self.result_path:
            self.result_path.eval(env)
        else:
            res = env.stack.pop()
            env.states.reset(input_value=res)

    patch(ExecutionState, "_evaluate_with_timeout", _evaluate_with_timeout)
