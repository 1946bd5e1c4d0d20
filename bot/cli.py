"""`dlf-bot`: the entry point. The only place that reads settings, builds clients and wires the parts together.

    dlf-bot run                                  the bot (Socket Mode with SLACK_APP_TOKEN, else HTTP on $PORT)
    dlf-bot sandbox [--port N]                   the embedded DLF sandbox, for trying the bot offline
    dlf-bot preview "/dlf instance job_batch 34765" [--json] [--sandbox]
                                                 what the bot would answer, through the same handlers as Slack
    dlf-bot demo                                 cards of seeded sandbox instances, offline, no credentials
    dlf-bot migrate                              apply the database migrations
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import re
import secrets
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import aiohttp
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from sqlalchemy.exc import SQLAlchemyError

from bot import messages
from bot.commands import (
    HelpCommand,
    UnwatchCommand,
    WatchCommand,
    WatchesCommand,
    parse_command,
)
from bot.dlf import DlfClient, DlfConfig, Priority
from bot.dlf.auth import AkSk, Credentials, IamPassword, StaticToken
from bot.dlf.endpoints import dlf_endpoint, iam_endpoint
from bot.dlf.metrics import DlfMetrics
from bot.errors import CommandError, ConfigError, StoreUnavailable
from bot.profiles import DEFAULT_PROFILE
from bot.render.limits import problems
from bot.render.preview import builder_url, to_text
from bot.services.instances import InstanceService
from bot.services.request_ledger import StoreRequestLedger
from bot.services.subscriptions import SubscriptionService
from bot.settings import DLF_ONLY, NOTHING, RUN, DlfProfile, Settings, load_settings
from bot.slack import AppDeps, BackgroundService, SlackMetrics, build_app, run_bot
from bot.slack.dispatch import command_text, dispatch_command
from bot.slack.ingress import SlackGate
from bot.slack.server import HealthProbe, HealthReport
from bot.store import Store, redacted_database_url
from bot.watcher import PollOptions, WatcherOptions, build_watcher, run_watch_demo
from bot.watcher.deliver import make_delivery_client
from bot.watcher.health import WatcherHealthProbe
from bot.watcher.retention import Retention, RetentionMetrics, RetentionOptions
from bot.watcher.metrics import DeliveryMetrics
from bot.watcher.outbox_health import OutboxHealthProbe

log = logging.getLogger("bot")

PREVIEW_TIMEOUT_S = 120.0
# The Web API session's own bound on a call (Bolt's clients; the deliverer bounds its calls more tightly itself).
SLACK_SESSION_TIMEOUT_S = 30.0
PREVIEW_SANDBOX_SUBSCRIPTIONS = (
    "With --sandbox, preview runs it against the sandbox and a throwaway database (no real subscription changes)."
)
HOUR_MS = 3_600_000
# Seeded sandbox instances the demo shows (keys of dlf_sandbox.SEEDED), in order.
DEMO_INSTANCES = ("seed", "running", "succeeded", "failed_node", "large")


def epoch_ms() -> int:
    """The wall clock in epoch milliseconds, DLF's unit."""
    return int(time.time() * 1000)


# ---------------------------------------------------------------------------------------------------- logging
_STANDARD_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
# Second line of defence for secrets no setting names (e.g. a token pasted into a job name).
_SECRET_PATTERNS = (
    re.compile(r"xox[abposr]-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(r"(?i)(signature=)[0-9a-f]{16,}"),
    re.compile(r"(?i)(x-auth-token['\"]?\s*[:=]\s*['\"]?)[^\s'\",]+"),
    # A response_url can post into its conversation for 30 minutes: a credential. Plain, in JSON, form-encoded.
    re.compile(r"(?i)(https?://hooks\.slack(?:-gov)?\.com/)[^\s'\"&<>]+"),
    re.compile(r"(?i)(response_url['\"]?\s*[:=]\s*['\"]?)[^\s'\"&,}]+"),
)
# Loggers that write response_urls at DEBUG ("Sending a request - url: ..."): only their warnings and errors show.
_RESPONSE_URL_LOGGERS = ("slack_sdk.webhook",)


class _NoUnverifiedBodies(logging.Filter):
    """Bolt logs the raw body of every request whose signature fails (at INFO): anyone can send one, and a replayed
    one carries a real response_url and the user's text. The line keeps the signature and timestamp, not the body.
    A handler filter, because Bolt resets its middleware loggers' levels from the app's logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("slack_bolt.") and record.name.endswith("RequestVerification"):
            record.msg = record.getMessage().split(", body:", 1)[0] + ", body not logged)"
            record.args = ()
        return True


class RedactingFormatter(logging.Formatter):
    """Formats a record with its structured extras, then removes every secret value from the whole line.

    Working on the final text (message, extras and traceback together) means a secret cannot leak through any
    of them, even by mistake.
    """

    def __init__(self, *, secrets: Iterable[str], fmt: str) -> None:
        super().__init__(fmt=fmt)
        self._secrets = sorted({value for value in secrets if value}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {key: value for key, value in vars(record).items() if key not in _STANDARD_RECORD_FIELDS}
        if extras:
            shown = (f"{key}={json.dumps(value, default=str, ensure_ascii=False)}" for key, value in extras.items())
            line += " " + " ".join(shown)
        return self.redact(line)

    def redact(self, text: str) -> str:
        """`text` with every known secret and anything shaped like a token replaced."""
        for value in self._secrets:
            text = text.replace(value, "[REDACTED]")
        for pattern in _SECRET_PATTERNS:
            text = pattern.sub(lambda match: (match.group(1) if match.groups() else "") + "[REDACTED]", text)
        return text


def configure_logging(*, level: str, secrets: Iterable[str] = (), stream: TextIO | None = None) -> None:
    """One handler on the root logger, redacting secrets; called once per process, here."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets=secrets, fmt="%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_NoUnverifiedBodies())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # APScheduler logs every job run at INFO (twice a second here); its warnings and errors still show.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
    for name in _RESPONSE_URL_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


