"""Every Slack Web API client of a process shares one aiohttp session: its connections are reused, not opened per call."""

from __future__ import annotations

import aiohttp

from bot.slack import build_web_client
from bot.watcher.deliver import make_delivery_client
from slack_fake import FakeSlack


async def test_bolts_client_and_the_deliverers_reuse_the_connections_of_one_session() -> None:
    fake = FakeSlack()
    async with fake.serve() as base_url, aiohttp.ClientSession() as session:
        bolt = build_web_client(token="xoxb-t", base_url=base_url, session=session)
        deliverer = make_delivery_client(token="xoxb-t", base_url=base_url, session=session)
        for n in range(20):
            await bolt.auth_test()
            await deliverer.chat_postMessage(channel="C1", text=f"message {n}")

    assert len(fake.calls) == 40
    assert fake.connections == 1


async def test_a_client_given_a_session_leaves_it_open_for_the_others() -> None:
    fake = FakeSlack()
    async with fake.serve() as base_url:
        session = aiohttp.ClientSession()
        try:
            await build_web_client(token="xoxb-t", base_url=base_url, session=session).auth_test()
            assert not session.closed
            await make_delivery_client(token="xoxb-t", base_url=base_url, session=session).auth_test()
        finally:
            await session.close()
    assert fake.connections == 1
