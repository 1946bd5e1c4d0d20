"""Benchmark: how fast `dlf-bot run` acknowledges slash commands, side by side with a bare Bolt app (prints figures).

    .venv/bin/python bench/ack_latency.py [--bursts 10] [--size 50] [--gap 1.5] [--latency-ms 2000] [--rate 0]

Both are real processes on loopback: `dlf-bot run` (HTTP mode, SQLite, the watcher running) and bench/bare_bolt.py
(a Bolt app that only acks `/dlf`), with the DLF sandbox (`dlf-bot sandbox`, answering every request after
`--latency-ms`) and the fake Slack (`python -m slack_fake`) in processes of their own. In the same run, alternating
target every burst:
- start-up: seconds from spawning the process to its first `/healthz` answer (the bot on a new database, and
  restarted on the migrated one at the end);
- `--bursts` bursts of `--size` concurrent signed `/dlf instance job_batch 34765` requests: p50 / p99 / max from
  sending each request to its HTTP acknowledgement (the bot then fetches the instance from the slow DLF and posts
  the card to the response_url, so acks of later bursts compete with that work);
- with `--rate N`, N requests per second for 3 s to each, the same figures.
No assertions: figures to compare (the target is bot p99 <= 1.5x bare p99).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dlf_sandbox import SANDBOX_CREDENTIALS  # noqa: E402  (the bench runs from a checkout)

BIN = Path(sys.executable).parent
SECRET = "bench-signing-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Target:
    """A process serving `/slack/events` and `/healthz` on `port`."""

    name: str
    port: int
    process: asyncio.subprocess.Process | None = None
    startup_s: float = 0.0
    restart_s: float | None = None
    acks: list[float] = field(default_factory=list)
    paced: list[float] = field(default_factory=list)
    failed: int = 0


async def spawn(argv: Sequence[str], env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as sink:
        return await asyncio.create_subprocess_exec(*argv, env=env, stdout=sink, stderr=sink)


async def wait_http(http: aiohttp.ClientSession, url: str, *, timeout: float = 60) -> float:
    """Seconds until `url` answers anything over HTTP."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        with contextlib.suppress(aiohttp.ClientError, OSError):
            async with http.get(url) as response:
                await response.read()
                return time.perf_counter() - started
        await asyncio.sleep(0.01)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def signed(text: str, response_url: str, n: int) -> tuple[str, dict[str, str]]:
    body = urlencode(
        {
            "team_id": "T0BENCH",
            "channel_id": "C0BENCH",
            "user_id": "U0BENCH",
            "command": "/dlf",
            "text": text,
            "response_url": response_url,
            "trigger_id": f"1.2.{n}",
            "api_app_id": "A0BENCH",
        }
    )
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }
    return body, headers


async def one(http: aiohttp.ClientSession, target: Target, slack: str, n: int, into: list[float]) -> None:
    body, headers = signed("instance job_batch 34765", f"{slack}response/bench-{target.name}-{n}", n)
    started = time.perf_counter()
    try:
        async with http.post(f"http://127.0.0.1:{target.port}/slack/events", data=body, headers=headers) as answer:
            await answer.read()
            ok = answer.status == 200
    except aiohttp.ClientError:
        ok = False
    if ok:
        into.append(time.perf_counter() - started)
    else:
        target.failed += 1