# ---------------------------------------------------------------------------------------------------- wiring
def dlf_credentials(profile: DlfProfile) -> Credentials:
    """The client's credentials for a profile that `Settings.problems` found complete."""
    if profile.auth_kind == "aksk":
        assert profile.ak is not None and profile.sk is not None
        return AkSk(
            access_key=profile.ak.get_secret_value(), secret_key=profile.sk, security_token=profile.security_token
        )
    if profile.auth_kind == "iam":
        assert profile.iam_username and profile.iam_password and profile.iam_domain
        return IamPassword(
            username=profile.iam_username,
            password=profile.iam_password,
            domain=profile.iam_domain,
            iam_endpoint=iam_endpoint(region=profile.region, override=profile.iam_endpoint),
        )
    assert profile.auth_token is not None
    return StaticToken(token=profile.auth_token)


def build_dlf_clients(settings: Settings, *, metrics: DlfMetrics | None = None) -> dict[str, DlfClient]:
    """One DLF client per configured profile."""
    clients: dict[str, DlfClient] = {}
    for name, profile in settings.dlf_profiles().items():
        assert profile.project_id is not None
        config = DlfConfig(
            endpoint=dlf_endpoint(region=profile.region, override=profile.endpoint),
            project_id=profile.project_id,
            workspace=profile.workspace,
            timeout=settings.dlf_timeout,
            rate_limit=settings.dlf_rate_limit,
        )
        clients[name] = DlfClient(config=config, credentials=dlf_credentials(profile), metrics=metrics)
    return clients


@dataclass(frozen=True)
class EmbeddedSandbox:
    """The embedded DLF sandbox (`sandbox` is a `dlf_sandbox.Sandbox`) and a client for it as the "default" profile."""

    sandbox: Any
    clients: dict[str, DlfClient]


@contextlib.asynccontextmanager
async def embedded_sandbox(*, metrics: DlfMetrics | None = None) -> AsyncIterator[EmbeddedSandbox]:
    """The seeded DLF sandbox, served in this event loop, with a client for it."""
    from dlf_sandbox import SANDBOX_CREDENTIALS, Sandbox

    sandbox = Sandbox(seed=True)
    async with sandbox.serve() as url:
        config = DlfConfig(endpoint=url, project_id=SANDBOX_CREDENTIALS.project_id)
        credentials = AkSk(access_key=SANDBOX_CREDENTIALS.ak, secret_key=SecretStr(SANDBOX_CREDENTIALS.sk))
        async with DlfClient(config=config, credentials=credentials, metrics=metrics) as client:
            yield EmbeddedSandbox(sandbox=sandbox, clients={DEFAULT_PROFILE: client})


async def close_all(clients: Mapping[str, DlfClient]) -> None:
    """Close every client's connection pool."""
    for client in clients.values():
        await client.aclose()


