"""`python -m slack_fake [--port N]`: serve the fake Slack Web API until interrupted; prints its base URL."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from slack_fake._server import FakeSlack


async def _serve(port: int) -> None:
    fake = FakeSlack()
    async with fake.serve(port=port) as base_url:
        print(f"fake Slack Web API at {base_url}", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    """Parse arguments and serve."""
    parser = argparse.ArgumentParser(prog="python -m slack_fake", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port))


if __name__ == "__main__":
    main()
