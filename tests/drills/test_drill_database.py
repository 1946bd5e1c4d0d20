"""The database misbehaving under the shipped `dlf-bot run`: a PostgreSQL server SIGKILLed and restarted mid-burst,
a SQLite file write-locked by another process, and a SQLite file that cannot be written — at start and while
running. The bot never crashes, `/healthz` says what is wrong while it is, a command answers clearly, and once the
database is back every failure reaches its channels exactly once."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pgserver import ThrowawayPostgres
from rig import DLF_BOT, BotProcess, World, wait_for

from bot.store.testing import immutable_files, immutable_files_unavailable, set_immutable

pytestmark = [pytest.mark.drill, pytest.mark.slow]

JOBS = [f"dbjob_{n:02d}" for n in range(12)]
# How long the database stays down (or read-only): ten poll intervals (DLF_POLL_INTERVAL=1) of failing cycles.
OUTAGE_S = 10.0
CHANNELS = {"C_A": "dbjob_0*", "C_B": "dbjob_1*", "C_ALL": "dbjob_*"}


async def _watch_all(world: World, bot: BotProcess) -> None:
    world.add_jobs(JOBS)
    for channel, pattern in CHANNELS.items():
        await world.watch(bot, channel, pattern)


async def _unhealthy_because(bot: BotProcess, words: str) -> dict[str, Any]:
    """Wait until /healthz answers 503 with a reason containing `words`; returns the body."""
    found: dict[str, Any] = {}

    async def check() -> bool:
        status, body = await bot.healthz(timeout=5)
        if status == 503 and any(words in reason for reason in body.get("reasons", [])):
            found.update(body)
            return True
        return False

    await wait_for(check, timeout=60, every=0.5, what=f"/healthz saying {words!r}")
    return found


async def _healthy(bot: BotProcess) -> None:
    async def check() -> bool:
        status, _ = await bot.healthz(timeout=5)
        return status == 200

    await wait_for(check, timeout=120, every=0.5, what="/healthz answering 200 again")


async def _answer(world: World, bot: BotProcess, text: str, channel: str = "C_A") -> str:
    """The bot's answer to `/dlf <text>` (signed, as Slack sends it)."""
    response_id = f"cmd-{time.monotonic_ns()}"
    ack = await bot.command(text, channel=channel, response_url=world.slack.response_url(response_id))
    assert ack.status_code == 200, ack.text
    (answer,) = await world.slack.wait_for_responses(response_id, timeout=30)
    return str(answer["text"])


@pytest.mark.postgres
async def test_postgresql_killed_and_restarted_mid_burst_loses_and_duplicates_nothing(
    world: World, own_postgres: ThrowawayPostgres, tmp_path: Path
) -> None:
    bot = await world.start_bot(own_postgres.url, log=tmp_path / "bot.log")
    await _watch_all(world, bot)
    for job in JOBS:
        world.fail(job)
    # The burst is being delivered (three channels, a message a second each) when the server dies.
    await wait_for(lambda: bool(world.said()), timeout=60, what="the first alert")
    own_postgres.kill()
    killed_at = time.monotonic()
    for job in JOBS[:6]:  # failures during the outage
        world.fail(job)
    body = await _unhealthy_because(bot, "database not answering")
    assert body["database"]["problem"] == "unreachable"
    assert "Nothing was changed" in await _answer(world, bot, "watch dbjob_00")
    await wait_for(
        lambda: "the poll cycle failed, the database is not available" in bot.log_text(),
        timeout=60,
        what="a poll cycle failing for want of the database",
    )
    said_down_s = time.monotonic() - killed_at
    await asyncio.sleep(max(0.0, OUTAGE_S - said_down_s))  # the outage lasts; the bot keeps trying every tick
    assert bot.running

    own_postgres.start()
    restarted_at = time.monotonic()
    await world.wait_until_all_said(timeout=240)
    caught_up_s = time.monotonic() - restarted_at
    await _healthy(bot)
    await asyncio.sleep(3)  # time for a duplicate to show

    world.assert_exactly_once()
    log = bot.log_text()
    # A message posted just before the kill, whose ts could not be recorded, waits for its claim to expire
    # (DLF_OUTBOX_CLAIM_TTL) and is then found in the channel's history instead of being posted again.
    found_again = log.count("was already posted")
    print(
        f"postgresql: /healthz said down {said_down_s:.1f} s after the kill; down {OUTAGE_S:.0f} s; every failure "
        f"in its channels {caught_up_s:.1f} s after the restart; {found_again} message(s) found in history"
    )
    assert log.count("the poll cycle failed, the database is not available") == 1  # once per outage, not per tick
    assert log.count("the delivery pass failed, the database is not available") <= 1
    assert await bot.stop() == 0


