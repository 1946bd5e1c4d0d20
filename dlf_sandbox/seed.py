"""The seeded jobs and instances (`Sandbox(seed=True)`), named in SEEDED so the demo and tests can refer to them.

| key             | job                      | id    | status          | what it exercises                          |
|-----------------|--------------------------|-------|-----------------|--------------------------------------------|
| seed            | job_batch                | 34765 | fail            | the seed page's example, exactly (1)       |
| running         | etl_orders_daily         | 40001 | running         | 12 nodes: 5 done, 3 running, 4 waiting     |
| succeeded       | etl_orders_daily         | 40000 | success         | a clean run                                |
| stopped         | etl_orders_daily         | 40002 | manual-stop     | rerunnable, not a failure                  |
| hourly_success  | report_sales_hourly      | 40010 | success         | a second succeeded job                     |
| large           | warehouse_full_refresh   | 40020 | fail            | 5,000 nodes, node_4990 failed              |
| failed_node     | dws_load_customers       | 40030 | fail            | failed node with logPath and 3 retries     |
| ignored_failure | dws_load_customers       | 40031 | fail            | ignoreSuccess true (operator override)     |
| weird_names     | weird_<!channel>_*x*_&_🚀 | 40050 | fail            | mrkdwn/mention injection in every name     |
| chinese         | 销售日报_汇总            | 40040 | success         | Chinese job and node names                 |
| long_name       | LONG_JOB_NAME (128 chars)| 40060 | fail            | the longest job name DLF allows            |
| sdk_spelling    | sdk_spelling_job         | 40070 | fail            | `instancesId` string, `nodeType`           |
| junk_job_id     | legacy_job_868641        | 40080 | fail            | list row `"jobId": "868641,"`              |
| waiting_confirm | approval_flow            | 40090 | waiting-confirm | a newer status value                       |
| unknown_status  | approval_flow            | 40091 | quarantined     | a status no definition lists               |
| other_workspace | analytics_ws_job         | 40100 | fail            | in ANALYTICS_WORKSPACE_ID only             |

(1) status fail while every node says success, executeTime 1 although end - start is 60 s.

Every instance but the seed's is planned within the six hours before the sandbox started (the seed's keeps its
2019 times). Jobs `job_batch` … `analytics_ws_job` exist; `etl_orders_daily` etc. have one or more instances.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from dlf_sandbox.credentials import ANALYTICS_WORKSPACE_ID
from dlf_sandbox.state import Node, State

MINUTE = 60_000
HOUR = 60 * MINUTE
LONG_JOB_NAME = ("long_job_name_" + "x" * 128)[:128]
WEIRD_JOB_NAME = "weird_<!channel>_*x*_&_🚀"
WEIRD_NODE_NAMES = ("<!channel> ping", "*bold* _italic_ ~strike~", "a & b <c> d", "🚀 launch", "数据清洗_节点")
ORDERS_NODES = tuple(
    (name, node_type)
    for name, node_type in (
        ("check_source", "Dummy"),
        ("extract_orders", "CDM Job"),
        ("extract_items", "CDM Job"),
        ("clean_orders", "DLI SQL"),
        ("clean_items", "DLI SQL"),
        ("join_orders_items", "DLI SQL"),
        ("aggregate_daily", "MRS Spark"),
        ("aggregate_region", "MRS Spark"),
        ("load_dws", "DWS SQL"),
        ("refresh_mart", "DWS SQL"),
        ("quality_checks", "Python"),
        ("notify_done", "Shell"),
    )
)


@dataclass(frozen=True)
class SeededInstance:
    """A seeded instance the demo and tests can name."""

    job: str
    instance_id: int
    status: str
    workspace: str | None = None


SEEDED: dict[str, SeededInstance] = {
    "seed": SeededInstance("job_batch", 34765, "fail"),
    "running": SeededInstance("etl_orders_daily", 40001, "running"),
    "succeeded": SeededInstance("etl_orders_daily", 40000, "success"),
    "stopped": SeededInstance("etl_orders_daily", 40002, "manual-stop"),
    "hourly_success": SeededInstance("report_sales_hourly", 40010, "success"),
    "large": SeededInstance("warehouse_full_refresh", 40020, "fail"),
    "failed_node": SeededInstance("dws_load_customers", 40030, "fail"),
    "ignored_failure": SeededInstance("dws_load_customers", 40031, "fail"),
    "weird_names": SeededInstance(WEIRD_JOB_NAME, 40050, "fail"),
    "chinese": SeededInstance("销售日报_汇总", 40040, "success"),
    "long_name": SeededInstance(LONG_JOB_NAME, 40060, "fail"),
    "sdk_spelling": SeededInstance("sdk_spelling_job", 40070, "fail"),
    "junk_job_id": SeededInstance("legacy_job_868641", 40080, "fail"),
    "waiting_confirm": SeededInstance("approval_flow", 40090, "waiting-confirm"),
    "unknown_status": SeededInstance("approval_flow", 40091, "quarantined"),
    "other_workspace": SeededInstance("analytics_ws_job", 40100, "fail", ANALYTICS_WORKSPACE_ID),
}


def seed_instance_body() -> dict[str, Any]:
    """The seed page's example response, as shipped in dlf_sandbox/data/job_batch_34765.json."""
    text = resources.files("dlf_sandbox").joinpath("data/job_batch_34765.json").read_text(encoding="utf-8")
    body: dict[str, Any] = json.loads(text)
    return body


