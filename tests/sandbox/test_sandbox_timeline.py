"""State and timeline: instances appear, run, fail and succeed deterministically; reruns follow a policy."""

from __future__ import annotations

import httpx
import pytest
from conftest import Call
from sandbox_sdk_signing import dlf_path

from dlf_sandbox import ManualClock, Sandbox
from dlf_sandbox.activity import DEFAULT_BEATS, schedule_activity
from dlf_sandbox.apierrors import ApiError

NODES = [("extract", "CDM Job"), ("transform", "DLI SQL"), ("load", "DWS SQL")]


@pytest.fixture
def empty(clock: ManualClock) -> Sandbox:
    sandbox = Sandbox(seed=False, clock=clock)
    sandbox.state.add_job("nightly", nodes=NODES)
    return sandbox


def test_step_applies_events_in_time_order_with_their_own_times(empty: Sandbox, clock: ManualClock) -> None:
    t = clock()
    iid = empty.timeline.appear("nightly", at=t + 1000)
    empty.timeline.fail("nightly", iid, at=t + 5000, failed_node="transform")
    with pytest.raises(ApiError, match="DLF.0137"):
        empty.state.instance("nightly", iid)
    assert empty.timeline.step().kind == "appear"  # type: ignore[union-attr]
    running = empty.state.instance("nightly", iid)
    assert running.status == "running" and running.start_time == t + 1000 and running.plan_time == t + 1000
    assert [n.status for n in running.nodes] == ["running", "waiting", "waiting"]
    empty.timeline.step()
    failed = empty.state.instance("nightly", iid)
    assert failed.status == "fail" and failed.end_time == t + 5000 and failed.execute_time == 4000
    assert [n.status for n in failed.nodes] == ["success", "fail", "skip"]
    assert failed.nodes[1].log_path and failed.nodes[1].retry_times
    assert empty.timeline.step() is None


def test_step_until_applies_only_what_is_due(empty: Sandbox, clock: ManualClock) -> None:
    t = clock()
    first = empty.timeline.appear("nightly", at=t + 100)
    second = empty.timeline.appear("nightly", at=t + 200)
    empty.timeline.succeed("nightly", first, at=t + 300)
    applied = empty.timeline.step_until(t + 250)
    assert [(e.kind, e.instance_id) for e in applied] == [("appear", first), ("appear", second)]
    assert empty.state.instance("nightly", first).status == "running"
    empty.timeline.step_until(t + 300)
    succeeded = empty.state.instance("nightly", first)
    assert succeeded.status == "success" and all(n.status == "success" for n in succeeded.nodes)
    assert all(n.start_time is not None and n.end_time is not None for n in succeeded.nodes)
    assert empty.timeline.pending == []


def test_set_status_keeps_nodes_consistent(empty: Sandbox, clock: ManualClock) -> None:
    iid = empty.state.add_instance("nightly", status="waiting")
    waiting = empty.state.instance("nightly", iid)
    assert waiting.start_time is None and {n.status for n in waiting.nodes} == {"waiting"}
    empty.state.set_status("nightly", iid, "running", at=clock())
    clock.advance(60_000)
    instance = empty.state.set_status("nightly", iid, "fail")
    assert instance.end_time == clock() and instance.execute_time == 60_000
    assert [n.status for n in instance.nodes] == ["fail", "skip", "skip"]
    with pytest.raises(ValueError):
        empty.state.set_status("nightly", iid, "fail", failed_node="no such node")


def test_unknown_status_is_kept(empty: Sandbox) -> None:
    iid = empty.state.add_instance("nightly", status="something-new")
    assert empty.state.instance("nightly", iid).status == "something-new"
    total, rows = empty.state.list_instances(min_plan_time=0, max_plan_time=2**62, status="something-new")
    assert (total, [r.instance_id for r in rows]) == (1, [iid])


async def test_rerun_through_the_api_then_the_policy_decides(call: Call, sb: Sandbox, clock: ManualClock) -> None:
    seeded = sb.seeded["failed_node"]
    sb.timeline.on_rerun("success", after_ms=30_000)
    response = await call("POST", dlf_path(seeded.job, "instances", seeded.instance_id, "restart"))
    assert response.status_code == 204
    assert sb.state.instance(seeded.job, seeded.instance_id).status == "running"
    sb.timeline.step_until(clock() + 29_999)
    assert sb.state.instance(seeded.job, seeded.instance_id).status == "running"
    sb.timeline.step_until(clock() + 30_000)
    rerun = sb.state.instance(seeded.job, seeded.instance_id)
    assert rerun.status == "success" and rerun.end_time == clock() + 30_000 and rerun.runs == 2


