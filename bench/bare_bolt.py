"""The baseline of bench/ack_latency.py: a bare Bolt app that only acknowledges `/dlf`, served like the bot.

    python bench/bare_bolt.py PORT   (SLACK_SIGNING_SECRET, SLACK_API_URL from the environment)

slack_bolt's AsyncApp with its own signature verification, its aiohttp adapter, a `/healthz` route, and nothing
of the bot imported: what any Bolt app pays per request.
"""

from __future__ import annotations

import asyncio
import os
import sys

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


async def main(port: int) -> None:
    """Serve until killed."""
    bolt = AsyncApp(
        client=AsyncWebClient(token="xoxb-bench", base_url=os.environ["SLACK_API_URL"]),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    )

    @bolt.command("/dlf")
    async def only_ack(ack: object) -> None:
        await ack()  # type: ignore[operator]

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
