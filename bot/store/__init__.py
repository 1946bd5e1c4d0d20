"""Persistence: subscriptions, seen instances, incidents, the outbox, audit, watcher state and leases.

SQLAlchemy 2 async over SQLite (default, zero set-up) or PostgreSQL (several replicas); schema under Alembic
migrations in `migrations/`. `Store.transaction()` is the unit of work: one database transaction in which the
watcher records what it saw, opens incidents and queues the messages to send.
"""

from bot.store.engine import create_engine
from bot.store.migrate import migrate, migrate_engine
from bot.store.records import (
    AuditEntry,
    Incident,
    Mute,
    OutboxRow,
    SeenInstance,
    Subscription,
    WatcherState,
)
from bot.store.store import Clock, Store, Transaction, wall_clock_ms
from bot.store.url import (
    DEFAULT_DATABASE_URL,
    normalise_database_url,
    parse_database_url,
    redacted_database_url,
)

__all__ = [
    "DEFAULT_DATABASE_URL",
    "AuditEntry",
    "Clock",
    "Incident",
    "Mute",
    "OutboxRow",
    "SeenInstance",
    "Store",
    "Subscription",
    "Transaction",
    "WatcherState",
    "create_engine",
    "migrate",
    "migrate_engine",
    "normalise_database_url",
    "parse_database_url",
    "redacted_database_url",
    "wall_clock_ms",
]
