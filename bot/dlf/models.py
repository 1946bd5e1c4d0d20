"""Pydantic models of DLF's answers: lenient where real responses disagree, strict where it matters.

Disagreements handled here (see ../shared/facts/huawei-dlf.md):
- node type as `type` (docs, seed) or `nodeType` (SDK model);
- instance id as `instanceId` int64 or `instancesId` string; ids given as numbers or digit strings;
- `jobId` as an int, a digit string, or junk such as "868641," (kept as text when it is not a clean integer);
- optional fields (`endTime`, `executeTime`, `logPath`, `inputRowCount`, `speed`, `retryTimes`) absent or null;
- extra fields ignored; unknown status values kept verbatim, a null status read as "unknown";
- `instances`, `nodes` and `jobs` given as null (read as empty); a `total` that is not a usable count (unknown);
- a node row of an instance's details without a usable name (missing, null, empty), with a field that cannot be read
  (a time that is not epoch ms...) or that is not an object at all: the node is kept, under a placeholder name
  (`unnamed_node`), without the fields it could not read — one odd node never costs the others.
Instance ids must be whole numbers from 0 to 2**63-1 and job names usable in a URL (`identifiers.py`), times epoch
milliseconds: anything else makes the model invalid. The client validates list rows one at a time, so such a row is
skipped rather than failing its page; in an instance's details it is a bad response.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from bot.dlf.identifiers import INT64_MAX, check_instance_id, check_job_name


def _strict_int(value: Any) -> int:
    """Accept an int or a string of digits; refuse bools, floats with fractions, junk and out-of-range values."""
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit() and value.strip().isascii():
        number = int(value.strip())
    else:
        raise ValueError(f"expected an integer, got {value!r:.40}")
    if not -INT64_MAX - 1 <= number <= INT64_MAX:
        raise ValueError("integer outside the signed 64-bit range")
    return number


def _optional_strict_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return _strict_int(value)


def _lenient_id(value: Any) -> int | str | None:
    """For fields documented as int64 but seen as junk ("868641,"): an int when it is one, else the text."""
    if value is None or value == "":
        return None
    try:
        return _strict_int(value)
    except ValueError:
        return str(value)


def _lenient_count(value: Any) -> int | None:
    """For totals: a non-negative int64 when it is one; None (unknown) for null, fractions, junk or huge numbers."""
    try:
        number = _optional_strict_int(value)
    except ValueError:
        return None
    return number if number is None or number >= 0 else None


def _null_as_empty(value: Any) -> Any:
    return () if value is None else value


def _null_as_unknown(value: Any) -> Any:
    return "unknown" if value is None else value


def _lenient_float(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


Id = Annotated[int, BeforeValidator(_strict_int), AfterValidator(check_instance_id)]
JobName = Annotated[str, AfterValidator(check_job_name)]
Status = Annotated[str, BeforeValidator(_null_as_unknown)]
Count = Annotated[int | None, BeforeValidator(_lenient_count)]
EpochMs = Annotated[int, BeforeValidator(_strict_int)]
OptionalEpochMs = Annotated[int | None, BeforeValidator(_optional_strict_int)]
OptionalInt = Annotated[int | None, BeforeValidator(_optional_strict_int)]
LenientId = Annotated[int | str | None, BeforeValidator(_lenient_id)]
LenientFloat = Annotated[float | None, BeforeValidator(_lenient_float)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


# Known values, for rendering and decisions. Status fields stay plain `str`: DLF adds values over time.
INSTANCE_STATUSES = (
    "waiting",
    "running",
    "success",
    "fail",
    "running-exception",
    "pause",
    "manual-stop",
    "forceSuccess",
    "ignoreSuccess",
    "freeze",
    "skip-by-depend",
    "waiting-confirm",
)
NODE_STATUSES = ("waiting", "running", "success", "fail", "skip", "pause", "manual-stop")
FINISHED_INSTANCE_STATUSES = frozenset({"success", "fail", "manual-stop", "forceSuccess", "ignoreSuccess"})
FAILED_INSTANCE_STATUSES = frozenset({"fail"})
INSTANCE_TYPES = {0: "scheduled", 2: "manual", 5: "backfill", 6: "sub-job", 7: "single run"}


class Node(_Model):
    """One node of a job instance."""

    node_name: str = Field(validation_alias=AliasChoices("nodeName", "node_name", "name"))
    status: Status = "unknown"
    type: str | None = Field(default=None, validation_alias=AliasChoices("type", "nodeType", "node_type"))
    plan_time: OptionalEpochMs = Field(default=None, validation_alias=AliasChoices("planTime", "plan_time"))
    start_time: OptionalEpochMs = Field(default=None, validation_alias=AliasChoices("startTime", "start_time"))
    end_time: OptionalEpochMs = Field(default=None, validation_alias=AliasChoices("endTime", "end_time"))
    retry_times: OptionalInt = Field(default=None, validation_alias=AliasChoices("retryTimes", "retry_times"))
    instance_id: LenientId = Field(
        default=None, validation_alias=AliasChoices("instanceId", "instancesId", "instance_id")
    )
    input_row_count: OptionalInt = Field(
        default=None, validation_alias=AliasChoices("inputRowCount", "input_row_count")
    )
    speed: LenientFloat = None
    log_path: str | None = Field(default=None, validation_alias=AliasChoices("logPath", "log_path"))
    queue: str | None = None


NODE_NAME_KEYS = ("nodeName", "node_name", "name")


def unnamed_node(position: int) -> str:
    """The name a node row without a usable one is shown under (`position` counts from 1 in DLF's order). Renderers
    escape it like any DLF name."""
    return f"(node {position} has no name)"


def _lenient_node(raw: Any, position: int) -> Node:
    """One node row of an instance's details, read as far as it can be: an unusable name becomes a placeholder and
    each field that cannot be read is left out, so a single odd row keeps its place among the others."""
    if isinstance(raw, Node):
        return raw
    row: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
    name = next((row[key] for key in NODE_NAME_KEYS if row.get(key) not in (None, "")), None)
    if isinstance(name, int | float) and not isinstance(name, bool):
        name = str(name)
    for key in NODE_NAME_KEYS:
        row.pop(key, None)
    row["nodeName"] = name if isinstance(name, str) and name.strip() else unnamed_node(position)
    for _ in range(len(row)):
        try:
            return Node.model_validate(row)
        except ValidationError as exc:
            unreadable = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
            if not unreadable & row.keys() - {"nodeName"}:
                break
            for key in unreadable:
                row.pop(key, None)
    return Node(node_name=row["nodeName"])


def _lenient_nodes(value: Any) -> Any:
    """`nodes` null reads as none; a list is read node by node (`_lenient_node`); anything else stays invalid."""
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        return value
    return tuple(_lenient_node(raw, position) for position, raw in enumerate(value, start=1))


class Instance(_Model):
    """The answer of "view job instance details" (the seed page)."""

    job_name: JobName = Field(validation_alias=AliasChoices("jobName", "job_name"))
    instance_id: Id = Field(validation_alias=AliasChoices("instanceId", "instancesId", "instance_id"))
    status: Status = "unknown"
    plan_time: OptionalEpochMs = Field(default=None, validation_alias=AliasChoices("planTime", "plan_time"))
    start_time: OptionalEpochMs = Field(default=None, validation_alias=AliasChoices("startTime", "start_time"))
    end_time: OptionalEpochMs = Field(default=None, validation_alias=AliasChoices("endTime", "end_time"))
    execute_time: OptionalInt = Field(default=None, validation_alias=AliasChoices("executeTime", "execute_time"))
    instance_type: OptionalInt = Field(default=None, validation_alias=AliasChoices("instanceType", "instance_type"))
    force_success: bool = Field(default=False, validation_alias=AliasChoices("forceSuccess", "force_success"))
    ignore_success: bool = Field(default=False, validation_alias=AliasChoices("ignoreSuccess", "ignore_success"))
    total: Count = None
    nodes: Annotated[tuple[Node, ...], BeforeValidator(_lenient_nodes)] = ()


class InstanceSummary(_Model):
    """One row of the instance list."""

    job_name: JobName = Field(validation_alias=AliasChoices("jobName", "job_name"))
    instance_id: Id = Field(validation_alias=AliasChoices("instanceId", "instancesId", "instance_id"))
    job_id: LenientId = Field(default=None, validation_alias=AliasChoices("jobId", "job_id"))
    status: Status = "unknown"
    plan_time: OptionalEpochMs = Field(default=None, validation_alias=AliasChoices("planTime", "plan_time"))
    start_time: OptionalEpochMs = Field(default=None, validation_alias=AliasChoices("startTime", "start_time"))
    end_time: OptionalEpochMs = Field(default=None, validation_alias=AliasChoices("endTime", "end_time"))
    execute_time: OptionalInt = Field(default=None, validation_alias=AliasChoices("executeTime", "execute_time"))
    submit_time: OptionalEpochMs = Field(default=None, validation_alias=AliasChoices("submitTime", "submit_time"))
    version: OptionalInt = None
    instance_type: OptionalInt = Field(default=None, validation_alias=AliasChoices("instanceType", "instance_type"))
    force_success: bool = Field(default=False, validation_alias=AliasChoices("forceSuccess", "force_success"))
    ignore_success: bool = Field(default=False, validation_alias=AliasChoices("ignoreSuccess", "ignore_success"))
    job_instance_name: str | None = Field(
        default=None, validation_alias=AliasChoices("jobInstanceName", "job_instance_name")
    )
    error_message: str | None = Field(default=None, validation_alias=AliasChoices("errorMessage", "error_message"))


def summary_of(instance: Instance) -> InstanceSummary:
    """The list row an instance's details stand for (an instance looked up by id rather than listed)."""
    return InstanceSummary(
        job_name=instance.job_name,
        instance_id=instance.instance_id,
        status=instance.status,
        plan_time=instance.plan_time,
        start_time=instance.start_time,
        end_time=instance.end_time,
        execute_time=instance.execute_time,
        instance_type=instance.instance_type,
        force_success=instance.force_success,
        ignore_success=instance.ignore_success,
    )


class InstancePage(_Model):
    """One page of the instance list.

    `skipped` names the rows of the page the bot could not read (see `DlfClient.list_instances`), one text key each.
    """

    total: Count = None
    instances: Annotated[tuple[InstanceSummary, ...], BeforeValidator(_null_as_empty)] = ()
    skipped: tuple[str, ...] = ()


class Job(_Model):
    """One row of the job list (fields beyond the name are optional and informative)."""

    name: JobName = Field(validation_alias=AliasChoices("name", "jobName", "job_name"))
    job_type: str | None = Field(default=None, validation_alias=AliasChoices("jobType", "job_type", "processType"))
    status: str | None = None
    owner: str | None = None
    last_instance_status: str | None = Field(
        default=None, validation_alias=AliasChoices("lastInstanceStatus", "last_instance_status")
    )
    last_instance_end_time: OptionalEpochMs = Field(
        default=None, validation_alias=AliasChoices("lastInstanceEndTime", "last_instance_end_time")
    )


class JobPage(_Model):
    """One page of the job list (`skipped`: the rows the bot could not read, as for `InstancePage`)."""

    total: Count = None
    jobs: Annotated[tuple[Job, ...], BeforeValidator(_null_as_empty)] = ()
    skipped: tuple[str, ...] = ()
