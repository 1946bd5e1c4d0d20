"""Fault knobs: throttling, 5xx, malformed bodies, dropped connections, latency, targeting, and the call log."""

from __future__ import annotations

import time

import httpx
import pytest
from conftest import Call
from sandbox_sdk_signing import dlf_path

from dlf_sandbox import Faults, Sandbox

DETAILS = dlf_path("job_batch", "instances", 34765)
LIST = dlf_path("instances", "detail")


async def test_throttle_next_n_then_recover(call: Call, sb: Sandbox) -> None:
    sb.faults.throttle(n=2, retry_after=3)
    first, second, third = [await call("GET", DETAILS) for _ in range(3)]
    for throttled in (first, second):
        assert throttled.status_code == 429
        assert throttled.headers["Retry-After"] == "3"
        assert throttled.json()["error_code"] == "APIG.0308"
        assert throttled.json()["error_msg"].startswith("The throttling threshold has been reached")
    assert third.status_code == 200


async def test_throttle_without_retry_after(call: Call, sb: Sandbox) -> None:
    sb.faults.throttle(n=1, retry_after=None)
    response = await call("GET", DETAILS)
    assert response.status_code == 429 and "Retry-After" not in response.headers


async def test_server_errors_json_and_html(call: Call, sb: Sandbox) -> None:
    sb.faults.server_error(n=1, status=500)
    sb.faults.server_error(n=1, status=503, html=True)
    json_error, html_error, ok = [await call("GET", DETAILS) for _ in range(3)]
    assert json_error.status_code == 500 and json_error.json()["error_code"]
    assert html_error.status_code == 503 and html_error.headers["content-type"].startswith("text/html")
    assert "<html>" in html_error.text and html_error.headers["X-Request-Id"]
    assert ok.status_code == 200


@pytest.mark.parametrize("kind", ["not_json", "truncated"])
async def test_malformed_bodies_are_not_json(call: Call, sb: Sandbox, kind: str) -> None:
    sb.faults.malformed(n=1, kind=kind)  # type: ignore[arg-type]
    response = await call("GET", LIST)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


async def test_wrong_shape_is_json_of_the_wrong_shape(call: Call, sb: Sandbox) -> None:
    sb.faults.malformed(n=1, kind="wrong_shape")
    body = (await call("GET", LIST)).json()
    assert not isinstance(body.get("instances"), list)


async def test_reset_connection_drops_without_an_answer(call: Call, sb: Sandbox) -> None:
    sb.faults.reset_connection(n=1)
    with pytest.raises(httpx.TransportError):
        await call("GET", DETAILS)
    assert (await call("GET", DETAILS)).status_code == 200
    assert [c.status for c in sb.calls] == [None, 200]


async def test_faults_can_target_one_operation(call: Call, sb: Sandbox) -> None:
    sb.faults.throttle(n=1, operation="list_instances")
    assert (await call("GET", DETAILS)).status_code == 200
    assert (await call("GET", LIST)).status_code == 429
    assert (await call("GET", LIST)).status_code == 200


async def test_latency_delays_each_request(call: Call, sb: Sandbox) -> None:
    sb.faults.latency_ms = 120
    started = time.perf_counter()
    await call("GET", DETAILS)
    assert time.perf_counter() - started >= 0.12


async def test_calls_are_recorded_with_operation_and_decoded_query(call: Call, sb: Sandbox) -> None:
    await call("GET", DETAILS)
    await call("GET", LIST, query=[("jobName", "销售"), ("limit", 5)])
    await call("POST", dlf_path("job_batch", "instances", 34765, "restart"))
    assert [c.operation for c in sb.calls] == ["show_instance", "list_instances", "restart_instance"]
    assert sb.calls[1].query == {"jobName": "销售", "limit": "5"}
    assert sb.calls[0].path.endswith("/jobs/job_batch/instances/34765")
    assert sb.calls.by_operation() == {"show_instance": 1, "list_instances": 1, "restart_instance": 1}
    sb.calls.reset()
    assert len(sb.calls) == 0


