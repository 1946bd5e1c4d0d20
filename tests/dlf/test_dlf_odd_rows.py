"""One odd row or a null in a DLF answer never fails a whole page (QA round 2, P1 #1 and #2).

Rows the sandbox's state can hold (job names `..`, `.` and empty, a negative instance id) are real sandbox instances.
Shapes it cannot hold (nulls, fractional or huge ids, huge totals) are served verbatim over HTTP by the sandbox's
`faults.answer()` knob, from the bodies in tests/fixtures/.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from dlf_rig import C, MakeClient, credentials_of
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from bot.dlf import paths
from bot.dlf.client import DlfClient
from bot.dlf.config import DlfConfig
from bot.dlf.metrics import DlfMetrics
from bot.dlf.models import Instance, InstanceSummary, unnamed_node
from bot.errors import DlfBadResponse
from bot.render.instance_card import render_instance
from bot.render.limits import problems
from dlf_sandbox import Sandbox

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HOUR_MS = 3_600_000


def _load(name: str) -> object:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _skip_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.dlf" and "skipped a row" in r.getMessage()]


def _add_odd_failure(sb: Sandbox, odd: str, *, plan_time: int) -> None:
    if odd == "negative id":
        sb.state.add_job("job_neg")
        sb.state.add_instance("job_neg", instance_id=-7, status="fail", plan_time=plan_time)
    else:
        sb.state.add_job(odd)
        sb.state.add_instance(odd, status="fail", plan_time=plan_time)


@pytest.mark.parametrize("odd", ["..", ".", "", "negative id"])
async def test_an_odd_failed_row_beside_a_normal_one_leaves_the_normal_one_listed_and_readable(
    make_client: MakeClient, sb: Sandbox, caplog: pytest.LogCaptureFixture, odd: str
):
    # The repro of P1 #1: the odd row used to reach get_instance and crash the watcher's cycle with a ValueError.
    caplog.set_level(logging.ERROR, logger="bot.dlf")
    window = sb.clock() + HOUR_MS  # a window of its own, clear of the seeded instances
    _add_odd_failure(sb, odd, plan_time=window + 1000)
    sb.state.add_job("job_a")
    good = sb.state.add_instance("job_a", status="fail", plan_time=window + 2000)
    client = make_client()

    rows = [r async for r in client.iter_instances(status="fail", min_plan_time=window, max_plan_time=window + HOUR_MS)]

    assert [(r.job_name, r.instance_id) for r in rows] == [("job_a", good)]
    details = await client.get_instance(rows[0].job_name, rows[0].instance_id)
    assert (details.job_name, details.status) == ("job_a", "fail")
    [record] = _skip_records(caplog)
    assert record.levelno == logging.ERROR
    assert "request id None" not in record.getMessage() and "request id " in record.getMessage()


async def test_a_skipped_row_is_logged_once_but_counted_every_time(sb: Sandbox, base_url: str, caplog):
    caplog.set_level(logging.ERROR, logger="bot.dlf")
    window = sb.clock() + HOUR_MS
    _add_odd_failure(sb, "..", plan_time=window + 1000)
    registry = CollectorRegistry()
    async with DlfClient(
        config=DlfConfig(endpoint=base_url, project_id=C.project_id, rate_limit=None, max_retries=0),
        credentials=credentials_of("aksk", base_url),
        metrics=DlfMetrics(registry=registry),
    ) as client:
        for _ in range(3):  # three polling cycles over the same window
            page = await client.list_instances(status="fail", min_plan_time=window, max_plan_time=window + HOUR_MS)
            assert page.instances == () and len(page.skipped) == 1
    assert len(_skip_records(caplog)) == 1
    assert registry.get_sample_value("dlf_rows_skipped_total", {"operation": "list_instances"}) == 3


async def test_a_skipped_row_still_counts_as_a_row_of_a_full_page(make_client: MakeClient, sb: Sandbox):
    # Page size 2 and the odd row on the first page: the page is full, so the next page must still be fetched.
    window = sb.clock() + HOUR_MS
    _add_odd_failure(sb, "..", plan_time=window + 9000)
    sb.state.add_job("job_a")
    good = {sb.state.add_instance("job_a", status="fail", plan_time=window + i * 1000) for i in range(1, 4)}
    rows = [
        r.instance_id
        async for r in make_client().iter_instances(
            status="fail", min_plan_time=window, max_plan_time=window + HOUR_MS, page_size=2
        )
    ]
    assert sorted(rows) == sorted(good)


async def test_nulls_fractions_and_bad_names_in_a_list_skip_only_their_rows(
    make_client: MakeClient, sb: Sandbox, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.ERROR, logger="bot.dlf")
    sb.faults.answer(_load("odd_rows_list_instances.json"), operation="list_instances")
    page = await make_client().list_instances(status="fail")
    assert [(r.job_name, r.instance_id, r.status) for r in page.instances] == [
        ("job_a", 1001, "fail"),
        ("job_b", 1002, "unknown"),  # a null status
        ("job_c", 1008, "running-exception"),
    ]
    assert page.total is None  # 2**64 is no usable count
    assert len(page.skipped) == 10
    records = _skip_records(caplog)
    assert len(records) == 10 and all("request id None" not in r.getMessage() for r in records)
    assert any("instanceId=-7" in r.getMessage() for r in records)
    assert any("instanceId=2.5" in r.getMessage() for r in records)
    assert any("jobName=None" in r.getMessage() for r in records)


async def test_instances_null_is_an_empty_list(make_client: MakeClient, sb: Sandbox):
    sb.faults.answer(_load("null_list_instances.json"), operation="list_instances")
    assert [r async for r in make_client().iter_instances(status="fail")] == []


async def test_instances_that_is_not_a_list_is_still_a_bad_response(make_client: MakeClient, sb: Sandbox):
    sb.faults.answer({"total": 1, "instances": "job_a"}, operation="list_instances")
    with pytest.raises(DlfBadResponse, match="'instances' as JSON str"):
        await make_client(max_retries=0).list_instances()


@pytest.mark.parametrize("total", [2**64, 2.5, "many", -1, True])
async def test_an_unusable_total_is_unknown(make_client: MakeClient, sb: Sandbox, total: object):
    sb.faults.answer({"total": total, "instances": [{"jobName": "job_a", "instanceId": 1}]})
    page = await make_client().list_instances()
    assert page.total is None and [r.instance_id for r in page.instances] == [1]


async def test_jobs_null_is_an_empty_job_list(make_client: MakeClient, sb: Sandbox):
    sb.faults.answer(_load("null_list_jobs.json"), operation="list_jobs")
    page = await make_client().list_jobs()
    assert page.jobs == () and page.total is None


async def test_an_odd_job_row_skips_only_itself(make_client: MakeClient, sb: Sandbox):
    sb.faults.answer(_load("odd_rows_list_jobs.json"), operation="list_jobs")
    page = await make_client().list_jobs()
    assert [(j.name, j.status) for j in page.jobs] == [("job_a", "NORMAL"), ("job_b", None)]
    assert len(page.skipped) == 2 and page.total is None


async def test_nodes_null_gives_an_instance_without_nodes_and_its_card_renders(make_client: MakeClient, sb: Sandbox):
    sb.faults.answer(_load("instance_waiting_nodes_null.json"), operation="show_instance")
    instance = await make_client().get_instance("job_a", 1001)
    assert (instance.status, instance.nodes, instance.total) == ("waiting", (), None)
    card = render_instance(instance, now_ms=sb.clock())
    assert problems(card) == []
    assert "job_a" in card.text


@pytest.mark.parametrize(
    "identity",
    [
        {"jobName": "job_a", "instanceId": -1},
        {"jobName": "job_a", "instanceId": 2.5},
        {"jobName": "..", "instanceId": 1001},
        {"jobName": "", "instanceId": 1001},
        {"jobName": None, "instanceId": 1001},
    ],
)
async def test_details_with_an_unusable_identity_are_still_a_bad_response(
    make_client: MakeClient, sb: Sandbox, identity: dict[str, object]
):
    sb.faults.answer({**identity, "status": "fail", "nodes": []}, operation="show_instance")
    with pytest.raises(DlfBadResponse):
        await make_client(max_retries=0).get_instance("job_a", 1001)


def test_instance_ids_below_zero_are_refused_and_zero_is_allowed():
    with pytest.raises(ValidationError):
        InstanceSummary.model_validate({"jobName": "job_a", "instanceId": -1})
    assert InstanceSummary.model_validate({"jobName": "job_a", "instanceId": "0"}).instance_id == 0


@given(
    job_name=st.sampled_from(["", ".", "..", "...", "a/b", "%2e%2e"])
    | st.text(max_size=20)
    | st.none()
    | st.integers(0),
    instance_id=st.integers(min_value=-(2**64), max_value=2**64) | st.floats() | st.text(max_size=5),
)
def test_every_row_the_model_accepts_names_a_path_the_client_can_build(job_name: object, instance_id: object):
    try:
        row = InstanceSummary.model_validate({"jobName": job_name, "instanceId": instance_id})
    except ValidationError:
        return
    path = paths.instance_path("p", row.job_name, row.instance_id)
    assert path.startswith("/v1/p/jobs/") and "/../" not in path and "/./" not in path


async def test_a_node_without_a_name_or_with_unreadable_fields_keeps_its_place_and_costs_no_other_node(
    make_client: MakeClient, sb: Sandbox
):
    sb.faults.answer(_load("instance_odd_nodes.json"), operation="show_instance")
    instance = await make_client().get_instance("job_a", 1001)

    assert [n.node_name for n in instance.nodes] == [
        "extract",
        unnamed_node(2),
        unnamed_node(3),
        unnamed_node(4),
        "load",
    ]
    assert [n.status for n in instance.nodes] == ["success", "fail", "fail", "unknown", "fail"]
    nameless = instance.nodes[1]
    assert (nameless.type, nameless.log_path) == ("DLISQL", "obs://dlf-log/1001/transform.log")
    load = instance.nodes[4]
    # Only what could not be read is left out: the time and retry count, not the node's type and log.
    assert (load.start_time, load.retry_times, load.type, load.log_path) == (
        None,
        None,
        "DWSSQL",
        "obs://dlf-log/1001/load.log",
    )
    card = render_instance(instance, now_ms=sb.clock())
    assert problems(card) == []
    shown = json.dumps(card.blocks)
    assert "load" in shown and unnamed_node(2) in shown


def test_a_node_name_that_is_markup_is_kept_verbatim_for_the_renderer_to_escape():
    instance = Instance.model_validate(
        {"jobName": "job_a", "instanceId": 1, "nodes": [{"nodeName": "<!channel>", "status": "fail"}, {}]}
    )
    assert [n.node_name for n in instance.nodes] == ["<!channel>", unnamed_node(2)]
    card = render_instance(instance, now_ms=0)
    assert problems(card) == [] and "<!channel>" not in json.dumps(card.blocks)
