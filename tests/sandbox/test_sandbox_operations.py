"""DLF operations over HTTP: details, rerun, stop, job list and details, error bodies, names that need encoding."""

from __future__ import annotations

import httpx
import pytest
from conftest import Call
from sandbox_sdk_signing import dlf_path

from dlf_sandbox import ANALYTICS_WORKSPACE_ID, LONG_JOB_NAME, WEIRD_JOB_NAME, Sandbox


async def test_missing_instance_gives_dlf_0137(call: Call) -> None:
    response = await call("GET", dlf_path("job_batch", "instances", 999999))
    assert response.status_code == 400
    assert response.json() == {"error_code": "DLF.0137", "error_msg": "Job instance does not exist."}
    assert response.headers["X-Request-Id"]


async def test_missing_job_gives_dlf_0100(call: Call) -> None:
    response = await call("GET", dlf_path("no_such_job", "instances", 34765))
    assert response.status_code == 400
    assert response.json()["error_code"] == "DLF.0100"


async def test_instance_of_another_job_is_not_found(call: Call) -> None:
    response = await call("GET", dlf_path("etl_orders_daily", "instances", 34765))
    assert response.json()["error_code"] == "DLF.0137"


async def test_non_numeric_instance_id_is_an_invalid_parameter(call: Call) -> None:
    response = await call("GET", dlf_path("job_batch", "instances", "34765abc"))
    assert response.status_code == 400
    assert response.json()["error_code"] == "DLF.3051"


@pytest.mark.parametrize("key", ["weird_names", "chinese", "long_name"])
async def test_names_that_need_encoding_reach_their_instance(call: Call, sb: Sandbox, key: str) -> None:
    seeded = sb.seeded[key]
    response = await call("GET", dlf_path(seeded.job, "instances", seeded.instance_id))
    assert response.status_code == 200, response.text
    assert response.json()["jobName"] == seeded.job
    assert len(LONG_JOB_NAME) == 128


async def test_encoded_slash_stays_inside_the_job_name(call: Call) -> None:
    response = await call("GET", dlf_path("job_batch/instances/34765", "instances", 34765))
    assert response.json()["error_code"] == "DLF.0100"


async def test_sdk_spelling_instance_uses_instances_id_string_and_node_type(call: Call, sb: Sandbox) -> None:
    seeded = sb.seeded["sdk_spelling"]
    body = (await call("GET", dlf_path(seeded.job, "instances", seeded.instance_id))).json()
    assert body["instancesId"] == str(seeded.instance_id) and "instanceId" not in body
    assert all("nodeType" in node and "type" not in node for node in body["nodes"])


async def test_large_instance_has_5000_nodes_with_the_failed_one(call: Call, sb: Sandbox) -> None:
    seeded = sb.seeded["large"]
    body = (await call("GET", dlf_path(seeded.job, "instances", seeded.instance_id))).json()
    assert body["total"] == len(body["nodes"]) == 5000
    failed = [node for node in body["nodes"] if node["status"] == "fail"]
    assert [node["nodeName"] for node in failed] == ["node_4990"]
    assert failed[0]["logPath"]


async def test_running_instance_has_nodes_in_progress(call: Call, sb: Sandbox) -> None:
    seeded = sb.seeded["running"]
    body = (await call("GET", dlf_path(seeded.job, "instances", seeded.instance_id))).json()
    statuses = [node["status"] for node in body["nodes"]]
    assert body["status"] == "running" and "endTime" not in body
    assert statuses.count("running") >= 2 and "waiting" in statuses and "success" in statuses


async def test_rerun_of_a_failed_instance_starts_a_new_run(call: Call, sb: Sandbox) -> None:
    seeded = sb.seeded["failed_node"]
    response = await call("POST", dlf_path(seeded.job, "instances", seeded.instance_id, "restart"))
    assert response.status_code == 204 and response.content == b""
    body = (await call("GET", dlf_path(seeded.job, "instances", seeded.instance_id))).json()
    assert body["status"] == "running" and "endTime" not in body
    assert [n["status"] for n in body["nodes"]] == ["running", "waiting", "waiting"]
    assert sb.state.instance(seeded.job, seeded.instance_id).runs == 2


@pytest.mark.parametrize("key", ["running", "waiting_confirm"])
async def test_rerun_is_refused_unless_finished(call: Call, sb: Sandbox, key: str) -> None:
    seeded = sb.seeded[key]
    response = await call("POST", dlf_path(seeded.job, "instances", seeded.instance_id, "restart"))
    assert response.status_code == 400
    assert response.json()["error_code"].startswith("DLF.")
    assert sb.state.instance(seeded.job, seeded.instance_id).status == seeded.status


async def test_rerun_of_stopped_and_succeeded_instances_is_allowed(call: Call, sb: Sandbox) -> None:
    for key in ("stopped", "succeeded"):
        seeded = sb.seeded[key]
        response = await call("POST", dlf_path(seeded.job, "instances", seeded.instance_id, "restart"))
        assert response.status_code == 204, key


