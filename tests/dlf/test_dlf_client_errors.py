"""Every way DLF can fail, against the real sandbox: the typed error, its request id, bounded retries, no secrets."""

from __future__ import annotations

import asyncio
import socket

import pytest
from dlf_rig import C, MakeClient, RecordingSleep, assert_no_secrets

from bot.dlf.auth import AkSk, IamPassword
from bot.dlf.client import DlfClient
from bot.dlf.config import DlfConfig
from bot.dlf.ratelimit import TokenBucket
from bot.errors import (
    DlfAuthError,
    DlfBadResponse,
    DlfError,
    DlfNotFound,
    DlfPermissionDenied,
    DlfThrottled,
    DlfUnavailable,
)
from dlf_sandbox import SEEDED, Sandbox

SEED = SEEDED["seed"]


def check_error(err: DlfError, logs: pytest.LogCaptureFixture, *, request_id: bool = True) -> None:
    """What every surfaced error must have: a request id when DLF answered, and no secret anywhere."""
    if request_id:
        assert err.request_id and len(err.request_id) >= 16
    assert_no_secrets(str(err), repr(err), repr(err.log_details()), logs.text)


async def test_job_not_found(make_client: MakeClient, debug_logs):
    with pytest.raises(DlfNotFound) as info:
        await make_client().get_instance("no_such_job", 1)
    assert (info.value.kind, info.value.code, info.value.status_code) == ("job", "DLF.0100", 400)
    assert info.value.operation == "get_instance"
    check_error(info.value, debug_logs)
    assert info.value.request_id in debug_logs.text  # the log line carries the same id


async def test_instance_not_found(make_client: MakeClient, debug_logs):
    with pytest.raises(DlfNotFound) as info:
        await make_client().get_instance("job_batch", 999_999_999)
    assert (info.value.kind, info.value.code) == ("instance", "DLF.0137")
    check_error(info.value, debug_logs)


async def test_wrong_secret_key_is_an_auth_error_without_retry(make_client: MakeClient, debug_logs):
    wrong = "wrong-" + C.sk
    client = make_client(credentials=AkSk(access_key=C.ak, secret_key=wrong))
    with pytest.raises(DlfAuthError) as info:
        await client.get_instance(SEED.job, SEED.instance_id)
    assert info.value.status_code == 401 and info.value.code == "APIG.0301"
    assert client.stats.requests == 1
    check_error(info.value, debug_logs)
    assert_no_secrets(repr(client.config))
    assert wrong not in str(info.value) + repr(info.value) + debug_logs.text


async def test_temporary_credentials_without_their_token_are_refused(make_client: MakeClient, debug_logs):
    client = make_client(credentials=AkSk(access_key=C.temp_ak, secret_key=C.temp_sk))
    with pytest.raises(DlfAuthError) as info:
        await client.get_instance(SEED.job, SEED.instance_id)
    check_error(info.value, debug_logs)


async def test_wrong_iam_password(make_client: MakeClient, sb: Sandbox, base_url: str, debug_logs):
    wrong = IamPassword(
        username=C.iam_username, password="not-" + C.iam_password, domain=C.iam_domain, iam_endpoint=base_url
    )
    client = make_client(credentials=wrong)
    with pytest.raises(DlfAuthError) as info:
        await client.get_instance(SEED.job, SEED.instance_id)
    assert info.value.operation == "iam_token"
    assert len(sb.calls) == 0  # nothing reached DLF
    check_error(info.value, debug_logs)
    assert "not-" + C.iam_password not in str(info.value) + repr(info.value) + repr(wrong) + debug_logs.text


async def test_revoked_token_is_refreshed_once_then_the_call_succeeds(make_client: MakeClient, sb: Sandbox, debug_logs):
    client = make_client("iam")
    await client.get_instance(SEED.job, SEED.instance_id)
    sb.tokens.revoke_all(include_static=False)
    instance = await client.get_instance(SEED.job, SEED.instance_id)
    assert instance.instance_id == SEED.instance_id
    assert [call.status for call in sb.calls] == [200, 401, 200]
    assert len(sb.iam_calls) == 2 and client.stats.auth_refreshes == 1
    assert_no_secrets(debug_logs.text)


async def test_token_refreshed_before_it_expires(make_client: MakeClient, sb: Sandbox, sb_clock):
    sb.tokens.lifetime_ms = 60 * 60 * 1000
    client = make_client("iam")
    await client.get_instance(SEED.job, SEED.instance_id)
    sb_clock.advance(50 * 60 * 1000)  # within the 5-minute margin... not yet: 10 minutes left
    await client.get_instance(SEED.job, SEED.instance_id)
    assert len(sb.iam_calls) == 1
    sb_clock.advance(6 * 60 * 1000)  # 4 minutes left: refresh before DLF would refuse it
    await client.get_instance(SEED.job, SEED.instance_id)
    assert len(sb.iam_calls) == 2
    assert [call.status for call in sb.calls] == [200, 200, 200]  # never a 401


