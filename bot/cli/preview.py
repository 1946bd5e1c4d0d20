"""`dlf-bot preview "/dlf …"`: what the bot would answer, through the same Bolt app and listeners as Slack.

The command is sent as a signed request to the app in-process; the answer (in the ack, or on the response_url of an
in-process fake Slack) is printed as text with a Block Kit Builder link, or as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from bot import messages
from bot.cli.wiring import build_dlf_clients, close_all, embedded_sandbox, epoch_ms, temporary_store
from bot.commands import (
    AuditCommand,
    HelpCommand,
    MuteCommand,
    UnmuteCommand,
    UnwatchCommand,
    WatchCommand,
    WatchesCommand,
    parse_command,
)
from bot.dlf.client import DlfClient
from bot.errors import CommandError
from bot.render.limits import problems
from bot.render.preview import builder_url, to_text
from bot.services.audit import AuditService
from bot.services.incidents import IncidentService
from bot.services.instance_list import InstanceListService
from bot.services.instances import InstanceService
from bot.services.operators import Operators
from bot.services.subscriptions import SubscriptionService
from bot.settings import DLF_ONLY, load_settings
from bot.slack import AppDeps, build_app, build_web_client
from bot.slack.dispatch import PREVIEW_USER, command_text, dispatch_command
from bot.store import Store

PREVIEW_TIMEOUT_S = 120.0
PREVIEW_SANDBOX_SUBSCRIPTIONS = (
    "With --sandbox, preview runs it against the sandbox and a throwaway database (nothing real changes)."
)


@dataclass(frozen=True)
class Preview:
    """What the bot answered a command with, and what Slack would refuse in it (empty when nothing)."""

    message: dict[str, Any]
    problems: list[str]


async def preview(
    line: str,
    *,
    clients: Mapping[str, DlfClient],
    timeout: float = PREVIEW_TIMEOUT_S,
    throwaway_subscriptions: bool = False,
) -> Preview:
    """Send `line` through the Bolt app as Slack would and capture the answer (ack or response_url).

    `watch`, `unwatch` and `watches` change or list a channel's subscriptions: they run only with
    `throwaway_subscriptions` (`--sandbox`), against a temporary database deleted afterwards; otherwise the answer
    explains why they are not run (they would change the real subscriptions)."""
    text = command_text(line)
    subcommand = channel_subcommand(line)
    if subcommand is None:
        return await _preview_through_app(text, clients=clients, timeout=timeout, store=None)
    if not throwaway_subscriptions:
        return not_run_without_sandbox(subcommand)
    async with temporary_store("dlf-bot-preview-") as store:
        return await _preview_through_app(text, clients=clients, timeout=timeout, store=store)


async def _preview_through_app(
    text: str, *, clients: Mapping[str, DlfClient], timeout: float, store: Store | None
) -> Preview:
    from slack_fake import FakeSlack

    fake = FakeSlack(validator=problems)
    operators = Operators(everywhere=(PREVIEW_USER,))
    async with fake.serve() as base_url:
        signing_secret = secrets.token_hex(16)
        app = build_app(
            AppDeps(
                client=build_web_client(token="xoxb-preview", base_url=base_url),
                signing_secret=signing_secret,
                instances=InstanceService(clients=clients, clock=epoch_ms),
                instance_lists=InstanceListService(clients=clients, clock=epoch_ms),
                subscriptions=SubscriptionService(store=store, clients=clients) if store is not None else None,
                # The previewing person is the throwaway database's operator (so `/dlf audit` shows what it would).
                incidents=IncidentService(store=store, clients=clients, operators=operators) if store else None,
                audit=AuditService(store=store, operators=operators) if store is not None else None,
                operators=operators if store is not None else None,
            )
        )
        ack = await dispatch_command(
            app, text=text, signing_secret=signing_secret, response_url=fake.response_url("preview")
        )
        if ack.status != 200:
            raise RuntimeError(f"the app answered HTTP {ack.status}: {ack.body[:200]}")
        if ack.body:
            answer = json.loads(ack.body)
            return Preview(message=answer, problems=problems(answer))
        return await _answer_on_response_url(fake, timeout=timeout)


async def _answer_on_response_url(fake: Any, *, timeout: float) -> Preview:
    """The first answer the app sent to the fake's response_url (or what the fake refused), waiting `timeout`."""
    deadline = time.monotonic() + timeout
    while not fake.responses_for("preview") and not fake.rejected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no answer within {timeout:.0f} s")
        await asyncio.sleep(0.02)
    if fake.rejected:
        return Preview(message={}, problems=fake.rejected[0][1])
    answer = fake.responses_for("preview")[0]
    return Preview(message=answer, problems=problems(answer))