# ---------------------------------------------------------------------------------------------------- run
async def run(settings: Settings, *, host: str = "0.0.0.0", stop: asyncio.Event | None = None) -> None:
    """The bot: Slack app + health/metrics server + background services, in one event loop, until stopped."""
    registry = CollectorRegistry()
    clients = build_dlf_clients(settings, metrics=DlfMetrics(registry=registry))
    stop = stop or asyncio.Event()
    store: Store | None = None
    # One connection pool for every Slack Web API call of this process (Bolt's clients and the deliverer's).
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SLACK_SESSION_TIMEOUT_S))
    try:
        # Opening the store applies the migrations (safe from several replicas at once).
        store = await open_store(settings.database_url.get_secret_value())
        instances = InstanceService(clients=clients, clock=epoch_ms)
        subscriptions = SubscriptionService(store=store, clients=clients)
        assert settings.slack_bot_token is not None
        options = WatcherOptions(
            poll_interval_s=settings.dlf_poll_interval,
            lease_ttl_s=settings.dlf_watcher_lease_ttl,
            claim_ttl_s=settings.dlf_outbox_claim_ttl,
            heartbeat_ttl_s=settings.dlf_heartbeat_ttl,
            poll=PollOptions(
                lookback_ms=settings.dlf_lookback_hours * HOUR_MS,
                digest_threshold=settings.alert_digest_threshold,
            ),
        )
        delivery_metrics = DeliveryMetrics(registry=registry)
        watcher = build_watcher(
            store=store,
            # The watcher's DLF calls queue behind people's in the shared rate limit.
            clients={name: client.with_priority(Priority.BACKGROUND) for name, client in clients.items()},
            slack=make_delivery_client(
                token=settings.slack_bot_token.get_secret_value(),
                base_url=settings.slack_api_url,
                timeout=options.liveness.slack_timeout_s,
                session=session,
            ),
            retention=Retention(
                store=store,
                options=RetentionOptions(days=settings.dlf_retention_days),
                metrics=RetentionMetrics(registry=registry),
            ),
            options=options,
            metrics=delivery_metrics,
        )
        # Started with the app and stopped with it.
        background = [BackgroundService(name="watcher", run=watcher.run)]
        signing_secret = None if settings.socket_mode else _secret(settings.slack_signing_secret)
        slack_metrics = SlackMetrics(registry=registry)
        app = build_app(
            AppDeps(
                bot_token=settings.slack_bot_token.get_secret_value(),
                signing_secret=signing_secret,
                slack_api_url=settings.slack_api_url,
                instances=instances,
                subscriptions=subscriptions,
                metrics=slack_metrics,
                ledger=StoreRequestLedger(store=store),
                session=session,
            )
        )
        _stop_on_signals(stop)
        settle_heap()
        await run_bot(
            bolt=app,
            registry=registry,
            stop=stop,
            port=settings.port,
            host=host,
            app_token=_secret(settings.slack_app_token),
            health=bot_health(
                store,
                combined_health(
                    watcher_health(WatcherHealthProbe(watcher=watcher, clock=epoch_ms)),
                    outbox_health(OutboxHealthProbe(store=store, metrics=delivery_metrics)),
                ),
            ),
            background=background,
            gate=SlackGate(signing_secret=signing_secret) if signing_secret else None,
            metrics=slack_metrics,
        )
    finally:
        await close_all(clients)
        await session.close()
        if store is not None:
            await store.aclose()


def settle_heap() -> None:
    """Keep the garbage collector off what start-up built: it lives as long as the process.

    After the imports and the wiring the bot holds ~120k objects (a bare Bolt app ~46k), and every full collection
    walked all of them — 0.1–0.2 s in which no request was acknowledged. Frozen, they are never scanned again; the
    collector then only walks what requests and cycles create."""
    gc.collect()
    gc.freeze()


async def open_store(database_url: str) -> Store:
    """The store, migrated and checked writable; a database that is locked, read-only or cannot be reached is a
    start-up error saying so and naming it (password masked)."""
    try:
        return await Store.open(database_url)
    except ConfigError:
        raise
    except StoreUnavailable as exc:
        raise ConfigError(
            messages.database_unavailable_at_start(redacted_database_url(database_url), exc.kind, exc.detail)
        ) from None
    except (OSError, SQLAlchemyError) as exc:
        raise ConfigError(messages.database_unreachable(redacted_database_url(database_url), exc)) from None


def watcher_health(watcher: WatcherHealthProbe) -> HealthProbe:
    """`/healthz`'s view of the watcher: per profile the last heartbeat, success and error as the store has them;
    unhealthy when the watcher is not running or a profile's last successful cycle is too old."""

    async def probe() -> HealthReport:
        verdict = await watcher.check()
        return HealthReport(details={"watcher": verdict.details}, problems=verdict.reasons)

    return probe


