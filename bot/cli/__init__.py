"""`dlf-bot`: the entry point. The only place that reads settings, builds clients and wires the parts together.

dlf-bot run                                  the bot (Socket Mode with SLACK_APP_TOKEN, else HTTP on $PORT)
dlf-bot sandbox [--port N]                   the embedded DLF sandbox, for trying the bot offline
dlf-bot preview "/dlf instance job_batch 34765" [--json] [--sandbox]
                                             what the bot would answer, through the same handlers as Slack
dlf-bot demo                                 cards of seeded sandbox instances, offline, no credentials
dlf-bot migrate                              apply the database migrations

main.py            the parser and one function per subcommand
logging_setup.py   one redacting log handler per process
wiring.py          DLF clients from the profiles, the embedded sandbox, the store
health.py          what /healthz asks (database, watcher, outbox)
run.py             `run`: Slack app + servers + watcher in one event loop
preview.py         `preview`: a signed request through the real Bolt app, answer captured
demo.py            `demo`: seeded cards and a watch → failure → alert, offline
"""

from bot.cli.demo import DEMO_INSTANCES
from bot.cli.health import bot_health, watcher_health
from bot.cli.logging_setup import RedactingFormatter, configure_logging
from bot.cli.main import build_parser, main
from bot.cli.preview import Preview, preview, print_preview
from bot.cli.run import run, settle_heap
from bot.cli.wiring import build_dlf_clients, dlf_credentials

__all__ = [
    "DEMO_INSTANCES",
    "Preview",
    "RedactingFormatter",
    "bot_health",
    "build_dlf_clients",
    "build_parser",
    "configure_logging",
    "dlf_credentials",
    "main",
    "preview",
    "print_preview",
    "run",
    "settle_heap",
    "watcher_health",
]