def print_preview(result: Preview, *, as_json: bool, out: TextIO, links: bool = True) -> None:
    """The answer as Block Kit JSON, or as readable text followed (`links`) by a Block Kit Builder link."""
    message: dict[str, Any] = {key: result.message[key] for key in ("text", "blocks") if key in result.message}
    if as_json:
        print(json.dumps(message, ensure_ascii=False, indent=2), file=out)
    else:
        print(to_text(message), file=out)
        if links and message.get("blocks"):
            print(f"\nBlock Kit Builder: {builder_url(message)}", file=out)
    for problem in result.problems:
        print(f"Slack would refuse this message: {problem}", file=sys.stderr)


def asks_dlf(line: str) -> bool:
    """Whether previewing `line` without `--sandbox` calls the configured DLF: help and input the parser refuses
    never do, nor do `watch`/`unwatch`/`watches` (not run without `--sandbox`), so they need no DLF settings."""
    try:
        parsed = parse_command(command_text(line))
    except CommandError:
        return False
    return not isinstance(parsed, HelpCommand) and channel_subcommand(line) is None


def channel_subcommand(line: str) -> str | None:
    """The subcommand when `line` acts on a channel's state in the bot's database (`watch`, `unwatch`, `watches`,
    `mute`, `unmute`, `audit`), else None."""
    try:
        parsed = parse_command(command_text(line))
    except CommandError:
        return None
    if isinstance(parsed, WatchCommand | UnwatchCommand | WatchesCommand | MuteCommand | UnmuteCommand | AuditCommand):
        return parsed.subcommand
    return None


def not_run_without_sandbox(subcommand: str) -> Preview:
    """Why preview does not run a channel command on the real store, and how to see it anyway."""
    return Preview(
        message={"text": f"{messages.preview_read_only(subcommand)} {PREVIEW_SANDBOX_SUBSCRIPTIONS}"}, problems=[]
    )


async def preview_main(args: argparse.Namespace, out: TextIO) -> int:
    """`dlf-bot preview`: against the sandbox (`--sandbox`, or a line that never reaches DLF) or the configured DLF."""
    subcommand = channel_subcommand(args.command)
    if subcommand is not None and not args.sandbox:
        # Said at once: neither DLF nor the database is needed to say so.
        result = not_run_without_sandbox(subcommand)
    elif args.sandbox or not asks_dlf(args.command):
        # Help and refused input never reach DLF: the offline sandbox stands in so they need no settings.
        async with embedded_sandbox() as embedded:
            result = await preview(args.command, clients=embedded.clients, throwaway_subscriptions=True)
    else:
        settings = load_settings(os.environ, needs=DLF_ONLY)
        clients = build_dlf_clients(settings)
        try:
            result = await preview(args.command, clients=clients)
        finally:
            await close_all(clients)
    print_preview(result, as_json=args.json, out=out)
    return 1 if result.problems else 0


__all__ = [
    "PREVIEW_TIMEOUT_S",
    "Preview",
    "asks_dlf",
    "channel_subcommand",
    "not_run_without_sandbox",
    "preview",
    "preview_main",
    "print_preview",
]
