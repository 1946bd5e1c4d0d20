"""`python -m dlf_sandbox` / `dlf-bot sandbox`: serve the seeded sandbox on loopback until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from collections.abc import Sequence
from typing import TextIO

from dlf_sandbox.activity import schedule_activity
from dlf_sandbox.sandbox import WORKSPACES, Sandbox

ACTIVITY_CYCLES = 10_000
# The banner's last words: a reader of its output knows the block is complete.
LAST_LINE = "Ctrl-C stops the sandbox."


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
    """What to tell the person who started the sandbox, as one block to paste into a shell as it is: `export` lines
    (shell-quoted) for ONE kind of credentials, everything else a `#` comment. The credentials are public test ones,
    valid only against this sandbox."""
    creds = sandbox.credentials

    def export(*pairs: tuple[str, str]) -> str:
        return "export " + " ".join(f"{name}={shlex.quote(value)}" for name, value in pairs)

    other_workspaces = [workspace for workspace in WORKSPACES if workspace != creds.workspace]
    lines = [
        f"# DLF sandbox listening on {base_url}",
        "# Paste this block into a shell as it is, add your Slack settings (SLACK_BOT_TOKEN, and SLACK_APP_TOKEN or",
        "# SLACK_SIGNING_SECRET), then `dlf-bot run`. Public test credentials, valid only against this sandbox:",
        export(("DLF_ENDPOINT", base_url)),
        export(("DLF_REGION", creds.region)),
        export(("HUAWEICLOUD_SDK_PROJECT_ID", creds.project_id)),
        export(("HUAWEICLOUD_SDK_AK", creds.ak)),
        export(("HUAWEICLOUD_SDK_SK", creds.sk)),
        f"# DLF_WORKSPACE unset: the default workspace ({creds.workspace}).",
        *(f"#   another workspace: {export(('DLF_WORKSPACE', workspace))}" for workspace in other_workspaces),
        "# Other ways to authenticate, one kind at a time (first: unset HUAWEICLOUD_SDK_AK HUAWEICLOUD_SDK_SK):",
        "#   temporary AK/SK: "
        + export(
            ("HUAWEICLOUD_SDK_AK", creds.temp_ak),
            ("HUAWEICLOUD_SDK_SK", creds.temp_sk),
            ("HUAWEICLOUD_SDK_SECURITY_TOKEN", creds.security_token),
        ),
        "#   IAM password:    "
        + export(
            ("DLF_IAM_ENDPOINT", base_url),
            ("DLF_IAM_USERNAME", creds.iam_username),
            ("DLF_IAM_PASSWORD", creds.iam_password),
            ("DLF_IAM_DOMAIN", creds.iam_domain),
        ),
        "#   IAM token:       " + export(("DLF_AUTH_TOKEN", creds.static_token)),
    ]
    if sandbox.seeded:
        seeded = ", ".join(f"{s.job} {s.instance_id} ({s.status})" for s in list(sandbox.seeded.values())[:6])
        lines.append(f"# Seeded instances: {' '.join(seeded.splitlines())}, ...")
    lines.append(f"# Admin endpoints under {base_url.rstrip('/')}/_sandbox/ (faults, calls, timeline). {LAST_LINE}")
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
