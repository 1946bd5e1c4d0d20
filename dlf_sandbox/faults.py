"""Fault knobs: latency, throttling, 5xx, malformed bodies, verbatim bodies, dropped connections and slow answers,
for the next N requests — or, with `for_s`, for every request during the next `for_s` seconds (an outage).

Rules are consumed in the order they were added; a rule with an `operation` only matches that operation
(`show_instance`, `list_instances`, `restart_instance`, `stop_instance`, `list_jobs`, `show_job`, `create_token`).
Without one it matches any DLF API request (not the IAM token endpoint, which must be targeted by name).

`limit_rate()` adds API Gateway's flow control on top: more than N requests of one operation within a window
(default DLF's documented per-user limits per second) get 429, as a client that polls too eagerly would see.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["throttle", "server_error", "malformed", "reset", "answer", "slow", "refuse"]
MalformedKind = Literal["not_json", "truncated", "wrong_shape"]
IAM_OPERATION = "create_token"
DOCUMENTED_PER_USER_LIMITS: Mapping[str, int] = {
    "show_instance": 30,
    "list_instances": 30,
    "restart_instance": 30,
    "stop_instance": 30,
    "list_jobs": 30,
    "show_job": 10,
}


@dataclass(kw_only=True)
class FaultRule:
    """One queued fault: `remaining` more requests (matching `operation`, if set) get it; or, with `until` set (a
    monotonic deadline), every request until then, however many (`remaining` is then None)."""

    kind: FaultKind
    remaining: int | None
    operation: str | None = None
    until: float | None = None
    status: int = 503
    html: bool = False
    retry_after: float | None = 1.0
    malformed: MalformedKind = "not_json"
    delay_s: float = 0.0  # "slow": how long to wait before answering normally
    params: dict[str, object] = field(default_factory=dict)

    def matches(self, operation: str) -> bool:
        if self.operation is None:
            return operation != IAM_OPERATION
        return self.operation == operation


class Faults:
    """The sandbox's fault knobs (thread-safe)."""

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._monotonic = monotonic
        self._rate_limits: dict[str, int] = {}
        self._rate_window_s = 1.0
        self._recent: dict[str, deque[float]] = {}
        self.latency_ms: float = 0
        self.camel_case_errors = False  # DLF errors as {"errorCode", "errorMsg"} (the OpenAPI schema's spelling)

    def throttle(
        self, n: int = 1, *, retry_after: float | None = 1.0, operation: str | None = None, for_s: float | None = None
    ) -> None:
        """The next `n` requests (or all for `for_s` seconds) get API Gateway's 429 (APIG.0308), with Retry-After
        unless it is None."""
        self._add(FaultRule(kind="throttle", remaining=n, operation=operation, retry_after=retry_after), for_s)

    def server_error(
        self,
        n: int = 1,
        *,
        status: int = 503,
        html: bool = False,
        operation: str | None = None,
        for_s: float | None = None,
    ) -> None:
        """The next `n` requests (or all for `for_s` seconds) get a 5xx, with a JSON body or (html=True) a
        gateway's HTML error page."""
        self._add(FaultRule(kind="server_error", remaining=n, operation=operation, status=status, html=html), for_s)

    def malformed(
        self,
        n: int = 1,
        *,
        kind: MalformedKind = "not_json",
        operation: str | None = None,
        for_s: float | None = None,
    ) -> None:
        """The next `n` requests (or all for `for_s` seconds) get 200 with a body that is not JSON, cut-off JSON, or
        JSON of the wrong shape."""
        self._add(FaultRule(kind="malformed", remaining=n, operation=operation, malformed=kind), for_s)

    def slow(self, delay_s: float, n: int = 1, *, operation: str | None = None, for_s: float | None = None) -> None:
        """The next `n` requests (or all for `for_s` seconds) are answered normally, but only after `delay_s`
        seconds: slower than a client's timeout, the client gives up first."""
        self._add(FaultRule(kind="slow", remaining=n, operation=operation, delay_s=delay_s), for_s)

    def answer(self, body: object, n: int = 1, *, operation: str | None = None) -> None:
        """The next `n` requests get 200 with exactly `body` as JSON: shapes the state cannot hold (nulls, fractional
        ids, huge totals) served over real HTTP, with the usual request id header."""
        self._add(FaultRule(kind="answer", remaining=n, operation=operation, params={"body": body}))

    def refuse(self, code: str, message: str, n: int = 1, *, status: int = 400, operation: str | None = None) -> None:
        """The next `n` requests get DLF's error answer `code` / `message` (what DLF says when it will not rerun or
        stop for a reason the sandbox's state does not model: a lock, a quota, a hostile message to escape)."""
        self._add(
            FaultRule(
                kind="refuse",
                remaining=n,
                operation=operation,
                status=status,
                params={"code": code, "message": message},
            )
        )

    def reset_connection(self, n: int = 1, *, operation: str | None = None, for_s: float | None = None) -> None:
        """The next `n` requests (or all for `for_s` seconds) see their connection closed without an answer."""
        self._add(FaultRule(kind="reset", remaining=n, operation=operation), for_s)

    def limit_rate(
        self, limits: Mapping[str, int] | None = DOCUMENTED_PER_USER_LIMITS, *, window_s: float = 1.0
    ) -> None:
        """Answer 429 to requests of an operation beyond `limits[operation]` within `window_s`; None turns it off."""
        with self._lock:
            self._rate_limits = dict(limits or {})
            self._rate_window_s = window_s
            self._recent.clear()

    def over_rate(self, operation: str) -> bool:
        """Count one request of `operation`; True when it exceeds the rate limit (the request gets 429)."""
        with self._lock:
            limit = self._rate_limits.get(operation)
            if limit is None:
                return False
            now = self._monotonic()
            recent = self._recent.setdefault(operation, deque())
            while recent and recent[0] <= now - self._rate_window_s:
                recent.popleft()
            if len(recent) >= limit:
                return True
            recent.append(now)
            return False

    def clear(self) -> None:
        """Remove every queued fault, the rate limits and the latency."""
        with self._lock:
            self._rules.clear()
            self._rate_limits.clear()
            self._recent.clear()
            self.latency_ms = 0
            self.camel_case_errors = False

    def pending(self) -> list[FaultRule]:
        """The queued rules (copies), for inspection."""
        with self._lock:
            return [FaultRule(**vars(rule)) for rule in self._rules]

    def take(self, operation: str) -> FaultRule | None:
        """Consume one use of the first rule matching `operation`, if any (a timed rule past its deadline is gone)."""
        with self._lock:
            now = self._monotonic()
            self._rules = [rule for rule in self._rules if rule.until is None or now < rule.until]
            for rule in self._rules:
                if rule.matches(operation):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining == 0:
                            self._rules.remove(rule)
                    return rule
        return None

    def _add(self, rule: FaultRule, for_s: float | None = None) -> None:
        if for_s is not None:
            if for_s <= 0:
                raise ValueError("for_s must be positive")
            rule.remaining, rule.until = None, self._monotonic() + for_s
        elif rule.remaining is None or rule.remaining < 1:
            raise ValueError("n must be at least 1")
        with self._lock:
            self._rules.append(rule)
