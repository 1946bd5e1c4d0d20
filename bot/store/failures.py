"""Which database failures mean "the database cannot do this now" — and what kind — as opposed to a bug.

One place maps SQLite result codes, PostgreSQL SQLSTATEs and connection errors to `StoreUnavailable(kind)`; the store
raises that from a unit of work that failed for such a reason, so every caller (a command, the watcher, `/healthz`)
can say plainly what is wrong instead of a traceback. Anything not recognised here is left alone: it is a bug.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from bot.errors import StoreUnavailable

_DETAIL_MAX = 200

# SQLite extended result code names (Python 3.11's `sqlite_errorname`), by prefix.
_SQLITE_KINDS = (
    ("SQLITE_BUSY", "locked"),
    ("SQLITE_LOCKED", "locked"),
    ("SQLITE_READONLY", "read_only"),
    ("SQLITE_PERM", "read_only"),
    ("SQLITE_IOERR", "unwritable"),
    ("SQLITE_FULL", "unwritable"),
    ("SQLITE_CANTOPEN", "unreachable"),
)
# The same, from the message, for a driver that does not pass the code on.
_SQLITE_MESSAGES = (
    ("database is locked", "locked"),
    ("database table is locked", "locked"),
    ("readonly database", "read_only"),
    ("disk i/o error", "unwritable"),
    ("database or disk is full", "unwritable"),
    ("unable to open database file", "unreachable"),
)
# PostgreSQL SQLSTATEs: exact codes first, then classes (two characters).
_PG_CODES = {
    "25006": "read_only",  # read_only_sql_transaction: a standby, or default_transaction_read_only
    "55P03": "locked",  # lock_not_available: lock_timeout ran out
    "53100": "unwritable",  # disk_full
    "53300": "unreachable",  # too_many_connections
    "57P01": "unreachable",  # admin_shutdown
    "57P02": "unreachable",  # crash_shutdown
    "57P03": "unreachable",  # cannot_connect_now: starting up or shutting down
}
_PG_CLASSES = {"08": "unreachable"}  # connection exceptions


def store_unavailable(error: BaseException) -> StoreUnavailable | None:
    """`error` as a `StoreUnavailable` when the database is locked, read-only, unwritable or unreachable; else None."""
    if isinstance(error, StoreUnavailable):
        return error
    if isinstance(error, sa_exc.TimeoutError):
        return StoreUnavailable("unreachable", "no database connection became free in time")
    if isinstance(error, sa_exc.DBAPIError):
        found = _driver_kind(error.orig) if error.orig is not None else None
        if found is None and error.connection_invalidated:
            found = "unreachable"
        if found is not None:
            return StoreUnavailable(found, _detail(error.orig if error.orig is not None else error))
        return None
    kind = _driver_kind(error)
    return StoreUnavailable(kind, _detail(error)) if kind is not None else None


def _driver_kind(error: BaseException) -> str | None:
    name = getattr(error, "sqlite_errorname", None)
    if isinstance(name, str):
        for prefix, kind in _SQLITE_KINDS:
            if name.startswith(prefix):
                return kind
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        return _PG_CODES.get(sqlstate) or _PG_CLASSES.get(sqlstate[:2])
    if isinstance(error, OSError | TimeoutError):
        return "unreachable"  # refused, reset, unknown host, connect timeout
    if type(error).__module__.startswith("asyncpg") and "Connection" in type(error).__name__:
        return "unreachable"  # asyncpg's ConnectionDoesNotExistError & co. (no SQLSTATE)
    if type(error).__module__ == "sqlite3":
        message = str(error).lower()
        for fragment, kind in _SQLITE_MESSAGES:
            if fragment in message:
                return kind
    return None


def _detail(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if isinstance(error, OSError) and error.strerror:
        text = error.strerror
    return f"{type(error).__name__}: {text}"[:_DETAIL_MAX] if text else type(error).__name__


__all__ = ["store_unavailable"]
