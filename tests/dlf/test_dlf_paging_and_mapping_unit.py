"""Transport-level behaviour no honest sandbox shows: a server that ignores `offset`, odd error spellings, metrics.

`httpx.MockTransport` stands in for the network here only; the client's behaviour against a real server is in
test_dlf_client_operations.py and test_dlf_client_errors.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client import CollectorRegistry

from bot.dlf.auth import AkSk
from bot.dlf.client import DlfClient
from bot.dlf.config import DlfConfig
from bot.dlf.failures import error_from_response, retry_after_seconds
from bot.dlf.metrics import DlfMetrics
from bot.errors import (
    DlfAuthError,
    DlfBadResponse,
    DlfNotFound,
    DlfPermissionDenied,
    DlfRequestRejected,
    DlfThrottled,
    DlfUnavailable,
)


def _client(handler, **config) -> DlfClient:
    settings = {
        "endpoint": "https://dayu-dlf.cn-north-4.myhuaweicloud.com",
        "project_id": "p1",
        "rate_limit": None,
        "backoff_base": 0.001,
        "backoff_cap": 0.002,
    }
    settings.update(config)
    return DlfClient(
        config=DlfConfig(**settings),
        credentials=AkSk(access_key="AK", secret_key="SK-secret"),
        transport=httpx.MockTransport(handler),
    )


def _row(i: int) -> dict:
    return {"jobName": "j", "instanceId": i, "status": "fail", "planTime": 1_700_000_000_000 + i}


async def test_server_that_ignores_offset_does_not_loop_forever():
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"total": 10_000, "instances": [_row(i) for i in range(5)]})

    async with _client(handler) as client:
        got = [row.instance_id async for row in client.iter_instances(page_size=5)]
    assert got == [0, 1, 2, 3, 4]
    assert len(requests) == 2  # the second page brought nothing new: stop


async def test_empty_page_stops_and_missing_total_is_fine():
    pages = {"0": [_row(1), _row(2)], "1": []}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"instances": pages[request.url.params["offset"]]})

    async with _client(handler) as client:
        got = [row.instance_id async for row in client.iter_instances(page_size=2)]
    assert got == [1, 2]


async def test_sent_request_is_signed_with_project_and_workspace():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async with _client(handler, workspace="ws-1") as client:
        await client.rerun_instance("a b/c", 7)
    request = seen[0]
    assert request.url.raw_path == b"/v1/p1/jobs/a%20b%2Fc/instances/7/restart"
    assert request.headers["workspace"] == "ws-1" and request.headers["x-project-id"] == "p1"
    signed = request.headers["authorization"].split("SignedHeaders=")[1].split(",")[0]
    assert signed.split(";") == ["content-type", "host", "user-agent", "workspace", "x-project-id", "x-sdk-date"]


@pytest.mark.parametrize(
    ("status", "body", "expected", "extra"),
    [
        (400, b'{"errorCode": "DLF.0137", "errorMsg": "gone"}', DlfNotFound, {"kind": "instance"}),
        (404, b'{"error": {"code": "DLF.0100", "message": "no job"}}', DlfNotFound, {"kind": "job"}),
        (401, b"<html>Unauthorized</html>", DlfAuthError, {}),
        (400, b'{"error_code": "APIG.0303", "error_msg": "Incorrect app authentication"}', DlfAuthError, {}),
        (400, b'{"error_code": "DLF.6888", "error_msg": "Permission invalid."}', DlfPermissionDenied, {}),
        (403, b"", DlfPermissionDenied, {}),
        (429, b"slow down", DlfThrottled, {"retry_after": 3.0}),
        (500, b'{"error_code": "DLF.0000"}', DlfUnavailable, {}),
        (504, b"<html>Gateway Time-out</html>", DlfUnavailable, {}),
        (400, b'{"error_code": "DLF.3051", "error_msg": "bad"}', DlfRequestRejected, {}),
        (409, b"[1, 2]", DlfRequestRejected, {}),
        (302, b"", DlfBadResponse, {}),
    ],
)
def test_every_answer_maps_to_one_error(status, body, expected, extra):
    err = error_from_response(
        status=status, headers={"x-request-id": "rid-1", "retry-after": "3"}, body=body, operation="op"
    )
    assert type(err) is expected
    assert err.request_id == "rid-1" and err.status_code == status and err.operation == "op"
    for name, value in extra.items():
        assert getattr(err, name) == value


def test_request_id_from_the_body_when_the_header_is_missing():
    err = error_from_response(
        status=429,
        headers={},
        body=b'{"error_code": "APIG.0308", "error_msg": "x", "request_id": "r9"}',
        operation="op",
    )
    assert isinstance(err, DlfThrottled) and err.request_id == "r9"


def test_retry_after_as_seconds_or_http_date():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds({"retry-after": "1.5"}, now=now) == 1.5
    assert retry_after_seconds({"retry-after": "Thu, 01 Jan 2026 12:00:07 GMT"}, now=now) == 7
    assert retry_after_seconds({"retry-after": "soon"}, now=now) is None
    assert retry_after_seconds({}, now=now) is None


async def test_metrics_count_calls_by_operation_and_outcome():
    registry = CollectorRegistry()
    answers = iter(
        [
            httpx.Response(503),
            httpx.Response(200, json={"total": 0, "jobs": []}),
            httpx.Response(400, json={"error_code": "DLF.0100", "error_msg": "x"}),
        ]
    )
    client = DlfClient(
        config=DlfConfig(endpoint="https://h", project_id="p", rate_limit=None, backoff_base=0.001, backoff_cap=0.001),
        credentials=AkSk(access_key="AK", secret_key="SK"),
        transport=httpx.MockTransport(lambda request: next(answers)),
        metrics=DlfMetrics(registry=registry),
    )
    async with client:
        await client.list_jobs()
        assert await client.job_exists("x") is False
    value = registry.get_sample_value
    assert value("dlf_requests_total", {"operation": "list_jobs", "outcome": "ok"}) == 1
    assert value("dlf_requests_total", {"operation": "get_job", "outcome": "DlfNotFound"}) == 1
    assert value("dlf_http_requests_total", {"operation": "list_jobs"}) == 2
    assert client.stats.requests == 3 and client.stats.retries == 1


async def test_server_reading_offset_as_rows_is_paged_by_rows():
    rows = [_row(i) for i in range(25)]
    offsets: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        offsets.append(offset)
        return httpx.Response(200, json={"total": len(rows), "instances": rows[offset : offset + limit]})

    async with _client(handler) as client:
        got = [row.instance_id async for row in client.iter_instances(page_size=10)]
    assert got == list(range(25))
    assert offsets == [0, 1, 11, 21]
