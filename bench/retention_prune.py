"""Benchmark: what retention costs on a backlog (prints figures).

    .venv/bin/python bench/retention_prune.py [--rows 20000] [--postgres postgresql://postgres@127.0.0.1:5432/test]

Fills a database with a month-old backlog — `rows` sent outbox rows (each its own resolved incident's card for half
of them), `rows` finished seen instances, `rows / 2` audit entries, plus 200 pending rows that must stay — then
runs `bot.store.retention.prune` with the defaults (500 rows a statement, 20 statements a table a run) until a run
deletes nothing. It prints the rows pruned, the runs it took, the slowest run and the longest single DELETE per
table: how long one batch holds SQLite's write lock (commands wait 5 s for it, /healthz 1 s).
SQLite always; PostgreSQL too with --postgres (a temporary database on that server, dropped afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, insert  # noqa: E402

from bot.store import Store, create_engine, migrate  # noqa: E402
from bot.store.retention import Cutoffs, prune  # noqa: E402
from bot.store.tables import audit, incidents, instances_seen, outbox  # noqa: E402
from bot.store.testing import ManualClock, temporary_postgres_database  # noqa: E402

DAY_MS = 86_400_000


async def fill(store: Store, now: int, rows: int) -> None:
    async with store.transaction() as tx:
        await tx.conn.execute(
            insert(outbox),
            [
                {
                    "key": f"k{n}",
                    "channel": f"C{n % 50}",
                    "kind": "alert",
                    "payload": {"text": "x" * 200, "blocks": []},
                    "status": "sent",
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for n in range(rows)
            ],
        )
        await tx.conn.execute(
            insert(incidents),
            [
                {
                    "channel": f"C{n % 50}",
                    "profile": "default",
                    "job_name": f"job_{n}",
                    "first_instance_id": n,
                    "last_instance_id": n,
                    "failure_count": 1,
                    "state": "resolved",
                    "root_key": f"k{n}",
                    "opened_at": now,
                    "updated_at": now,
                    "resolved_at": now,
                }
                for n in range(rows // 2)
            ],
        )
        await tx.conn.execute(
            insert(instances_seen),
            [
                {
                    "profile": "default",
                    "job_name": f"job_{n % 500}",
                    "instance_id": n,
                    "status": "fail",
                    "first_seen_at": now,
                    "last_status_at": now,
                    "plan_time": now,
                }
                for n in range(rows)
            ],
        )
        await tx.conn.execute(insert(audit), [{"at": now, "actor": "U1", "action": "watch"} for _ in range(rows // 2)])
        await tx.conn.execute(
            insert(outbox),
            [
                {
                    "key": f"p{n}",
                    "channel": f"C{n % 50}",
                    "kind": "alert",
                    "payload": {"text": "x", "blocks": []},
                    "status": "pending",
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for n in range(200)
            ],
        )


async def measure(url: str, rows: int) -> None:
    await migrate(url)
    clock = ManualClock()
    store = Store(engine=create_engine(url), clock=clock)
    await fill(store, clock(), rows)
    clock.advance(31 * 86_400)
    started: dict[int, float] = {}
    slowest: dict[str, float] = {}

    @event.listens_for(store.engine.sync_engine, "before_cursor_execute")
    def _before(conn: Any, *_args: Any) -> None:
        started[id(conn)] = time.perf_counter()

    @event.listens_for(store.engine.sync_engine, "after_cursor_execute")
    def _after(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("DELETE"):
            table = statement.split()[2]
            slowest[table] = max(slowest.get(table, 0.0), time.perf_counter() - started[id(conn)])

    runs: list[float] = []
    total = 0
    while True:
        began = time.perf_counter()
        pruned = await prune(
            store, cutoffs=Cutoffs(history=clock() - 30 * DAY_MS, request_keys=clock(), channel_pace=clock())
        )
        runs.append(time.perf_counter() - began)
        total += sum(pruned.values())
        if not any(pruned.values()):
            break
    await store.aclose()
    longest = ", ".join(f"{table} {seconds * 1000:.0f} ms" for table, seconds in slowest.items())
    print(
        f"{store.dialect}: {total:,} rows pruned in {len(runs) - 1} run(s) with work, {sum(runs):.2f} s in all; "
        f"slowest run {max(runs):.2f} s; longest DELETE of <= 500 rows per table: {longest}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL server URL (a temporary database is made)")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, {args.rows:,} rows")
    with tempfile.TemporaryDirectory(prefix="dlf-bot-bench-") as folder:
        await measure(f"sqlite:///{folder}/bench.db", args.rows)
    if args.postgres:
        async with temporary_postgres_database(args.postgres, prefix="dlfbot_bench") as url:
            await measure(url, args.rows)


if __name__ == "__main__":
    asyncio.run(main())
