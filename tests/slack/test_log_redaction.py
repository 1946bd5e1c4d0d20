"""response_urls are credentials (they post into a conversation for 30 minutes): they never reach the log, not even
at DEBUG, not from the SDK's webhook client, not from the line about a request whose signature failed."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from botwire import running_bot

from bot.cli import configure_logging
from slack_fake import FakeSlack


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """The process's logging set up as `dlf-bot run` does at LOG_LEVEL=DEBUG, writing to a buffer; put back after."""
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level)
    saved_levels = {name: logging.getLogger(name).level for name in ("apscheduler", "slack_sdk.webhook")}
    stream = io.StringIO()
    configure_logging(level="DEBUG", stream=stream)
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_root[0]:
            root.addHandler(handler)
        root.setLevel(saved_root[1])
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)


async def test_no_response_url_in_a_debug_log_of_an_unsigned_request_and_a_command(
    sandbox: Any, fake_slack: FakeSlack, debug_log: io.StringIO
) -> None:
    async with running_bot(sandbox, fake_slack) as bot:
        unsigned = bot.command_body("instance job_batch 34765", "forged")
        refused = await bot.http.post(
            f"{bot.url}/slack/events", content=unsigned, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        await bot.command("instance job_batch 34765", "r1")
        await bot.fake.wait_for_responses("r1", timeout=15)

    log = debug_log.getvalue()
    assert refused.status_code == 401
    # One line of the bot's own says the request was refused; Bolt never saw it, so its line (with the body) is not.
    assert log.count("refused a Slack request from") == 1
    assert "Invalid request signature detected" not in log
    assert "slack_sdk.web.async_base_client" in log  # DEBUG lines of the Web API client are there ...
    assert "slack_sdk.webhook" not in log  # ... not those of the webhook client ("Sending a request - url: ...")
    for response_id in ("forged", "r1"):
        url = bot.fake.response_url(response_id)
        assert url not in log and quote(url, safe="") not in log
    assert "/response/" not in log and "response%2F" not in log
