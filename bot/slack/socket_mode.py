"""Socket Mode with calm manners: an envelope Bolt cannot take is one log line and an acknowledgement, not a traceback.

The socket is authenticated (the app-level token opened it), so envelopes need no signature. But slack_sdk's client
logs a frame that is not JSON with a full traceback, and Bolt raises on a payload that is not a JSON object; here
each is refused through `bot.slack.ingress` like a malformed HTTP request, and the envelope is acknowledged so Slack
does not send it again.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from slack_bolt.adapter.socket_mode.async_base_handler import AsyncBaseSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.slack.ingress import Refused, note_refused, socket_request
from bot.slack.metrics import SlackMetrics

SOURCE = "the Socket Mode connection"


class _CalmSocketModeClient(SocketModeClient):
    """slack_sdk's aiohttp client, reading each frame itself so a frame that is not JSON is refused in one line."""

    def __init__(self, *, metrics: SlackMetrics | None, **options: Any) -> None:
        super().__init__(**options)
        self._metrics = metrics
        self._running: set[asyncio.Future[None]] = set()

    async def process_message(self) -> None:
        raw = await self.message_queue.get()
        if raw is None:
            return
        try:
            message = json.loads(raw)
        except (ValueError, RecursionError):
            message = None
        if not isinstance(message, dict):
            note_refused(
                Refused(400, "malformed_envelope", "a frame is not a JSON object"), source=SOURCE, metrics=self._metrics
            )
            return
        if "envelope_id" in message and "payload" in message and not isinstance(message["payload"], dict):
            # slack_sdk raises on a list and reads a string as {"text": ...}: neither is a request of Slack's.
            note_refused(
                Refused(400, "malformed_envelope", "an envelope's payload is not a JSON object"),
                source=SOURCE,
                metrics=self._metrics,
            )
            await self.send_socket_mode_response({"envelope_id": message["envelope_id"]})
            return
        # As the SDK does: each envelope is handled on its own, so a slow one does not hold the others up.
        running = asyncio.ensure_future(self.run_message_listeners(message, raw))
        self._running.add(running)
        running.add_done_callback(self._running.discard)


class CalmSocketModeHandler(AsyncBaseSocketModeHandler):
    """Bolt's AsyncSocketModeHandler, with envelopes checked by `bot.slack.ingress.socket_request`."""

    def __init__(self, app: AsyncApp, *, app_token: str, metrics: SlackMetrics | None = None) -> None:
        self.app = app
        self.app_token = app_token
        self._metrics = metrics
        self.client = _CalmSocketModeClient(
            app_token=app_token, logger=app.logger, web_client=app.client, metrics=metrics
        )
        self.client.socket_mode_request_listeners.append(self.handle)

    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        """Dispatch one envelope to the Bolt app; a payload it cannot take is refused and acknowledged."""
        started = time.time()
        try:
            headers = {
                name: [value] if isinstance(value, str) else list(value)
                for name, value in (build_headers(req) or {}).items()
            }
            bolt_request = socket_request(req.payload, headers)
        except Refused as refused:
            note_refused(refused, source=SOURCE, metrics=self._metrics)
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        response = await self.app.async_dispatch(bolt_request)  # type: ignore[union-attr]
        await send_async_response(client, req, response, started)


__all__ = ["CalmSocketModeHandler"]
