"""Benchmark: an alert storm through the shipped `dlf-bot run`, against a fake Slack enforcing Slack's post rate.

    .venv/bin/python bench/alert_storm.py [--failures 500] [--channels 5] [--database URL]

`--failures` instances fail at once, spread evenly over `--channels` channels (each channel watches its own jobs
through a glob). The fake Slack answers 429 + Retry-After to a chat.postMessage sooner than 1 s after the previous
one in the same channel (Slack's ~1 message/s/channel). The bot runs as users run it (`dlf-bot run`, HTTP mode,
polling every second, default settings otherwise) against the DLF sandbox, all on loopback. Printed:
- time to drain: from the first post to the last, against the floor (messages ÷ channels at 1 message/s) and the
  ratio (target <= 1.15);
- time to the first alert, from the moment the failures show in DLF (includes up to one poll interval; the
  details of every failure are fetched at DLF's rate limit, 20 requests/s);
- 429s received, messages lost and duplicated (counted by the outbox key in each message's metadata);
- TCP connections per Slack Web API request (connection reuse).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "drills"))

from rig import World  # noqa: E402  (the drill rig: the bot as a process, counted by outbox key)

from bot.render.limits import problems  # noqa: E402
from dlf_sandbox import Sandbox  # noqa: E402
from slack_fake import FakeSlack  # noqa: E402

POST_INTERVAL_S = 1.0


async def storm(failures: int, channels: int, database_url: str, log_dir: Path) -> dict[str, float]:
    sandbox = Sandbox(seed=False)
    slack = FakeSlack(validator=problems, post_interval_per_channel=POST_INTERVAL_S)
    names = [f"C{c}" for c in range(channels)]
    async with sandbox.serve() as dlf_url, slack.serve() as slack_url:
        world = World(sandbox=sandbox, slack=slack, dlf_url=dlf_url, slack_url=slack_url)
        try:
            per_channel = failures // channels
            jobs = {name: [f"storm{c}_{n:04d}" for n in range(per_channel)] for c, name in enumerate(names)}
            world.add_jobs(job for group in jobs.values() for job in group)
            bot = await world.start_bot(database_url, log=log_dir / "bot.log")
            for c, name in enumerate(names):
                await world.watch(bot, name, f"storm{c}_*")
            calls_before = len(slack.calls)
            connections_before = slack.connections
            started = time.monotonic()
            for group in jobs.values():
                for job in group:
                    world.fail(job)
            await world.wait_until_all_said(timeout=1800)
            await asyncio.sleep(3)  # time for a duplicate to show
            duplicates = len(world.duplicated_keys())
            lost = sum(world.lost().values())
            await bot.stop()
        finally:
            await world.close()
    storm_posts = [c for c in slack.calls[calls_before:] if c.method == "chat.postMessage"]
    times = sorted(c.at for c in storm_posts if c.outcome == "ok")
    messages = len(times)
    ratelimited = sum(1 for c in storm_posts if c.outcome == "http:429")
    storm_calls = len(slack.calls) - calls_before
    floor = messages / channels * POST_INTERVAL_S
    drain = times[-1] - times[0]
    return {
        "messages": messages,
        "drain_s": drain,
        "floor_s": floor,
        "ratio": drain / floor,
        "first_alert_s": times[0] - started,
        "ratelimited": ratelimited,
        "lost": lost,
        "duplicates": duplicates,
        "requests": storm_calls,
        "connections": slack.connections - connections_before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--failures", type=int, default=500)
    parser.add_argument("--channels", type=int, default=5)
    parser.add_argument("--database", default=None, help="DATABASE_URL (default: a SQLite file in a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dlf-bot-storm-") as folder:
        database = args.database or f"sqlite:///{folder}/bot.db"
        figures = asyncio.run(storm(args.failures, args.channels, database, Path(folder)))
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"database: {'SQLite file' if args.database is None else args.database.split(':', 1)[0]}")
    print(f"storm: {args.failures} failures over {args.channels} channels, fake Slack at 1 post/s/channel")
    print(f"messages posted:       {figures['messages']:.0f} (digests and the alerts in their threads)")
    print(f"time to drain:         {figures['drain_s']:.1f} s (first post to last)")
    print(f"floor:                 {figures['floor_s']:.1f} s (messages / channels at 1/s)")
    print(f"ratio:                 {figures['ratio']:.3f} (target <= 1.15)")
    print(f"time to first alert:   {figures['first_alert_s']:.1f} s (from the failures showing in DLF)")
    print(f"429s received:         {figures['ratelimited']:.0f}")
    print(f"lost:                  {figures['lost']:.0f}")
    print(f"duplicated:            {figures['duplicates']:.0f}")
    per_request = figures["connections"] / figures["requests"] if figures["requests"] else 0.0
    print(
        f"Slack connections:     {figures['connections']:.0f} for {figures['requests']:.0f} Web API requests "
        f"({per_request:.3f} per request)"
    )


if __name__ == "__main__":
    main()