async def test_admin_endpoints_drive_faults_and_calls(
    call: Call, sb: Sandbox, base_url: str, http: httpx.AsyncClient
) -> None:
    response = await http.post(
        base_url + "/_sandbox/faults",
        json={"kind": "server_error", "n": 1, "status": 502, "operation": "show_instance"},
    )
    assert response.status_code == 200
    assert (await call("GET", DETAILS)).status_code == 502
    counted = (await http.get(base_url + "/_sandbox/calls")).json()
    assert counted["count"] == 1 and counted["by_operation"] == {"show_instance": 1}
    await http.delete(base_url + "/_sandbox/calls")
    assert len(sb.calls) == 0
    await http.post(base_url + "/_sandbox/faults", json={"latency_ms": 25})
    assert sb.faults.latency_ms == 25
    await http.delete(base_url + "/_sandbox/faults")
    assert sb.faults.latency_ms == 0 and sb.faults.pending() == []
    bad = await http.post(base_url + "/_sandbox/faults", json={"kind": "meteor"})
    assert bad.status_code == 400


async def test_faults_do_not_touch_admin_or_unrecorded_paths(
    sb: Sandbox, base_url: str, http: httpx.AsyncClient
) -> None:
    sb.faults.throttle(n=1)
    assert (await http.get(base_url + "/_sandbox/health")).status_code == 200
    assert len(sb.faults.pending()) == 1


def test_rate_limit_counts_per_operation_within_the_window() -> None:
    now = [100.0]
    faults = Faults(monotonic=lambda: now[0])
    faults.limit_rate({"show_instance": 2})
    assert [faults.over_rate("show_instance") for _ in range(3)] == [False, False, True]
    assert faults.over_rate("list_instances") is False
    now[0] += 1.0
    assert faults.over_rate("show_instance") is False
    faults.limit_rate(None)
    assert not any(faults.over_rate("show_instance") for _ in range(100))


async def test_rate_limit_answers_429_like_the_gateway(
    call: Call, sb: Sandbox, base_url: str, http: httpx.AsyncClient
) -> None:
    await http.post(base_url + "/_sandbox/faults", json={"rate_limits": {"show_instance": 2}, "rate_window_s": 600})
    statuses = [(await call("GET", DETAILS)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert (await call("GET", LIST)).status_code == 200
    sb.faults.clear()
    assert (await call("GET", DETAILS)).status_code == 200


async def test_camel_case_error_bodies_on_request(call: Call, sb: Sandbox) -> None:
    sb.faults.camel_case_errors = True
    dlf_error = await call("GET", dlf_path("job_batch", "instances", 1))
    assert dlf_error.json() == {"errorCode": "DLF.0137", "errorMsg": "Job instance does not exist."}
    sb.faults.throttle(n=1)
    assert (await call("GET", DETAILS)).json()["error_code"] == "APIG.0308"


def test_a_timed_fault_hits_every_request_until_its_deadline_then_is_gone() -> None:
    now = [100.0]
    faults = Faults(monotonic=lambda: now[0])
    faults.server_error(status=503, for_s=10, operation="list_instances")
    hits = [faults.take("list_instances") for _ in range(50)]
    assert all(rule is not None and rule.status == 503 for rule in hits)  # not "the next n": all of them
    assert faults.take("show_instance") is None
    now[0] += 10.0
    assert faults.take("list_instances") is None and faults.pending() == []
    with pytest.raises(ValueError):
        faults.throttle(for_s=0)


async def test_an_outage_of_a_few_seconds_answers_every_request_with_its_fault(call: Call, sb: Sandbox) -> None:
    sb.faults.malformed(kind="not_json", for_s=30)
    bodies = [await call("GET", DETAILS) for _ in range(4)]
    assert all(b.status_code == 200 and b.headers["content-type"].startswith("text/html") for b in bodies)
    sb.faults.clear()
    assert (await call("GET", DETAILS)).json()["jobName"] == "job_batch"


async def test_slow_answers_arrive_after_their_delay_and_are_otherwise_normal(call: Call, sb: Sandbox) -> None:
    sb.faults.slow(0.3, n=1)
    started = time.monotonic()
    slow = await call("GET", DETAILS)
    waited = time.monotonic() - started
    fast = await call("GET", DETAILS)
    assert slow.status_code == 200 and slow.json() == fast.json()
    assert waited >= 0.3
