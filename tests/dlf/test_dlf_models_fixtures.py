"""Every disagreement between DLF's sources (facts/huawei-dlf.md) has a recorded body here, and it parses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.dlf.failures import parse_error_body
from bot.dlf.models import Instance, InstancePage, JobPage

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_seed_example_fail_with_every_node_success_and_1ms_execute_time():
    instance = Instance.model_validate(_load("instance_job_batch_34765.json"))
    assert (instance.job_name, instance.instance_id, instance.status) == ("job_batch", 34765, "fail")
    assert {node.status for node in instance.nodes} == {"success"}
    assert instance.execute_time == 1
    assert instance.end_time - instance.start_time == 60_000
    assert instance.nodes[1].log_path.startswith("obs://dlf-test-log/")


def test_sdk_spelling_nodetype_and_string_instances_id():
    instance = Instance.model_validate(_load("instance_sdk_spelling_nodetype.json"))
    assert instance.instance_id == 50211
    assert [node.type for node in instance.nodes] == ["DLI SQL", "DWS SQL"]
    assert instance.nodes[0].instance_id == 50211
    assert instance.nodes[0].speed == 12.5 and instance.nodes[0].queue == "default"
    assert instance.nodes[1].end_time is None


def test_junk_job_id_kept_as_text_and_both_instance_id_spellings_in_a_list():
    page = InstancePage.model_validate(_load("list_instances_jobid_junk.json"))
    assert [row.instance_id for row in page.instances] == [34765, 34766]
    assert page.instances[0].job_id == "868641,"
    assert page.instances[1].job_id == 868641
    assert page.instances[0].error_message == "node error failed"


def test_optional_fields_absent_or_null_and_extra_fields_ignored():
    instance = Instance.model_validate(_load("instance_running_minimal.json"))
    assert instance.start_time is None and instance.end_time is None and instance.execute_time is None
    node = instance.nodes[0]
    assert (node.log_path, node.retry_times, node.input_row_count, node.speed) == (None, None, None, None)


def test_unknown_statuses_kept_verbatim_and_ids_as_digit_strings():
    instance = Instance.model_validate(_load("instance_unknown_status.json"))
    assert instance.status == "waiting-confirm-v2"
    assert instance.nodes[0].status == "frozen-by-operator"
    assert instance.instance_id == 9007199254740993  # beyond float precision: must not go through a float
    assert instance.plan_time == 1551425326540 and instance.nodes[0].input_row_count == 1200
    assert instance.force_success is True


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        ("error_dlf0137_snake.json", "DLF.0137", "Job instance does not exist."),
        ("error_dlf0100_camel.json", "DLF.0100", "The job does not exist."),
        ("error_nested.json", "DLF.6888", "Permission invalid."),
        ("error_apig_throttled.json", "APIG.0308", None),
    ],
)
def test_error_bodies_in_every_spelling(name, code, message):
    parsed = parse_error_body((FIXTURES / name).read_bytes())
    assert parsed.code == code
    if message is not None:
        assert parsed.message == message


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.name)
def test_every_recorded_body_parses_as_what_its_name_says(path):
    body = path.read_bytes()
    if path.name.startswith("instance_"):
        assert Instance.model_validate_json(body).job_name
    elif path.name.startswith("list_instances_"):
        assert InstancePage.model_validate_json(body).instances
    elif path.name.startswith("null_list_"):
        page_model = InstancePage if "instances" in path.name else JobPage
        assert page_model.model_validate_json(body).model_dump(exclude={"total"}) == {
            "instances" if page_model is InstancePage else "jobs": (),
            "skipped": (),
        }
    elif path.name.startswith("odd_rows_list_"):
        # As a whole such a page is invalid: that is why the client reads rows one at a time (test_dlf_odd_rows.py).
        page_model = InstancePage if "instances" in path.name else JobPage
        with pytest.raises(ValidationError):
            page_model.model_validate_json(body)
    elif path.name.startswith("error_"):
        assert parse_error_body(body).code