async def test_rerun_policy_per_job_and_failure(call: Call, sb: Sandbox, clock: ManualClock) -> None:
    seeded = sb.seeded["failed_node"]
    sb.timeline.on_rerun("fail", after_ms=1_000, job=seeded.job, failed_node="refresh_mart")
    sb.timeline.on_rerun("success", after_ms=1_000, job="some_other_job")
    await call("POST", dlf_path(seeded.job, "instances", seeded.instance_id, "restart"))
    sb.timeline.step_until(clock() + 1_000)
    again = sb.state.instance(seeded.job, seeded.instance_id)
    assert again.status == "fail"
    assert [n.status for n in again.nodes] == ["success", "success", "fail"]


async def test_a_rerun_policy_for_one_instance_set_over_http_finishes_node_by_node(
    call: Call, sb: Sandbox, clock: ManualClock, base_url: str, http: httpx.AsyncClient
) -> None:
    seeded = sb.seeded["failed_node"]
    other = sb.timeline.appear(seeded.job, at=clock() - 60_000, status="running")
    sb.timeline.fail(seeded.job, other, at=clock() - 1_000)
    sb.timeline.step_until(clock())
    scripted = await http.post(
        base_url + "/_sandbox/timeline/on_rerun",
        json={"outcome": "success", "after_ms": 4_000, "job": seeded.job, "instance_id": seeded.instance_id},
    )
    assert scripted.status_code == 200

    await call("POST", dlf_path(seeded.job, "instances", other, "restart"), body=b'{"retry_location": "first_node"}')
    assert sb.timeline.pending == []  # another instance of the job: no policy, it stays running
    await call(
        "POST",
        dlf_path(seeded.job, "instances", seeded.instance_id, "restart"),
        body=b'{"retry_location": "first_node"}',
    )
    total = len(sb.state.instance(seeded.job, seeded.instance_id).nodes)
    done = []
    while sb.timeline.step() is not None:
        rerun = sb.state.instance(seeded.job, seeded.instance_id)
        done.append(sum(n.status == "success" for n in rerun.nodes))
    assert done == list(range(1, total)) + [total]  # one node per step, then the instance's success
    assert sb.state.instance(seeded.job, seeded.instance_id).status == "success"
    assert sb.state.instance(seeded.job, other).status == "running"


async def test_without_policy_a_rerun_stays_running(call: Call, sb: Sandbox) -> None:
    seeded = sb.seeded["failed_node"]
    await call("POST", dlf_path(seeded.job, "instances", seeded.instance_id, "restart"))
    assert sb.timeline.pending == []
    assert sb.state.instance(seeded.job, seeded.instance_id).status == "running"


async def test_play_applies_events_as_the_clock_reaches_them(call: Call, sb: Sandbox, clock: ManualClock) -> None:
    sb.state.add_job("played", nodes=NODES)
    t = clock()
    iid = sb.timeline.appear("played", at=t + 10_000)
    sb.timeline.fail("played", iid, at=t + 20_000)
    sb.timeline.play()
    path = dlf_path("played", "instances", iid)
    assert (await call("GET", path)).json()["error_code"] == "DLF.0137"
    clock.advance(10_000)
    assert (await call("GET", path)).json()["status"] == "running"
    clock.advance(10_000)
    assert (await call("GET", path)).json()["status"] == "fail"


