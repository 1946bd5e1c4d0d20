"""Dialect-specific statement builders the repositories share (SQLite and PostgreSQL only).

On PostgreSQL every statement becomes an asyncpg prepared statement, cached per connection (SQLAlchemy keeps 100),
and after five executions PostgreSQL may plan it once for any parameter values (a generic plan). So a statement must
not depend on a parameter's value to be planned right, and its text must not vary with the size of its input:
- a constant of the code that a plan depends on (the predicate of a partial index) is written into the SQL
  (`constant`), not bound: bound, a generic plan cannot prove the partial index applies;
- an IN list is one array parameter on PostgreSQL (`one_of`, `pairs_table`): as `IN ($1, ..., $n)` every length
  would be another statement to prepare, evicting the others from the cache;
- many rows are written with executemany (one statement), not a multi-row VALUES whose text grows with the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import BindParameter, ColumnElement, Table, any_, bindparam, column, func, literal, values
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import operators
from sqlalchemy.sql.expression import UnaryExpression

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


def constant(value: str) -> BindParameter[str]:
    """A constant of the code, rendered into the SQL text rather than bound (see the module's docstring)."""
    return literal(value, literal_execute=True)


def unindexed(dialect: str, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """`column`, kept from choosing an index on SQLite (`+column`, SQLite's own idiom).

    Without statistics SQLite takes any equality on an indexed column for selective: a batch "the oldest 500 sent
    rows" then collects every sent row through the status index, and sorts them all, for each batch. Written so, it
    walks the table in the ORDER BY's order and stops at the LIMIT. PostgreSQL plans from its statistics (and has no
    unary plus for text): the column as it is.
    """
    if dialect == "sqlite":
        return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)
    return column


def one_of(dialect: str, column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values`: `= ANY(array)` on PostgreSQL (one statement for any number of values, none included)."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(list(values))


def pairs_table(
    dialect: str, columns: tuple[ColumnElement[Any], ColumnElement[Any]], pairs: Sequence[tuple[Any, Any]]
) -> Any:
    """`pairs` as a table to JOIN on, with columns `a` and `b` typed like `columns`.

    Joined, the planner loops over the pairs and seeks the table's key for each. As `(x, y) IN (...)` SQLite instead
    scanned every row of the profile through another index (what a cycle's lookup of a page cost grew with history).
    PostgreSQL: `unnest(array_a, array_b)`, one statement for any number of pairs; SQLite: a VALUES CTE.
    """
    first, second = columns
    if dialect == "postgresql":
        return (
            func.unnest(
                bindparam(None, [p[0] for p in pairs], type_=postgresql.ARRAY(first.type)),
                bindparam(None, [p[1] for p in pairs], type_=postgresql.ARRAY(second.type)),
            )
            .table_valued("a", "b")
            .render_derived()
        )
    return values(column("a", first.type), column("b", second.type), name="pairs").data(list(pairs)).cte("pairs")


__all__ = ["CHUNK", "chunks", "constant", "insert_for", "one_of", "pairs_table", "unindexed"]
