"""The lists' renderers with hostile data: `/dlf instances`, `/dlf audit`, mutes in `/dlf watches`, App Home and the
operators-only answer — always a message Slack accepts, untrusted text never reaching mrkdwn raw."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hostile import INJECTED, hostile_text, job_names, times
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.dlf.models import InstanceSummary
from bot.render.audit import render_audit
from bot.render.home import render_home
from bot.render.instance_list import render_instance_list
from bot.render.limits import problems
from bot.render.message import Message
from bot.render.operators import render_operators_only
from bot.render.watches import MuteView, SubscriptionView, render_watches

LISTS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def mrkdwn_texts(data: dict[str, Any]) -> list[str]:
    texts = [data["text"]]
    for block in data["blocks"]:
        for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
                texts.append(obj["text"])
    return texts


def assert_safe(message: Message | dict[str, Any]) -> None:
    """Valid for Slack, and no token from untrusted text in mrkdwn (plain_text headers and button values are not
    parsed by Slack)."""
    data = message.to_dict() if isinstance(message, Message) else {"text": "home", **message}
    assert problems(data) == []
    for text in mrkdwn_texts(data):
        for token in INJECTED:
            assert token not in text


@dataclass(frozen=True)
class Query:
    job: str
    status: str | None = None
    since_ms: int = 1_700_000_000_000
    until_ms: int = 1_700_021_600_000
    page: int = 0
    profile: str | None = None
    since_midnight: bool = False


@dataclass(frozen=True)
class Listing:
    query: Query
    instances: tuple[InstanceSummary, ...]
    total: int
    capped: bool = False
    read_at_ms: int = 1_700_021_600_000
    profile: str | None = None
    page_size: int = 10

    @property
    def has_more(self) -> bool:
        return (self.query.page + 1) * self.page_size < self.total


rows = st.builds(
    InstanceSummary,
    job_name=job_names,
    instance_id=st.integers(min_value=1, max_value=2**63 - 1),
    status=st.sampled_from(["fail", "success", "running"]) | hostile_text,
    plan_time=times,
    start_time=times,
    end_time=times,
    execute_time=st.none() | st.integers(min_value=-10, max_value=2**40),
)


@LISTS
@given(job=job_names, page=st.lists(rows, max_size=10), extra=st.integers(0, 5000), profile=st.none() | hostile_text)
def test_any_instance_list_page_is_valid_and_safe(
    job: str, page: list[InstanceSummary], extra: int, profile: str | None
) -> None:
    listing = Listing(query=Query(job=job, profile=profile), instances=tuple(page), total=len(page) + extra)
    assert_safe(render_instance_list(listing))


def test_an_instance_list_page_names_its_rows_and_pages() -> None:
    first = InstanceSummary(job_name="job_batch", instance_id=34765, status="fail", plan_time=1_700_000_000_000)
    odd = InstanceSummary(job_name="job_batch", instance_id=34764, status="<!here>", plan_time=None)
    listing = Listing(query=Query(job="job_batch", page=1), instances=(first, odd), total=12)
    message = render_instance_list(listing)
    assert_safe(message)
    assert "12 instances planned since" in message.blocks[1]["elements"][0]["text"]
    assert "11–12 shown" in message.blocks[1]["elements"][0]["text"]
    assert message.blocks[2]["text"]["text"].startswith(":x: *failed* · instance `34765` · planned <!date^1700000000^")
    assert (
        "`&lt;!here&gt;`" in message.blocks[3]["text"]["text"]
        and "no planned time" in message.blocks[3]["text"]["text"]
    )
    buttons = [e["action_id"] for e in message.blocks[-1]["elements"]]
    assert buttons == ["dlf.instances.page.newer"]


@dataclass(frozen=True)
class Entry:
    id: int
    at: int
    actor: str
    action: str
    channel: str | None
    target: str | None
    details: dict[str, Any] | None
    outcome: str | None


@dataclass(frozen=True)
class AuditQuery:
    job: str | None = None
    since_ms: int = 1_700_000_000_000
    page: int = 0


entries = st.builds(
    Entry,
    id=st.integers(1, 2**40),
    at=st.integers(1_500_000_000_000, 1_800_000_000_000),
    actor=st.sampled_from(["U0ALICE", "watcher"]) | hostile_text,
    action=hostile_text,
    channel=st.none() | hostile_text,
    target=st.none() | hostile_text,
    details=st.none()
    | st.dictionaries(hostile_text, hostile_text | st.integers() | st.lists(hostile_text), max_size=12),
    outcome=st.none() | st.sampled_from(["ok", "refused", "failed", "unknown"]) | hostile_text,
)


@LISTS
@given(page=st.lists(entries, max_size=15), job=st.none() | job_names, more=st.booleans())
def test_any_audit_page_is_valid_and_safe(page: list[Entry], job: str | None, more: bool) -> None:
    assert_safe(render_audit(page, query=AuditQuery(job=job), has_more=more, page_size=15))


def test_an_audit_entry_says_who_what_target_outcome_and_dlfs_answer() -> None:
    entry = Entry(
        id=7,
        at=1_700_000_000_000,
        actor="U0ALICE",
        action="rerun",
        channel="C0DATA",
        target="job_batch",
        details={"instance_id": 34765, "dlf_code": "DLF.0815", "dlf_message": "<!channel> cannot rerun"},
        outcome="refused",
    )
    message = render_audit([entry], query=AuditQuery(), has_more=False, page_size=15)
    assert_safe(message)
    line = message.blocks[2]["text"]["text"]
    assert "<@U0ALICE> · *rerun* · `job_batch` · :no_entry_sign: refused" in line
    assert "instance 34765 · dlf code `DLF.0815` · dlf message `&lt;!channel&gt; cannot rerun`" in line


@LISTS
@given(
    mutes=st.lists(
        st.builds(
            MuteView,
            job_name=job_names,
            until_at=st.none() | st.integers(0, 2**45),
            created_by=hostile_text,
            suppressed=st.integers(0, 10**6),
            profile=hostile_text,
        ),
        max_size=60,
    ),
    now=st.integers(0, 2**45),
)
def test_any_mutes_render_valid_and_safe(mutes: list[MuteView], now: int) -> None:
    assert_safe(render_watches([SubscriptionView(target="job_batch")], mutes, now_ms=now))
    assert_safe(render_watches([], mutes, now_ms=now))


@dataclass(frozen=True)
class HomeIncident:
    channel: str
    job_name: str
    state: str
    failure_count: int
    last_instance_id: int
    opened_at: int
    acknowledged_by: str | None
    rerun_state: str | None
    root_key: str = "alert:default:C0DATA:job_batch:1:failure"


@dataclass(frozen=True)
class HomeSub(SubscriptionView):
    channel: str = "C0DATA"
    id: int = 1


@dataclass(frozen=True)
class Home:
    subscriptions: list[HomeSub] = field(default_factory=list)
    incidents: list[HomeIncident] = field(default_factory=list)
    unavailable: str | None = None


incidents = st.builds(
    HomeIncident,
    channel=st.sampled_from(["C0DATA", "G0PRIVATE"]) | hostile_text,
    job_name=job_names,
    state=st.sampled_from(["open", "acknowledged"]),
    failure_count=st.integers(1, 10**6),
    last_instance_id=st.integers(1, 2**63 - 1),
    opened_at=st.integers(1_500_000_000_000, 1_800_000_000_000),
    acknowledged_by=st.none() | hostile_text,
    rerun_state=st.none() | st.just("running"),
    root_key=st.just("alert:default:C0DATA:job_batch:1:failure") | st.text(min_size=1, max_size=255),
)


@LISTS
@given(
    found=st.lists(incidents, max_size=30),
    subs=st.lists(
        st.builds(HomeSub, target=job_names, channel=st.sampled_from(["C0DATA"]) | hostile_text), max_size=30
    ),
)
def test_any_home_is_valid_and_safe(found: list[HomeIncident], subs: list[HomeSub]) -> None:
    view = render_home(Home(subscriptions=subs, incidents=found))
    assert view["type"] == "home" and len(view["blocks"]) <= 50
    assert_safe({"blocks": view["blocks"]})


@given(who=st.lists(st.sampled_from(["U0ALICE", "W0GRID", "S0ONCALL"]) | hostile_text, max_size=30))
@example(who=["S"])  # found by CI: a bare "S" drawn as `<!subteam^S>`, which Slack does not parse
@example(who=["U", "u1", "Sé1"])
@LISTS
def test_the_operators_only_answer_is_valid_and_safe(who: list[str]) -> None:
    for configured in (True, False):
        assert_safe(render_operators_only(action="rerun", configured=configured, who=who, unchecked=who[:2]))


def test_the_operators_only_answer_names_who_may_or_how_to_enable() -> None:
    named = render_operators_only(action="rerun", configured=True, who=["U0ALICE", "S0ONCALL"], unchecked=["S0ONCALL"])
    assert named.blocks[0]["text"]["text"] == (
        ":lock: Only the bot's operators may rerun in this channel: <@U0ALICE>, <!subteam^S0ONCALL>. Ask one of them."
    )
    assert "could not check the user group <!subteam^S0ONCALL>" in named.blocks[1]["elements"][0]["text"]
    off = render_operators_only(action="rerun", configured=False, who=[])
    assert "DLF_BOT_OPERATORS" in off.blocks[0]["text"]["text"] and problems(off) == []