def bot_health(store: Store, inner: HealthProbe) -> HealthProbe:
    """`/healthz`: first whether the database takes a write (bounded: `Store.probe`), then `inner` (the watcher's and
    the outbox's views). A database that does not answer is then the one reason given: both views live in it."""

    async def probe() -> HealthReport:
        failure = await store.probe()
        if failure is not None:
            return HealthReport(
                details={"database": {"ok": False, "problem": failure.kind, "detail": failure.detail}},
                problems=[messages.health_database(failure.kind, failure.detail)],
            )
        report = await inner()
        return HealthReport(details={"database": {"ok": True}, **report.details}, problems=report.problems)

    return probe


def outbox_health(outbox: OutboxHealthProbe) -> HealthProbe:
    """`/healthz`'s view of the outbox: unhealthy when a due message is not taken, or one stays in doubt or failing
    for long (`bot.watcher.outbox_health`)."""

    async def probe() -> HealthReport:
        verdict = await outbox.check()
        return HealthReport(details={"outbox": verdict.details}, problems=verdict.reasons)

    return probe


def combined_health(*probes: HealthProbe) -> HealthProbe:
    """One probe answering with every probe's details and problems."""

    async def probe() -> HealthReport:
        details: dict[str, Any] = {}
        problems: list[str] = []
        for each in probes:
            report = await each()
            details.update(report.details)
            problems.extend(report.problems)
        return HealthReport(details=details, problems=problems)

    return probe


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()

    def on_signal(name: str) -> None:
        log.info(messages.log_stopping(name))
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, on_signal, signal.Signals(signum).name)


# ---------------------------------------------------------------------------------------------------- preview
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
    try:
        parsed = parse_command(text)
    except CommandError:
        parsed = None
    if not isinstance(parsed, WatchCommand | UnwatchCommand | WatchesCommand):
        return await _preview_through_app(text, clients=clients, timeout=timeout, store=None)
    if not throwaway_subscriptions:
        subcommand = {WatchCommand: "watch", UnwatchCommand: "unwatch", WatchesCommand: "watches"}[type(parsed)]
        explained = f"{messages.preview_read_only(subcommand)} {PREVIEW_SANDBOX_SUBSCRIPTIONS}"
        return Preview(message={"text": explained}, problems=[])
    async with throwaway_store() as store:
        return await _preview_through_app(text, clients=clients, timeout=timeout, store=store)


