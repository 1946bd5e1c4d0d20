"""`DATABASE_URL` as users write it, turned into the async driver URL SQLAlchemy needs."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

from bot.errors import ConfigError

# A file beside the working directory: zero set-up for a single replica.
DEFAULT_DATABASE_URL = "sqlite:///dlf-bot.db"

_SQLITE_DRIVER = "sqlite+aiosqlite"
_POSTGRES_DRIVER = "postgresql+asyncpg"


def parse_database_url(url: str) -> URL:
    """Parse `url` and return it with the async driver: `sqlite+aiosqlite` or `postgresql+asyncpg`.

    Accepts `sqlite:///path`, `sqlite://` (in memory), `postgres://`, `postgresql://` and any explicit driver of
    those two databases. libpq's `sslmode` becomes asyncpg's `ssl`. Raises ConfigError for anything else.
    """
    try:
        parsed = make_url(url.strip())
    except Exception:  # SQLAlchemy's ArgumentError quotes the URL (and its password): don't chain it.
        raise ConfigError("DATABASE_URL is not a valid database URL") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername=_SQLITE_DRIVER)
    if backend in ("postgres", "postgresql"):
        parsed = parsed.set(drivername=_POSTGRES_DRIVER)
        if "sslmode" in parsed.query:
            query = dict(parsed.query)
            query["ssl"] = query.pop("sslmode")
            parsed = parsed.set(query=query)
        return parsed
    raise ConfigError(f"DATABASE_URL: unsupported database {backend!r} (use sqlite:/// or postgresql://)")


def normalise_database_url(url: str) -> str:
    """The async driver URL as a string (password kept: it is for the engine, never for a log)."""
    return parse_database_url(url).render_as_string(hide_password=False)


def redacted_database_url(url: str) -> str:
    """The URL with its password masked, for logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable DATABASE_URL>"


__all__ = ["DEFAULT_DATABASE_URL", "normalise_database_url", "parse_database_url", "redacted_database_url"]
