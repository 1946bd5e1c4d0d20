"""How each subcommand is written: the usage strings shown in help and in every command error.

Plain text (the renderers put them in code spans or escape them). Owned by the render engineer; the parser only
reads `SUBCOMMANDS` and calls `usage()`.
"""

from __future__ import annotations

# name -> (usage line, one-line summary). Order is the order help lists them in.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "instance": ("/dlf instance <job> <instance_id> [--profile NAME]", "show one job instance: status, timing, failed nodes"),
    "watch": (
        "/dlf watch <job|'pattern'> [instance_id] [--on failure,running-exception,success] [--mention @user|@group]"
        " [--profile NAME]",
        "alert this channel when an instance of the job fails (or follow one instance until it ends)",
    ),
    "unwatch": ("/dlf unwatch <job|'pattern'> [instance_id] [--profile NAME]", "stop alerting this channel"),
    "watches": ("/dlf watches", "list this channel's subscriptions and their state"),
    "help": ("/dlf help [subcommand]", "explain the subcommands"),
}

EXAMPLES: dict[str, str] = {
    "instance": "/dlf instance job_batch 34765",
    "watch": "/dlf watch 'etl_*' --mention @data-oncall",
    "unwatch": "/dlf unwatch job_batch",
    "watches": "/dlf watches",
    "help": "/dlf help watch",
}


def usage(name: str | None = None) -> str:
    """The usage line of one subcommand, or of all of them (one per line) when `name` is None or unknown."""
    if name in SUBCOMMANDS:
        return SUBCOMMANDS[name][0]
    return "\n".join(line for line, _ in SUBCOMMANDS.values())