async def test_stop_only_a_running_instance(call: Call, sb: Sandbox) -> None:
    running, failed = sb.seeded["running"], sb.seeded["failed_node"]
    refused = await call("POST", dlf_path(failed.job, "instances", failed.instance_id, "stop"))
    assert refused.status_code == 400 and refused.json()["error_code"].startswith("DLF.")
    stopped = await call("POST", dlf_path(running.job, "instances", running.instance_id, "stop"))
    assert stopped.status_code == 204
    instance = sb.state.instance(running.job, running.instance_id)
    assert instance.status == "manual-stop" and instance.end_time is not None
    assert "running" not in {node.status for node in instance.nodes}


async def test_job_list_pages_by_page_number_and_filters(call: Call, sb: Sandbox) -> None:
    for i in range(12):
        sb.state.add_job(f"paged_job_{i:02d}")
    sb.state.add_job("paged_job_stream", job_type="REAL_TIME")
    first = await call("GET", dlf_path(), query=[("jobName", "paged_job"), ("jobType", "BATCH"), ("limit", 5)])
    second = await call(
        "GET", dlf_path(), query=[("jobName", "paged_job"), ("jobType", "BATCH"), ("limit", 5), ("offset", 1)]
    )
    assert first.json()["total"] == 12
    names = [job["name"] for job in first.json()["jobs"] + second.json()["jobs"]]
    assert names == [f"paged_job_{i:02d}" for i in range(10)]
    assert set(first.json()["jobs"][0]) >= {"name", "jobType", "status"}
    streams = await call("GET", dlf_path(), query=[("jobName", "paged_job"), ("jobType", "REAL_TIME")])
    assert [job["name"] for job in streams.json()["jobs"]] == ["paged_job_stream"]


async def test_job_list_limit_out_of_range_is_refused(call: Call) -> None:
    response = await call("GET", dlf_path(), query=[("limit", 101)])
    assert response.status_code == 400 and response.json()["error_code"] == "DLF.3051"


async def test_job_details(call: Call) -> None:
    body = (await call("GET", dlf_path("dws_load_customers"))).json()
    assert body["name"] == "dws_load_customers"
    assert [node["name"] for node in body["nodes"]] == ["extract_crm", "load_dim_customer", "refresh_mart"]
    missing = await call("GET", dlf_path("nope"))
    assert missing.status_code == 400 and missing.json()["error_code"] == "DLF.0100"


async def test_workspace_header_scopes_jobs(call: Call, sb: Sandbox) -> None:
    seeded = sb.seeded["other_workspace"]
    path = dlf_path(seeded.job, "instances", seeded.instance_id)
    assert (await call("GET", path)).json()["error_code"] == "DLF.0100"
    assert (await call("GET", path, headers={"workspace": ANALYTICS_WORKSPACE_ID})).status_code == 200
    seed_in_analytics = await call(
        "GET", dlf_path("job_batch", "instances", 34765), headers={"workspace": ANALYTICS_WORKSPACE_ID}
    )
    assert seed_in_analytics.json()["error_code"] == "DLF.0100"


async def test_unknown_workspace_is_refused(call: Call) -> None:
    response = await call("GET", dlf_path("job_batch", "instances", 34765), headers={"workspace": "nope"})
    assert response.status_code == 400
    assert "Workspace does not exist" in response.json()["error_msg"]


async def test_unknown_api_is_the_gateways_404(call: Call, base_url: str, http: httpx.AsyncClient) -> None:
    response = await call("DELETE", dlf_path("job_batch"))
    assert response.status_code == 404 and response.json()["error_code"].startswith("APIG")
    other = await http.get(base_url + "/v2/whatever")
    assert other.status_code == 404 and other.headers["X-Request-Id"]


async def test_weird_names_arrive_verbatim(call: Call, sb: Sandbox) -> None:
    seeded = sb.seeded["weird_names"]
    body = (await call("GET", dlf_path(seeded.job, "instances", seeded.instance_id))).json()
    assert body["jobName"] == WEIRD_JOB_NAME
    names = {node["nodeName"] for node in body["nodes"]}
    assert "<!channel> ping" in names and "a & b <c> d" in names and "🚀 launch" in names


async def test_a_scripted_refusal_answers_dlfs_error_and_changes_nothing(call: Call, sb: Sandbox) -> None:
    seeded = sb.seeded["failed_node"]
    sb.faults.refuse("DLF.3051", "<!channel> locked by *another* run", operation="restart_instance")

    refused = await call("POST", dlf_path(seeded.job, "instances", seeded.instance_id, "restart"))
    again = await call("POST", dlf_path(seeded.job, "instances", seeded.instance_id, "restart"))

    assert refused.status_code == 400
    assert refused.json() == {"error_code": "DLF.3051", "error_msg": "<!channel> locked by *another* run"}
    assert again.status_code == 204  # the refusal was for one request
    assert sb.state.instance(seeded.job, seeded.instance_id).runs == 2