async def test_refresh_that_does_not_help_is_an_auth_error(make_client: MakeClient, sb: Sandbox, debug_logs):
    client = make_client("iam")
    await client.get_instance(SEED.job, SEED.instance_id)
    sb.tokens.revoke_all(include_static=False)
    sb.tokens.lifetime_ms = 0  # every new token is already expired
    with pytest.raises(DlfAuthError) as info:
        await client.get_instance(SEED.job, SEED.instance_id)
    assert info.value.code == "APIG.0307"
    assert [call.status for call in sb.calls] == [200, 401, 401]  # one refresh, then give up
    check_error(info.value, debug_logs)


async def test_revoked_static_token_cannot_be_refreshed(make_client: MakeClient, sb: Sandbox, debug_logs):
    client = make_client("static")
    sb.tokens.revoke_all()
    with pytest.raises(DlfAuthError) as info:
        await client.get_instance(SEED.job, SEED.instance_id)
    assert len(sb.calls) == 1 and len(sb.iam_calls) == 0
    check_error(info.value, debug_logs)


async def test_concurrent_calls_share_one_token_fetch(make_client: MakeClient, sb: Sandbox):
    client = make_client("iam")
    await asyncio.gather(*(client.get_instance(SEED.job, SEED.instance_id) for _ in range(8)))
    assert len(sb.iam_calls) == 1 and len(sb.calls) == 8


async def test_iam_unavailable_is_retried_then_succeeds(make_client: MakeClient, sb: Sandbox):
    sb.faults.server_error(n=2, status=503, operation="create_token")
    client = make_client("iam")
    assert (await client.get_instance(SEED.job, SEED.instance_id)).instance_id == SEED.instance_id
    assert len(sb.iam_calls) == 3 and len(sb.calls) == 1


async def test_permission_denied(make_client: MakeClient, debug_logs):
    client = make_client(project_id="0" * 32)
    with pytest.raises(DlfPermissionDenied) as info:
        await client.get_instance(SEED.job, SEED.instance_id)
    assert (info.value.status_code, info.value.code) == (403, "DLF.6888")
    check_error(info.value, debug_logs)


async def test_throttled_then_success_honours_retry_after(make_client: MakeClient, sb: Sandbox, sleep: RecordingSleep):
    sb.faults.throttle(n=2, retry_after=2)
    client = make_client()
    assert (await client.get_instance(SEED.job, SEED.instance_id)).status == "fail"
    assert client.stats.retries == 2 and len(sb.calls) == 3
    assert sleep.delays == [2.0, 2.0]


async def test_throttled_forever_gives_up_after_bounded_retries(
    make_client: MakeClient, sb: Sandbox, sleep: RecordingSleep, debug_logs
):
    sb.faults.throttle(n=50, retry_after=None)
    client = make_client(max_retries=2)
    with pytest.raises(DlfThrottled) as info:
        await client.get_instance(SEED.job, SEED.instance_id)
    assert info.value.code == "APIG.0308" and info.value.status_code == 429
    assert len(sb.calls) == 3 and len(sleep.delays) == 2
    assert all(0 < delay <= 0.01 for delay in sleep.delays)  # the configured backoff cap
    check_error(info.value, debug_logs)


async def test_retry_after_longer_than_allowed_fails_at_once(make_client: MakeClient, sb: Sandbox, sleep):
    sb.faults.throttle(n=5, retry_after=120)
    client = make_client(max_retry_after=30)
    with pytest.raises(DlfThrottled) as info:
        await client.get_instance(SEED.job, SEED.instance_id)
    assert info.value.retry_after == 120 and len(sb.calls) == 1 and sleep.delays == []


async def test_throttled_rerun_is_retried_and_runs_once(make_client: MakeClient, sb: Sandbox):
    sb.faults.throttle(n=1, retry_after=None)
    await make_client().rerun_instance(SEED.job, SEED.instance_id)
    assert [call.status for call in sb.calls] == [429, 204]
    assert sb.state.instance(SEED.job, SEED.instance_id).status == "running"


@pytest.mark.parametrize("html", [False, True])
async def test_server_errors_then_success(make_client: MakeClient, sb: Sandbox, html):
    sb.faults.server_error(n=2, status=502, html=html)
    client = make_client()
    assert (await client.get_instance(SEED.job, SEED.instance_id)).instance_id == SEED.instance_id
    assert [call.status for call in sb.calls] == [502, 502, 200]


async def test_server_errors_forever(make_client: MakeClient, sb: Sandbox, debug_logs):
    sb.faults.server_error(n=50, status=503)
    client = make_client(max_retries=2)
    with pytest.raises(DlfUnavailable) as info:
        await client.list_instances()
    assert info.value.status_code == 503 and len(sb.calls) == 3
    check_error(info.value, debug_logs)


async def test_server_error_on_rerun_is_not_retried(make_client: MakeClient, sb: Sandbox, debug_logs):
    sb.faults.server_error(n=1, status=500)
    client = make_client()
    with pytest.raises(DlfUnavailable) as info:
        await client.rerun_instance(SEED.job, SEED.instance_id)
    assert len(sb.calls) == 1 and client.stats.retries == 0
    check_error(info.value, debug_logs)


