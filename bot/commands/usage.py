"""How each subcommand is written: the one source of the usage text shown by `/dlf help` and every command error.

Pure data, plain text (renderers put it in code spans or escape it). `HELP` holds everything help shows;
`SUBCOMMANDS` (name -> (usage line, summary)), `EXAMPLES` (name -> first example), `FULL_EXAMPLES` (name -> an
example with every positional) and `usage()` are the views the parser reads. Order is the order help lists them in.
`THREAD_VERBS` are the words said to the bot in an alert's thread; `CARD_BUTTONS` and `APP_HOME` say the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

COMMAND = "/dlf"


@dataclass(frozen=True, kw_only=True)
class SubcommandHelp:
    """What help says about one subcommand."""

    name: str
    usage: str
    summary: str
    details: str
    examples: tuple[str, ...]
    options: tuple[tuple[str, str], ...] = ()


_PROFILE = ("--profile NAME", "which configured DLF project/workspace to use (default: the default profile)")

HELP: dict[str, SubcommandHelp] = {
    help_.name: help_
    for help_ in (
        SubcommandHelp(
            name="instance",
            usage=f"{COMMAND} instance <job> <instance_id> [--profile NAME]",
            summary="show one job instance: status, timing, failed nodes",
            details="Shows the instance's card only to you, with a button to share it in the channel and one to "
            "refresh it. Failed nodes come first, with their log paths.",
            examples=(f"{COMMAND} instance job_batch 34765", f"{COMMAND} instance etl_orders 880001 --profile prod"),
            options=(_PROFILE,),
        ),
        SubcommandHelp(
            name="instances",
            usage=f"{COMMAND} instances <job> [--status fail|success|running] [--since 6h] [--profile NAME]",
            summary="list a job's recent instances, newest first",
            details="Shows the job's instances planned within the window (default: since midnight UTC, as DLF "
            "does; `--since` goes back at most 7 days), with status, planned time and duration, each with a "
            "button that opens its card. Only you see the list.",
            examples=(
                f"{COMMAND} instances job_batch",
                f"{COMMAND} instances job_batch --status fail --since 6h",
                f"{COMMAND} instances etl_orders --since 2d --profile prod",
            ),
            options=(
                ("--status fail|success|running", "only instances in that status"),
                ("--since DURATION", "how far back, e.g. 30m, 6h, 2d (at most 7d)"),
                _PROFILE,
            ),
        ),
        SubcommandHelp(
            name="watch",
            usage=f"{COMMAND} watch <job|'pattern'> [instance_id] [--on failure,running-exception,success] "
            "[--mention @user|@group|none] [--escalate 30m|off] [--profile NAME]",
            summary="alert this channel when an instance of the job fails (or follow one instance until it ends)",
            details="Subscribes this channel to a job, or to every job matching a quoted glob pattern. With an "
            "instance id, follows that one instance and posts how it ends. Watching it again changes only the "
            "options you give (`--on`, `--mention`, `--escalate`) and keeps the others; `--mention none` removes "
            "the mention.",
            examples=(
                f"{COMMAND} watch 'etl_*' --mention @data-oncall",
                f"{COMMAND} watch job_batch",
                f"{COMMAND} watch job_batch 34765 --on success,failure",
                f"{COMMAND} watch job_batch --mention @data-oncall --escalate 30m",
                f"{COMMAND} watch job_batch --mention none",
            ),
            options=(
                (
                    "--on EVENTS",
                    (
                        "comma-separated: failure (the default), running-exception; success only when "
                        "following one instance"
                    ),
                ),
                (
                    "--mention @user|@group|none",
                    "who the alert mentions: pick them from Slack's list, or type a handle (`@oncall`, `@alice`);"
                    " `none`: no one",
                ),
                (
                    "--escalate DURATION|off",
                    "an incident no one acknowledged this long after it opened gets one reminder in its thread, "
                    "mentioning `--mention`: from 1m to 7d, with a unit (`30m`, `2h`, `1d`); `off`: no reminder. "
                    "Default: the bot's `DLF_ESCALATE_AFTER` (15m; there a bare number such as `900` is seconds)",
                ),
                _PROFILE,
            ),
        ),
        SubcommandHelp(
            name="unwatch",
            usage=f"{COMMAND} unwatch <job|'pattern'> [instance_id] [--profile NAME]",
            summary="stop alerting this channel",
            details="Removes this channel's subscription to the job or pattern (written as you subscribed), or its "
            "follow of one instance.",
            examples=(
                f"{COMMAND} unwatch job_batch",
                f"{COMMAND} unwatch 'etl_*'",
                f"{COMMAND} unwatch job_batch 34765",
            ),
            options=(_PROFILE,),
        ),
        SubcommandHelp(
            name="watches",
            usage=f"{COMMAND} watches [--profile NAME]",
            summary="list this channel's subscriptions and their state",
            details="Each subscription is active, or broken (with the reason, e.g. the bot was removed from "
            "the channel; `/dlf watch` it again once fixed). "
            "`--profile` shows one profile's subscriptions only.",
            examples=(f"{COMMAND} watches", f"{COMMAND} watches --profile prod"),
            options=(("--profile NAME", "only the subscriptions of that configured DLF project/workspace"),),
        ),
        SubcommandHelp(
            name="mute",
            usage=f"{COMMAND} mute <job> <30m|4h|24h|…|forever>",
            summary="stop posting a job's alerts in this channel for a while",
            details="Failures of a muted job are still recorded (its incident still resolves, and unmuting says "
            "what happened) but nothing is posted here until the mute ends or `/dlf unmute`. From 1m to 30d, "
            "or `forever` (until unmuted).",
            examples=(
                f"{COMMAND} mute job_batch 4h",
                f"{COMMAND} mute job_batch forever",
            ),
        ),
        SubcommandHelp(
            name="unmute",
            usage=f"{COMMAND} unmute <job>",
            summary="post a muted job's alerts again",
            details="Ends the mute of the job in this channel and says how many failures were held back while it "
            "was muted (in the open incident's thread too). The alert card's Mute and Unmute buttons do the same.",
            examples=(f"{COMMAND} unmute job_batch",),
        ),
        SubcommandHelp(
            name="audit",
            usage=f"{COMMAND} audit [job] [--since 7d]",
            summary="who acknowledged, reran, stopped, muted or resolved what (operators only)",
            details="Lists the bot's audit entries for this channel, newest first: who, what, when, the target and "
            "the outcome (DLF's answer included). With a job, only that job's; `--since` from 1m to 90d.",
            examples=(f"{COMMAND} audit", f"{COMMAND} audit job_batch --since 24h"),
            options=(("--since DURATION", "how far back, e.g. 24h, 7d (the default), at most 90d"),),
        ),
        SubcommandHelp(
            name="help",
            usage=f"{COMMAND} help [subcommand]",
            summary="explain the subcommands",
            details=(
                f"`{COMMAND}` alone or `{COMMAND} help` lists every subcommand; `{COMMAND} help watch` explains one."
            ),
            examples=(f"{COMMAND} help", f"{COMMAND} help watch"),
        ),
    )
}

MENTION = "@dlf"

# (what is said in an alert's thread, what it does): each acts on that thread's incident.
THREAD_VERBS: tuple[tuple[str, str], ...] = (
    (f"{MENTION} ack", "you are on it: acknowledges the incident"),
    (f"{MENTION} rerun", "reruns the instance from its failed node (operators only)"),
    (f"{MENTION} rerun from first", "reruns it from the first node (operators only)"),
    (f"{MENTION} stop", "stops the running instance, e.g. a rerun (operators only)"),
    (f"{MENTION} resolve", "resolves the incident"),
    (f"{MENTION} refresh", "reads the instance from DLF again and redraws the card"),
    (f"{MENTION} nodes [page]", "every node of the instance with its status, a page at a time"),
    (f"{MENTION} logs", "the failed nodes' log paths"),
    (f"{MENTION} help", "this list"),
)

CARD_BUTTONS = (
    "Acknowledge, Rerun (from the failed node or the first; operators only, "
    "confirmed in a dialog), Stop (operators only, confirmed), Mute (1 h, 4 h, 24 h or until unmuted) or Unmute, "
    "Resolve and Refresh — only the ones that make sense now. Each is one reply in the card's thread."
)

APP_HOME = (
    "The bot's App Home tab lists the open incidents of your channels (Acknowledge, Resolve, Refresh) and the "
    "subscriptions you created (Unwatch), then this help."
)

# name -> (usage line, one-line summary)
SUBCOMMANDS: dict[str, tuple[str, str]] = {name: (entry.usage, entry.summary) for name, entry in HELP.items()}

# name -> the first example
EXAMPLES: dict[str, str] = {name: entry.examples[0] for name, entry in HELP.items()}


# name -> an example with every positional the subcommand takes: for errors about an instance id or extra words.
FULL_EXAMPLES: dict[str, str] = {
    "instance": f"{COMMAND} instance job_batch 34765",
    "instances": f"{COMMAND} instances job_batch --since 6h",
    "watch": f"{COMMAND} watch job_batch 34765",
    "unwatch": f"{COMMAND} unwatch job_batch 34765",
    "watches": f"{COMMAND} watches",
    "mute": f"{COMMAND} mute job_batch 4h",
    "unmute": f"{COMMAND} unmute job_batch",
    "audit": f"{COMMAND} audit job_batch --since 7d",
    "help": f"{COMMAND} help watch",
}


def usage(name: str | None = None) -> str:
    """The usage line of one subcommand, or of all of them (one per line) when `name` is None or unknown."""
    if name in SUBCOMMANDS:
        return SUBCOMMANDS[name][0]
    return "\n".join(line for line, _ in SUBCOMMANDS.values())
