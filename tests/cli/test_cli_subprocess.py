"""`dlf-bot` as users run it: real subprocesses, real sandbox and fake Slack on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from bot.render.limits import problems
from dlf_sandbox import SANDBOX_CREDENTIALS, SEEDED
from slack_fake import FakeSlack

DLF_BOT = str(Path(sys.executable).parent / "dlf-bot")
_OUR_SETTINGS = re.compile(r"^(SLACK_|DLF_|HUAWEICLOUD_|DATABASE_URL$|PORT$|LOG_LEVEL$|ALERT_)")


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any of the bot's settings, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not _OUR_SETTINGS.match(key)}
    return {**env, **extra}


def dlf_bot(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DLF_BOT, *args], cwd=cwd, env=env or clean_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


def test_preview_prints_the_card_and_a_builder_link(tmp_path: Path) -> None:
    done = dlf_bot("preview", "/dlf instance job_batch 34765", "--sandbox", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "job_batch · instance 34765 · failed" in done.stdout
    assert "none of its nodes failed" in done.stdout  # the seed's own inconsistent example, explained
    assert "Block Kit Builder: https://app.slack.com/block-kit-builder/#" in done.stdout


def test_preview_json_is_the_block_kit_slack_would_get(tmp_path: Path) -> None:
    done = dlf_bot("preview", "/dlf instance job_batch 34765", "--json", "--sandbox", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    message = json.loads(done.stdout)
    assert set(message) == {"text", "blocks"}
    assert problems(message) == []
    assert any(block["type"] == "actions" for block in message["blocks"])


def test_preview_of_bad_input_shows_the_usage(tmp_path: Path) -> None:
    done = dlf_bot("preview", "/dlf instance job_batch abc", "--sandbox", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "not a number" in done.stdout
    assert "/dlf instance <job> <instance_id>" in done.stdout


@pytest.mark.parametrize(
    ("line", "expected"),
    [("/dlf help watch", "--mention"), ("/dlf", "/dlf watches"), ("/dlf instnace job_batch 1", "Did you mean")],
)
def test_preview_of_help_and_refused_input_needs_no_dlf_settings(tmp_path: Path, line: str, expected: str) -> None:
    done = dlf_bot("preview", line, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout
    assert "cannot start" not in done.stderr


def _sandbox_banner(tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    """`dlf-bot sandbox --port 0` running, and the block it printed."""
    from dlf_sandbox.cli import LAST_LINE

    process = subprocess.Popen(
        [DLF_BOT, "sandbox", "--port", "0"], cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or LAST_LINE not in lines[-1]:
        line = process.stdout.readline()
        assert line, "the sandbox stopped before printing its settings"
        lines.append(line)
    return process, "".join(lines)


def test_the_block_dlf_bot_sandbox_prints_can_be_pasted_into_a_shell_as_it_is(tmp_path: Path) -> None:
    process, block = _sandbox_banner(tmp_path)
    try:
        assert all(line.startswith(("export ", "#")) for line in block.splitlines())
        done = subprocess.run(
            ["bash", "-c", block + '\nexec dlf-bot preview "/dlf instance job_batch 34765"'],
            cwd=tmp_path,
            env=clean_env(PATH=str(Path(DLF_BOT).parent) + os.pathsep + os.environ.get("PATH", "")),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "job_batch · instance 34765 · failed" in done.stdout  # the settings loaded and reached the sandbox
        # Every other kind of credentials it offers loads as well, after the `unset` it says to run first.
        alternatives = [line.split(": ", 1)[1] for line in block.splitlines() if line.startswith("#   ")]
        assert len(alternatives) == 4  # the other workspace, temporary AK/SK, IAM password, IAM token
        load = f"exec {sys.executable} -c 'import os; from bot.settings import DLF_ONLY, load_settings; load_settings(os.environ, env_file=None, needs=DLF_ONLY)'"
        for alternative in alternatives:
            unset = "" if "DLF_WORKSPACE" in alternative else "unset HUAWEICLOUD_SDK_AK HUAWEICLOUD_SDK_SK\n"
            script = f"{block}\n{unset}{alternative}\n{load}"
            loaded = subprocess.run(["bash", "-c", script], env=clean_env(), capture_output=True, text=True, timeout=60)
            assert loaded.returncode == 0, (alternative, loaded.stderr)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_preview_against_configured_dlf(tmp_path: Path) -> None:
    from dlf_sandbox import Sandbox

    with Sandbox(seed=True).serve_in_thread() as url:
        env = clean_env(
            DLF_ENDPOINT=url,
            HUAWEICLOUD_SDK_PROJECT_ID=SANDBOX_CREDENTIALS.project_id,
            HUAWEICLOUD_SDK_AK=SANDBOX_CREDENTIALS.ak,
            HUAWEICLOUD_SDK_SK=SANDBOX_CREDENTIALS.sk,
        )
        done = dlf_bot("preview", "/dlf instance etl_orders_daily 40001", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "etl_orders_daily · instance 40001" in done.stdout


@pytest.mark.parametrize(
    "kind",
    ["temporary-aksk", "iam-password", "static-token"],
)
def test_every_kind_of_credentials_reaches_dlf(tmp_path: Path, kind: str) -> None:
    from dlf_sandbox import Sandbox

    creds = SANDBOX_CREDENTIALS
    with Sandbox(seed=True).serve_in_thread() as url:
        by_kind = {
            "temporary-aksk": {
                "HUAWEICLOUD_SDK_AK": creds.temp_ak,
                "HUAWEICLOUD_SDK_SK": creds.temp_sk,
                "HUAWEICLOUD_SDK_SECURITY_TOKEN": creds.security_token,
            },
            "iam-password": {
                "DLF_IAM_USERNAME": creds.iam_username,
                "DLF_IAM_PASSWORD": creds.iam_password,
                "DLF_IAM_DOMAIN": creds.iam_domain,
                "DLF_IAM_ENDPOINT": url,
            },
            "static-token": {"DLF_AUTH_TOKEN": creds.static_token},
        }
        env = clean_env(DLF_ENDPOINT=url, HUAWEICLOUD_SDK_PROJECT_ID=creds.project_id, **by_kind[kind])
        done = dlf_bot("preview", "/dlf instance job_batch 34765", "--json", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["text"] == "job_batch instance 34765 failed"  # the card, not an error line


def test_yaml_profiles_reach_their_workspace(tmp_path: Path) -> None:
    from dlf_sandbox import ANALYTICS_WORKSPACE_ID, Sandbox

    creds = SANDBOX_CREDENTIALS
    with Sandbox(seed=True).serve_in_thread() as url:
        config = tmp_path / "dlf-bot.yml"
        config.write_text(
            "profiles:\n  analytics:\n"
            f"    endpoint: {url}\n    project_id: {creds.project_id}\n    workspace: {ANALYTICS_WORKSPACE_ID}\n"
            f"    ak: {creds.ak}\n    sk: {creds.sk}\n"
        )
        env = clean_env(
            DLF_ENDPOINT=url,
            HUAWEICLOUD_SDK_PROJECT_ID=creds.project_id,
            HUAWEICLOUD_SDK_AK=creds.ak,
            HUAWEICLOUD_SDK_SK=creds.sk,
            DLF_BOT_CONFIG=str(config),
        )
        done = dlf_bot(
            "preview", "/dlf instance analytics_ws_job 40100 --profile analytics", "--json", cwd=tmp_path, env=env
        )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["text"].startswith("analytics_ws_job instance 40100")


def test_preview_without_settings_names_them_without_a_traceback(tmp_path: Path) -> None:
    done = dlf_bot("preview", "/dlf instance job_batch 34765", cwd=tmp_path)
    assert done.returncode == 2
    assert "HUAWEICLOUD_SDK_PROJECT_ID" in done.stderr and "DLF_REGION" in done.stderr
    assert "Traceback" not in done.stderr


def test_demo_shows_the_seeded_cards_offline(tmp_path: Path) -> None:
    done = dlf_bot("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for key in ("seed", "running", "succeeded", "large"):
        seeded = SEEDED[key]
        assert f"{seeded.job} · instance {seeded.instance_id}" in done.stdout
    assert "alice: /dlf instance job_batch 34765" in done.stdout and "dlf-bot (only visible to you):" in done.stdout
    assert "Block Kit Builder" not in done.stdout and "https://" not in done.stdout  # reads like the channel
    assert "…and" in done.stdout or "more" in done.stdout  # the 5,000-node instance is cut, not overflowing
    watch_part = done.stdout.split("alice in #data-alerts: /dlf watch job_batch --mention @alice", 1)[1]  # it fails
    assert "dlf-bot, posted in #data-alerts" in watch_part and "Failure alert" in watch_part
    assert "[Acknowledge]" in watch_part and "[Rerun… ▾]" in watch_part
    # ... and the incident, as its thread tells it: acknowledged, rerun from the failed node, followed, recovered.
    thread = watch_part.split("alice presses Acknowledge on the alert card", 1)[1]
    assert thread.index("is on it") < thread.index("DLF accepted it") < thread.index("nodes done")
    assert thread.index("nodes done") < thread.index("recovered after") < thread.index("as it stands now")
    assert thread.count("nodes done") == 1 and "rerun finished: 2 of 2 nodes done" in thread  # one reply, edited
    assert "@alice is on it" in thread and "by @bob's rerun" in thread and "U0" not in thread  # names, as Slack shows
    final_card = thread.split("as it stands now", 1)[1]
    assert ":white_check_mark: Resolved" in final_card and "[Acknowledge]" not in final_card
    assert max(len(line) for line in done.stdout.splitlines()) < 1000


def test_demo_links_on_request(tmp_path: Path) -> None:
    done = dlf_bot("demo", "--links", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Block Kit Builder: https://app.slack.com/block-kit-builder/#") >= 4


def test_run_needs_its_settings(tmp_path: Path) -> None:
    done = dlf_bot("run", cwd=tmp_path, env=clean_env(HUAWEICLOUD_SDK_AK="AK-ONLY", DLF_LOOKBACK_HOURS="999"))
    assert done.returncode == 2
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "HUAWEICLOUD_SDK_SK", "DLF_LOOKBACK_HOURS"):
        assert name in done.stderr
    assert "Traceback" not in done.stderr


async def _wait_for_line(stream: asyncio.StreamReader, pattern: re.Pattern[str], seen: list[str]) -> re.Match[str]:
    while True:
        line = (await asyncio.wait_for(stream.readline(), timeout=60)).decode()
        if not line:
            raise AssertionError("dlf-bot run exited early:\n" + "".join(seen))
        seen.append(line)
        match = pattern.search(line)
        if match:
            return match


async def test_run_serves_commands_runs_the_watcher_and_stops_on_sigterm(tmp_path: Path, sandbox: Any) -> None:
    fake = FakeSlack(validator=problems)
    secret = "run-test-signing-secret"
    async with fake.serve() as slack_url:
        env = clean_env(
            SLACK_BOT_TOKEN="xoxb-run-test-token-123",
            SLACK_SIGNING_SECRET=secret,
            SLACK_API_URL=slack_url,
            DLF_ENDPOINT=sandbox.url,
            HUAWEICLOUD_SDK_PROJECT_ID=SANDBOX_CREDENTIALS.project_id,
            HUAWEICLOUD_SDK_AK=SANDBOX_CREDENTIALS.ak,
            HUAWEICLOUD_SDK_SK=SANDBOX_CREDENTIALS.sk,
            PORT="0",
            LOG_LEVEL="INFO",
            DLF_POLL_INTERVAL="1",
            DATABASE_URL=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        )
        process = await asyncio.create_subprocess_exec(
            DLF_BOT,
            "run",
            "--host",
            "127.0.0.1",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        seen: list[str] = []
        try:
            assert process.stderr is not None
            match = await _wait_for_line(
                process.stderr, re.compile(r"serving Slack events on http://[^:]+:(\d+)"), seen
            )
            base = f"http://127.0.0.1:{match.group(1)}"
            async with httpx.AsyncClient(timeout=30) as http:
                health = (await http.get(f"{base}/healthz")).json()
                assert health["status"] == "ok" and health["mode"] == "http"
                assert set(health["watcher"]["profiles"]) == {"default"}  # the store was opened (and migrated)
                assert (tmp_path / "bot.sqlite3").is_file()
                body = urlencode(
                    {
                        "command": "/dlf",
                        "text": "instance job_batch 34765",
                        "user_id": "U0RUN",
                        "channel_id": "C0RUN",
                        "team_id": "T0FAKE",
                        "response_url": fake.response_url("run"),
                    }
                )
                stamp = str(int(time.time()))
                headers = {
                    "X-Slack-Request-Timestamp": stamp,
                    "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body),
                    "Content-Type": "application/x-www-form-urlencoded",
                }
                assert (await http.post(f"{base}/slack/events", content=body, headers=headers)).status_code == 200
                (card,) = await fake.wait_for_responses("run", timeout=60)
                assert "job_batch" in card["text"]
                metrics = (await http.get(f"{base}/metrics")).text
                assert "dlf_requests_total" in metrics

                # the watcher runs beside the app: subscribe through Slack, fail an instance, the alert arrives
                body = urlencode(
                    {
                        "command": "/dlf",
                        "text": "watch job_batch",
                        "user_id": "U0RUN",
                        "channel_id": "C0RUN",
                        "team_id": "T0FAKE",
                        "response_url": fake.response_url("watch"),
                    }
                )
                headers["X-Slack-Signature"] = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
                assert (await http.post(f"{base}/slack/events", content=body, headers=headers)).status_code == 200
                await fake.wait_for_responses("watch", timeout=60)
                failed = sandbox.sandbox.state.add_instance("job_batch", status="fail")
                (alert,) = await fake.wait_for_calls("chat.postMessage", timeout=60)
                assert alert.params["channel"] == "C0RUN" and str(failed) in alert.params["text"]
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), timeout=60) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        remaining = (await process.stderr.read()).decode() if process.stderr else ""
    log = "".join(seen) + remaining
    assert "will be unused" not in log  # Bolt's start-up notice about the token it read itself is dropped
    for secret_value in (secret, "xoxb-run-test-token-123", SANDBOX_CREDENTIALS.sk):
        assert secret_value not in log


@pytest.mark.parametrize("argv", [["--help"], ["sandbox", "--help"]])
def test_help_texts(tmp_path: Path, argv: list[str]) -> None:
    done = dlf_bot(*argv, cwd=tmp_path)
    assert done.returncode == 0
    assert "dlf-bot" in done.stdout


def test_run_with_an_unreachable_database_says_so_without_the_password(tmp_path: Path) -> None:
    env = clean_env(
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        DLF_ENDPOINT="http://127.0.0.1:9",
        HUAWEICLOUD_SDK_PROJECT_ID="p",
        HUAWEICLOUD_SDK_AK="a",
        HUAWEICLOUD_SDK_SK="b",
        DATABASE_URL="postgresql://bot:db-pass-9876@127.0.0.1:1/bot",
    )
    done = dlf_bot("run", cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert "DATABASE_URL" in done.stderr and "unreachable" in done.stderr
    assert "db-pass-9876" not in done.stderr and "Traceback" not in done.stderr


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    done = dlf_bot("migrate", cwd=tmp_path, env=clean_env(DATABASE_URL=f"sqlite:///{database}"))
    assert done.returncode == 0, done.stderr
    import sqlite3

    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("select name from sqlite_master where type = 'table'")}
    assert {"subscriptions", "outbox"} <= tables


def test_preview_does_not_change_real_subscriptions(tmp_path: Path) -> None:
    from dlf_sandbox import Sandbox

    database = tmp_path / "real.sqlite3"
    with Sandbox(seed=True).serve_in_thread() as url:
        env = clean_env(
            DLF_ENDPOINT=url,
            HUAWEICLOUD_SDK_PROJECT_ID=SANDBOX_CREDENTIALS.project_id,
            HUAWEICLOUD_SDK_AK=SANDBOX_CREDENTIALS.ak,
            HUAWEICLOUD_SDK_SK=SANDBOX_CREDENTIALS.sk,
            DATABASE_URL=f"sqlite:///{database}",
        )
        done = dlf_bot("preview", "/dlf watch job_batch", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "changes a channel's subscriptions" in done.stdout and "--sandbox" in done.stdout
    assert not database.exists()


@pytest.mark.parametrize(
    "line",
    ["/dlf watches", "/dlf watch job_batch", "/dlf unwatch 'etl_*'", "/dlf mute job_batch 4h", "/dlf unmute job_batch"]
    + ["/dlf audit"],
)
def test_preview_of_a_channel_command_without_sandbox_says_why_without_demanding_settings(
    tmp_path: Path, line: str
) -> None:
    done = dlf_bot("preview", line, cwd=tmp_path)  # no DLF settings, no database
    assert done.returncode == 0, done.stderr
    assert "cannot start" not in done.stderr and "HUAWEICLOUD" not in done.stderr
    assert "preview (which has no channel) does not run it" in done.stdout and "--sandbox" in done.stdout
    assert list(tmp_path.iterdir()) == []  # no database was created


def test_preview_runs_channel_commands_on_a_throwaway_store_with_sandbox(tmp_path: Path) -> None:
    done = dlf_bot("preview", "/dlf watch job_batch --mention <@U0ONCALL>", "--sandbox", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "gets an alert when job `job_batch` fails, mentioning @U0ONCALL" in done.stdout

    # Each preview starts from an empty, temporary store: nothing of the watch above is kept anywhere.
    done = dlf_bot("preview", "/dlf watches", "--sandbox", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "watches no DLF job yet" in done.stdout
    done = dlf_bot("preview", "/dlf watch no_such_job", "--sandbox", cwd=tmp_path)
    assert "DLF has no job named `no_such_job`" in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_migrate_with_an_unreachable_database_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on (bound, then released)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://bob:migrate-secret-pw@127.0.0.1:{port}/dlfbot"

    done = dlf_bot("migrate", cwd=tmp_path, env=clean_env(DATABASE_URL=url))

    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "migrate-secret-pw" not in done.stderr + done.stdout
    [line] = done.stderr.strip().splitlines()
    assert f"postgresql://bob:***@127.0.0.1:{port}/dlfbot" in line and "unreachable" in line


def test_alembic_command_line_migrates_the_url_given_with_x_not_the_environment(tmp_path: Path) -> None:
    import sqlite3

    import bot.store

    ini = Path(bot.store.__file__).parent / "alembic.ini"
    given, elsewhere = tmp_path / "given.sqlite3", tmp_path / "env.sqlite3"
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "alembic"),
            "-c",
            str(ini),
            "-x",
            f"url=sqlite:///{given}",
            "upgrade",
            "head",
        ],
        cwd=tmp_path,
        env=clean_env(DATABASE_URL=f"sqlite:///{elsewhere}"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(given) as connection:
        tables = {row[0] for row in connection.execute("select name from sqlite_master where type = 'table'")}
    assert {"subscriptions", "outbox", "alembic_version"} <= tables
    assert not elsewhere.exists()


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("/dlf mute job_batch 4h", ":no_bell: Muted `job_batch` in this channel until "),
        ("/dlf unmute job_batch", "`job_batch` is not muted here (any more); nothing was changed."),
        ("/dlf audit", ":ledger: No audit entries in this channel since "),
    ],
)
def test_preview_runs_mute_unmute_and_audit_on_a_throwaway_database_with_sandbox(
    tmp_path: Path, line: str, answer: str
) -> None:
    done = dlf_bot("preview", line, "--sandbox", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert answer in done.stdout and "not available" not in done.stdout
    assert list(tmp_path.iterdir()) == []  # the throwaway database is gone
