"""The `bot` fixture: the real Bolt app in HTTP mode with the sandbox and the fake Slack around it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from botwire import BotUnderTest, running_bot

from slack_fake import FakeSlack


@pytest.fixture
async def bot(sandbox: Any, fake_slack: FakeSlack) -> AsyncIterator[BotUnderTest]:
    async with running_bot(sandbox, fake_slack) as running:
        yield running
