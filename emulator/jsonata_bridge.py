"""JSONata for moto's Step Functions interpreter, evaluated by jsonata-python.

moto 5.2.5 parses JSONata states (``QueryLanguage: "JSONata"``, ``Arguments``, ``Output``,
``Assign``, ``Condition``, ``{% ... %}`` everywhere) but its evaluator is a stub
(``moto/stepfunctions/parser/asl/jsonata/jsonata.py``: ``_eval_jsonata`` is None). This
module binds it to jsonata-python (pure Python, a port of the JSONata reference
implementation; AWS runs JSONata 2.0.6) and fixes what moto does around the call:

* moto builds one text per evaluation, ``($states := <json>; $var := <json>; expr)``,
  writing string values as ``"<value>"`` without escaping: a variable holding a quote, a
  backslash or a newline (an SSM command's standard output) breaks the expression. Here
  ``$states`` and the workflow variables are passed as bindings, never as text.
* JSON ``null`` stays ``null`` (jsonata-python reads a bound Python ``None`` as
  *undefined*): values are converted to its ``NULL_VALUE`` on the way in and back on the
  way out, so ``$exists($v)`` and ``$v = null`` answer as on AWS.
* An expression that returns nothing (*undefined*) fails the state with
  ``States.QueryEvaluationError``, as AWS does (moto re-evaluates the text to find out).
* ``$millis()`` and ``$now()`` read the emulator's clock (the same one as
  ``$states.context.State.EnteredTime``), so deadlines computed in expressions move with
  emulated time.
* Step Functions' own functions: ``$parse`` (a JSON string to a value; moto's stub calls
  ``$eval``, which AWS does not offer), ``$uuid``, ``$partition``, ``$range``; ``$hash`` and
  ``$random`` with a seed are not emulated (an expression using them fails loudly);
  ``$random()`` draws from the emulator's seeded generator (``emulator.concurrency.seed``),
  so a run with jitter repeats.

Compiled expressions are cached with the variable names they mention, the only ones
converted and bound when they are evaluated; one evaluation of a compiled expression runs
at a time (jsonata-python keeps per-evaluation state, such as ``$millis()``'s timestamp,
on it).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

from ._patching import patch

_cache: dict[str, tuple[Any, threading.Lock, frozenset[str]]] = {}
_cache_lock = threading.Lock()
_clock_millis: list[Callable[[], int]] = []
# A variable reference in JSONata: ``$name`` (a superset of what an expression reads: a
# name inside a string literal or a local ``$x := ...`` matches too, which only binds more).
_REFERENCE = re.compile(r"\$(\w+)")
_NULL: list[Any] = []


class JSONataError(Exception):
    """An expression that failed to evaluate (AWS: ``States.QueryEvaluationError``)."""


class Undefined(Exception):
    """An expression that returned nothing."""


# --------------------------------------------------------------------------- values
def _null() -> Any:
    if not _NULL:
        from jsonata import Utils

        _NULL.append(Utils.NULL_VALUE)
    return _NULL[0]


def to_jsonata(value: Any) -> Any:
    """A JSON value as jsonata-python wants it: ``None`` (JSON null) as ``NULL_VALUE``."""
    if value is None:
        return _null()
    if isinstance(value, dict):
        return {key: to_jsonata(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonata(item) for item in value]
    return value


def from_jsonata(value: Any) -> Any:
    """A jsonata-python result as plain JSON: lists, dicts, ``None`` for null."""
    if value is _null():
        return None
    if isinstance(value, dict):
        return {key: from_jsonata(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [from_jsonata(item) for item in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)  # JavaScript numbers: 30.0 is written 30
    return value


# --------------------------------------------------------------------------- functions
def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        raise JSONataError("$parse expects a string")
    try:
        return to_jsonata(json.loads(text))
    except ValueError as error:
        raise JSONataError(f"$parse: not JSON: {error}") from error


def _partition(items: Any, size: Any) -> Any:
    items = list(items or [])
    size = int(size)
    return [items[i : i + size] for i in range(0, len(items), size)]


def _range(first: Any, last: Any, step: Any) -> Any:
    first, last, step = int(first), int(last), int(step)
    return list(range(first, last + (1 if step > 0 else -1), step))


def _random() -> float:
    from . import concurrency

    return concurrency.random_unit()


def _step_functions_functions() -> dict[str, Any]:
    from jsonata import Jsonata

    return {
        "parse": Jsonata.JLambda(_parse),
        "uuid": Jsonata.JLambda(lambda: str(uuid.uuid4())),
        "partition": Jsonata.JLambda(_partition),
        "range": Jsonata.JLambda(_range),
        "random": Jsonata.JLambda(_random),
    }


# --------------------------------------------------------------------------- evaluation
def _compiled(expression: str) -> tuple[Any, threading.Lock, frozenset[str]]:
    from jsonata import Jsonata

    with _cache_lock:
        entry = _cache.get(expression)
        if entry is None:
            try:
                compiled = Jsonata(expression)
            except Exception as error:
                raise JSONataError(f"{type(error).__name__}: {error}") from error
            compiled.set_output_convert_nulls(False)
            compiled.set_validate_input(False)
            names = frozenset(_REFERENCE.findall(expression))
            entry = _cache[expression] = (compiled, threading.Lock(), names)
        return entry


def evaluate(expression: str, variables: dict[str, Any] | None = None) -> Any:
    """Evaluate ``expression`` with ``variables`` (names without ``$``) bound as JSON values.

    Raises ``Undefined`` when the expression returns nothing, ``JSONataError`` when it fails.
    """
    from jsonata import Jsonata

    compiled, lock, names = _compiled(expression)
    bindings = _step_functions_functions()
    # Only the variables the expression names are converted: a state's scope holds every
    # workflow variable (an SSM command's output among them), and converting them all for
    # each of an execution's hundreds of expressions was most of the bridge's cost.
    for name, value in (variables or {}).items():
        if name in names:
            bindings[name] = to_jsonata(value)
    with lock:
        Jsonata.CURRENT.jsonata = compiled  # $millis()/$now() read the current object
        try:
            result = compiled.evaluate(None, bindings)
        except JSONataError:
            raise
        except Exception as error:  # jsonata-python raises JException, ValueError, ...
            raise JSONataError(f"{type(error).__name__}: {error}") from error
    if result is None:
        raise Undefined(expression)
    return from_jsonata(result)


# --------------------------------------------------------------------------- moto
def _variables(env: Any, expression: str) -> dict[str, Any]:
    store = env.variable_store
    variables: dict[str, Any] = {}
    variables.update(getattr(store, "_outer_scope", {}) or {})
    variables.update(getattr(store, "_inner_scope", {}) or {})
    if "$states" in expression:
        variables["states"] = env.states._states_data
    return variables


def _failure(env: Any, cause: str) -> Exception:
    from moto.stepfunctions.parser.api import (
        EvaluationFailedEventDetails,
        HistoryEventType,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    error_name = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
    details = EventDetails(
        evaluationFailedEventDetails=EvaluationFailedEventDetails(
            cause=cause[:32768], error=error_name.error_name
        )
    )
    event = FailureEvent(
        env=env,
        error_name=error_name,
        event_type=HistoryEventType.EvaluationFailed,
        event_details=details,
    )
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.EvaluationFailed,
        event_details=details,
    )
    return FailureEventException(failure_event=event)


def _eval_in_state(env: Any, expression: str) -> Any:
    try:
        return evaluate(expression, _variables(env, expression))
    except Undefined:
        raise _failure(
            env, f"The JSONata expression '{expression}' returned nothing (undefined)."
        ) from None
    except JSONataError as error:
        raise _failure(
            env, f"An error occurred while evaluating the expression '{expression}': {error}"
        ) from None


def install(clock_millis: Callable[[], int]) -> None:
    """Bind moto's JSONata evaluation to jsonata-python, reading time from ``clock_millis``."""
    from jsonata import timebox
    from moto.stepfunctions.parser.asl.component.common.string import string_expression
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata

    _clock_millis[:] = [clock_millis]

    def _string_jsonata(self: Any, env: Any) -> None:
        env.stack.append(_eval_in_state(env, self.expression))

    def _string_variable_sample(self: Any, env: Any) -> None:
        # A "$var" reference (JSONPath states read variables too): its value, not text.
        env.stack.append(_eval_in_state(env, self.expression))

    def _textual(expression: str) -> Any:
        # Only reached by code paths that still compose text (none in our definition).
        try:
            return evaluate(expression)
        except Undefined:
            return None

    patch(string_expression.StringJSONata, "_eval_body", _string_jsonata)
    patch(string_expression.StringVariableSample, "_eval_body", _string_variable_sample)
    patch(moto_jsonata, "_eval_jsonata", _textual)

    def _current_milli_time() -> int:
        return _clock_millis[0]()

    patch(timebox.Timebox, "current_milli_time", staticmethod(_current_milli_time))