@contextlib.asynccontextmanager
async def throwaway_store() -> AsyncIterator[Store]:
    """A migrated store in a temporary SQLite file, deleted when the block ends."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="dlf-bot-preview-") as folder:
        store = await Store.open(f"sqlite:///{Path(folder) / 'preview.sqlite3'}")
        try:
            yield store
        finally:
            await store.aclose()


async def _preview_through_app(
    text: str, *, clients: Mapping[str, DlfClient], timeout: float, store: Store | None
) -> Preview:
    from slack_fake import FakeSlack

    fake = FakeSlack(validator=problems)
    async with fake.serve() as base_url:
        signing_secret = secrets.token_hex(16)
        app = build_app(
            AppDeps(
                bot_token="xoxb-preview",
                signing_secret=signing_secret,
                slack_api_url=base_url,
                instances=InstanceService(clients=clients, clock=epoch_ms),
                subscriptions=SubscriptionService(store=store, clients=clients) if store is not None else None,
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
        deadline = time.monotonic() + timeout
        while not fake.responses_for("preview") and not fake.rejected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer within {timeout:.0f} s")
            await asyncio.sleep(0.02)
        if fake.rejected:
            return Preview(message={}, problems=fake.rejected[0][1])
        answer = fake.responses_for("preview")[0]
        return Preview(message=answer, problems=problems(answer))


def print_preview(result: Preview, *, as_json: bool, out: TextIO) -> None:
    """The answer as Block Kit JSON, or as readable text followed by a Block Kit Builder link."""
    message: dict[str, Any] = {key: result.message[key] for key in ("text", "blocks") if key in result.message}
    if as_json:
        print(json.dumps(message, ensure_ascii=False, indent=2), file=out)
    else:
        print(to_text(message), file=out)
        if message.get("blocks"):
            print(f"\nBlock Kit Builder: {builder_url(message)}", file=out)
    for problem in result.problems:
        print(f"Slack would refuse this message: {problem}", file=sys.stderr)


def _asks_dlf(line: str) -> bool:
    """Whether answering `line` can call DLF: help and input the parser refuses never do, so previewing them needs
    no DLF settings."""
    try:
        return not isinstance(parse_command(command_text(line)), HelpCommand)
    except CommandError:
        return False


async def _preview_main(args: argparse.Namespace, out: TextIO) -> int:
    if args.sandbox or not _asks_dlf(args.command):
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


# ---------------------------------------------------------------------------------------------------- demo
async def _demo_main(out: TextIO) -> int:
    from dlf_sandbox import SEEDED

    status = 0
    async with embedded_sandbox() as embedded:
        for key in DEMO_INSTANCES:
            seeded = SEEDED[key]
            line = f"/dlf instance {seeded.job} {seeded.instance_id}"
            result = await preview(line, clients=embedded.clients)
            print(f"\n$ {line}    ({key}: {seeded.status})\n", file=out)
            print_preview(result, as_json=False, out=out)
            status = status or (1 if result.problems else 0)
        status = status or await _watch_demo(embedded, out)
    return status


async def _watch_demo(embedded: EmbeddedSandbox, out: TextIO) -> int:
    """A channel watches a job, an instance of it fails, and the alert arrives (on a fake Slack, temp database)."""
    import tempfile
    from pathlib import Path

    from slack_fake import FakeSlack

    def fail_instance(job: str) -> int:
        # A run that started six minutes ago and fails now, scripted on the sandbox's timeline like the tests do.
        sandbox = embedded.sandbox
        now = sandbox.clock()
        instance_id = sandbox.timeline.appear(job, at=now - 6 * 60_000)
        sandbox.timeline.fail(job, instance_id, at=now)
        sandbox.timeline.step_until(now)
        return int(instance_id)

    fake = FakeSlack(validator=problems)
    with tempfile.TemporaryDirectory(prefix="dlf-bot-demo-") as folder:
        store = await Store.open(f"sqlite:///{Path(folder) / 'demo.sqlite3'}")
        try:
            async with fake.serve() as slack_url:
                demo = await run_watch_demo(
                    store=store,
                    clients=embedded.clients,
                    slack=make_delivery_client(token="xoxb-demo", base_url=slack_url),
                    fail_instance=fail_instance,
                )
        finally:
            await store.aclose()
    print(f"\n$ /dlf watch {demo.job}    (in channel {demo.channel}; then instance {demo.instance_id} fails)", file=out)
    for message in demo.messages:
        print(f"\n--- posted in {demo.channel} ---\n", file=out)
        print(to_text(message), file=out)
    for method, found in fake.rejected:
        print(f"Slack would refuse a {method}: {'; '.join(found)}", file=sys.stderr)
    return 1 if fake.rejected or not demo.messages else 0


# ---------------------------------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    """The `dlf-bot` command line."""
    parser = argparse.ArgumentParser(prog="dlf-bot", description="ChatOps Slack bot for Huawei Cloud DataArts Factory")
    commands = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    run_parser = commands.add_parser(
        "run", help="run the bot (Socket Mode when SLACK_APP_TOKEN is set, else HTTP on $PORT)"
    )
    run_parser.add_argument("--host", default="0.0.0.0", help="address to serve on (default: every interface)")
    sandbox = commands.add_parser("sandbox", help="run the embedded DLF sandbox (see dlf-bot sandbox --help)",
                                  add_help=False)
    sandbox.add_argument("sandbox_args", nargs=argparse.REMAINDER)
    show = commands.add_parser("preview", help="print what the bot would answer a /dlf command")
    show.add_argument("command", help='the command as typed in Slack, e.g. "/dlf instance job_batch 34765"')
    show.add_argument("--json", action="store_true", help="print the Block Kit JSON instead of text")
    show.add_argument("--sandbox", action="store_true", help="ask the embedded DLF sandbox, not the configured DLF")
    commands.add_parser("demo", help="show cards of seeded sandbox instances (offline, no credentials)")
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
        settings = load_settings(os.environ, needs=RUN)
        configure_logging(level=settings.log_level, secrets=settings.secret_values())
        asyncio.run(run(settings, host=args.host))
        return 0
    if args.subcommand == "migrate":
        from bot.store import migrate, normalise_database_url

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
    if args.subcommand == "preview":
        needs = DLF_ONLY if _asks_dlf(args.command) else NOTHING
        configured = None if args.sandbox else load_settings(os.environ, needs=needs)
        configure_logging(
            level=configured.log_level if configured else "WARNING",
            secrets=configured.secret_values() if configured else (),
        )
        return asyncio.run(_preview_main(args, out))
    configure_logging(level="WARNING")
    return asyncio.run(_demo_main(out))


__all__ = [
    "DEMO_INSTANCES",
    "Preview",
    "RedactingFormatter",
    "build_dlf_clients",
    "build_parser",
    "configure_logging",
    "dlf_credentials",
    "main",
    "preview",
    "print_preview",
    "run",
]


if __name__ == "__main__":
    raise SystemExit(main())
