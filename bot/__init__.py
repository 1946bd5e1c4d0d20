"""dlf-bot: a ChatOps Slack bot for Huawei Cloud DataArts Factory (DLF).

Data flows left to right through the packages:

    commands/  Slack text -> typed command (pure)
    dlf/       the only code that speaks HTTP to DLF (signed requests, typed errors, lenient models)
    render/    domain models -> Message(blocks, text) (pure)
    slack/     Bolt app: ack, parse, call services, respond
    services/  use cases shared by Slack handlers and the CLI
    store/     SQLAlchemy tables, Alembic migrations, repositories
    watcher/   poll DLF, decide what must be said (pure), outbox, delivery
    cli/       the entry point: reads settings, builds clients, wires everything
"""

__version__ = "0.1.0"
