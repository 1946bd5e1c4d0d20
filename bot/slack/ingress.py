"""The door of the Slack app: a request is verified on its raw bytes before anything reads it, or refused calmly.

HTTP mode: Slack signs each request, `X-Slack-Signature: v0=hex(HMAC-SHA256(secret, "v0:{timestamp}:{raw body}"))`
with `X-Slack-Request-Timestamp` within 300 s of now (slack_sdk's `SignatureVerifier` semantics). `SlackGate` checks,
in this order, each failure a `Refused` (one log line, nothing of the request used or logged):

1. both headers present once, the timestamp ASCII digits, the signature `v0=` + 64 hex digits     -> 401
2. the timestamp within the window (either direction)                                              -> 401
3. the declared length at most `MAX_BODY_BYTES` (checked by the server before reading)             -> 413
4. the signature over the raw bytes, compared in constant time                                      -> 401
5. only then the body is read: UTF-8, a content type Slack sends, a JSON object Bolt can take       -> 400

(slack_sdk's verifier does `int(timestamp)` and `str.encode` on what it is given: `abc` or `1.5` raised inside Bolt's
middleware, whose error hook then answered on the unverified request's own response_url.)

Socket Mode: the socket is authenticated, so an envelope needs no signature; `socket_request` still refuses one whose
payload is not a JSON object Bolt can take, so a malformed envelope is one log line too.

Requests that pass are marked `VERIFIED` in their Bolt context; the error hook answers nothing for any other.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from bot import messages
from bot.slack.metrics import SlackMetrics

log = logging.getLogger(__name__)

# Context keys Bolt carries to every listener and the error hook.
VERIFIED = "dlf_bot_verified"
REPLAY_KEY = "dlf_bot_replay_key"

SIGNATURE_WINDOW_S = 300
# aiohttp's own default. A block_actions payload carries the whole message it came from (up to 50 blocks of 3,000
# characters, URL-encoded JSON), so this is several times the largest request Slack sends.
MAX_BODY_BYTES = 1024 * 1024
# A slash command has about a dozen form fields; anything far beyond is not from Slack.
MAX_FORM_FIELDS = 64
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

_TIMESTAMP = re.compile(r"[0-9]{1,15}")  # int() alone would also take " 12", "1_2" and non-ASCII digits
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
# What Bolt reads while building a request's context: a value of another JSON type there makes it raise.
_BOLT_SHAPE_ERRORS = (AttributeError, IndexError, KeyError, TypeError, ValueError)

Headers = Mapping[str, Sequence[str]]


class Refused(Exception):
    """A request the bot will not take: the HTTP status to answer, a short `reason` (a metric label) and `why`, in
    the bot's own words (never anything the request said)."""

    def __init__(self, status: int, reason: str, why: str) -> None:
        super().__init__(why)
        self.status = status
        self.reason = reason
        self.why = why


@dataclass(frozen=True)
class _Stamp:
    timestamp: str
    signature: str