def describe(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {cuts[49] * 1000:7.1f} ms   p99 {cuts[98] * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms"


@contextlib.asynccontextmanager
async def peers(folder: Path, latency_ms: int) -> AsyncIterator[tuple[str, str]]:
    """The sandbox and the fake Slack, each in its own process; yields (DLF URL, Slack Web API URL)."""
    dlf_port, slack_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    sandbox = await spawn(
        [str(BIN / "dlf-bot"), "sandbox", "--port", str(dlf_port), "--latency-ms", str(latency_ms)],
        env,
        folder / "sandbox.log",
    )
    slack = await spawn([sys.executable, "-m", "slack_fake", "--port", str(slack_port)], env, folder / "slack.log")
    try:
        async with aiohttp.ClientSession() as http:
            await wait_http(http, f"http://127.0.0.1:{slack_port}/api/api.test")
            await wait_http(http, f"http://127.0.0.1:{dlf_port}/")
        yield f"http://127.0.0.1:{dlf_port}", f"http://127.0.0.1:{slack_port}/api/"
    finally:
        for process in (sandbox, slack):
            process.kill()
            await process.wait()


async def start(
    target: Target, argv: Sequence[str], env: dict[str, str], folder: Path, http: aiohttp.ClientSession
) -> None:
    target.process = await spawn(argv, env, folder / f"{target.name}.log")
    target.startup_s = await wait_http(http, f"http://127.0.0.1:{target.port}/healthz")


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="dlf-bench-ack-") as tmp:
        folder = Path(args.logs) if args.logs else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        async with peers(folder, args.latency_ms) as (dlf_url, slack_url):
            bot, bare = Target("dlf-bot", free_port()), Target("bare-bolt", free_port())
            base_env = {
                key: value
                for key, value in os.environ.items()
                if not key.startswith(("SLACK_", "DLF_", "HUAWEICLOUD_", "DATABASE_URL"))
            }
            bot_env = {
                **base_env,
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": slack_url,
                **SANDBOX_CREDENTIALS.as_env(dlf_url),
                "PORT": str(bot.port),
                "LOG_LEVEL": "WARNING",
                "DATABASE_URL": f"sqlite:///{folder / 'bot.db'}",
            }
            bare_env = {**base_env, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack_url}
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as http:
                try:
                    await start(bot, [str(BIN / "dlf-bot"), "run", "--host", "127.0.0.1"], bot_env, folder, http)
                    await start(
                        bare,
                        [sys.executable, str(ROOT / "bench" / "bare_bolt.py"), str(bare.port)],
                        bare_env,
                        folder,
                        http,
                    )
                    for target in (bot, bare):  # first requests: auth.test, connection set-up
                        await asyncio.gather(*(one(http, target, slack_url, n, []) for n in range(5)))
                    await asyncio.sleep(args.latency_ms / 1000 + 0.5)
                    for burst in range(args.bursts):
                        order = (bot, bare) if burst % 2 == 0 else (bare, bot)
                        for target in order:
                            await asyncio.gather(
                                *(one(http, target, slack_url, burst * 1000 + n, target.acks) for n in range(args.size))
                            )
                        await asyncio.sleep(args.gap)
                    if args.rate:
                        for target in (bot, bare):
                            await asyncio.sleep(args.latency_ms / 1000 + 1)
                            sent = []
                            for n in range(int(args.rate * 3)):
                                sent.append(asyncio.create_task(one(http, target, slack_url, 90_000 + n, target.paced)))
                                await asyncio.sleep(1 / args.rate)
                            await asyncio.gather(*sent)
                    # A restart: the database is at the latest schema now, as on every start but the first.
                    assert bot.process is not None
                    bot.process.terminate()
                    await bot.process.wait()
                    first_start = bot.startup_s
                    await start(bot, [str(BIN / "dlf-bot"), "run", "--host", "127.0.0.1"], bot_env, folder, http)
                    bot.restart_s, bot.startup_s = bot.startup_s, first_start
                finally:
                    for target in (bot, bare):
                        if target.process is not None and target.process.returncode is None:
                            target.process.kill()
                            await target.process.wait()
    print(
        f"ack latency: {args.bursts} bursts of {args.size} concurrent signed /dlf instance requests, DLF answering "
        f"in {args.latency_ms} ms; {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs"
    )
    for target in (bot, bare):
        print(
            f"  {target.name:10} start-up to /healthz {target.startup_s:5.2f} s   bursts: {describe(target.acks)}"
            f"   (failed {target.failed})"
        )
        if target.restart_s is not None:
            print(f"  {'':10} restart (database migrated already) to /healthz {target.restart_s:5.2f} s")
        if target.paced:
            print(f"  {'':10} at {args.rate:.0f}/s for 3 s:{'':14}{describe(target.paced)}")
    bot_p99 = statistics.quantiles(bot.acks, n=100, method="inclusive")[98]
    bare_p99 = statistics.quantiles(bare.acks, n=100, method="inclusive")[98]
    print(f"  bot p99 / bare p99 = {bot_p99 / bare_p99:.2f} (target <= 1.5)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bursts", type=int, default=10)
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--gap", type=float, default=1.5, help="seconds between bursts")
    parser.add_argument("--latency-ms", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=0, help="also send this many requests per second for 3 s")
    parser.add_argument("--logs", help="keep the processes' logs (and the bot's database) in this folder")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
