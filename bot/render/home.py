"""The App Home tab, as a `views.publish` view: the open incidents of the user's channels, the subscriptions they
created, a Refresh button, then what the bot can do (the overview of `/dlf help`).

Each incident has a button opening its channel and its own actions — Acknowledge (until someone has), Resolve,
Refresh — naming it by its card key like the card's buttons; a Home click has no channel, so the bot checks that the
incident is in a channel of the user's subscriptions (what this tab shows). Rerun, Stop and Mute stay on the card in
its channel, where their confirmation names what will happen. Each subscription has an Unwatch button (with a
confirmation) that removes it — the bot checks that the user created it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

from slack_sdk.models.blocks import ButtonElement, ConfirmObject, DividerBlock, PlainTextObject, SectionBlock

from bot.render.actions import HOME_OPEN, HOME_REFRESH, HOME_UNWATCH
from bot.render.blocks import Block, actions, button, context, header, mrkdwn_text, section
from bot.render.help import render_help
from bot.render.incident_actions import incident_buttons
from bot.render.mrkdwn import code, date_token, mention, plural
from bot.render.watches import SubscriptionLike, watch_line

MAX_INCIDENTS = 10
MAX_SUBSCRIPTIONS = 10
JOB_LIMIT = 120
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,40}")
# Slack's documented way to open a channel from a link; the channel id is the only thing in it.
_CHANNEL_URL = "https://slack.com/app_redirect?channel={channel}"


class IncidentLike(Protocol):
    """What the Home tab reads of an incident (the store's record fits as it is)."""

    @property
    def channel(self) -> str: ...
    @property
    def job_name(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def failure_count(self) -> int: ...
    @property
    def last_instance_id(self) -> int: ...
    @property
    def opened_at(self) -> int: ...
    @property
    def acknowledged_by(self) -> str | None: ...
    @property
    def rerun_state(self) -> str | None: ...
    @property
    def root_key(self) -> str: ...


class HomeSubscriptionLike(SubscriptionLike, Protocol):
    """A subscription with its id and channel."""

    @property
    def id(self) -> int: ...
    @property
    def channel(self) -> str: ...


class HomeLike(Protocol):
    """What the Home tab shows (the service's `HomeView` fits)."""

    @property
    def subscriptions(self) -> Sequence[HomeSubscriptionLike]: ...
    @property
    def incidents(self) -> Sequence[IncidentLike]: ...
    @property
    def unavailable(self) -> str | None: ...


def channel_link(channel: str) -> str:
    """`<#C…>` for a channel id Slack links (public ones); any other id as code."""
    return f"<#{channel}>" if channel.startswith("C") and _CHANNEL_ID.fullmatch(channel) else code(channel, 60)


def _open_channel(channel: str) -> ButtonElement | None:
    if not _CHANNEL_ID.fullmatch(channel):
        return None
    return ButtonElement(text="Open channel", url=_CHANNEL_URL.format(channel=channel), action_id=HOME_OPEN)


def _unwatch(sub: HomeSubscriptionLike) -> ButtonElement:
    confirm = ConfirmObject(
        title="Stop this subscription?",
        text=PlainTextObject(text="Its channel will no longer get these alerts; /dlf watch there sets it up again."),
        confirm="Unwatch",
        deny="Keep it",
    )
    return ButtonElement(text="Unwatch", action_id=HOME_UNWATCH, value=str(sub.id), confirm=confirm)


def _with_button(text: str, accessory: ButtonElement | None) -> Block:
    if accessory is None:
        return section(text)
    return SectionBlock(text=mrkdwn_text(text), accessory=accessory).to_dict()


def incident_line(incident: IncidentLike) -> str:
    """`#data · :red_circle: *open* · job `x` · 3 failures · latest instance `40112` · opened <date>`."""
    if incident.rerun_state is not None:
        state = ":arrows_counterclockwise: *rerunning*"
    elif incident.state == "acknowledged":
        who = mention(f"<@{incident.acknowledged_by}>") if incident.acknowledged_by else None
        state = f":eyes: *acknowledged*{' by ' + who if who else ''}"
    else:
        state = ":red_circle: *open*"
    return " · ".join(
        [
            channel_link(incident.channel),
            state,
            f"job {code(incident.job_name, JOB_LIMIT)}",
            plural(incident.failure_count, "failure"),
            f"latest instance {code(str(incident.last_instance_id), 30)}",
            f"opened {date_token(incident.opened_at)}",
        ]
    )


def _incident_blocks(incidents: Sequence[IncidentLike]) -> list[Block]:
    blocks: list[Block] = [section("*Open incidents in your channels*")]
    if not incidents:
        blocks.append(context("No open incident in the channels of your subscriptions. :tada:"))
        return blocks
    shown = incidents[:MAX_INCIDENTS]
    for incident in shown:
        blocks.append(_with_button(incident_line(incident), _open_channel(incident.channel)))
        blocks.extend(
            incident_buttons(
                card_key=incident.root_key,
                state=incident.state,
                rerunning=incident.rerun_state is not None,
                running=False,
                muted=False,
                home=True,
            )
        )
    if len(incidents) > len(shown):
        blocks.append(context(f"…and {plural(len(incidents) - len(shown), 'more open incident')}."))
    blocks.append(
        context("Rerun, stop and mute from the incident's card in its channel (or `@dlf rerun` in its thread).")
    )
    return blocks


def _subscription_blocks(subscriptions: Sequence[HomeSubscriptionLike]) -> list[Block]:
    blocks: list[Block] = [section("*Your subscriptions*")]
    if not subscriptions:
        blocks.append(
            context("You have not set up any: `/dlf watch job_batch` in a channel alerts it when `job_batch` fails.")
        )
        return blocks
    shown = subscriptions[:MAX_SUBSCRIPTIONS]
    # The channel's name is a link already; the button removes the subscription (after a confirmation).
    blocks.extend(
        _with_button(f"{channel_link(sub.channel)} {watch_line(sub).removeprefix('• ')}", _unwatch(sub))
        for sub in shown
    )
    if len(subscriptions) > len(shown):
        blocks.append(context(f"…and {plural(len(subscriptions) - len(shown), 'more subscription')}."))
    blocks.append(context("`/dlf watches` in a channel lists all of its subscriptions and mutes."))
    return blocks


def render_home(view: HomeLike | None = None) -> dict[str, Any]:
    """The Home tab's view (a view has no fallback text): the user's incidents and subscriptions when `view` is
    given, then the help overview."""
    blocks: list[Block] = []
    if view is not None:
        blocks.append(header(":wave: Your DLF jobs"))
        if view.unavailable is not None:
            blocks.append(
                section(
                    ":warning: The bot cannot read its database right now, so your incidents and subscriptions "
                    "are not shown. Try Refresh in a minute."
                )
            )
        else:
            blocks.extend(_incident_blocks(view.incidents))
            blocks.extend(_subscription_blocks(view.subscriptions))
        blocks.append(actions([button("Refresh", action_id=HOME_REFRESH, value="refresh")]))
        blocks.append(DividerBlock().to_dict())
        # Within the 50 blocks the lists are budgeted against: the overview without its closing hint line.
        blocks.extend(render_help().blocks[:-1])
    else:
        blocks.extend(render_help().blocks)
    return {"type": "home", "blocks": blocks}


__all__ = ["HomeLike", "IncidentLike", "channel_link", "incident_line", "render_home"]