class SlackGate:
    """Verifies Slack's signature on the raw request and turns a verified one into a Bolt request.

    `clock` (epoch seconds) is injected so tests can move time."""

    def __init__(
        self,
        *,
        signing_secret: str,
        clock: Callable[[], float] = time.time,
        window_s: int = SIGNATURE_WINDOW_S,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        if not signing_secret:
            raise ValueError("a signing secret is needed to verify Slack's requests")
        self._secret = signing_secret.encode()
        self._clock = clock
        self._window_s = window_s
        self.max_body_bytes = max_body_bytes

    def check_headers(self, headers: Headers) -> _Stamp:
        """The signature headers, well-formed and fresh; `Refused` (401) otherwise. Needs no body."""
        timestamps, signatures = headers.get("x-slack-request-timestamp", ()), headers.get("x-slack-signature", ())
        if not timestamps or not signatures:
            raise Refused(401, "unsigned", "no Slack signature")
        if len(timestamps) > 1 or len(signatures) > 1:
            raise Refused(401, "malformed_signature", "the signature headers are given more than once")
        timestamp, signature = timestamps[0], signatures[0]
        if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
            raise Refused(401, "malformed_signature", "the signature headers are not Slack's format")
        if abs(self._clock() - int(timestamp)) > self._window_s:
            raise Refused(401, "stale", f"the signature's timestamp is more than {self._window_s} s from now")
        return _Stamp(timestamp=timestamp, signature=signature)

    def check_length(self, declared: int | None) -> None:
        """A declared body length over the limit; `Refused` (413) before anything is read."""
        if declared is not None and declared > self.max_body_bytes:
            raise Refused(413, "too_large", f"the body is over {self.max_body_bytes} bytes")

    def check_signature(self, stamp: _Stamp, raw: bytes) -> None:
        """The signature over the raw bytes; `Refused` (401) when it does not match."""
        message = b"v0:" + stamp.timestamp.encode() + b":" + raw
        expected = "v0=" + hmac.new(self._secret, message, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), stamp.signature.encode()):
            raise Refused(401, "bad_signature", "the signature does not match")

    def bolt_request(self, *, headers: Headers, raw: bytes, query: str = "") -> AsyncBoltRequest:
        """The Bolt request of a verified, well-formed HTTP request; `Refused` for anything else."""
        stamp = self.check_headers(headers)
        self.check_length(len(raw))
        self.check_signature(stamp, raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(400, "malformed_body", "the body is not UTF-8") from None
        body = parse_body(text, _content_type(headers))
        # A verbatim replay of this very request (same timestamp, same body) has the same signature; a digest of it
        # names the request without storing anything that could be verified again.
        replay_key = "slack:request:" + hashlib.sha256(stamp.signature.encode()).hexdigest()
        return _bolt_request(
            body=body,
            raw=text,
            headers=headers,
            query=query,
            mode="http",
            context={VERIFIED: True, REPLAY_KEY: replay_key},
        )


def socket_request(payload: object, headers: Headers | None = None) -> AsyncBoltRequest:
    """The Bolt request of a Socket Mode envelope's payload (authenticated by the socket); `Refused` when the
    payload is not a JSON object Bolt can take."""
    if not isinstance(payload, dict):
        raise Refused(400, "malformed_body", "the envelope's payload is not a JSON object")
    return _bolt_request(
        body=payload, raw="", headers=headers or {}, query="", mode="socket_mode", context={VERIFIED: True}
    )


def note_refused(refused: Refused, *, source: str, metrics: SlackMetrics | None) -> None:
    """One log line for a refused request (its reason in the bot's words, never what it said), and the metric."""
    log.warning(messages.log_refused(source, refused.why, refused.status))
    if metrics is not None:
        metrics.refused.labels(reason=refused.reason).inc()


def is_verified(context: Mapping[str, Any]) -> bool:
    """Whether a Bolt request's context says it came through `SlackGate` or an authenticated socket."""
    return context.get(VERIFIED) is True


def parse_body(text: str, content_type: str | None) -> dict[str, Any]:
    """A Slack request body as Bolt reads it, or `Refused` (400).

    Slash commands are a form; interactions a form with one `payload` field of JSON; Events API callbacks JSON.
    (Bolt's own reader takes any form whose text merely contains the word "payload" for an interaction and reads it
    as empty, so `/dlf instance payload_loader 1` went unanswered; the body is read here and handed to Bolt.)"""
    if content_type == JSON:
        return _json_object(text, "the JSON body")
    if content_type != FORM:
        raise Refused(400, "unsupported_content_type", "the content type is not one Slack sends")
    try:
        fields = dict(parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS))
    except ValueError:
        raise Refused(400, "malformed_body", f"the form has more than {MAX_FORM_FIELDS} fields") from None
    if "payload" in fields:
        return _json_object(fields["payload"], "the form's payload")
    return fields


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        # ValueError covers invalid JSON and numbers beyond Python's int-conversion limit.
        raise Refused(400, "malformed_body", f"{what} is not valid JSON") from None
    if not isinstance(data, dict):
        raise Refused(400, "malformed_body", f"{what} is not a JSON object")
    return data


def _content_type(headers: Headers) -> str | None:
    values = headers.get("content-type", ())
    return values[0].split(";", 1)[0].strip().lower() if values else None


def _bolt_request(
    *, body: dict[str, Any], raw: str, headers: Headers, query: str, mode: str, context: dict[str, Any]
) -> AsyncBoltRequest:
    request = AsyncBoltRequest(
        body="" if mode == "http" else {}, query=query, headers={k: list(v) for k, v in headers.items()}, mode=mode
    )
    # Bolt's own signature check (kept as a second line) reads `raw_body`; listeners read `body` and the context.
    request.raw_body = raw
    request.body = body
    try:
        request.context = build_async_context(AsyncBoltContext(context), body)
    except _BOLT_SHAPE_ERRORS:
        raise Refused(400, "malformed_body", "the body's fields are not of the types Slack sends") from None
    return request


__all__ = [
    "MAX_BODY_BYTES",
    "REPLAY_KEY",
    "SIGNATURE_WINDOW_S",
    "VERIFIED",
    "Refused",
    "SlackGate",
    "is_verified",
    "note_refused",
    "parse_body",
    "socket_request",
]
