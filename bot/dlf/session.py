"""One DLF HTTP call done carefully: rate-limited, authorised, timed out, retried where safe, failures typed.

Retry rules (bounded by `DlfConfig.max_retries`, exponential backoff with jitter, `Retry-After` honoured):
- 429 / gateway throttling: always retried (the gateway refused the request, nothing happened);
- 5xx, timeouts, resets: retried for idempotent calls (GETs) only;
- connect errors: retried for every call, since the request cannot have reached DLF;
- a call that is not idempotent (rerun, stop) whose request may have reached DLF (a timeout or a broken connection
  after sending, a 5xx) is never sent again: it fails with `DlfOutcomeUnknown`, so the caller reads the instance to
  learn what happened instead of risking a second rerun;
- 401 with refreshable credentials (IAM token): the token is fetched again and the request repeated once.
Everything else fails at once with its `bot.errors.DlfError` subclass (mapped in `bot.dlf.failures`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

import httpx

from bot.dlf.auth import Authenticator
from bot.dlf.config import DlfConfig
from bot.dlf.failures import (
    error_from_response,
    error_from_transport,
    reached_server_surely_not,
)
from bot.dlf.metrics import DlfMetrics
from bot.dlf.ratelimit import NoRateLimit, Priority, TokenBucket
from bot.dlf.signer import QueryValue, SignedRequest
from bot.errors import DlfError, DlfOutcomeUnknown, DlfThrottled, DlfUnavailable

logger = logging.getLogger("bot.dlf")

Sleep = Callable[[float], Awaitable[None]]


@dataclass
class ClientStats:
    """Counters for benchmarks and tests."""

    requests: int = 0
    retries: int = 0
    auth_refreshes: int = 0


@dataclass(frozen=True, slots=True)
class _Attempt:
    """What one attempt ended with: a response, or an error and whether another attempt is allowed."""

    response: httpx.Response | None = None
    error: DlfError | None = None
    retryable: bool = False


def encode_body(json_body: Mapping[str, object] | None) -> bytes:
    """The bytes of a JSON body as sent and signed (compact, UTF-8); empty without one."""
    if json_body is None:
        return b""
    return json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def outcome_unknown(error: DlfUnavailable) -> DlfOutcomeUnknown:
    """A rerun or stop that may have reached DLF without an answer: not retried, the caller checks the instance."""
    return DlfOutcomeUnknown(
        f"{error.message}; DLF may have acted on it: check the instance before trying again",
        status_code=error.status_code,
        code=error.code,
        request_id=error.request_id,
        operation=error.operation,
    )


class DlfSession:
    """Sends requests to one DLF endpoint for one project; used by `DlfClient`."""

    def __init__(
        self,
        *,
        config: DlfConfig,
        http: httpx.AsyncClient,
        authenticator: Authenticator,
        limiter: TokenBucket | NoRateLimit,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        metrics: DlfMetrics | None = None,
    ) -> None:
        self._config = config
        self._http = http
        self._auth = authenticator
        self._limiter = limiter
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._metrics = metrics
        base = httpx.URL(config.endpoint)
        self._host = base.netloc.decode("ascii")
        self._base_path = base.raw_path.decode("ascii").split("?")[0].rstrip("/")
        self._origin = f"{base.scheme}://{self._host}"
        self.stats = ClientStats()

    def _base_headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "User-Agent": self._config.user_agent}
        if self._config.workspace:
            headers["workspace"] = self._config.workspace
        return headers

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt + 1`: half the capped exponential plus up to half jitter."""
        ceiling: float = min(self._config.backoff_cap, self._config.backoff_base * 2.0**attempt)
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    async def call(
        self,
        *,
        operation: str,
        method: str,
        path: str,
        query: Iterable[tuple[str, QueryValue]] = (),
        idempotent: bool,
        priority: Priority = Priority.INTERACTIVE,
        json_body: Mapping[str, object] | None = None,
    ) -> httpx.Response:
        """Send until success or a final failure; returns the 2xx response, else raises a `DlfError`.

        `priority` orders the request in the rate limiter's queue (a person's before the watcher's). `json_body` is
        serialised once, and those exact bytes are both signed (the signature covers the body's hash) and sent."""
        started = time.perf_counter()
        outcome = "ok"
        body = encode_body(json_body)
        try:
            return await self._call(
                operation=operation,
                method=method,
                path=path,
                query=list(query),
                idempotent=idempotent,
                priority=priority,
                body=body,
            )
        except DlfError as exc:
            outcome = type(exc).__name__
            raise
        finally:
            if self._metrics is not None:
                self._metrics.observe(operation=operation, outcome=outcome, seconds=time.perf_counter() - started)

    async def _call(
        self,
        *,
        operation: str,
        method: str,
        path: str,
        query: list[tuple[str, QueryValue]],
        idempotent: bool,
        priority: Priority,
        body: bytes,
    ) -> httpx.Response:
        attempt = 0
        refreshed = False
        while True:
            result, refused_auth = await self._attempt(
                operation=operation,
                method=method,
                path=path,
                query=query,
                idempotent=idempotent,
                attempt=attempt,
                priority=priority,
                body=body,
            )
            if result.response is not None:
                return result.response
            if refused_auth is not None and self._auth.can_refresh and not refreshed:
                refreshed = True
                self.stats.auth_refreshes += 1
                await self._auth.invalidate(refused_auth)
                continue
            error = result.error
            assert error is not None
            if not result.retryable or attempt >= self._config.max_retries:
                raise error
            delay = self.backoff(attempt)
            if isinstance(error, DlfThrottled) and error.retry_after is not None:
                if error.retry_after > self._config.max_retry_after:
                    raise error
                delay = max(delay, error.retry_after)
            attempt += 1
            self.stats.retries += 1
            logger.debug(
                "dlf retry operation=%s attempt=%d after=%.3fs reason=%s",
                operation,
                attempt,
                delay,
                type(error).__name__,
            )
            await self._sleep(delay)

    async def _attempt(
        self,
        *,
        operation: str,
        method: str,
        path: str,
        query: list[tuple[str, QueryValue]],
        idempotent: bool,
        attempt: int,
        priority: Priority,
        body: bytes,
    ) -> tuple[_Attempt, SignedRequest | None]:
        """One request. Returns the outcome and, on a 401, what was sent (so the credentials can be refreshed)."""
        full_path = self._base_path + path
        # Wait for the rate limit first, so the signature's date is the moment the request leaves.
        await self._limiter.acquire(priority)
        try:
            authorised = await self._auth.authorize(
                method=method, host=self._host, path=full_path, query=query, headers=self._base_headers(), body=body
            )
        except (DlfUnavailable, DlfThrottled) as exc:
            # Fetching a token failed before anything was sent to DLF: safe to try again for any call.
            return _Attempt(error=exc, retryable=True), None
        url = self._origin + full_path + (f"?{authorised.query_string}" if authorised.query_string else "")
        self.stats.requests += 1
        if self._metrics is not None:
            self._metrics.attempts.labels(operation=operation).inc()
        started = time.perf_counter()
        try:
            response = await self._http.request(method, url, headers=authorised.headers, content=body)
        except httpx.TransportError as exc:
            self._log(operation, method, path, None, started, None, attempt, type(exc).__name__)
            unreachable = error_from_transport(exc, operation=operation)
            if reached_server_surely_not(exc):
                return _Attempt(error=unreachable, retryable=True), None
            if not idempotent:
                return _Attempt(error=outcome_unknown(unreachable)), None
            return _Attempt(error=unreachable, retryable=True), None
        request_id = response.headers.get("x-request-id")
        self._log(operation, method, path, response.status_code, started, request_id, attempt, None)
        if 200 <= response.status_code < 300:
            return _Attempt(response=response), None
        error = error_from_response(
            status=response.status_code, headers=response.headers, body=response.content, operation=operation
        )
        refused = authorised if response.status_code == 401 else None
        if not idempotent and isinstance(error, DlfUnavailable):
            return _Attempt(error=outcome_unknown(error)), refused
        retryable = isinstance(error, DlfThrottled) or (idempotent and isinstance(error, DlfUnavailable))
        return _Attempt(error=error, retryable=retryable), refused

    @staticmethod
    def _log(
        operation: str,
        method: str,
        path: str,
        status: int | None,
        started: float,
        request_id: str | None,
        attempt: int,
        failure: str | None,
    ) -> None:
        # Never the headers: they carry the signature, the access key or the token.
        logger.debug(
            "dlf call operation=%s method=%s path=%s status=%s duration_ms=%.1f request_id=%s attempt=%d%s",
            operation,
            method,
            path,
            status,
            (time.perf_counter() - started) * 1000,
            request_id,
            attempt,
            f" failure={failure}" if failure else "",
        )
