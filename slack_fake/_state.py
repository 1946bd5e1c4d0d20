"""What the fake Slack remembers: every call, every message, every response_url post, and the faults to inject."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Validator = Callable[[dict[str, Any]], list[str]]

FaultKind = Literal["ratelimited", "server_error", "reset", "api_error"]
OutageKind = Literal["ratelimited", "server_error", "reset", "slow"]
# Errors Slack answers for a channel the bot can no longer post to: retrying never helps.
CHANNEL_ERRORS = ("channel_not_found", "not_in_channel", "is_archived")


@dataclass(frozen=True)
class Call:
    """One request the fake received: the Web API method (or "response_url"), its arguments and what it answered."""

    method: str
    params: dict[str, Any]
    token: str | None
    outcome: str  # "ok", "error:<code>", "http:<status>" or "reset"
    at: float = 0.0  # when it was answered, on the fake's clock


@dataclass
class _FaultRule:
    kind: FaultKind
    remaining: int
    status: int = 429
    retry_after: int = 1
    error: str = ""


@dataclass(frozen=True)
class Outage:
    """A time-based fault: every call of `methods` (None: every Web API method but auth.test) until `until`
    (the fake's monotonic clock) fails as `kind` says. "slow": the call takes effect at once and is answered
    `delay_s` later (`before=True`: it takes effect only after `delay_s`, if the caller is still there)."""

    kind: OutageKind
    until: float
    methods: frozenset[str] | None = None
    status: int = 500
    retry_after: int = 1
    delay_s: float = 0.0
    before: bool = False

    def covers(self, method: str) -> bool:
        """Whether a call of `method` is hit."""
        if self.methods is None:
            return method != "auth.test"
        return method in self.methods


@dataclass
class Faults:
    """Knobs for the failures a real Slack produces. Thread-safe: tests set them while the server runs."""

    _rules: dict[str, list[_FaultRule]] = field(default_factory=dict)
    _channel_errors: dict[str, str] = field(default_factory=dict)
    _bad_tokens: set[str] = field(default_factory=set)
    _outside: set[str] = field(default_factory=set)
    _join_refused: dict[str, str] = field(default_factory=dict)
    _outages: list[Outage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    clock: Callable[[], float] = time.monotonic

    def ratelimit(self, method: str, n: int = 1, *, retry_after: int = 1) -> None:
        """The next `n` calls of `method` get HTTP 429 `ratelimited` with `Retry-After: retry_after`."""
        self._add(method, _FaultRule(kind="ratelimited", remaining=n, status=429, retry_after=retry_after))

    def server_error(self, method: str, n: int = 1, *, status: int = 500) -> None:
        """The next `n` calls of `method` get an HTTP 5xx (500, 502, 503 …)."""
        self._add(method, _FaultRule(kind="server_error", remaining=n, status=status))

    def api_error(self, method: str, error: str, n: int = 1) -> None:
        """The next `n` calls of `method` get `{"ok": false, "error": error}` (HTTP 200), e.g. `missing_scope`."""
        self._add(method, _FaultRule(kind="api_error", remaining=n, status=200, error=error))

    def reset(self, method: str, n: int = 1) -> None:
        """The next `n` calls of `method` see their connection reset without an answer."""
        self._add(method, _FaultRule(kind="reset", remaining=n))

    def channel_error(self, channel: str, error: str) -> None:
        """Every post/update to `channel` fails permanently with `error` (e.g. `not_in_channel`) until cleared."""
        if error not in CHANNEL_ERRORS:
            raise ValueError(f"channel error must be one of {CHANNEL_ERRORS}")
        with self._lock:
            self._channel_errors[channel] = error

    def not_a_member(self, channel: str) -> None:
        """The bot is not a member of public `channel`: conversations.history / .replies answer `not_in_channel`,
        while chat.postMessage and chat.update work (the bot posts through the chat:write.public scope)."""
        with self._lock:
            self._outside.add(channel)

    def refuse_join(self, channel: str, error: str = "missing_scope") -> None:
        """conversations.join of `channel` fails with `error` (e.g. `missing_scope`: the app has no channels:join)."""
        with self._lock:
            self._join_refused[channel] = error

    def outage(
        self,
        kind: OutageKind,
        *,
        seconds: float,
        methods: Iterable[str] | None = None,
        status: int = 500,
        retry_after: int = 1,
        delay_s: float = 0.0,
        before: bool = False,
    ) -> Outage:
        """For the next `seconds`, every call of `methods` (default: every Web API method but auth.test) fails:
        "server_error" (HTTP `status`, an HTML body), "ratelimited" (429 + `Retry-After: retry_after`), "reset"
        (connection reset, nothing done), or "slow" (done at once, answered `delay_s` later; with `before=True`
        done only after `delay_s`). Later outages overlapping in time apply first."""
        if seconds <= 0:
            raise ValueError("seconds must be positive")
        rule = Outage(
            kind=kind,
            until=self.clock() + seconds,
            methods=frozenset(methods) if methods is not None else None,
            status=status,
            retry_after=retry_after,
            delay_s=delay_s,
            before=before,
        )
        with self._lock:
            self._outages.append(rule)
        return rule

    def outage_for(self, method: str) -> Outage | None:
        """The newest outage in force now that covers `method`, if any."""
        now = self.clock()
        with self._lock:
            self._outages = [rule for rule in self._outages if rule.until > now]
            return next((rule for rule in reversed(self._outages) if rule.covers(method)), None)

    def join_refusal(self, channel: str | None) -> str | None:
        """The error set for joining `channel`, if any."""
        with self._lock:
            return self._join_refused.get(channel or "")

    def joined(self, channel: str) -> None:
        """The bot joined `channel`: its history is readable from now on."""
        with self._lock:
            self._outside.discard(channel)

    def invalid_auth(self, token: str) -> None:
        """Every call made with `token` fails with `invalid_auth`."""
        with self._lock:
            self._bad_tokens.add(token)

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._rules.clear()
            self._channel_errors.clear()
            self._bad_tokens.clear()
            self._outside.clear()
            self._join_refused.clear()
            self._outages.clear()

    def pending(self, method: str) -> int:
        """How many injected failures of `method` are still to come."""
        with self._lock:
            return sum(rule.remaining for rule in self._rules.get(method, []))

    def _add(self, method: str, rule: _FaultRule) -> None:
        if rule.remaining < 1:
            raise ValueError("n must be at least 1")
        with self._lock:
            self._rules.setdefault(method, []).append(rule)

    def take(self, method: str) -> _FaultRule | None:
        """Consume one use of the first rule queued for `method`."""
        with self._lock:
            for rule in self._rules.get(method, []):
                if rule.remaining > 0:
                    rule.remaining -= 1
                    return rule
        return None

    def channel_error_for(self, channel: str | None) -> str | None:
        """The permanent error set for `channel`, if any."""
        with self._lock:
            return self._channel_errors.get(channel or "")

    def is_outside(self, channel: str | None) -> bool:
        """Whether the bot was declared not a member of `channel` (history unreadable, posting allowed)."""
        with self._lock:
            return (channel or "") in self._outside

    def token_is_bad(self, token: str | None) -> bool:
        """Whether `token` was declared invalid."""
        with self._lock:
            return token in self._bad_tokens


__all__ = ["CHANNEL_ERRORS", "Call", "Faults", "Outage", "Validator"]