async def test_slow_dlf_times_out(make_client: MakeClient, sb: Sandbox, debug_logs):
    sb.faults.latency_ms = 400
    client = make_client(timeout=0.05, max_retries=1)
    with pytest.raises(DlfUnavailable) as info:
        await client.get_instance(SEED.job, SEED.instance_id)
    assert "timed out" in str(info.value)
    assert client.stats.requests == 2
    check_error(info.value, debug_logs, request_id=False)


async def test_connection_reset_then_success(make_client: MakeClient, sb: Sandbox):
    sb.faults.reset_connection(n=1)
    client = make_client()
    assert (await client.get_instance(SEED.job, SEED.instance_id)).instance_id == SEED.instance_id
    assert [call.status for call in sb.calls] == [None, 200]


async def test_connection_reset_forever(make_client: MakeClient, sb: Sandbox, debug_logs):
    sb.faults.reset_connection(n=50)
    client = make_client(max_retries=2)
    with pytest.raises(DlfUnavailable) as info:
        await client.list_jobs()
    assert len(sb.calls) == 3
    check_error(info.value, debug_logs, request_id=False)


async def test_connection_reset_on_stop_is_not_retried(make_client: MakeClient, sb: Sandbox):
    sb.faults.reset_connection(n=1)
    running = SEEDED["running"]
    with pytest.raises(DlfUnavailable):
        await make_client().stop_instance(running.job, running.instance_id)
    assert len(sb.calls) == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connect_error_is_retried_even_for_a_rerun(sleep: RecordingSleep, debug_logs):
    config = DlfConfig(
        endpoint=f"http://127.0.0.1:{_closed_port()}",
        project_id=C.project_id,
        max_retries=2,
        backoff_base=0.001,
        backoff_cap=0.01,
        rate_limit=None,
    )
    async with DlfClient(config=config, credentials=AkSk(access_key=C.ak, secret_key=C.sk), sleep=sleep) as client:
        with pytest.raises(DlfUnavailable) as info:
            await client.rerun_instance(SEED.job, SEED.instance_id)
        assert "could not connect" in str(info.value)
        assert client.stats.requests == 3 and client.stats.retries == 2
    check_error(info.value, debug_logs, request_id=False)


@pytest.mark.parametrize("kind", ["not_json", "truncated", "wrong_shape"])
@pytest.mark.parametrize("operation", ["get_instance", "list_instances", "list_jobs"])
async def test_malformed_bodies(make_client: MakeClient, sb: Sandbox, debug_logs, kind, operation):
    sandbox_operation = {"get_instance": "show_instance"}.get(operation, operation)
    sb.faults.malformed(n=1, kind=kind, operation=sandbox_operation)
    client = make_client()
    call = {
        "get_instance": lambda: client.get_instance(SEED.job, SEED.instance_id),
        "list_instances": lambda: client.list_instances(),
        "list_jobs": lambda: client.list_jobs(),
    }[operation]
    with pytest.raises(DlfBadResponse) as info:
        await call()
    assert info.value.status_code == 200 and info.value.operation == operation
    assert len(sb.calls) == 1  # a malformed success is not retried: it would not change
    check_error(info.value, debug_logs)


async def test_unknown_path_is_rejected_not_crashing(sb: Sandbox, base_url: str):
    config = DlfConfig(endpoint=base_url + "/not-dlf", project_id=C.project_id, max_retries=0, rate_limit=None)
    async with DlfClient(config=config, credentials=AkSk(access_key=C.ak, secret_key=C.sk)) as client:
        with pytest.raises(DlfError) as info:
            await client.get_instance(SEED.job, SEED.instance_id)
    assert info.value.code == "APIG.0101" and info.value.status_code == 404


async def test_concurrent_401s_refresh_the_token_once(make_client: MakeClient, sb: Sandbox):
    client = make_client("iam")
    await client.get_instance(SEED.job, SEED.instance_id)
    sb.tokens.revoke_all(include_static=False)
    await asyncio.gather(*(client.get_instance(SEED.job, SEED.instance_id) for _ in range(5)))
    assert len(sb.iam_calls) == 2


async def test_client_side_rate_limit_spaces_requests(sb: Sandbox, base_url: str):
    class Clock:
        now = 0.0

        def __call__(self) -> float:
            return self.now

        async def sleep(self, seconds: float) -> None:
            self.now += seconds

    clock = Clock()
    limiter = TokenBucket(rate=5, burst=2, clock=clock, sleep=clock.sleep)
    config = DlfConfig(endpoint=base_url, project_id=C.project_id)
    async with DlfClient(config=config, credentials=AkSk(access_key=C.ak, secret_key=C.sk), limiter=limiter) as client:
        for _ in range(10):
            await client.list_jobs()
    assert len(sb.calls) == 10
    assert clock.now == pytest.approx(8 / 5)  # 2 from the burst, 8 more at 5 per second
