"""Rerun and stop against the real sandbox: the JSON body signed and sent, DLF's refusals typed, never sent twice."""

from __future__ import annotations

import asyncio

import pytest
from dlf_rig import MakeClient

from bot.dlf.ratelimit import Priority
from bot.errors import DlfActionRefused, DlfOutcomeUnknown, DlfThrottled, DlfUnavailable
from dlf_sandbox import SEEDED, WEIRD_JOB_NAME, Sandbox

FAILED = SEEDED["failed_node"]  # dws_load_customers 40030: extract_crm ok, load_dim_customer failed


def _node_statuses(sb: Sandbox, job: str, instance_id: int) -> list[str]:
    return [node.status for node in sb.state.instance(job, instance_id).nodes]


@pytest.mark.parametrize("kind", ["aksk", "temporary", "iam", "static"])
async def test_rerun_from_the_failed_node_sends_the_body_signed(make_client: MakeClient, sb: Sandbox, kind):
    # The sandbox checks the signature over the body's hash: a 204 means the body was signed as sent.
    await make_client(kind).rerun(FAILED.job, FAILED.instance_id)
    restart = [call for call in sb.calls if call.operation == "restart_instance"]
    assert [(c.status, c.body) for c in restart] == [(204, {"retry_location": "error_node"})]
    statuses = _node_statuses(sb, FAILED.job, FAILED.instance_id)
    assert statuses[0] == "success" and statuses[1] == "running"  # the node that succeeded is not run again


async def test_rerun_from_the_first_node_runs_everything_again(make_client: MakeClient, sb: Sandbox):
    await make_client().rerun(FAILED.job, FAILED.instance_id, retry_location="first_node")
    assert sb.calls[-1].body == {"retry_location": "first_node"}
    statuses = _node_statuses(sb, FAILED.job, FAILED.instance_id)
    assert statuses[0] == "running" and set(statuses[1:]) == {"waiting"}


async def test_a_name_that_needs_encoding_reaches_the_right_instance(make_client: MakeClient, sb: Sandbox):
    weird = SEEDED["weird_names"]
    assert weird.job == WEIRD_JOB_NAME
    await make_client().rerun(weird.job, weird.instance_id)
    assert sb.calls[-1].status == 204 and sb.calls[-1].path.endswith(f"/jobs/{WEIRD_JOB_NAME}/instances/40050/restart")
    assert sb.state.instance(weird.job, weird.instance_id).status == "running"


async def test_an_unknown_retry_location_is_refused_before_sending(make_client: MakeClient, sb: Sandbox):
    with pytest.raises(ValueError, match="retry_location"):
        await make_client().rerun(FAILED.job, FAILED.instance_id, retry_location="specified_node")
    assert len(sb.calls) == 0


async def test_rerun_of_a_running_instance_is_refused_with_dlf_code_and_words(make_client: MakeClient, sb: Sandbox):
    running = SEEDED["running"]
    with pytest.raises(DlfActionRefused) as info:
        await make_client().rerun(running.job, running.instance_id)
    assert info.value.code == "DLF.0812" and info.value.status_code == 400
    assert info.value.dlf_message == "The job instance status running does not allow rerun."
    assert info.value.request_id and len(sb.calls) == 1


@pytest.mark.parametrize("camel", [False, True])
async def test_stop_of_a_failed_instance_is_refused(make_client: MakeClient, sb: Sandbox, camel):
    sb.faults.camel_case_errors = camel
    with pytest.raises(DlfActionRefused) as info:
        await make_client().stop(FAILED.job, FAILED.instance_id)
    assert info.value.code == "DLF.0812"
    assert info.value.dlf_message == "The job instance status fail does not allow stop."


async def test_stop_of_a_running_instance(make_client: MakeClient, sb: Sandbox):
    running = SEEDED["running"]
    await make_client().stop(running.job, running.instance_id)
    assert sb.state.instance(running.job, running.instance_id).status == "manual-stop"
    assert [(c.operation, c.status, c.body) for c in sb.calls] == [("stop_instance", 204, None)]


async def test_a_rerun_that_timed_out_is_not_sent_again_and_says_the_outcome_is_unknown(
    make_client: MakeClient, sb: Sandbox
):
    sb.faults.slow(0.3, operation="restart_instance")
    client = make_client(timeout=0.05)
    with pytest.raises(DlfOutcomeUnknown) as info:
        await client.rerun(FAILED.job, FAILED.instance_id)
    assert isinstance(info.value, DlfUnavailable) and "check the instance" in info.value.message
    assert client.stats.requests == 1 and client.stats.retries == 0
    # DLF did act on it, late: which is why the client must not try again.
    for _ in range(50):
        if sb.calls.count("restart_instance"):
            break
        await asyncio.sleep(0.02)
    assert sb.calls.count("restart_instance") == 1
    assert sb.state.instance(FAILED.job, FAILED.instance_id).status == "running"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_server_error_on_stop_is_outcome_unknown(make_client: MakeClient, sb: Sandbox, status):
    running = SEEDED["running"]
    sb.faults.server_error(n=1, status=status)
    client = make_client()
    with pytest.raises(DlfOutcomeUnknown) as info:
        await client.stop(running.job, running.instance_id)
    assert info.value.status_code == status and len(sb.calls) == 1


async def test_a_reset_connection_on_rerun_is_outcome_unknown(make_client: MakeClient, sb: Sandbox):
    sb.faults.reset_connection(n=1)
    with pytest.raises(DlfOutcomeUnknown):
        await make_client().rerun(FAILED.job, FAILED.instance_id)
    assert len(sb.calls) == 1


async def test_throttled_rerun_is_retried_because_the_gateway_did_nothing(make_client: MakeClient, sb: Sandbox):
    sb.faults.throttle(n=2, retry_after=None)
    await make_client().rerun(FAILED.job, FAILED.instance_id)
    assert [c.status for c in sb.calls] == [429, 429, 204]
    assert sb.state.instance(FAILED.job, FAILED.instance_id).runs == 2


async def test_throttled_beyond_retries_is_throttled_not_unknown(make_client: MakeClient, sb: Sandbox):
    sb.faults.throttle(n=10, retry_after=None)
    with pytest.raises(DlfThrottled):
        await make_client(max_retries=1).rerun(FAILED.job, FAILED.instance_id)
    assert sb.state.instance(FAILED.job, FAILED.instance_id).status == "fail"


async def test_actions_queue_at_interactive_priority(make_client: MakeClient):
    assert make_client().priority is Priority.INTERACTIVE