async def test_sqlite_locked_by_another_process_answers_clearly_and_loses_nothing(
    world: World, sqlite_db: str, tmp_path: Path
) -> None:
    bot = await world.start_bot(sqlite_db, log=tmp_path / "bot.log")
    await _watch_all(world, bot)
    world.fail(JOBS[0])
    await world.wait_until_all_said(timeout=60)

    database = sqlite_db.removeprefix("sqlite:///")
    # Another program (a `sqlite3` shell in a transaction, a backup tool) holds the write lock until told to stop.
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sqlite3, sys\n"
        f"c = sqlite3.connect({database!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and await holder.stdout.readline() == b"locked\n"
        for job in JOBS[1:5]:
            world.fail(job)
        body = await _unhealthy_because(bot, "locked by another program")
        assert body["database"]["problem"] == "locked"
        started = time.monotonic()
        await bot.healthz(timeout=5)
        health_s = time.monotonic() - started
        started = time.monotonic()
        answer = await _answer(world, bot, "watch dbjob_11")
        print(
            f"sqlite lock: /healthz answered 503 in {health_s:.2f} s; /dlf watch answered in "
            f"{time.monotonic() - started:.2f} s"
        )
        assert "database is busy" in answer and "Nothing was changed" in answer and "Try again" in answer
        assert (await _answer(world, bot, "watches", channel="C_NEW")) == "This channel watches no DLF job yet."
        assert bot.running
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        await holder.wait()
    released_at = time.monotonic()

    await world.wait_until_all_said(timeout=120)
    print(f"sqlite lock: every failure in its channels {time.monotonic() - released_at:.1f} s after the release")
    await _healthy(bot)
    await asyncio.sleep(3)
    world.assert_exactly_once()
    # The refused watch saved nothing: C_A still watches only its pattern.
    assert "dbjob_11" not in await _answer(world, bot, "watches")
    log = bot.log_text()
    assert log.count("answered that the database is unavailable") == 1
    assert "reference" not in log and "Traceback" not in log, log[-3000:]
    assert await bot.stop() == 0


async def test_sqlite_read_only_at_start_is_a_clear_start_up_error(
    world: World, sqlite_db: str, tmp_path: Path
) -> None:
    reason = immutable_files_unavailable()
    if reason:
        pytest.skip(reason)
    bot = await world.start_bot(sqlite_db, log=tmp_path / "first.log")  # creates and migrates the file
    assert await bot.stop() == 0
    database = Path(sqlite_db.removeprefix("sqlite:///"))
    with immutable_files(database, database.with_name(database.name + "-wal")):
        process = await asyncio.create_subprocess_exec(
            DLF_BOT,
            "run",
            "--host",
            "127.0.0.1",
            env=world.bot_env(sqlite_db),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError("dlf-bot run started on a database it cannot write") from None
    message = stderr.decode()
    assert process.returncode == 2, message
    assert "dlf-bot cannot start: the database at DATABASE_URL" in message
    assert "refuses writes: it is read-only" in message and "writable" in message
    assert "Traceback" not in message


async def test_sqlite_turning_read_only_while_running_is_said_and_recovered_from(
    world: World, sqlite_db: str, tmp_path: Path
) -> None:
    reason = immutable_files_unavailable()
    if reason:
        pytest.skip(reason)
    bot = await world.start_bot(sqlite_db, log=tmp_path / "bot.log")
    await _watch_all(world, bot)
    world.fail(JOBS[0])
    await world.wait_until_all_said(timeout=60)

    database = Path(sqlite_db.removeprefix("sqlite:///"))
    files = [database, database.with_name(database.name + "-wal")]
    try:
        set_immutable(files, True)  # the disk stops taking writes, as after a remount read-only
        read_only_at = time.monotonic()
        for job in JOBS[1:5]:
            world.fail(job)
        body = await _unhealthy_because(bot, "refuses writes")
        assert body["database"]["problem"] == "read_only"
        answer = await _answer(world, bot, "watch dbjob_11")
        assert "cannot save anything" in answer and "Nothing was changed" in answer
        await wait_for(
            lambda: "the poll cycle failed, the database is not available" in bot.log_text(),
            timeout=60,
            what="the watcher logging that it cannot write",
        )
        await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - read_only_at)))  # it stays read-only a while
        assert bot.running
    finally:
        set_immutable(files, False)
    writable_at = time.monotonic()

    await world.wait_until_all_said(timeout=240)
    caught_up_s = time.monotonic() - writable_at
    await _healthy(bot)
    await asyncio.sleep(3)
    world.assert_exactly_once()
    log = bot.log_text()
    print(
        f"sqlite read-only: every failure in its channels {caught_up_s:.1f} s after the file was writable again; "
        f"{log.count('was already posted')} message(s) found in history"
    )
    assert log.count("the poll cycle failed, the database is not available") == 1  # once, not every tick
    assert log.count("answered that the database is unavailable") == 1
    assert await bot.stop() == 0
