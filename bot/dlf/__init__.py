"""The DLF side: the only package that speaks HTTP to DataArts Factory.

Public names: the models (`Instance`, `Node`, `InstanceSummary`, `InstancePage`, `Job`, `JobPage`) and, once the
client module exists, `DlfClient` and its configuration. Nothing here knows Slack, storage or rendering.
"""

from bot.dlf.models import (
    FAILED_INSTANCE_STATUSES,
    FINISHED_INSTANCE_STATUSES,
    INSTANCE_STATUSES,
    INSTANCE_TYPES,
    NODE_STATUSES,
    Instance,
    InstancePage,
    InstanceSummary,
    Job,
    JobPage,
    Node,
)

__all__ = [
    "FAILED_INSTANCE_STATUSES",
    "FINISHED_INSTANCE_STATUSES",
    "INSTANCE_STATUSES",
    "INSTANCE_TYPES",
    "NODE_STATUSES",
    "Instance",
    "InstancePage",
    "InstanceSummary",
    "Job",
    "JobPage",
    "Node",
]