async def test_admin_endpoints_script_the_timeline(
    sb: Sandbox, base_url: str, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    await http.post(base_url + "/_sandbox/jobs", json={"name": "remote_job"})
    t = clock()
    appeared = await http.post(
        base_url + "/_sandbox/timeline/events", json={"kind": "appear", "job": "remote_job", "at": t + 1}
    )
    iid = appeared.json()["instanceId"]
    await http.post(
        base_url + "/_sandbox/timeline/events",
        json={"kind": "status", "job": "remote_job", "instance_id": iid, "status": "fail", "at": t + 2},
    )
    stepped = await http.post(base_url + "/_sandbox/timeline/step_until", json={"ms": t + 2})
    assert [e["kind"] for e in stepped.json()["applied"]] == ["appear", "status"]
    assert sb.state.instance("remote_job", iid).status == "fail"
    created = await http.post(base_url + "/_sandbox/instances", json={"job": "remote_job", "status": "success"})
    other = created.json()["instanceId"]
    await http.post(base_url + f"/_sandbox/instances/{other}/status", json={"job": "remote_job", "status": "fail"})
    assert sb.state.instance("remote_job", other).status == "fail"
    missing = await http.post(base_url + "/_sandbox/instances", json={"job": "nope"})
    assert missing.status_code == 400


def test_thousands_of_jobs_and_failures(clock: ManualClock) -> None:
    sandbox = Sandbox(seed=False, clock=clock)
    assert sandbox.state.add_jobs(f"job_{i:05d}" for i in range(10_000)) == 10_000
    ids = [sandbox.state.add_instance(f"job_{i * 20:05d}", status="fail") for i in range(500)]
    total, rows = sandbox.state.list_instances(
        min_plan_time=clock() - 1, max_plan_time=clock(), status="fail", limit=1000
    )
    assert total == 500 and {r.instance_id for r in rows} == set(ids)


def test_scheduled_activity_alternates_failures_and_successes(sb: Sandbox, clock: ManualClock) -> None:
    start = clock() + 1_000
    ids = schedule_activity(sb.timeline, start_ms=start, every_ms=60_000, cycles=4)
    sb.timeline.step_until(start + 3 * 60_000)
    ended = [sb.state.instance(beat.job, iid) for beat, iid in zip(DEFAULT_BEATS, ids, strict=True)]
    assert [(i.job_name, i.status) for i in ended] == [
        ("etl_orders_daily", "success"),
        ("dws_load_customers", "fail"),
        ("etl_orders_daily", "fail"),
        ("dws_load_customers", "running"),
    ]
    assert ended[1].end_time == start + 60_000 + 30_000


async def test_a_rerun_from_the_first_node_completes_its_nodes_one_by_one(
    call: Call, sb: Sandbox, clock: ManualClock
) -> None:
    seeded = sb.seeded["failed_node"]  # extract_crm, load_dim_customer (failed), refresh_mart
    sb.timeline.on_rerun("success", after_ms=40_000)
    await call(
        "POST",
        dlf_path(seeded.job, "instances", seeded.instance_id, "restart"),
        body=b'{"retry_location": "first_node"}',
    )
    statuses = []
    for at in (0, 10_000, 20_000, 30_000, 40_000):
        sb.timeline.step_until(clock() + at)
        statuses.append([n.status for n in sb.state.instance(seeded.job, seeded.instance_id).nodes])
    assert statuses == [
        ["running", "waiting", "waiting"],
        ["success", "running", "waiting"],
        ["success", "success", "running"],
        ["success", "success", "running"],
        ["success", "success", "success"],
    ]


async def test_a_rerun_from_the_failed_node_keeps_what_succeeded(call: Call, sb: Sandbox, clock: ManualClock) -> None:
    seeded = sb.seeded["failed_node"]
    before = sb.state.instance(seeded.job, seeded.instance_id)
    extract_times = (before.nodes[0].start_time, before.nodes[0].end_time)
    sb.timeline.on_rerun("fail", after_ms=5_000, failed_node="refresh_mart")
    response = await call(
        "POST",
        dlf_path(seeded.job, "instances", seeded.instance_id, "restart"),
        body=b'{"retry_location": "error_node"}',
    )
    assert response.status_code == 204
    rerun = sb.state.instance(seeded.job, seeded.instance_id)
    assert [n.status for n in rerun.nodes] == ["success", "running", "waiting"]
    assert (rerun.nodes[0].start_time, rerun.nodes[0].end_time) == extract_times
    sb.timeline.step_until(clock() + 5_000)
    assert [n.status for n in rerun.nodes] == ["success", "success", "fail"]
    assert sb.calls[-1].body == {"retry_location": "error_node"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"retry_location": "errorNode"}',
        b'{"retry_location": "specified_node"}',
        b'{"retry_location": "specified_node", "node_name": "no_such_node"}',
        b"{not json",
        b"[1]",
        b'{"job_param_version": "current_version"}',
    ],
)
async def test_a_rerun_body_dlf_would_refuse_is_dlf_3051_and_changes_nothing(
    call: Call, sb: Sandbox, body: bytes
) -> None:
    seeded = sb.seeded["failed_node"]
    response = await call("POST", dlf_path(seeded.job, "instances", seeded.instance_id, "restart"), body=body)
    assert response.status_code == 400
    assert response.json()["error_code"] == "DLF.3051"
    assert sb.state.instance(seeded.job, seeded.instance_id).status == "fail"


async def test_a_rerun_from_a_specified_node(call: Call, sb: Sandbox) -> None:
    seeded = sb.seeded["failed_node"]
    await call(
        "POST",
        dlf_path(seeded.job, "instances", seeded.instance_id, "restart"),
        body=b'{"retry_location": "specified_node", "node_name": "refresh_mart"}',
    )
    rerun = sb.state.instance(seeded.job, seeded.instance_id)
    assert [n.status for n in rerun.nodes] == ["success", "fail", "running"]
