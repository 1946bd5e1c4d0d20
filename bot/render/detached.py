"""A thread reply whose parent alert was deleted from the channel, re-shaped to be posted on its own."""

from __future__ import annotations

from bot.render.blocks import context
from bot.render.limits import MAX_BLOCKS, MAX_FALLBACK_TEXT
from bot.render.message import Message

DETACHED_REPLY_LINE = ":wastebasket: The alert this belongs under was deleted, so it is posted here on its own."
DETACHED_REPLY_TEXT = "(The alert this belongs under was deleted.) "


def render_detached_reply(reply: Message) -> Message:
    """The same message with a line on top saying why it is not in a thread (so a "failed again" or "resolved" is
    not read as news about a new incident)."""
    blocks = [context(DETACHED_REPLY_LINE), *reply.blocks][:MAX_BLOCKS]
    text = DETACHED_REPLY_TEXT + reply.text
    return Message(text=text[:MAX_FALLBACK_TEXT], blocks=blocks)


__all__ = ["DETACHED_REPLY_LINE", "DETACHED_REPLY_TEXT", "render_detached_reply"]