def _seed_page_instance(state: State) -> None:
    body = seed_instance_body()
    nodes = [
        Node(
            name=n["nodeName"],
            type=n["type"],
            status=n["status"],
            plan_time=n["planTime"],
            start_time=n.get("startTime"),
            end_time=n.get("endTime"),
            retry_times=n.get("retryTimes"),
            input_row_count=n.get("inputRowCount"),
            log_path=n.get("logPath"),
        )
        for n in body["nodes"]
    ]
    state.add_job("job_batch", job_id=868640, nodes=[(n.name, n.type) for n in nodes])
    iid = state.add_instance(
        "job_batch",
        body["instanceId"],
        status=body["status"],
        nodes=nodes,
        plan_time=body["planTime"],
        instance_type=None,
    )
    instance = state.instance("job_batch", iid)
    instance.start_time = body["startTime"]
    instance.end_time = body["endTime"]
    instance.execute_time = body["executeTime"]
    instance.submit_time = instance.plan_time


def seed_state(state: State, *, now_ms: int) -> dict[str, SeededInstance]:
    """Fill `state` with the SEEDED jobs and instances; returns SEEDED."""
    _seed_page_instance(state)
    t = now_ms

    state.add_job("etl_orders_daily", nodes=ORDERS_NODES)
    state.add_instance("etl_orders_daily", 40000, status="success", plan_time=t - 5 * HOUR, at=t - 4 * HOUR)
    state.add_instance("etl_orders_daily", 40002, status="running", plan_time=t - 3 * HOUR, at=t - 3 * HOUR)
    state.set_status("etl_orders_daily", 40002, "manual-stop", at=t - 170 * MINUTE)
    state.add_instance("etl_orders_daily", 40001, status="running", plan_time=t - 20 * MINUTE, at=t - 19 * MINUTE)
    running = state.instance("etl_orders_daily", 40001)
    for i, node in enumerate(running.nodes):
        node.status = "success" if i < 5 else "running" if i < 8 else "waiting"
        node.start_time = t - 19 * MINUTE + i * 2 * MINUTE if i < 8 else None
        node.end_time = node.start_time + 2 * MINUTE if i < 5 and node.start_time is not None else None

    state.add_job("report_sales_hourly", nodes=[("sales_rollup", "DLI SQL"), ("publish", "Shell")])
    state.add_instance("report_sales_hourly", 40010, status="success", plan_time=t - 2 * HOUR, at=t - 110 * MINUTE)

    state.add_job("warehouse_full_refresh", nodes=5000)
    state.add_instance(
        "warehouse_full_refresh", 40020, status="fail", plan_time=t - 350 * MINUTE, at=t - HOUR, failed_node="node_4990"
    )

    state.add_job(
        "dws_load_customers",
        nodes=[("extract_crm", "CDM Job"), ("load_dim_customer", "DWS SQL"), ("refresh_mart", "DLI SQL")],
    )
    state.add_instance("dws_load_customers", 40030, status="running", plan_time=t - 90 * MINUTE, at=t - 89 * MINUTE)
    failed = state.instance("dws_load_customers", 40030)
    failed.nodes[0].input_row_count, failed.nodes[0].speed = 1_204_332, 5321.7
    failed.nodes[1].retry_times = 3
    failed.nodes[1].log_path = "obs://dlf-sandbox-log/dws_load_customers/40030/load_dim_customer.log"
    failed.nodes[2].queue = "dli_queue_01"
    state.set_status(
        "dws_load_customers",
        40030,
        "fail",
        failed_node="load_dim_customer",
        at=t - 70 * MINUTE,
        error_message='DWS SQL failed: relation "dim_customer_stage" does not exist',
    )
    state.add_instance(
        "dws_load_customers",
        40031,
        status="fail",
        plan_time=t - 150 * MINUTE,
        at=t - 140 * MINUTE,
        failed_node="load_dim_customer",
    )
    state.instance("dws_load_customers", 40031).ignore_success = True

    state.add_job(WEIRD_JOB_NAME, nodes=[(name, "Shell") for name in WEIRD_NODE_NAMES])
    state.add_instance(
        WEIRD_JOB_NAME,
        40050,
        status="fail",
        plan_time=t - 40 * MINUTE,
        at=t - 30 * MINUTE,
        failed_node="a & b <c> d",
        error_message="<!here> *boom* & <https://evil.example|click>",
    )

    state.add_job("销售日报_汇总", nodes=[("数据抽取", "CDM Job"), ("数据清洗_节点", "DLI SQL"), ("报表发布", "Shell")])
    state.add_instance("销售日报_汇总", 40040, status="success", plan_time=t - 4 * HOUR, at=t - 230 * MINUTE)

    state.add_job(LONG_JOB_NAME)
    state.add_instance(LONG_JOB_NAME, 40060, status="fail", plan_time=t - 50 * MINUTE, at=t - 45 * MINUTE)

    state.add_job("sdk_spelling_job")
    state.add_instance(
        "sdk_spelling_job", 40070, status="fail", plan_time=t - 35 * MINUTE, at=t - 33 * MINUTE, sdk_spelling=True
    )

    state.add_job("legacy_job_868641", job_id=868641)
    state.add_instance(
        "legacy_job_868641", 40080, status="fail", plan_time=t - 25 * MINUTE, at=t - 24 * MINUTE, job_id="868641,"
    )

    state.add_job("approval_flow")
    state.add_instance("approval_flow", 40090, status="waiting-confirm", plan_time=t - 15 * MINUTE, at=t - 15 * MINUTE)
    state.add_instance("approval_flow", 40091, status="quarantined", plan_time=t - 10 * MINUTE, at=t - 10 * MINUTE)

    state.add_job("analytics_ws_job", ANALYTICS_WORKSPACE_ID)
    state.add_instance(
        "analytics_ws_job",
        40100,
        status="fail",
        plan_time=t - 55 * MINUTE,
        at=t - 50 * MINUTE,
        workspace=ANALYTICS_WORKSPACE_ID,
    )
    return dict(SEEDED)
