"""Patches that bring moto's Step Functions interpreter closer to AWS.

Each patch names the AWS behaviour it emulates. They are applied by
``emulator.install()`` and undone by ``emulator.uninstall()``:

* Wait states and Retry intervals advance the emulated clock instead of sleeping
  (``fast_waits=True``), so long polls cost nothing; every pause is recorded.
* ``$$.State.EnteredTime`` and history event timestamps come from the emulated
  clock; EnteredTime is written as AWS writes it (``...T01:00:00.123Z``).
* JSONPath results follow AWS (Jayway) semantics: a definite path gives its value
  (or fails when missing), an indefinite one (``[*]``, ``..``, filters, slices,
  unions) always gives a list, empty when nothing matches. moto returns a scalar for
  a single match of ``$.a[*].b[*].c`` and a one-element list for ``$.a[0].b``.
* Choice ``Timestamp*`` rules accept RFC 3339 with fractional seconds, as AWS does
  (moto only accepts ``%Y-%m-%dT%H:%M:%SZ``).
* A Wait state's ``Timestamp`` is reached on the emulated clock, truncated to the
  second as AWS documents (moto subtracts the host's naive local time).
* ``aws-sdk:*`` tasks: parameters written in PascalCase reach botocore under the
  API's own member names (AWS: "Parameters in Step Functions are expressed in
  PascalCase, even if the native service API is in camelCase"); responses come
  back with PascalCase keys and timestamps as RFC 3339 strings (moto passes raw
  ``datetime`` objects, which then break DescribeExecution); error names are
  ``Service.ErrorNameException`` with the service in PascalCase (``Ssm.``,
  ``Ec2.Ec2Exception`` for unmodelled errors), where moto writes ``ssm.``.
* JSONata (``QueryLanguage: "JSONata"``) is evaluated by jsonata-python through
  ``emulator.jsonata_bridge`` (moto's evaluator is a stub).
* ``set_call_latency(seconds)``: every service call a Task makes takes that long on the
  emulated clock (the request is answered that much later), to prove that deadlines
  computed from time hold whatever the latency.
* Speed only, behaviour unchanged: a definition is parsed once, not at every
  execution (moto's ANTLR parser takes about a second for 140 states; the parsed
  program keeps no per-execution state, which lives in each execution's
  environment), and Task states reuse one boto3 client per service and region.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
import sys
import types
from typing import Any

from . import jsonata_bridge
from ._patching import patch as _patch
from .clock import EmulatedClock, iso_millis, parse_iso

_call_latency = [0.0]
_clock_ref: list[EmulatedClock] = []


def set_call_latency(seconds: float) -> None:
    """Emulated seconds each service call of a Task state takes from now on (0: none)."""
    _call_latency[0] = max(0.0, float(seconds))


def _before_call(**_: Any) -> None:
    if _call_latency[0] and _clock_ref:
        _clock_ref[0].advance(_call_latency[0], kind="latency")


_SERVICE_ERROR_NAMES = {
    "dynamodb": "DynamoDb",
    "sfn": "Sfn",
    "ec2": "Ec2",
    "ssm": "Ssm",
    "backup": "Backup",
    "sns": "Sns",
}


# --------------------------------------------------------------------------- shapes
@functools.cache
def _service_model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


def _operation_model(service: str, api_action: str) -> Any | None:
    model = _service_model(service)
    name = api_action[:1].upper() + api_action[1:]
    try:
        return model.operation_model(name)
    except Exception:  # an operation botocore does not know: leave parameters as they are
        return None


def _to_api_names(value: Any, shape: Any) -> Any:
    """Rename structure keys to the API's member names, matching case-insensitively."""
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        members = {name.lower(): name for name in shape.members}
        out = {}
        for key, item in value.items():
            name = members.get(key.lower(), key)
            out[name] = _to_api_names(item, shape.members.get(name))
        return out
    if shape.type_name == "list" and isinstance(value, list):
        return [_to_api_names(item, shape.member) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {key: _to_api_names(item, shape.value) for key, item in value.items()}
    return value


def _to_sfn_output(value: Any, shape: Any) -> Any:
    """Step Functions' view of an SDK response: PascalCase keys, timestamps as strings."""
    if isinstance(value, _dt.datetime):
        return iso_millis(value)
    if isinstance(value, dict):
        if shape is not None and shape.type_name == "structure":
            return {
                key[:1].upper() + key[1:]: _to_sfn_output(item, shape.members.get(key))
                for key, item in value.items()
            }
        inner = shape.value if shape is not None and shape.type_name == "map" else None
        return {key: _to_sfn_output(item, inner) for key, item in value.items()}
    if isinstance(value, list):
        inner = shape.member if shape is not None and shape.type_name == "list" else None
        return [_to_sfn_output(item, inner) for item in value]
    return value


# --------------------------------------------------------------------------- JSONPath
_INDEFINITE = re.compile(r"\[\s*\*\s*\]|\.\.|\[\s*\?|\[[^\]]*[:,][^\]]*\]")


@functools.lru_cache(maxsize=4096)
def _parse_json_path(path: str) -> Any:
    from jsonpath_ng.ext import parse

    return parse(path)


def _extract_json(path: str, data: Any) -> Any:
    from moto.stepfunctions.parser.asl.utils.json_path import NoSuchJsonPathError

    matches = _parse_json_path(path).find(data)
    if _INDEFINITE.search(path):
        return [match.value for match in matches]
    if not matches:
        raise NoSuchJsonPathError(json_path=path, data=data)
    return matches[0].value


def _patch_extract_json() -> None:
    import importlib

    from moto.stepfunctions.parser.asl.utils import json_path

    for name in (
        "moto.stepfunctions.parser.asl.component.common.string.string_expression",
        "moto.stepfunctions.parser.asl.component.intrinsic.argument.argument",
        "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator"
        ".implementations.timestamp_operators",
        "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator"
        ".implementations.boolean_equals",
        "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator"
        ".implementations.numeric",
        "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator"
        ".implementations.string_operators",
        "moto.stepfunctions.parser.asl.eval.states",
    ):
        importlib.import_module(name)
    original_function = json_path.extract_json
    for name, module in list(sys.modules.items()):
        if (
            name.startswith("moto.stepfunctions.parser")
            and getattr(module, "extract_json", None) is original_function
        ):
            _patch(module, "extract_json", _extract_json)


# --------------------------------------------------------------------------- clients
def _patch_client_cache() -> None:
    import importlib
    import threading

    from moto.stepfunctions.parser.asl.utils import boto_client

    for name in (
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
        ".state_task_service_aws_sdk",
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
        ".state_task_service_dynamodb",
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
        ".state_task_service_sns",
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
        ".state_task_service_sfn",
    ):
        importlib.import_module(name)
    create = boto_client.boto_client_for
    cache: dict[tuple[Any, ...], Any] = {}
    lock = threading.Lock()

    @functools.wraps(create)
    def cached(region: str, service: str, state_credentials: Any = None) -> Any:
        from moto.core.models import botocore_stubber
        from moto.settings import moto_server_port

        # moto's clients use fixed credentials whatever the Task's role: one per service is enough.
        key = (region, service, botocore_stubber.enabled, moto_server_port())
        with lock:
            if key not in cache:
                cache[key] = create(region=region, service=service)
                cache[key].meta.events.register("before-call", _before_call)
            return cache[key]

    for name, module in list(sys.modules.items()):
        if (
            name.startswith("moto.stepfunctions.parser")
            and getattr(module, "boto_client_for", None) is create
        ):
            _patch(module, "boto_client_for", cached)


def _patch_parse_cache() -> None:
    from moto.stepfunctions.parser.asl.parse import asl_parser

    parser = asl_parser.AmazonStateLanguageParser
    parse = parser.parse
    cached = functools.lru_cache(maxsize=16)(parse)
    _patch(parser, "parse", staticmethod(cached))


def _patch_choice_default() -> None:
    """A Choice state's own Assign/Output belong to its Default branch only.

    moto decides "the Default was taken" by comparing the next state's name with the
    Default's, so a rule whose Next is the Default's state also runs the Default's Assign.
    """
    from moto.stepfunctions.parser.asl.component.state.choice import state_choice

    choice = state_choice.StateChoice
    evaluate_output = choice._eval_state_output

    def _eval_state(self: Any, env: Any) -> None:
        for rule in self.choices_decl.rules:
            rule.eval(env)
            if env.stack.pop() is True:
                env.stack.append(rule.next_stmt.name)
                env._acb_choice_rule_matched = True
                return
        if self.default_state is None:
            raise RuntimeError(f"No branching option reached in state {self.name}")
        env.stack.append(self.default_state.state_name)
        env._acb_choice_rule_matched = False

    def _eval_state_output(self: Any, env: Any) -> None:
        if getattr(env, "_acb_choice_rule_matched", False):
            env.next_state_name = env.stack.pop()
            if self._is_language_query_jsonpath():
                if self.output_path:
                    self.output_path.eval(env=env)
                else:
                    env.states.reset(input_value=env.stack.pop())
            return
        evaluate_output(self, env)

    _patch(choice, "_eval_state", _eval_state)
    _patch(choice, "_eval_state_output", _eval_state_output)


def _patch_catch_to_self() -> None:
    """A Catcher whose ``Next`` is its own state re-enters that state.

    moto decides "Next was overridden" by comparing the next state's name with the state's
    own, so a Catcher naming its own state continues with the state's ``Next`` instead.
    """
    from moto.stepfunctions.parser.asl.component.common.catch import catcher_decl
    from moto.stepfunctions.parser.asl.component.common.catch.catcher_outcome import (
        CatcherOutcomeCaught,
    )
    from moto.stepfunctions.parser.asl.component.state import state as state_module

    catcher = catcher_decl.CatcherDecl
    evaluate_catcher = catcher._eval_body
    set_next = state_module.CommonStateField._set_next

    def _eval_body(self: Any, env: Any) -> None:
        evaluate_catcher(self, env)
        if env.stack and isinstance(env.stack[-1], CatcherOutcomeCaught):
            env._acb_caught_next = self.next_decl.name

    def _set_next(self: Any, env: Any) -> None:
        caught = getattr(env, "_acb_caught_next", None)
        env._acb_caught_next = None
        if caught is not None and caught == self.name == env.next_state_name:
            return  # the Catcher's choice: this state again
        set_next(self, env)

    _patch(catcher, "_eval_body", _eval_body)
    _patch(state_module.CommonStateField, "_set_next", _set_next)


def _patch_wait_timestamp(clock: EmulatedClock) -> None:
    """A Wait state's Timestamp is reached on the emulated clock, truncated to the second.

    AWS: "Step Functions considers the time value up to seconds and truncates milliseconds"
    (Developer Guide, Wait state); moto measures it against the host's naive local time.
    """
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import (
        timestamp as wait_timestamp,
    )

    def _timestamp_wait_seconds(self: Any, env: Any) -> float:
        self.string.eval(env=env)
        text = env.stack.pop()
        parsed = self._from_timestamp_string(timestamp=text)  # drops the fraction
        if parsed is None:
            raise FailureEventException(self._create_failure_event(env, text))
        wait = parsed.replace(tzinfo=_dt.UTC).timestamp() - clock.now().timestamp()
        # A microsecond more: the clock adds floats, and the wait must never end before the
        # timestamp (104.99999995 instead of 105 would end in the second before).
        return max(0.0, wait + 1e-6)

    _patch(wait_timestamp.Timestamp, "_get_wait_seconds", _timestamp_wait_seconds)


# --------------------------------------------------------------------------- install
def install(clock: EmulatedClock, fast_waits: bool = True) -> None:
    _clock_ref[:] = [clock]
    _call_latency[0] = 0.0
    jsonata_bridge.install(lambda: int(clock.now().timestamp() * 1000))
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state import state as state_module
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations import (  # noqa: E501
        is_operator,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as aws_sdk,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import (
        wait_function,
    )
    from moto.stepfunctions.parser.asl.eval.event import event_manager

    # Waits and retries on the emulated clock.
    if fast_waits:

        def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
            clock.advance(float(wait_seconds), kind="wait")

        _patch(wait_function.WaitFunction, "_wait_interval", _wait_interval)
        time_shim = types.SimpleNamespace(
            sleep=lambda seconds: clock.advance(float(seconds), kind="retry"),
            time=lambda: clock.now().timestamp(),
        )
        _patch(retrier_decl, "time", time_shim)

    _patch_extract_json()
    _patch_client_cache()
    _patch_parse_cache()
    _patch_choice_default()
    _patch_catch_to_self()

    # Timestamps from the emulated clock.
    _patch(
        event_manager.EventManager,
        "_get_current_timestamp",
        staticmethod(clock.now),
    )

    class _AwsStyleDatetime(_dt.datetime):
        def isoformat(self, *args: Any, **kwargs: Any) -> str:  # AWS: ...T01:00:00.123Z
            return iso_millis(self)

    class _ClockDatetime:
        @staticmethod
        def now(tz: Any = None) -> _dt.datetime:
            current = clock.now()
            return _AwsStyleDatetime.fromtimestamp(current.timestamp(), tz=_dt.UTC)

    _patch(
        state_module,
        "datetime",
        types.SimpleNamespace(datetime=_ClockDatetime, timezone=_dt.timezone),
    )

    _patch_wait_timestamp(clock)

    # Choice Timestamp* rules: RFC 3339 with fractional seconds.
    def _string_to_timestamp(string: str) -> _dt.datetime | None:
        parsed = parse_iso(string)
        return None if parsed is None else parsed.replace(tzinfo=None)

    _patch(is_operator.IsTimestamp, "string_to_timestamp", staticmethod(_string_to_timestamp))

    # aws-sdk integrations: names and shapes as Step Functions presents them.
    sdk = aws_sdk.StateTaskServiceAwsSdk

    def _normalise_service_error_name(service_name: str) -> str:
        lower = service_name.lower()
        return _SERVICE_ERROR_NAMES.get(lower, service_name[:1].upper() + service_name[1:])

    def _normalise_parameters(self: Any, parameters: dict, *args: Any, **kwargs: Any) -> None:
        operation = _operation_model(self._get_boto_service_name(), self.resource.api_action)
        if operation is None or operation.input_shape is None:
            return
        renamed = _to_api_names(parameters, operation.input_shape)
        parameters.clear()
        parameters.update(renamed)

    def _normalise_response(self: Any, response: Any, *args: Any, **kwargs: Any) -> None:
        if not isinstance(response, dict):
            return
        operation = _operation_model(self._get_boto_service_name(), self.resource.api_action)
        shape = None if operation is None else operation.output_shape
        converted = _to_sfn_output(response, shape)
        response.clear()
        response.update(converted)

    _patch(sdk, "_normalise_service_error_name", staticmethod(_normalise_service_error_name))
    _patch(sdk, "_normalise_parameters", _normalise_parameters)
    _patch(sdk, "_normalise_response", _normalise_response)
