"""POST one event to Event Management's jsonv2 web service, with bounded retries.

ServiceNow's documented answers ("REST API HTTP response codes", "Inbound REST API
rate limiting"): 2xx success; 429 with ``Retry-After`` when a rate limit rule is
exceeded; 5xx when the instance fails or is unavailable (maintenance, an upgrade);
401/403 for credentials or roles; other 4xx for a request it will never accept.
"""

from __future__ import annotations

import enum
import http.client
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from servicenow.credentials import Credentials

RETRY_AFTER_CAP = 20.0  # seconds: longer waits go back to the queue instead
BACKOFF_BASE = 1.0
BACKOFF_CAP = 8.0
EXCERPT = 300


class Verdict(enum.Enum):
    DELIVERED = "delivered"
    RETRY_LATER = "retry_later"  # transient: back to the queue, with back-off
    AUTH = "auth"  # 401/403: maybe a rotated secret
    UNDELIVERABLE = "undeliverable"  # never: dead-letter with the reason


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (timeout, connection)
    body: str = ""
    retry_after: float | None = None
    error: str = ""

    @property
    def text(self) -> str:
        if self.status is None:
            return self.error
        return f"HTTP {self.status}: {self.body[:EXCERPT]}".rstrip(": ")


@dataclass(frozen=True)
class Result:
    verdict: Verdict
    answer: Answer
    attempts: int

    @property
    def reason(self) -> str:
        return self.answer.text


def classify(answer: Answer) -> Verdict:
    status = answer.status
    if status is None or status == 429 or status >= 500:
        return Verdict.RETRY_LATER
    if 200 <= status < 300:
        return Verdict.DELIVERED
    if status in (401, 403):
        return Verdict.AUTH
    return Verdict.UNDELIVERABLE  # other 4xx, and 3xx (a redirect is never followed)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect (an SSO login page, a renamed instance) is an answer, never followed:
    urllib would turn the POST into a GET and a login page would look like a success."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def post(url: str, event: dict[str, Any], credentials: Credentials, timeout: float) -> Answer:
    """One POST of ``{"records": [event]}``; every outcome as an Answer."""
    body = json.dumps({"records": [event]}, ensure_ascii=False).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": "app-consistent-backup-servicenow-delivery",
        **credentials.headers,
    }
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _opener.open(request, timeout=timeout) as response:
            return Answer(response.status, response.read(64 * 1024).decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        text = ""
        try:
            text = error.read(64 * 1024).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            text = ""
        if 300 <= error.code < 400:
            text = f"redirected to {error.headers.get('Location', '?')}: check SERVICENOW_URL"
        return Answer(error.code, text, _retry_after(error.headers.get("Retry-After")))
    except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", error)
        return Answer(None, error=f"no answer from ServiceNow: {type(error).__name__}: {reason}")


@dataclass
class Sender:
    """POSTs with in-invocation retries on 429, 5xx and no answer."""

    url: str
    timeout: float
    max_attempts: int
    remaining_seconds: Callable[[], float]
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[float, float], float] = random.uniform
    send: Callable[[str, dict[str, Any], Credentials, float], Answer] = post

    def deliver(self, event: dict[str, Any], credentials: Credentials) -> Result:
        attempt = 0
        while True:
            attempt += 1
            answer = self.send(self.url, event, credentials, self.timeout)
            verdict = classify(answer)
            if verdict is not Verdict.RETRY_LATER or attempt >= self.max_attempts:
                return Result(verdict, answer, attempt)
            delay = self._delay(attempt, answer)
            # Only wait when the wait and one more request still fit in this invocation.
            if delay is None or self.remaining_seconds() < delay + self.timeout + 5:
                return Result(verdict, answer, attempt)
            self.sleep(delay)

    def _delay(self, attempt: int, answer: Answer) -> float | None:
        if answer.retry_after is not None:
            return answer.retry_after if answer.retry_after <= RETRY_AFTER_CAP else None
        return self.jitter(0.0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)))
