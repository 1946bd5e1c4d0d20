"""Run a slash command through the Bolt app in-process, exactly as a signed request from Slack would arrive.

`dlf-bot preview` and `dlf-bot demo` use it so they go through the same listeners, services and renderers as Slack.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from urllib.parse import urlencode

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.slack.ingress import SlackGate

PREVIEW_USER = "U0PREVIEW"
PREVIEW_CHANNEL = "C0PREVIEW"
PREVIEW_TEAM = "T0PREVIEW"


def command_text(line: str, *, command: str = "/dlf") -> str:
    """The text Slack sends for a typed command line: what follows `/dlf` (which may be left out)."""
    stripped = line.strip()
    if stripped == command or stripped.startswith(command + " "):
        return stripped[len(command) :].strip()
    return stripped


async def dispatch_command(
    app: AsyncApp,
    *,
    text: str,
    signing_secret: str,
    response_url: str,
    command: str = "/dlf",
    user_id: str = PREVIEW_USER,
    channel_id: str = PREVIEW_CHANNEL,
    team_id: str = PREVIEW_TEAM,
) -> BoltResponse:
    """Dispatch a signed slash-command request; returns Bolt's HTTP answer (the ack)."""
    body = urlencode(
        {
            "team_id": team_id,
            "channel_id": channel_id,
            "user_id": user_id,
            "command": command,
            "text": text,
            "response_url": response_url,
            "trigger_id": "0.0.0",
            "api_app_id": "A0PREVIEW",
        }
    )
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=timestamp, body=body)
    if signature is None:
        raise ValueError("a signing secret is needed to sign the request")
    headers: dict[str, Sequence[str]] = {
        "content-type": ["application/x-www-form-urlencoded"],
        "x-slack-request-timestamp": [timestamp],
        "x-slack-signature": [signature],
    }
    # Through the same gate as a request from Slack, so it is handled exactly as one.
    request = SlackGate(signing_secret=signing_secret).bolt_request(headers=headers, raw=body.encode())
    return await app.async_dispatch(request)


__all__ = ["PREVIEW_CHANNEL", "PREVIEW_TEAM", "PREVIEW_USER", "command_text", "dispatch_command"]
