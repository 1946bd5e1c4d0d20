"""Pure renderers: domain models in, `Message(text, blocks)` out — no Slack client, settings, I/O or clock.

Every message the bot sends is built here and passes `limits.problems()` (Slack's limits and the escaping rules) in
the tests. Untrusted text reaches mrkdwn only through `mrkdwn.escape` / `code` / `escape_truncated`.

    instance_card  /dlf instance: the card (failed nodes first) with Refresh / Share buttons
    alert          watcher: alert card, "failed again" and "resolved" replies, follow outcomes
    digest         watcher: one summary for an alert storm, details in its thread
    watches        /dlf watch, unwatch, watches
    help           /dlf help (usage text from bot.commands.usage);  home: the App Home tab
    errors         command errors, DLF errors, crashes: one line the user can act on
    limits         the validator;  preview: terminal text and Block Kit Builder links
    actions        button action ids and the values they carry
"""

from bot.render.actions import (
    INSTANCE_REFRESH,
    INSTANCE_SHARE,
    InstanceRef,
    decode_instance_ref,
    encode_instance_ref,
)
from bot.render.alert import (
    render_alert,
    render_follow_outcome,
    render_recovery,
    render_repeat_failure,
)
from bot.render.digest import render_digest
from bot.render.errors import render_command_error, render_crash, render_dlf_error, render_notice
from bot.render.help import render_help
from bot.render.home import render_home
from bot.render.instance_card import render_instance
from bot.render.limits import InvalidMessage, assert_valid, problems
from bot.render.message import Message
from bot.render.preview import builder_url, to_text
from bot.render.watches import (
    SubscriptionLike,
    SubscriptionView,
    render_subscribed,
    render_unsubscribed,
    render_watches,
)

__all__ = [
    "INSTANCE_REFRESH",
    "INSTANCE_SHARE",
    "InstanceRef",
    "InvalidMessage",
    "Message",
    "SubscriptionLike",
    "SubscriptionView",
    "assert_valid",
    "builder_url",
    "decode_instance_ref",
    "encode_instance_ref",
    "problems",
    "render_alert",
    "render_command_error",
    "render_crash",
    "render_digest",
    "render_dlf_error",
    "render_follow_outcome",
    "render_help",
    "render_home",
    "render_instance",
    "render_notice",
    "render_recovery",
    "render_repeat_failure",
    "render_subscribed",
    "render_unsubscribed",
    "render_watches",
    "to_text",
]
