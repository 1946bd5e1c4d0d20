"""Who may rerun and stop: the answer to someone who may not (not configured here, or not an operator)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.render.blocks import context, section
from bot.render.message import Message
from bot.render.mrkdwn import code, escape_truncated, mention

MAX_NAMED = 10
ACTION_LIMIT = 60


def operator_mention(entry: str) -> str:
    """An operator id as a mention token (`<@U…>` for a user, `<!subteam^S…>` for a user group); the ids were
    checked at start-up, anything else is shown as code and pings no one."""
    token = f"<!subteam^{entry}>" if entry[:1] == "S" else f"<@{entry}>"
    return mention(token) or code(entry, 60)  # a token Slack would not parse (`S`, `u1`) is shown, not sent


def render_operators_only(
    *, action: str, configured: bool, who: Sequence[str], unchecked: Sequence[str] = ()
) -> Message:
    """Why `action` ("rerun", "stop", "see the audit") was refused: how to enable operators when none are
    configured for the channel; otherwise who may (users and user groups), and which groups Slack could not check."""
    what = escape_truncated(action, ACTION_LIMIT)
    if not configured:
        line = (
            f":lock: Only the bot's operators may {what}, and none are configured for this channel. "
            "The bot's admin names them with `DLF_BOT_OPERATORS` (Slack user ids `U…` and user-group ids `S…`, "
            "comma-separated) or `operators:` in the config file, for every channel or under `channels:` for one."
        )
        return Message(text=f"Only operators may {action}; none are configured here.", blocks=[section(line)])
    named = [operator_mention(entry) for entry in who[:MAX_NAMED]]
    more = f" and {len(who) - MAX_NAMED} more" if len(who) > MAX_NAMED else ""
    line = f":lock: Only the bot's operators may {what} in this channel: {', '.join(named)}{more}. Ask one of them."
    blocks = [section(line)]
    if unchecked:
        groups = ", ".join(operator_mention(group) for group in unchecked[:MAX_NAMED])
        blocks.append(
            context(
                f":warning: The bot could not check the user group {groups} (Slack did not answer):"
                " if you are in it, try again in a minute."
            )
        )
    return Message(text=f"Only operators may {action} here.", blocks=blocks)


__all__ = ["operator_mention", "render_operators_only"]
