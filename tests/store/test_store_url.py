"""DATABASE_URL as users write it becomes the async driver URL."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError
from bot.store import normalise_database_url, redacted_database_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///dlf-bot.db", "sqlite+aiosqlite:///dlf-bot.db"),
        ("sqlite:////var/lib/dlf/bot.db", "sqlite+aiosqlite:////var/lib/dlf/bot.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),  # already async: unchanged
        ("postgres://u:p@db:5432/bot", "postgresql+asyncpg://u:p@db:5432/bot"),  # Heroku-style scheme
        ("postgresql://u:p@db/bot", "postgresql+asyncpg://u:p@db/bot"),
        ("postgresql+psycopg2://u@db/bot", "postgresql+asyncpg://u@db/bot"),  # a sync driver is swapped
        ("postgresql://u@db/bot?sslmode=require", "postgresql+asyncpg://u@db/bot?ssl=require"),  # libpq spelling
        ("  postgresql://u@db/bot\n", "postgresql+asyncpg://u@db/bot"),  # pasted with whitespace
    ],
)
def test_urls_as_users_write_them_become_async_driver_urls(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected


def test_a_password_with_special_characters_survives() -> None:
    assert normalise_database_url("postgresql://u:p%40ss@db/bot") == "postgresql+asyncpg://u:p%40ss@db/bot"


@pytest.mark.parametrize("given", ["mysql://u:secret@db/bot", "not a url", ""])
def test_unsupported_or_malformed_urls_are_refused_without_quoting_the_password(given: str) -> None:
    with pytest.raises(ConfigError) as caught:
        normalise_database_url(given)
    assert "secret" not in str(caught.value)


def test_redacted_url_hides_the_password() -> None:
    assert "hunter2" not in redacted_database_url("postgresql://u:hunter2@db/bot")
