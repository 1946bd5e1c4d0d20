"""SlackGate on its own, with a hand-moved clock: slack_sdk's verification semantics, without its crashes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.signature import SignatureVerifier

from bot.slack.ingress import VERIFIED, Refused, SlackGate, is_verified, parse_body

SECRET = "gate-test-secret"
NOW = 1_790_000_000


def _headers(body: bytes, *, timestamp: int | str = NOW, secret: str = SECRET, **extra: str) -> dict[str, list[str]]:
    stamp = str(timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return {
        "x-slack-request-timestamp": [stamp],
        "x-slack-signature": [signature],
        "content-type": [extra.get("content_type", "application/json")],
    }


def _gate(now: float = NOW) -> SlackGate:
    return SlackGate(signing_secret=SECRET, clock=lambda: now)


@pytest.mark.parametrize(("skew", "ok"), [(0, True), (300, True), (-300, True), (301, False), (-301, False)])
def test_the_window_is_300_seconds_either_way(skew: int, ok: bool) -> None:
    body = b'{"type": "event_callback"}'
    gate = _gate(NOW + skew)
    if ok:
        assert gate.bolt_request(headers=_headers(body), raw=body).body == {"type": "event_callback"}
    else:
        with pytest.raises(Refused) as refused:
            gate.bolt_request(headers=_headers(body), raw=body)
        assert (refused.value.status, refused.value.reason) == (401, "stale")


@given(st.text(max_size=300))
def test_a_body_slack_sdk_signs_is_accepted_and_any_change_refused(text: str) -> None:
    body = text.encode()
    headers = _headers(body, content_type="application/x-www-form-urlencoded")
    gate = _gate()
    gate.check_signature(gate.check_headers(headers), body)
    with pytest.raises(Refused):
        gate.check_signature(gate.check_headers(headers), body + b"x")


@pytest.mark.parametrize("timestamp", ["abc", "1.5", "", " 1790000000", "1_790_000_000", "١٧٩٠٠٠٠٠٠٠", "-1", "1" * 16])
def test_a_timestamp_that_is_not_plain_digits_is_refused_not_raised(timestamp: str) -> None:
    headers = {"x-slack-request-timestamp": [timestamp], "x-slack-signature": ["v0=" + "0" * 64]}
    with pytest.raises(Refused) as refused:
        _gate().check_headers(headers)
    assert refused.value.status == 401


@pytest.mark.parametrize(
    "signature", ["", "v0=", "v1=" + "0" * 64, "v0=" + "0" * 63, "v0=" + "Ä" * 64, "v0=" + "A" * 64]
)
def test_a_signature_that_is_not_slacks_format_is_refused_not_raised(signature: str) -> None:
    headers = {"x-slack-request-timestamp": [str(NOW)], "x-slack-signature": [signature]}
    with pytest.raises(Refused) as refused:
        _gate().check_headers(headers)
    assert refused.value.status == 401


def test_headers_given_twice_are_refused() -> None:
    body = b"{}"
    headers = _headers(body)
    headers["x-slack-signature"] = headers["x-slack-signature"] * 2
    with pytest.raises(Refused) as refused:
        _gate().check_headers(headers)
    assert refused.value.reason == "malformed_signature"


def test_a_verified_request_is_marked_and_keyed_by_its_signature() -> None:
    body = b'{"type": "event_callback"}'
    request = _gate().bolt_request(headers=_headers(body), raw=body)
    assert is_verified(request.context) and request.context[VERIFIED] is True
    again = _gate().bolt_request(headers=_headers(body), raw=body)
    later = _gate(NOW + 1).bolt_request(headers=_headers(body, timestamp=NOW + 1), raw=body)
    key = "dlf_bot_replay_key"
    assert request.context[key] == again.context[key] != later.context[key]
    assert not is_verified({})


@pytest.mark.parametrize(
    ("text", "content_type", "expected"),
    [
        (
            "command=%2Fdlf&text=instance+payload_loader+1",
            "application/x-www-form-urlencoded",
            {"command": "/dlf", "text": "instance payload_loader 1"},
        ),
        (
            "payload=%7B%22type%22%3A%22block_actions%22%7D",
            "application/x-www-form-urlencoded",
            {"type": "block_actions"},
        ),
        (
            '{"type": "url_verification", "challenge": "c"}',
            "application/json",
            {"type": "url_verification", "challenge": "c"},
        ),
        ("", "application/x-www-form-urlencoded", {}),
    ],
)
def test_bodies_are_read_as_slack_sends_them(text: str, content_type: str, expected: dict[str, str]) -> None:
    assert parse_body(text, content_type) == expected


def test_an_empty_signing_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        SlackGate(signing_secret="")
