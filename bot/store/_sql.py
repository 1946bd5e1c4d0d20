"""Dialect-specific statement builders the repositories share (SQLite and PostgreSQL only)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

T = TypeVar("T")

# Keeps IN lists and multi-row VALUES well under SQLite's bound-parameter limit.
CHUNK = 400


def insert_for(dialect: str, table: Table) -> Any:
    """`INSERT` with `on_conflict_do_nothing` / `on_conflict_do_update` for the engine's dialect."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """`items` in lists of at most `size`."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
