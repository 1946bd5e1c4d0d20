"""The client against the real sandbox over HTTP: every operation, every kind of credentials."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dlf_rig import MakeClient, assert_no_secrets

from bot.dlf.models import Instance
from bot.errors import DlfNotFound, DlfRequestRejected
from dlf_sandbox import (
    ANALYTICS_WORKSPACE_ID,
    LONG_JOB_NAME,
    SEEDED,
    WEIRD_JOB_NAME,
    Sandbox,
)

SEED_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "instance_job_batch_34765.json"


@pytest.mark.parametrize("kind", ["aksk", "temporary", "iam", "static"])
async def test_seed_instance_details_with_every_kind_of_credentials(make_client: MakeClient, kind, debug_logs):
    client = make_client(kind)
    instance = await client.get_instance("job_batch", 34765)
    assert instance == Instance.model_validate(json.loads(SEED_FIXTURE.read_text()))
    assert client.stats.requests == 1
    assert "operation=get_instance" in debug_logs.text and "status=200" in debug_logs.text
    assert_no_secrets(debug_logs.text)


@pytest.mark.parametrize("name", ["销售日报_汇总", WEIRD_JOB_NAME, LONG_JOB_NAME, "sdk_spelling_job"])
async def test_names_that_need_encoding_reach_the_right_instance(make_client: MakeClient, sb: Sandbox, name):
    expected = next(s for s in SEEDED.values() if s.job == name)
    instance = await make_client().get_instance(name, expected.instance_id)
    assert (instance.job_name, instance.instance_id, instance.status) == (name, expected.instance_id, expected.status)
    assert sb.calls[-1].path.endswith(f"/jobs/{name}/instances/{expected.instance_id}")


async def test_sdk_spelling_instance_parses(make_client: MakeClient):
    instance = await make_client().get_instance("sdk_spelling_job", SEEDED["sdk_spelling"].instance_id)
    assert instance.nodes and all(node.type for node in instance.nodes)


async def test_workspace_header_selects_the_workspace(make_client: MakeClient):
    seeded = SEEDED["other_workspace"]
    found = await make_client(workspace=ANALYTICS_WORKSPACE_ID).get_instance(seeded.job, seeded.instance_id)
    assert found.status == seeded.status
    with pytest.raises(DlfNotFound) as info:
        await make_client().get_instance(seeded.job, seeded.instance_id)
    assert info.value.kind == "job"


async def test_list_one_page_with_filters(make_client: MakeClient, sb: Sandbox):
    page = await make_client().list_instances(
        job_name="dws_load_customers",
        status="fail",
        precise=True,
        limit=10,
        min_plan_time=sb.clock() - 6 * 24 * 3600 * 1000,
        max_plan_time=sb.clock(),
    )
    ids = {row.instance_id for row in page.instances}
    assert ids == {SEEDED["failed_node"].instance_id, SEEDED["ignored_failure"].instance_id}
    assert page.total == 2
    sent = sb.calls[-1].query
    assert sent["preciseQuery"] == "true" and sent["offset"] == "0" and sent["status"] == "fail"


async def test_iter_instances_pages_by_page_number_until_total(make_client: MakeClient, sb: Sandbox):
    sb.state.add_job("paged_job")
    now = sb.clock()
    created = {sb.state.add_instance("paged_job", status="fail", plan_time=now - i * 1000) for i in range(25)}
    client = make_client()
    got = [row.instance_id async for row in client.iter_instances(job_name="paged_job", precise=True, page_size=10)]
    assert sorted(got) == sorted(created) and len(got) == 25
    offsets = [call.query["offset"] for call in sb.calls if call.operation == "list_instances"]
    assert offsets == ["0", "1", "2"]


async def test_iter_instances_stops_exactly_at_total_on_a_full_last_page(make_client: MakeClient, sb: Sandbox):
    sb.state.add_job("twenty_job")
    now = sb.clock()
    for i in range(20):
        sb.state.add_instance("twenty_job", status="fail", plan_time=now - i * 1000)
    client = make_client()
    got = [row async for row in client.iter_instances(job_name="twenty_job", precise=True, page_size=10)]
    assert len(got) == 20
    assert client.stats.requests == 2  # the total says there is no third page


async def test_iter_instances_deduplicates_when_rows_shift_between_pages(make_client: MakeClient, sb: Sandbox):
    sb.state.add_job("shifting_job")
    now = sb.clock()
    created = [
        sb.state.add_instance("shifting_job", status="fail", plan_time=now - 10_000 - i * 1000) for i in range(15)
    ]
    client = make_client()
    got: list[int] = []
    async for row in client.iter_instances(job_name="shifting_job", precise=True, page_size=10):
        got.append(row.instance_id)
        if len(got) == 10:
            # A newer instance appears between two page requests: every row moves one place down.
            sb.state.add_instance("shifting_job", status="fail", plan_time=now)
    assert len(got) == len(set(got)) == 15
    assert set(got) == set(created)


async def test_rerun_and_stop_change_the_instance(make_client: MakeClient, sb: Sandbox):
    client = make_client()
    seed = SEEDED["seed"]
    await client.rerun_instance(seed.job, seed.instance_id)
    assert sb.state.instance(seed.job, seed.instance_id).status == "running"
    running = SEEDED["running"]
    await client.stop_instance(running.job, running.instance_id)
    assert sb.state.instance(running.job, running.instance_id).status == "manual-stop"
    assert [c.operation for c in sb.calls] == ["restart_instance", "stop_instance"]


async def test_rerun_of_a_running_instance_is_rejected_with_dlf_reason(make_client: MakeClient):
    running = SEEDED["running"]
    with pytest.raises(DlfRequestRejected) as info:
        await make_client().rerun_instance(running.job, running.instance_id)
    assert info.value.status_code == 400 and info.value.code and info.value.code.startswith("DLF.")
    assert info.value.request_id


async def test_job_list_and_job_exists(make_client: MakeClient):
    client = make_client()
    page = await client.list_jobs(job_name="etl_orders", limit=10)
    assert [job.name for job in page.jobs] == ["etl_orders_daily"] and page.total == 1
    assert page.jobs[0].job_type == "BATCH"
    batch = await client.list_jobs(job_type="BATCH", limit=100)
    assert "job_batch" in {job.name for job in batch.jobs}
    job = await client.get_job("job_batch")
    assert job.name == "job_batch" and job.job_type == "BATCH"
    assert await client.job_exists("job_batch") is True
    assert await client.job_exists("no_such_job") is False


@pytest.mark.parametrize(
    ("job", "instance_id", "error"),
    [
        ("", 1, ValueError),
        ("..", 1, ValueError),
        ("job_batch", "34765", TypeError),
        ("job_batch", True, TypeError),
        ("job_batch", -1, ValueError),
        ("job_batch", 2**63, ValueError),
    ],
)
async def test_bad_arguments_send_nothing(make_client: MakeClient, sb: Sandbox, job, instance_id, error):
    client = make_client()
    with pytest.raises(error):
        await client.get_instance(job, instance_id)
    assert client.stats.requests == 0 and len(sb.calls) == 0
