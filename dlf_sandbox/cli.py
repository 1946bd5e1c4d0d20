"""`python -m dlf_sandbox` / `dlf-bot sandbox`: serve the seeded sandbox on loopback until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import TextIO

from dlf_sandbox.activity import schedule_activity
from dlf_sandbox.sandbox import Sandbox

ACTIVITY_CYCLES = 10_000


def build_parser(prog: str = "python -m dlf_sandbox") -> argparse.ArgumentParser:
    """The sandbox's command-line options."""
    parser = argparse.ArgumentParser(prog=prog, description="Serve the embedded DLF sandbox (Huawei's side).")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8790, help="port to bind (0 = any free port; default 8790)")
    parser.add_argument("--no-seed", action="store_true", help="start empty instead of with the seeded jobs")
    parser.add_argument("--latency-ms", type=float, default=0, help="latency added to every DLF request")
    parser.add_argument(
        "--activity",
        type=float,
        default=0,
        metavar="SECONDS",
        help="every SECONDS, a seeded job runs and fails or succeeds (needs the seed; 0 = off)",
    )
    return parser


def banner(sandbox: Sandbox, base_url: str) -> str:
    """What to tell the person who started the sandbox: where it is and which (public test) credentials to use."""
    creds = sandbox.credentials
    lines = [
        f"DLF sandbox listening on {base_url}",
        "Public test credentials (valid only against this sandbox):",
        f"  DLF_ENDPOINT={base_url}",
        f"  DLF_REGION={creds.region}",
        f"  HUAWEICLOUD_SDK_PROJECT_ID={creds.project_id}",
        f"  HUAWEICLOUD_SDK_AK={creds.ak}",
        f"  HUAWEICLOUD_SDK_SK={creds.sk}",
        f"  temporary: AK={creds.temp_ak} SK={creds.temp_sk} HUAWEICLOUD_SDK_SECURITY_TOKEN={creds.security_token}",
        f"  IAM: DLF_IAM_ENDPOINT={base_url} DLF_IAM_USERNAME={creds.iam_username} "
        f"DLF_IAM_PASSWORD={creds.iam_password} DLF_IAM_DOMAIN={creds.iam_domain}",
        f"  DLF_AUTH_TOKEN={creds.static_token}",
        f"  DLF_WORKSPACE={creds.workspace} (default workspace)",
    ]
    if sandbox.seeded:
        lines.append(
            "Seeded instances: "
            + ", ".join(f"{s.job} {s.instance_id} ({s.status})" for s in list(sandbox.seeded.values())[:6])
            + ", ..."
        )
    lines.append("Admin endpoints under /_sandbox/ (faults, calls, timeline). Ctrl-C to stop.")
    return "\n".join(lines)


async def _serve_forever(sandbox: Sandbox, host: str, port: int, out: TextIO) -> None:
    async with sandbox.serve(host=host, port=port) as base_url:
        print(banner(sandbox, base_url), file=out, flush=True)
        await asyncio.Event().wait()


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, prog: str = "python -m dlf_sandbox") -> int:
    """Run the sandbox until interrupted; returns the process exit code."""
    args = build_parser(prog).parse_args(argv)
    sandbox = Sandbox(seed=not args.no_seed)
    sandbox.faults.latency_ms = args.latency_ms
    if args.activity > 0 and not args.no_seed:
        every_ms = int(args.activity * 1000)
        schedule_activity(
            sandbox.timeline, start_ms=sandbox.clock() + every_ms, every_ms=every_ms, cycles=ACTIVITY_CYCLES
        )
        sandbox.timeline.play()
    try:
        asyncio.run(_serve_forever(sandbox, args.host, args.port, out or sys.stdout))
    except KeyboardInterrupt:
        return 0
    except OSError as error:
        print(f"cannot serve on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0
