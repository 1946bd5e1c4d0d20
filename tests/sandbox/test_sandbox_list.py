"""The instance list: offset is a PAGE NUMBER, the 7-day rule, defaults, filters and parameter errors."""

from __future__ import annotations

import pytest
from conftest import Call
from sandbox_sdk_signing import dlf_path

from dlf_sandbox import ANALYTICS_WORKSPACE_ID, ManualClock, Sandbox
from dlf_sandbox.dlf_api import start_of_day_ms

DAY = 24 * 3600 * 1000
LIST = dlf_path("instances", "detail")


def window(clock: ManualClock, hours: int = 6) -> list[tuple[str, object]]:
    now = clock()
    return [("minPlanTime", now - hours * 3600_000), ("maxPlanTime", now)]


def add_history(sb: Sandbox, clock: ManualClock, job: str, count: int) -> list[int]:
    """`count` instances of a new job, planned a minute apart (newest last)."""
    sb.state.add_job(job)
    now = clock()
    times = [now - (count - i) * 60_000 for i in range(count)]
    return [sb.state.add_instance(job, status="success", plan_time=t, at=t) for t in times]


async def test_offset_is_a_page_number(call: Call, sb: Sandbox, clock: ManualClock) -> None:
    ids = add_history(sb, clock, "paged", 25)
    pages = []
    for page in range(4):
        response = await call(
            "GET",
            LIST,
            query=[("jobName", "paged"), ("preciseQuery", True), ("limit", 10), ("offset", page), *window(clock)],
        )
        assert response.status_code == 200
        assert response.json()["total"] == 25
        pages.append([row["instanceId"] for row in response.json()["instances"]])
    newest_first = list(reversed(ids))
    assert pages == [newest_first[0:10], newest_first[10:20], newest_first[20:25], []]


async def test_limit_defaults_to_10(call: Call, sb: Sandbox, clock: ManualClock) -> None:
    add_history(sb, clock, "paged", 15)
    response = await call("GET", LIST, query=[("jobName", "paged"), *window(clock)])
    assert len(response.json()["instances"]) == 10


@pytest.mark.parametrize("limit", [0, 1001, -1, "ten", "1.5"])
async def test_limit_outside_1_to_1000_is_refused(call: Call, limit: object) -> None:
    response = await call("GET", LIST, query=[("limit", limit)])
    assert response.status_code == 400
    assert response.json()["error_code"] == "DLF.3051"


async def test_a_range_of_exactly_7_days_is_allowed_and_one_ms_more_is_not(call: Call, clock: ManualClock) -> None:
    now = clock()
    ok = await call("GET", LIST, query=[("minPlanTime", now - 7 * DAY), ("maxPlanTime", now)])
    too_long = await call("GET", LIST, query=[("minPlanTime", now - 7 * DAY - 1), ("maxPlanTime", now)])
    assert ok.status_code == 200
    assert too_long.status_code == 400
    assert too_long.json()["error_code"] == "DLF.3051"


async def test_default_window_is_today_until_now(call: Call, sb: Sandbox, clock: ManualClock) -> None:
    sb.state.add_job("windowed")
    midnight = start_of_day_ms(clock())
    clock.set(midnight + 3600_000)
    yesterday = sb.state.add_instance("windowed", status="fail", plan_time=midnight - 1, at=midnight - 1)
    today = sb.state.add_instance("windowed", status="fail", plan_time=midnight + 1, at=midnight + 1)
    later = sb.state.add_instance("windowed", status="fail", plan_time=clock() + 1, at=clock() + 1)
    response = await call("GET", LIST, query=[("jobName", "windowed")])
    assert [row["instanceId"] for row in response.json()["instances"]] == [today]
    assert yesterday != later


async def test_status_filter_and_fuzzy_versus_precise_job_name(call: Call, sb: Sandbox, clock: ManualClock) -> None:
    fuzzy = await call("GET", LIST, query=[("jobName", "ORDERS"), ("status", "success"), *window(clock)])
    assert {row["jobName"] for row in fuzzy.json()["instances"]} == {"etl_orders_daily"}
    precise = await call("GET", LIST, query=[("jobName", "etl_orders"), ("preciseQuery", True), *window(clock)])
    assert precise.json() == {"total": 0, "instances": []}
    failures = await call("GET", LIST, query=[("status", "fail"), ("limit", 1000), *window(clock)])
    rows = failures.json()["instances"]
    assert rows and all(row["status"] == "fail" for row in rows)
    assert sb.seeded["other_workspace"].instance_id not in {row["instanceId"] for row in rows}


async def test_rows_have_the_documented_fields(call: Call, sb: Sandbox, clock: ManualClock) -> None:
    failed = sb.seeded["failed_node"]
    body = (await call("GET", LIST, query=[("jobName", failed.job), ("preciseQuery", True), *window(clock)])).json()
    row = next(r for r in body["instances"] if r["instanceId"] == failed.instance_id)
    assert set(row) >= {
        "jobName",
        "instanceId",
        "jobId",
        "status",
        "planTime",
        "startTime",
        "endTime",
        "executeTime",
        "submitTime",
        "version",
        "instanceType",
        "forceSuccess",
        "ignoreSuccess",
        "jobInstanceName",
        "errorMessage",
    }


async def test_junk_job_id_row_is_served_as_documented_in_the_wild(call: Call, sb: Sandbox, clock: ManualClock) -> None:
    junk = sb.seeded["junk_job_id"]
    body = (await call("GET", LIST, query=[("jobName", junk.job), *window(clock)])).json()
    assert body["instances"][0]["jobId"] == "868641,"


async def test_other_workspace_lists_only_its_own(call: Call, sb: Sandbox, clock: ManualClock) -> None:
    body = (await call("GET", LIST, query=window(clock), headers={"workspace": ANALYTICS_WORKSPACE_ID})).json()
    assert [row["instanceId"] for row in body["instances"]] == [sb.seeded["other_workspace"].instance_id]


async def test_instance_type_filter(call: Call, sb: Sandbox, clock: ManualClock) -> None:
    sb.state.add_job("typed")
    manual = sb.state.add_instance("typed", status="success", instance_type=2)
    sb.state.add_instance("typed", status="success", instance_type=0)
    body = (await call("GET", LIST, query=[("jobName", "typed"), ("instanceType", 2), *window(clock)])).json()
    assert [row["instanceId"] for row in body["instances"]] == [manual]


def test_many_instances_filter_by_status_and_window(clock: ManualClock) -> None:
    """100k instances: the indexes give the same answer as a plain scan would."""
    sb = Sandbox(seed=False, clock=clock)
    now = clock()
    sb.state.add_jobs(f"bulk_{i:05d}" for i in range(1000))
    failed = set()
    for i in range(100_000):
        status = "fail" if i % 200 == 0 else "success"
        iid = sb.state.add_instance(
            f"bulk_{i % 1000:05d}", status=status, plan_time=now - (i * 7919) % (3 * DAY), nodes=1
        )
        if status == "fail" and now - (i * 7919) % (3 * DAY) >= now - DAY:
            failed.add(iid)
    total, rows = sb.state.list_instances(min_plan_time=now - DAY, max_plan_time=now, status="fail", limit=1000)
    assert total == len(failed) and {row.instance_id for row in rows} == failed
    plan_times = [row.plan_time for row in rows]
    assert plan_times == sorted(plan_times, reverse=True)
    in_window, _ = sb.state.list_instances(min_plan_time=now - DAY, max_plan_time=now, limit=1)
    assert in_window == sum(1 for i in range(100_000) if (i * 7919) % (3 * DAY) <= DAY)
