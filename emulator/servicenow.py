"""A local ServiceNow Event Management jsonv2 endpoint: a real HTTP server on the loopback.

    from emulator.servicenow import LocalServiceNow

    with LocalServiceNow() as snow:            # http://127.0.0.1:<free port>
        snow.url                               # the instance's base URL
        snow.add_user("integration", "secret", roles=("evt_mgmt_integration",))
        snow.add_api_key("key-1", user="integration")
        snow.fail_next(503, count=2)           # the next two requests answer 503
        ...                                    # POST {url}/api/global/em/jsonv2
        snow.accepted                          # every event it accepted, in order
        snow.bodies                            # every accepted request body, as sent

It enforces what ServiceNow documents for the web service (see emulator/README.md,
"Local ServiceNow", for each rule's source) and, where the documentation is silent,
the pessimistic reading: a request that breaks any rule is refused whole, with the
status and the ``{"error": {"message", "detail"}, "status": "failure"}`` body of
ServiceNow's REST API; nothing of it is kept.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = "/api/global/em/jsonv2"
ROLE = "evt_mgmt_integration"
API_KEY_HEADER = "x-sn-apikey"
MAX_BODY = 10 * 1024 * 1024  # assumption: ServiceNow's REST request size limit is 10 MB

# em_event fields ("Event field format for event collection"), all strings; the
# documented maximum length where one is given.
FIELDS: dict[str, int | None] = {
    "source": 100,
    "event_class": None,
    "node": 100,
    "resource": 100,
    "metric_name": None,
    "type": 100,
    "message_key": 1024,
    "ci_type": 100,
    "severity": None,
    "resolution_state": None,
    "time_of_event": 40,
    "description": 4000,
    "additional_info": None,
}
SEVERITIES = {"0", "1", "2", "3", "4", "5"}  # 0 Clear, 1 Critical .. 5 OK
RESOLUTION_STATES = {"New", "Closing"}
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")  # yyyy-MM-dd HH:mm:ss, GMT


def problems(record: Any) -> list[str]:
    """What is wrong with one event of the ``records`` array (empty: acceptable)."""
    if not isinstance(record, dict):
        return ["a record is not a JSON object"]
    return _shape(record) or _values(record)


def _shape(record: dict[str, Any]) -> list[str]:
    found = []
    for key, value in record.items():
        limit = FIELDS.get(key)
        if key not in FIELDS:
            found.append(f"{key}: not an em_event field (extra data goes in additional_info)")
        elif not isinstance(value, str):
            found.append(f"{key}: must be a string, got {type(value).__name__}")
        elif limit is not None and len(value) > limit:
            found.append(f"{key}: {len(value)} characters, at most {limit}")
    return found


def _values(record: dict[str, Any]) -> list[str]:
    found = []
    if not record.get("source"):
        found.append("source: required")
    if not record.get("node") and not record.get("event_class"):
        found.append("node or event_class: required to bind the event")
    if record.get("severity") not in SEVERITIES:
        found.append(f"severity: {record.get('severity')!r} is not 0..5")
    state = record.get("resolution_state")
    if state is not None and state not in RESOLUTION_STATES:
        found.append(f"resolution_state: {state!r} is neither New nor Closing")
    when = record.get("time_of_event")
    if when is not None and not TIME_RE.match(when):
        found.append(f"time_of_event: {when!r} is not yyyy-MM-dd HH:mm:ss")
    if "additional_info" in record:
        found += _additional_info(record["additional_info"])
    return found


def _additional_info(text: str) -> list[str]:
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        return ["additional_info: must be a JSON object in a string"]
    bad = sorted(k for k, v in parsed.items() if not isinstance(v, str))
    return [f"additional_info: values must be strings ({', '.join(bad)})"] if bad else []


@dataclass
class Received:
    """One request, as the server saw it (credentials left out)."""

    method: str
    path: str
    status: int
    content_type: str
    auth: str  # "basic:<user>", "api_key:<user>", "none", or what failed
    body: str
    answer: dict[str, Any]


@dataclass
class _Fault:
    status: int
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class _State:
    users: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    api_keys: dict[str, str] = field(default_factory=dict)
    faults: deque[_Fault] = field(default_factory=deque)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)


def _error(message: str, detail: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "detail": detail}, "status": "failure"}


class LocalServiceNow:
    """The server (see the module's docstring); thread-safe, idempotent start and stop."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._port = port
        self._lock = threading.Lock()
        self._state = _State()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalServiceNow:
        if self._server is None:
            server = ThreadingHTTPServer((self.host, self._port), _handler_for(self))
            server.daemon_threads = True
            self._server = server
            self._port = server.server_address[1]
            self._thread = threading.Thread(
                target=server.serve_forever, name="local-servicenow", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LocalServiceNow:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def endpoint(self) -> str:
        return self.url + PATH

    # ------------------------------------------------------------------ set-up
    def add_user(self, name: str, password: str, roles: tuple[str, ...] = (ROLE,)) -> None:
        with self._lock:
            self._state.users[name] = (password, frozenset(roles))

    def add_api_key(self, key: str, user: str) -> None:
        with self._lock:
            self._state.api_keys[key] = user

    def fail_next(
        self,
        status: int,
        count: int = 1,
        retry_after: float | None = None,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next ``count`` authenticated POSTs answer ``status`` (maintenance, a rate limit,
        a redirect to a login page), with ``Retry-After`` and ``headers`` when given."""
        extra = dict(headers or {})
        if retry_after is not None:
            extra["Retry-After"] = f"{retry_after:g}"
        with self._lock:
            for _ in range(count):
                self._state.faults.append(_Fault(status, extra, body))

    def reset(self) -> None:
        """Forget events, requests and pending faults (users and keys stay)."""
        with self._lock:
            self._state.faults.clear()
            self._state.accepted.clear()
            self._state.bodies.clear()
            self._state.requests.clear()

    # ------------------------------------------------------------------ what happened
    @property
    def accepted(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._state.accepted]

    @property
    def bodies(self) -> list[str]:
        with self._lock:
            return list(self._state.bodies)

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._state.requests)

    # ------------------------------------------------------------------ the contract
    def _authenticate(self, headers: Any) -> tuple[int, str, dict[str, Any] | None]:
        """(status, who, error body): 0 when the caller may insert events."""
        state = self._state
        key = headers.get(API_KEY_HEADER)
        user: str | None = None
        if key is not None:
            user = state.api_keys.get(key)
            who = f"api_key:{user}" if user else "api_key:unknown"
        else:
            auth = headers.get("Authorization", "")
            if not auth.startswith("Basic "):
                return (
                    401,
                    "none",
                    _error("User Not Authenticated", "Required to provide Auth information"),
                )
            try:
                name, _, password = (
                    base64.b64decode(auth[6:], validate=True).decode("utf-8").partition(":")
                )
            except (binascii.Error, UnicodeDecodeError):
                return 401, "basic:malformed", _error("User Not Authenticated", None)
            known = state.users.get(name)
            user = name if known and known[0] == password else None
            who = f"basic:{name}"
        if user is None or user not in state.users:
            return (
                401,
                who,
                _error("User Not Authenticated", "Required to provide Auth information"),
            )
        if ROLE not in state.users[user][1]:
            return 403, who, _error("User Not Authorized", f"the user lacks the role {ROLE}")
        return 0, who, None

    def handle(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, JSON answer, extra headers) for one request; records it."""
        text = body.decode("utf-8", "replace")
        content_type = headers.get("Content-Type", "")
        with self._lock:
            status, answer, extra, who = self._decide(method, path, headers, content_type, text)
            self._state.requests.append(
                Received(method, path, status, content_type, who, text, answer)
            )
        return status, answer, extra

    def _decide(
        self, method: str, path: str, headers: Any, content_type: str, text: str
    ) -> tuple[int, dict[str, Any], dict[str, str], str]:
        if path.split("?", 1)[0] != PATH:
            return 400, _error("Requested URI does not represent any resource", path), {}, "-"
        if method != "POST":
            return 405, _error("Method not Supported", f"{method} is not allowed"), {}, "-"
        status, who, problem = self._authenticate(headers)
        if problem is not None:
            return status, problem, {}, who
        if self._state.faults:
            fault = self._state.faults.popleft()
            extra = dict(fault.headers)
            answer = fault.body or _error(
                "Rate limit exceeded" if fault.status == 429 else "Service unavailable",
                f"scripted fault {fault.status}",
            )
            return fault.status, answer, extra, who
        outcome = _media(content_type, headers.get("Accept", "*/*")) or _records(text)
        if isinstance(outcome, tuple):
            return outcome[0], outcome[1], {}, who
        self._state.accepted.extend(dict(r) for r in outcome)
        self._state.bodies.append(text)
        # Assumption: the success body is not documented; a status and a count.
        return 200, {"result": {"inserted": str(len(outcome))}}, {}, who


def _media(content_type: str, accept: str) -> tuple[int, dict[str, Any]] | None:
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        return 415, _error("Unsupported media type", f"Content-Type {content_type or 'missing'}")
    acceptable = ("*/*", "application/*", "application/json")
    if not any(a.split(";")[0].strip() in acceptable for a in accept.split(",")):
        return 406, _error("Not acceptable", f"Accept {accept}")
    return None


def _records(text: str) -> tuple[int, dict[str, Any]] | list[dict[str, Any]]:
    """The request's events, or why the whole request is refused."""
    if len(text.encode("utf-8")) > MAX_BODY:
        return 400, _error("Request body too large", None)
    try:
        document = json.loads(text)
    except ValueError:
        return 400, _error("Exception while reading request", "the body is not JSON")
    records = document.get("records") if isinstance(document, dict) else None
    if not isinstance(records, list) or not records:
        return 400, _error("Invalid request", 'the body must be {"records": [event, ...]}')
    found = [f"records[{n}].{p}" for n, r in enumerate(records) for p in problems(r)]
    if found:
        return 400, _error("Invalid event", "; ".join(found))
    return records


def _handler_for(snow: LocalServiceNow) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(length, MAX_BODY + 1)) if length else b""
            status, answer, extra = snow.handle(self.command, self.path, self.headers, body)
            payload = json.dumps(answer).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_POST = _serve
        do_GET = _serve
        do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: the requests are kept in snow.requests

    return Handler
