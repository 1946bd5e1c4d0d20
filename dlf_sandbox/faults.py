"""Fault knobs: latency, throttling, 5xx, malformed bodies and dropped connections, for the next N requests.

Rules are consumed in the order they were added; a rule with an `operation` only matches that operation
(`show_instance`, `list_instances`, `restart_instance`, `stop_instance`, `list_jobs`, `show_job`, `create_token`).
Without one it matches any DLF API request (not the IAM token endpoint, which must be targeted by name).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["throttle", "server_error", "malformed", "reset"]
MalformedKind = Literal["not_json", "truncated", "wrong_shape"]
IAM_OPERATION = "create_token"


@dataclass(kw_only=True)
class FaultRule:
    """One queued fault: `remaining` more requests (matching `operation`, if set) get it."""

    kind: FaultKind
    remaining: int
    operation: str | None = None
    status: int = 503
    html: bool = False
    retry_after: float | None = 1.0
    malformed: MalformedKind = "not_json"
    params: dict[str, object] = field(default_factory=dict)

    def matches(self, operation: str) -> bool:
        if self.operation is None:
            return operation != IAM_OPERATION
        return self.operation == operation


class Faults:
    """The sandbox's fault knobs (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self.latency_ms: float = 0

    def throttle(self, n: int = 1, *, retry_after: float | None = 1.0, operation: str | None = None) -> None:
        """The next `n` requests get API Gateway's 429 (APIG.0308), with Retry-After unless it is None."""
        self._add(FaultRule(kind="throttle", remaining=n, operation=operation, retry_after=retry_after))

    def server_error(
        self, n: int = 1, *, status: int = 503, html: bool = False, operation: str | None = None
    ) -> None:
        """The next `n` requests get a 5xx, with a JSON body or (html=True) a gateway's HTML error page."""
        self._add(FaultRule(kind="server_error", remaining=n, operation=operation, status=status, html=html))

    def malformed(self, n: int = 1, *, kind: MalformedKind = "not_json", operation: str | None = None) -> None:
        """The next `n` requests get 200 with a body that is not JSON, cut-off JSON, or JSON of the wrong shape."""
        self._add(FaultRule(kind="malformed", remaining=n, operation=operation, malformed=kind))

    def reset_connection(self, n: int = 1, *, operation: str | None = None) -> None:
        """The next `n` requests see their connection closed without an answer."""
        self._add(FaultRule(kind="reset", remaining=n, operation=operation))

    def clear(self) -> None:
        """Remove every queued fault and the latency."""
        with self._lock:
            self._rules.clear()
            self.latency_ms = 0

    def pending(self) -> list[FaultRule]:
        """The queued rules (copies), for inspection."""
        with self._lock:
            return [FaultRule(**vars(rule)) for rule in self._rules]

    def take(self, operation: str) -> FaultRule | None:
        """Consume one use of the first rule matching `operation`, if any."""
        with self._lock:
            for rule in self._rules:
                if rule.remaining > 0 and rule.matches(operation):
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def _add(self, rule: FaultRule) -> None:
        if rule.remaining < 1:
            raise ValueError("n must be at least 1")
        with self._lock:
            self._rules.append(rule)
