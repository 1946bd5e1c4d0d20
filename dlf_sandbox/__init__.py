"""The embedded DLF sandbox: Huawei's side of the wire (API Gateway + DataArts Factory v1) on loopback.

A real aiohttp server for the demo, the tests and the benchmarks. It verifies AK/SK signatures and IAM tokens the
way API Gateway does, serves seeded jobs and instances through DLF's documented paths, parameters, pagination,
statuses and error bodies, and has knobs for latency, throttling, 5xx, malformed bodies and dropped connections,
plus a timeline that makes instances run, fail and succeed over time. It imports nothing from the bot.

    from dlf_sandbox import Sandbox, SANDBOX_CREDENTIALS, SEEDED
    sb = Sandbox(seed=True, clock=None)            # clock: () -> epoch ms (ManualClock for tests)
    async with sb.serve(host="127.0.0.1", port=0) as base_url: ...
    with sb.serve_in_thread() as base_url: ...
    sb.faults.latency_ms = 50; sb.faults.throttle(n=3); sb.faults.server_error(n=2, status=503)
    sb.faults.malformed(n=1, kind="wrong_shape"); sb.faults.reset_connection(n=1, operation="list_instances")
    sb.calls.count("list_instances"); sb.calls.reset()
    iid = sb.state.add_instance("job", status="running"); sb.state.set_status("job", iid, "fail")
    sb.timeline.appear("job", at=t); sb.timeline.fail("job", iid, at=t + 5000); sb.timeline.step()

Seeded instances (SEEDED keys → job / instance id / status; the table in dlf_sandbox/seed.py says more):
    seed            job_batch / 34765 / fail (the seed page's example, exactly)
    running         etl_orders_daily / 40001 / running     succeeded        etl_orders_daily / 40000 / success
    stopped         etl_orders_daily / 40002 / manual-stop hourly_success   report_sales_hourly / 40010 / success
    large           warehouse_full_refresh / 40020 / fail (5,000 nodes)
    failed_node     dws_load_customers / 40030 / fail      ignored_failure  dws_load_customers / 40031 / fail
    weird_names     weird_<!channel>_*x*_&_🚀 / 40050 / fail
    chinese         销售日报_汇总 / 40040 / success         long_name        (128 chars) / 40060 / fail
    sdk_spelling    sdk_spelling_job / 40070 / fail        junk_job_id      legacy_job_868641 / 40080 / fail
    waiting_confirm approval_flow / 40090 / waiting-confirm
    unknown_status  approval_flow / 40091 / quarantined    other_workspace  analytics_ws_job / 40100 / fail
"""

from dlf_sandbox.activity import Beat, schedule_activity
from dlf_sandbox.calls import Call, CallLog
from dlf_sandbox.cli import main
from dlf_sandbox.credentials import (
    ANALYTICS_WORKSPACE_ID,
    DEFAULT_WORKSPACE_ID,
    SANDBOX_CREDENTIALS,
    SandboxCredentials,
)
from dlf_sandbox.faults import Faults
from dlf_sandbox.routes import OPERATIONS
from dlf_sandbox.sandbox import ManualClock, Sandbox, system_clock
from dlf_sandbox.seed import LONG_JOB_NAME, SEEDED, WEIRD_JOB_NAME, SeededInstance
from dlf_sandbox.state import Instance, Job, Node, State
from dlf_sandbox.timeline import Event, Timeline

__all__ = [
    "ANALYTICS_WORKSPACE_ID",
    "DEFAULT_WORKSPACE_ID",
    "LONG_JOB_NAME",
    "OPERATIONS",
    "SANDBOX_CREDENTIALS",
    "SEEDED",
    "WEIRD_JOB_NAME",
    "Beat",
    "Call",
    "CallLog",
    "Event",
    "Faults",
    "Instance",
    "Job",
    "ManualClock",
    "Node",
    "Sandbox",
    "SandboxCredentials",
    "SeededInstance",
    "State",
    "Timeline",
    "main",
    "schedule_activity",
    "system_clock",
]
