"""Subscription messages: `/dlf watches` (this channel's subscriptions and their state), and the answers to
`/dlf watch` and `/dlf unwatch`.

Renderers take anything shaped like `SubscriptionLike` (the store's subscription record fits as it is);
`SubscriptionView` is a ready-made one for callers and tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.profiles import DEFAULT_PROFILE
from bot.render.blocks import Block, context, header, section
from bot.render.layout import pack_lines
from bot.render.message import Message
from bot.render.mrkdwn import code, date_token, escape_truncated, mention_or_text, one_line, plural
from bot.render.rerun_replies import minutes_text
from bot.render.status import instance_look

TARGET_LIMIT = 160
REASON_LIMIT = 200
WATCHES_BUDGET = 6000
MAX_WATCH_SECTIONS = 12
MUTES_BUDGET = 2500
MAX_MUTE_SECTIONS = 2

_EVENT_WORDS = {"failure": "fails", "running-exception": "runs into an exception", "success": "succeeds"}
# Why a subscription broke, in words a channel member can act on (Slack's permanent errors).
_BROKEN_REASONS = {
    "channel_not_found": "the bot cannot find this channel (deleted, or private without the bot)",
    "not_in_channel": "the bot is not in this channel: invite it with `/invite @DLF bot`",
    "is_archived": "the channel is archived",
    "invalid_auth": "Slack rejected the bot's token: ask the bot's admin",
    "account_inactive": "the bot's Slack account is deactivated: ask the bot's admin",
}


class SubscriptionLike(Protocol):
    """What the renderers read of a subscription."""

    @property
    def target(self) -> str: ...
    @property
    def is_pattern(self) -> bool: ...
    @property
    def instance_id(self) -> int | None: ...
    @property
    def events(self) -> tuple[str, ...]: ...
    @property
    def mention(self) -> str | None: ...
    @property
    def state(self) -> str: ...
    @property
    def broken_reason(self) -> str | None: ...


class MuteLike(Protocol):
    """What the renderers read of a mute (the store's mute record fits as it is)."""

    @property
    def job_name(self) -> str: ...
    @property
    def profile(self) -> str: ...
    @property
    def until_at(self) -> int | None: ...
    @property
    def created_by(self) -> str: ...
    @property
    def suppressed(self) -> int: ...


@dataclass(frozen=True, kw_only=True)
class MuteView:
    """A mute as the renderers show it: `until_at` epoch ms (None: until unmuted)."""

    job_name: str
    until_at: int | None = None
    created_by: str = ""
    suppressed: int = 0
    profile: str = DEFAULT_PROFILE


@dataclass(frozen=True, kw_only=True)
class SubscriptionView:
    """A subscription as the renderers show it. `state`: active | broken (with `broken_reason`)."""

    target: str
    is_pattern: bool = False
    instance_id: int | None = None
    events: tuple[str, ...] = ("failure",)
    mention: str | None = None
    state: str = "active"
    broken_reason: str | None = None
    profile: str | None = None


def _what(sub: SubscriptionLike) -> str:
    target = code(sub.target, TARGET_LIMIT)
    if sub.instance_id is not None:
        return f"instance {sub.instance_id} of {target}"
    if sub.is_pattern:
        return f"every job matching {target}"
    return f"job {target}"


def _events(events: Sequence[str]) -> str:
    words = [_EVENT_WORDS.get(event) or code(event, 40) for event in events] or ["fails"]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _state(sub: SubscriptionLike) -> str:
    if sub.state == "active":
        return ":large_green_circle: active"
    if sub.state == "broken":
        reason = sub.broken_reason
        explained = _BROKEN_REASONS.get(reason or "") or (
            escape_truncated(reason, REASON_LIMIT) if reason else "no reason recorded"
        )
        return f":red_circle: broken — {explained}"
    return f":white_circle: {code(sub.state, 40)}"


def watch_line(sub: SubscriptionLike) -> str:
    """One subscription: what, which events, whom it mentions, its state."""
    parts = [_what(sub), f"when it {_events(sub.events)}"]
    if sub.mention:
        parts.append(f"mentions {mention_or_text(sub.mention, 60)}")
    profile = getattr(sub, "profile", None)
    if profile and profile != DEFAULT_PROFILE:
        parts.append(f"profile {code(profile, 60)}")
    escalation = escalation_text(getattr(sub, "escalate_after_s", None))
    if escalation:
        parts.append(escalation)
    parts.append(_state(sub))
    return "• " + " · ".join(parts)


def mute_line(mute: MuteLike, *, now_ms: int) -> str:
    """One mute: which job, until when (or that it ended), who muted it, how many failures it held back."""
    job = code(mute.job_name, TARGET_LIMIT)
    by = f" by {mention_or_text(f'<@{mute.created_by}>', 60)}" if mute.created_by else ""
    held = f" · {plural(mute.suppressed, 'failure')} held back" if mute.suppressed else ""
    profile = f" · profile {code(mute.profile, 60)}" if mute.profile and mute.profile != DEFAULT_PROFILE else ""
    if mute.until_at is None:
        return f"• :mute: {job} muted until `/dlf unmute`{by}{held}{profile}"
    if now_ms < mute.until_at:
        return f"• :mute: {job} muted until {date_token(mute.until_at)}{by}{held}{profile}"
    return f"• :speaker: {job}: mute ended {date_token(mute.until_at)}{by}{held}{profile} — alerts are posted again"


def render_watches(
    subscriptions: Sequence[SubscriptionLike],
    mutes: Sequence[MuteLike] = (),
    *,
    now_ms: int = 0,
    profile: str | None = None,
) -> Message:
    """This channel's subscriptions with their state (active, or broken and why), then its mutes and when they end
    (`now_ms` tells ended ones apart); a hint when there are no subscriptions. `profile`: they are the subscriptions
    (and mutes) of that profile only (`/dlf watches --profile NAME`)."""
    mute_sections = _mute_sections(mutes, now_ms=now_ms)
    if not subscriptions and profile is not None:
        line = (
            f":eyes: This channel watches no DLF job of profile {code(profile, 60)}. "
            f"{code(f'/dlf watch job_batch --profile {profile}', 120)} alerts it when an instance of `job_batch` "
            "there fails; `/dlf watches` lists every profile's subscriptions."
        )
        return Message(
            text=f"This channel watches no DLF job of profile {one_line(profile, 60)}.",
            blocks=[section(line), *mute_sections],
        )
    if not subscriptions:
        line = (
            ":eyes: This channel watches no DLF job yet. `/dlf watch job_batch` alerts it when an instance of "
            "`job_batch` fails; `/dlf watch 'etl_*'` covers every job matching a pattern."
        )
        return Message(text="This channel watches no DLF job yet.", blocks=[section(line), *mute_sections])
    broken = sum(1 for sub in subscriptions if sub.state == "broken")
    of_profile = f" of profile {one_line(profile, 60)}" if profile is not None else ""
    title = f":eyes: This channel's DLF watches{of_profile} ({len(subscriptions):,})"
    lines = [watch_line(sub) for sub in subscriptions]
    blocks = [header(title)]
    blocks.extend(
        section(text)
        for text in pack_lines(
            lines, heading="", budget=WATCHES_BUDGET, max_sections=MAX_WATCH_SECTIONS, noun="subscriptions"
        )
    )
    if broken:
        blocks.append(context(f"{plural(broken, 'subscription')} broken: fix the cause, then `/dlf watch` it again."))
    blocks.extend(mute_sections)
    text = f"This channel has {plural(len(subscriptions), 'DLF subscription')}{of_profile}"
    text += f" ({broken:,} broken)" if broken else ""
    muted = sum(1 for mute in mutes if mute.until_at is None or now_ms < mute.until_at)
    text += f", {plural(muted, 'job')} muted" if muted else ""
    return Message(text=text, blocks=blocks)


def _mute_sections(mutes: Sequence[MuteLike], *, now_ms: int) -> list[Block]:
    if not mutes:
        return []
    lines = [mute_line(mute, now_ms=now_ms) for mute in mutes]
    packed = pack_lines(
        lines, heading="*Muted here*", budget=MUTES_BUDGET, max_sections=MAX_MUTE_SECTIONS, noun="mutes"
    )
    return [*(section(text) for text in packed), context("`/dlf unmute job` posts a muted job's alerts again.")]


def escalation_text(escalate_after_s: object) -> str | None:
    """A subscription's own `--escalate` (None: the bot's default, not said): `reminder after 30 min` /
    `no reminder`."""
    if not isinstance(escalate_after_s, int) or isinstance(escalate_after_s, bool):
        return None
    if escalate_after_s <= 0:
        return "no escalation reminder"
    return f"reminder after {minutes_text(escalate_after_s * 1000)} unacknowledged"


def render_subscribed(
    sub: SubscriptionLike, *, already: bool = False, previous: SubscriptionLike | None = None, resumed: int = 0
) -> Message:
    """The answer to `/dlf watch`: what the channel will now hear about and whom it mentions (or that it already
    did). `previous` is the subscription before this command, when it existed: the answer then says it was updated
    and which mention it no longer carries. `resumed`: messages held back while the channel was broken that go out
    now."""
    who = f", mentioning {mention_or_text(sub.mention, 60)}" if sub.mention else ""
    if sub.instance_id is not None:
        promise = f"how {_what(sub)} ends ({_events(sub.events)}){who}"
        line = f"This channel will hear {promise}."
    else:
        line = f"This channel gets an alert when {_what(sub)} {_events(sub.events)}{who}."
        escalation = escalation_text(getattr(sub, "escalate_after_s", None))
        if escalation:
            line = f"{line[:-1]}; {escalation}."
    if already:
        line = f":information_source: Already set up, nothing changed: {line[0].lower()}{line[1:]}"
    elif previous is not None:
        line = f":white_check_mark: Updated: {line[0].lower()}{line[1:]}"
        if previous.mention and not sub.mention:
            line += f" It no longer mentions {mention_or_text(previous.mention, 60)}."
    else:
        line = f":white_check_mark: {line}"
    text = f"Watching {one_line(sub.target, TARGET_LIMIT)}" + (
        f" instance {sub.instance_id}" if sub.instance_id is not None else ""
    )
    hint = "`/dlf watches` lists this channel's subscriptions."
    if sub.mention:
        hint += " `--mention none` removes the mention."
    blocks = [section(line)]
    if resumed:
        plural = "message" if resumed == 1 else "messages"
        blocks.append(
            section(
                f":outbox_tray: {resumed} {plural} held back while Slack refused this channel "
                "will now be delivered, oldest first."
            )
        )
    return Message(text=text, blocks=[*blocks, context(hint)])


def render_follow_ended(job: str, *, instance_id: int, status: str, ended_at_ms: int | None) -> Message:
    """The answer to `/dlf watch job 34765` when that instance has already ended: how (status, end time), and that
    no follow was made (there is nothing left to hear)."""
    look = instance_look(status)
    word = look.word if look.known else code(status, 40)
    when = f" at {date_token(ended_at_ms)}" if ended_at_ms is not None else ""
    what = _what(SubscriptionView(target=job, instance_id=instance_id))
    line = (
        f":information_source: {what[0].upper()}{what[1:]} has already ended: {look.emoji} {word}{when}. "
        "There is nothing left to follow, so this channel was not subscribed."
    )
    hint = f"{code(f'/dlf instance {job} {instance_id}', TARGET_LIMIT)} shows its card; `/dlf watch` the job to hear of its next failures."
    text = f"{one_line(job, TARGET_LIMIT)} instance {instance_id} has already ended ({one_line(look.word, 40)})"
    return Message(text=text, blocks=[section(line), context(hint)])


def render_unsubscribed(
    target: str, *, is_pattern: bool = False, instance_id: int | None = None, removed: bool = True
) -> Message:
    """The answer to `/dlf unwatch`: stopped, or it was not watched here (nothing changed)."""
    what = _what(SubscriptionView(target=target, is_pattern=is_pattern, instance_id=instance_id))
    if removed:
        line = f":wave: This channel no longer watches {what}."
        text = f"Stopped watching {one_line(target, TARGET_LIMIT)}"
    else:
        line = (
            f":information_source: This channel was not watching {what}, so nothing changed. "
            "`/dlf watches` lists what it watches."
        )
        text = f"Not watching {one_line(target, TARGET_LIMIT)}"
    return Message(text=text, blocks=[section(line)])


__all__ = [
    "MuteLike",
    "MuteView",
    "SubscriptionLike",
    "SubscriptionView",
    "render_follow_ended",
    "render_subscribed",
    "render_unsubscribed",
    "mute_line",
    "render_watches",
    "watch_line",
]
