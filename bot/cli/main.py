"""The `dlf-bot` command line: the parser, and one function per subcommand reading the settings it needs."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from bot import messages
from bot.cli.demo import demo_main
from bot.cli.logging_setup import configure_logging
from bot.cli.preview import asks_dlf, preview_main
from bot.cli.run import run
from bot.errors import ConfigError
from bot.settings import DLF_ONLY, NOTHING, RUN, load_settings
from bot.store import migrate, normalise_database_url, redacted_database_url


def build_parser() -> argparse.ArgumentParser:
    """The `dlf-bot` command line."""
    parser = argparse.ArgumentParser(prog="dlf-bot", description="ChatOps Slack bot for Huawei Cloud DataArts Factory")
    commands = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    run_parser = commands.add_parser(
        "run", help="run the bot (Socket Mode when SLACK_APP_TOKEN is set, else HTTP on $PORT)"
    )
    run_parser.add_argument("--host", default="0.0.0.0", help="address to serve on (default: every interface)")
    sandbox = commands.add_parser(
        "sandbox", help="run the embedded DLF sandbox (see dlf-bot sandbox --help)", add_help=False
    )
    sandbox.add_argument("sandbox_args", nargs=argparse.REMAINDER)
    show = commands.add_parser("preview", help="print what the bot would answer a /dlf command")
    show.add_argument("command", help='the command as typed in Slack, e.g. "/dlf instance job_batch 34765"')
    show.add_argument("--json", action="store_true", help="print the Block Kit JSON instead of text")
    show.add_argument("--sandbox", action="store_true", help="ask the embedded DLF sandbox, not the configured DLF")
    demo = commands.add_parser("demo", help="show cards of seeded sandbox instances (offline, no credentials)")
    demo.add_argument("--links", action="store_true", help="print a Block Kit Builder link under each card")
    commands.add_parser("migrate", help="apply the database migrations (DATABASE_URL)")
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run one subcommand; returns the exit code. Configuration errors are one message, never a traceback."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["sandbox"]:
        # Everything after `sandbox` is the sandbox's own command line (including its --help).
        from dlf_sandbox import main as sandbox_main

        return sandbox_main(arguments[1:], prog="dlf-bot sandbox")
    args = build_parser().parse_args(arguments)
    out = out or sys.stdout
    try:
        return _dispatch(args, out)
    except ConfigError as err:
        print(str(err), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`dlf-bot preview … | head`): stop quietly, and keep Python from complaining when it
        # flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _dispatch(args: argparse.Namespace, out: TextIO) -> int:
    if args.subcommand == "run":
        return _run_main(args)
    if args.subcommand == "migrate":
        return _migrate_main(out)
    if args.subcommand == "preview":
        return _preview_main(args, out)
    configure_logging(level="WARNING")
    return asyncio.run(demo_main(out, links=args.links))


def _run_main(args: argparse.Namespace) -> int:
    settings = load_settings(os.environ, needs=RUN)
    configure_logging(level=settings.log_level, secrets=settings.secret_values())
    asyncio.run(run(settings, host=args.host))
    return 0


def _migrate_main(out: TextIO) -> int:
    settings = load_settings(os.environ, needs=NOTHING)
    configure_logging(level=settings.log_level, secrets=settings.secret_values())
    database_url = settings.database_url.get_secret_value()
    try:
        asyncio.run(migrate(normalise_database_url(database_url)))
    except (OSError, SQLAlchemyError) as exc:
        # Like `run`: one line naming the database (password masked), not a traceback.
        raise ConfigError(messages.database_unreachable(redacted_database_url(database_url), exc)) from None
    print("database is at the latest schema", file=out)
    return 0


def _preview_main(args: argparse.Namespace, out: TextIO) -> int:
    needs = DLF_ONLY if asks_dlf(args.command) else NOTHING
    configured = None if args.sandbox else load_settings(os.environ, needs=needs)
    configure_logging(
        level=configured.log_level if configured else "WARNING",
        secrets=configured.secret_values() if configured else (),
    )
    return asyncio.run(preview_main(args, out))


__all__ = ["build_parser", "main"]
