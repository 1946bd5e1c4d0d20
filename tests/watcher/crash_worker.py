"""A bot process for crash and replica tests: runs watcher cycles and deliveries against a sandbox and a fake Slack.

    python tests/watcher/crash_worker.py --dlf URL --slack URL --db URL --holder NAME [--seconds S | --until-idle]

The sandbox's public AK/SK and project id come in the environment (DLF_BOT_TEST_AK, _SK, _PROJECT). It imports
only the bot, so a process is up quickly and most of a trial is spent inside cycles.

Prints "ready" once built, then runs poll cycle + delivery pass after pass. `--seconds`: run that long (the parent
usually SIGKILLs it sooner). `--until-idle`: stop after a cycle that queued nothing and an outbox left empty.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

from pydantic import SecretStr

from bot.dlf.auth import AkSk
from bot.dlf.client import DlfClient
from bot.dlf.config import DlfConfig
from bot.store import Store
from bot.watcher.deliver import make_delivery_client
from bot.watcher.poller import PollOptions
from bot.watcher.scheduler import WatcherOptions, build_watcher


async def main(args: argparse.Namespace) -> int:
    store = await Store.open(args.db)
    client = DlfClient(
        config=DlfConfig(
            endpoint=args.dlf,
            project_id=os.environ["DLF_BOT_TEST_PROJECT"],
            max_retries=1,
            backoff_base=0.01,
            rate_limit=None,
        ),
        credentials=AkSk(access_key=os.environ["DLF_BOT_TEST_AK"], secret_key=SecretStr(os.environ["DLF_BOT_TEST_SK"])),
    )
    watcher = build_watcher(
        store=store,
        clients={"default": client},
        slack=make_delivery_client(token="xoxb-crash-worker", base_url=args.slack),
        options=WatcherOptions(
            pace_s=0.0, lease_ttl_s=args.lease_ttl, claim_ttl_s=1.0, poll=PollOptions(digest_threshold=1000)
        ),
        holder=args.holder,
    )
    print("ready", flush=True)
    deadline = time.monotonic() + args.seconds
    try:
        while time.monotonic() < deadline:
            reports = await watcher.run_cycle_once()
            await watcher.drain()
            if args.until_idle and reports and not any(r.enqueued for r in reports):
                async with store.transaction() as tx:
                    if await tx.outbox.pending_count() == 0:
                        return 0
            await asyncio.sleep(args.pause)
        return 0
    finally:
        await watcher.stop()
        await client.aclose()
        await store.aclose()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dlf", required=True)
    parser.add_argument("--slack", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--holder", required=True)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--pause", type=float, default=0.05)
    parser.add_argument("--lease-ttl", type=float, default=5.0)
    parser.add_argument("--until-idle", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
