"""Every way a DLF call can fail, mapped to `bot.errors` in one place.

Pure functions of what came back (status, headers, body) or of the transport exception. The error bodies come in the
spellings listed in ../shared/facts/huawei-dlf.md — `error_code/error_msg`, `errorCode/errorMsg`, nested
`{"error": {"code", "message"}}` — and API Gateway answers (`APIG.xxxx`) are sometimes not JSON at all. The request
id comes from the `X-Request-Id` header (or the body's `request_id` when the header is missing).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from bot.errors import (
    DlfActionRefused,
    DlfAuthError,
    DlfBadResponse,
    DlfError,
    DlfNotFound,
    DlfPermissionDenied,
    DlfRequestRejected,
    DlfThrottled,
    DlfUnavailable,
)

JOB_NOT_FOUND = "DLF.0100"
INSTANCE_NOT_FOUND = "DLF.0137"
PERMISSION_INVALID = "DLF.6888"
# API Gateway codes (APIG / APIGW): authentication failures, authorisation failures, throttling.
_GATEWAY_AUTH = {"0301", "0303", "0305", "0307"}
_GATEWAY_FORBIDDEN = {"0302", "0304", "0306"}
_GATEWAY_THROTTLED = {"0308"}
MAX_MESSAGE_CHARS = 300
# Operations that change an instance: a plain 4xx refusal from DLF is their answer to "may I?", not a bug of ours.
ACTION_OPERATIONS = frozenset({"rerun_instance", "stop_instance"})


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """What an error body says, whichever spelling it used."""

    code: str | None = None
    message: str | None = None
    request_id: str | None = None


def _first_text(data: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None


def parse_error_body(body: bytes) -> ErrorBody:
    """Code, message and request id from any known error body spelling; empty when the body says nothing usable."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        text = body.decode("utf-8", errors="replace").strip()
        return ErrorBody(message=text[:MAX_MESSAGE_CHARS] or None)
    if not isinstance(data, dict):
        return ErrorBody()
    nested = data.get("error")
    request_id = _first_text(data, "request_id", "requestId")
    if isinstance(nested, dict):
        return ErrorBody(
            code=_first_text(nested, "code", "error_code", "errorCode"),
            message=_first_text(nested, "message", "error_msg", "errorMsg", "msg"),
            request_id=request_id or _first_text(nested, "request_id", "requestId"),
        )
    return ErrorBody(
        code=_first_text(data, "error_code", "errorCode", "code"),
        message=_first_text(data, "error_msg", "errorMsg", "message", "msg"),
        request_id=request_id,
    )


def retry_after_seconds(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds (delta or HTTP date); None when absent or unreadable."""
    value = headers.get("retry-after") or headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _gateway_suffix(code: str | None) -> str | None:
    if code and code.upper().startswith(("APIG.", "APIGW.")):
        return code.split(".", 1)[1]
    return None


def _describe(status: int, body: ErrorBody) -> str:
    text = (body.message or "").replace("\n", " ").strip()[:MAX_MESSAGE_CHARS]
    code = f" {body.code}" if body.code else ""
    return f"HTTP {status}{code}" + (f": {text}" if text else "")


def error_from_response(
    *, status: int, headers: Mapping[str, str], body: bytes, operation: str, now: datetime | None = None
) -> DlfError:
    """The typed error for an answer that is not a success."""
    parsed = parse_error_body(body)
    request_id = headers.get("x-request-id") or headers.get("X-Request-Id") or parsed.request_id
    context: dict[str, Any] = {
        "status_code": status,
        "code": parsed.code,
        "request_id": request_id,
        "operation": operation,
        "dlf_message": parsed.message[:MAX_MESSAGE_CHARS] if parsed.message else None,
    }
    message = _describe(status, parsed)
    gateway = _gateway_suffix(parsed.code)
    if parsed.code == JOB_NOT_FOUND:
        return DlfNotFound(message, kind="job", **context)
    if parsed.code == INSTANCE_NOT_FOUND:
        return DlfNotFound(message, kind="instance", **context)
    if status == 429 or gateway in _GATEWAY_THROTTLED:
        return DlfThrottled(message, retry_after=retry_after_seconds(headers, now=now), **context)
    if status == 401 or gateway in _GATEWAY_AUTH:
        return DlfAuthError(message, **context)
    if status == 403 or parsed.code == PERMISSION_INVALID or gateway in _GATEWAY_FORBIDDEN:
        return DlfPermissionDenied(message, **context)
    if status >= 500:
        return DlfUnavailable(message, **context)
    if 400 <= status < 500 and operation in ACTION_OPERATIONS:
        return DlfActionRefused(message, **context)
    if 400 <= status < 500:
        return DlfRequestRejected(message, **context)
    return DlfBadResponse(f"unexpected HTTP status {status}", **context)


def error_from_transport(exc: httpx.TransportError, *, operation: str) -> DlfUnavailable:
    """Timeouts, refused or reset connections: DLF could not be reached or did not answer in time."""
    if isinstance(exc, httpx.TimeoutException):
        what = "timed out"
    elif isinstance(exc, httpx.ConnectError):
        what = "could not connect"
    else:
        what = "connection failed"
    # The exception text names the URL's host at most; it never carries headers.
    return DlfUnavailable(f"DLF {what} ({type(exc).__name__})", operation=operation)


def bad_response(reason: str, *, response: httpx.Response, operation: str) -> DlfBadResponse:
    """A success status whose body is not the JSON the operation returns."""
    return DlfBadResponse(
        reason[:MAX_MESSAGE_CHARS],
        status_code=response.status_code,
        request_id=response.headers.get("x-request-id"),
        operation=operation,
    )


def reached_server_surely_not(exc: httpx.TransportError) -> bool:
    """True when the request cannot have reached DLF (so even a rerun or stop may be sent again)."""
    return isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
