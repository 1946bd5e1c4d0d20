"""Benchmark: how long a person waits for a `/dlf instance` card, idle and during an alert storm (prints figures).

    .venv/bin/python bench/interactive_under_load.py [--failures 500] [--every 0.5] [--latency-ms 50]

The shipped `dlf-bot run` (HTTP mode, SQLite) against the DLF sandbox (every request answered after
`--latency-ms`) and the fake Slack, both served by this process, as the drills do (tests/drills/rig.py). Five channels
watch `storm_*`; then `--failures` instances fail at once, and the watcher fetches each one's details (the card
needs its failed nodes) within the client's 20 requests/s. Meanwhile a person runs `/dlf instance` every `--every`
seconds. For each command: ack (request to HTTP answer) and card (HTTP answer to the card at its response_url, a
server of this process), idle first, then while the watcher's details fetches are in flight, side by side.
Before the rate limiter let people go first, the card took 0.47 s in the storm against 0.17 s idle.
No assertions: figures to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "drills")]

from rig import World, signed_headers, wait_for  # noqa: E402  (the drills' rig: the shipped process, real peers)

from bot.render.limits import problems  # noqa: E402
from dlf_sandbox import Sandbox  # noqa: E402
from slack_fake import FakeSlack  # noqa: E402

CHANNELS = [f"C0STORM{n}" for n in range(5)]
PERSON_JOB = "person_job"


@dataclass
class Cards:
    """When each card reached its response_url (a server of this process)."""

    arrived: dict[str, float] = field(default_factory=dict)
    url: str = ""


@dataclass
class Sample:
    ack_s: float
    card_s: float


async def serve_cards(cards: Cards) -> web.AppRunner:
    async def receive(request: web.Request) -> web.Response:
        cards.arrived.setdefault(request.match_info["id"], time.perf_counter())
        await request.read()
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/card/{id}", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    cards.url = f"http://127.0.0.1:{runner.addresses[0][1]}/card/"
    return runner


async def ask(world: World, port: int, cards: Cards, instance_id: int, n: int) -> Sample:
    import httpx

    card_id = f"c{n}"
    body = urlencode(
        {
            "team_id": "T0BENCH",
            "channel_id": "C0PERSON",
            "user_id": "U0PERSON",
            "command": "/dlf",
            "text": f"instance {PERSON_JOB} {instance_id}",
            "response_url": cards.url + card_id,
            "trigger_id": f"1.2.{n}",
            "api_app_id": "A0BENCH",
        }
    )
    async with httpx.AsyncClient(timeout=30) as http:
        sent = time.perf_counter()
        answer = await http.post(
            f"http://127.0.0.1:{port}/slack/events",
            content=body,
            headers=signed_headers(body, "application/x-www-form-urlencoded"),
        )
        acked = time.perf_counter()
    assert answer.status_code == 200, answer.text
    await wait_for(lambda: card_id in cards.arrived, timeout=60, every=0.005, what="the card")
    return Sample(ack_s=acked - sent, card_s=cards.arrived[card_id] - acked)


def describe(samples: list[Sample], attribute: str) -> str:
    values = [getattr(sample, attribute) for sample in samples]
    if len(values) < 2:
        return "n/a"
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return f"p50 {statistics.median(values) * 1000:6.0f} ms  p95 {cuts[18] * 1000:6.0f} ms  max {max(values) * 1000:6.0f} ms"


async def main(args: argparse.Namespace) -> None:
    sandbox = Sandbox(seed=False)
    slack = FakeSlack(validator=problems)
    cards = Cards()
    runner = await serve_cards(cards)
    idle: list[Sample] = []
    storm: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix="dlf-bench-interactive-") as tmp:
        async with sandbox.serve() as dlf_url, slack.serve() as slack_url:
            world = World(sandbox=sandbox, slack=slack, dlf_url=dlf_url, slack_url=slack_url)
            try:
                world.add_jobs([PERSON_JOB, *(f"storm_{n:03d}" for n in range(args.failures))])
                person_instance = world.fail(PERSON_JOB)
                world.failures.clear()
                bot = await world.start_bot(
                    f"sqlite:///{Path(tmp) / 'bot.db'}", log=Path(tmp) / "bot.log", DLF_POLL_INTERVAL="1"
                )
                for channel in CHANNELS:
                    await world.watch(bot, channel, "storm_*")
                sandbox.faults.latency_ms = args.latency_ms
                for n in range(args.idle):
                    idle.append(await ask(world, bot.port, cards, person_instance, n))
                    await asyncio.sleep(args.every)
                details_before = sandbox.calls.count("show_instance")
                for n in range(args.failures):
                    world.fail(f"storm_{n:03d}")
                storm_started = time.perf_counter()
                # The storm lasts while the watcher fetches the failures' details (one each, 20/s at most).
                await wait_for(
                    lambda: sandbox.calls.count("show_instance") > details_before + 5,
                    timeout=60,
                    every=0.01,
                    what="the watcher fetching details",
                )
                n = 1000
                while sandbox.calls.count("show_instance") - details_before < args.failures - 10:
                    storm.append(await ask(world, bot.port, cards, person_instance, n))
                    n += 1
                    await asyncio.sleep(args.every)
                storm_s = time.perf_counter() - storm_started
                await world.close()
            finally:
                await world.close()
                await runner.cleanup()
    print(
        f"interactive under load: /dlf instance every {args.every} s, DLF answering in {args.latency_ms} ms; "
        f"{platform.python_version()} on {platform.machine()}"
    )
    print(f"  idle   ({len(idle):3d} cards)  ack: {describe(idle, 'ack_s')}   card: {describe(idle, 'card_s')}")
    print(f"  storm  ({len(storm):3d} cards)  ack: {describe(storm, 'ack_s')}   card: {describe(storm, 'card_s')}")
    print(f"  the storm: {args.failures} failures, details fetched over {storm_s:.1f} s")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--failures", type=int, default=500)
    parser.add_argument("--every", type=float, default=0.5, help="seconds between a person's commands")
    parser.add_argument("--idle", type=int, default=20, help="commands before the storm")
    parser.add_argument("--latency-ms", type=int, default=50)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
