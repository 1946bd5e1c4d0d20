"""What incident actions say — thread replies, private answers, the Rerun/Stop dialogs, `nodes` and `logs` —
valid for Slack and safe with hostile DLF names and messages."""

from __future__ import annotations

from dataclasses import dataclass

from hostile import INJECTED, hostile_text, instances, job_names
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_lists import assert_safe

from bot.dlf.models import Instance, Node
from bot.render import incident_replies as replies
from bot.render.actions import INCIDENT_RERUN_CONFIRM
from bot.render.incident_answers import parse_confirmation_metadata, render_confirmation, render_refused
from bot.render.incident_nodes import NODES_PER_PAGE, render_logs, render_nodes
from bot.render.message import Message

QUICK = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Confirm:
    action: str
    card: str
    channel: str
    message_ts: str
    job: str
    instance_id: int
    status: str
    retry_location: str | None
    failed_nodes: tuple[str, ...]
    rerun: bool = False


@dataclass(frozen=True)
class Refusal:
    action: str
    reason: str
    job: str | None
    dlf_code: str | None = None
    dlf_message: str | None = None
    instance_id: int | None = 7
    status: str | None = "fail"
    by: str | None = None
    check: object = None


@QUICK
@given(code=hostile_text, message=hostile_text, nodes=st.lists(job_names, max_size=12))
def test_dlf_words_and_node_names_in_replies_are_escaped(code: str, message: str, nodes: list[str]) -> None:
    for outcome in ("ok", "refused", "unknown", "failed"):
        reply = replies.rerun_asked(
            "U0OPS",
            via="button",
            instance_id=7,
            retry_location="error_node",
            failed_nodes=tuple(nodes),
            outcome=outcome,
            dlf_code=code or None,
            dlf_message=message or None,
        )
        assert_safe(reply)
        assert_safe(
            replies.stopped("U0OPS", via="mention", instance_id=7, rerun=True, outcome=outcome, dlf_message=message)
        )


@QUICK
@given(job=job_names, nodes=st.lists(job_names, max_size=30), location=st.sampled_from(["error_node", "first_node"]))
def test_the_confirmation_dialog_names_the_job_and_is_valid(job: str, nodes: list[str], location: str) -> None:
    confirm = Confirm("rerun", "alert:k", "C0DATA", "1.2", job, 7, "fail", location, tuple(nodes))
    view = render_confirmation(confirm, callback_id=INCIDENT_RERUN_CONFIRM)
    assert view["type"] == "modal" and len(view["title"]["text"]) <= 24
    assert len(view["private_metadata"]) <= 3000
    assert parse_confirmation_metadata(view["private_metadata"]) == {
        "card": "alert:k",
        "channel": "C0DATA",
        "ts": "1.2",
        "choice": location,
    }
    assert_safe(Message(text="dialog", blocks=view["blocks"]))


@QUICK
@given(reason=st.sampled_from(["dlf_refused", "dlf_failed", "not_running", "forged", "resolved"]), words=hostile_text)
def test_refusals_are_safe(reason: str, words: str) -> None:
    message = render_refused(Refusal("rerun", reason, "job<!channel>", dlf_message=words, by="U0X"))
    assert_safe(message)
    assert not any(token in str(message.blocks) for token in INJECTED)


@QUICK
@given(instance=instances(max_nodes=200), page=st.integers(1, 20))
def test_nodes_and_logs_of_any_instance_are_valid_and_safe(instance: Instance, page: int) -> None:
    assert_safe(render_nodes(instance, page=page))
    assert_safe(render_logs(instance))


def test_nodes_are_paged_and_logs_show_the_failed_nodes_paths() -> None:
    nodes = tuple(Node(node_name=f"n{i}", status="success") for i in range(NODES_PER_PAGE + 3))
    failed = (Node(node_name="load", status="fail", log_path="obs://logs/load.log"),)
    instance = Instance(job_name="job_a", instance_id=7, status="fail", nodes=nodes + failed)
    first, second = render_nodes(instance, page=1), render_nodes(instance, page=2)
    assert "page 1 of 2" in str(first.blocks) and "`nodes 2` shows the next page" in str(first.blocks)
    assert "`load`" in str(second.blocks) and "`n0`" not in str(second.blocks)
    assert "`obs://logs/load.log`" in str(render_logs(instance).blocks)


def test_nodes_read_with_the_cards_status_words_and_an_unknown_status_verbatim() -> None:
    nodes = (
        Node(node_name="extract", status="success"),
        Node(node_name="load", status="fail"),
        Node(node_name="check", status="skip"),
        Node(node_name="new", status="retrying<x>"),
    )
    listed = str(render_nodes(Instance(job_name="job_a", instance_id=7, status="fail", nodes=nodes)).blocks)
    assert ":white_check_mark: `extract` · succeeded" in listed and ":x: `load` · failed" in listed
    assert ":fast_forward: `check` · skipped" in listed and ":grey_question: `new` · `retrying&lt;x&gt;`" in listed
