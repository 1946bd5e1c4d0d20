"""The DLF side: the only package that speaks HTTP to DataArts Factory.

`DlfClient` (configured by `DlfConfig` and one kind of credentials: `AkSk`, `IamPassword`, `StaticToken`) answers with
the models (`Instance`, `Node`, `InstanceSummary`, `InstancePage`, `Job`, `JobPage`) or raises a `bot.errors.DlfError`
subclass. `dlf_endpoint` / `iam_endpoint` turn a region (or an override) into a base URL; `sign` is the pure AK/SK
signer. Nothing here knows Slack, storage or rendering.
"""

from bot.dlf.auth import AkSk, Credentials, IamPassword, StaticToken
from bot.dlf.client import RETRY_LOCATIONS, DlfClient
from bot.dlf.config import DlfConfig
from bot.dlf.endpoints import DLF_REGIONS, dlf_endpoint, iam_endpoint
from bot.dlf.metrics import DlfMetrics
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
from bot.dlf.ratelimit import NoRateLimit, Priority, TokenBucket
from bot.dlf.session import ClientStats
from bot.dlf.signer import SignedRequest, sign

__all__ = [
    "DLF_REGIONS",
    "FAILED_INSTANCE_STATUSES",
    "FINISHED_INSTANCE_STATUSES",
    "INSTANCE_STATUSES",
    "INSTANCE_TYPES",
    "NODE_STATUSES",
    "RETRY_LOCATIONS",
    "AkSk",
    "ClientStats",
    "Credentials",
    "DlfClient",
    "DlfConfig",
    "DlfMetrics",
    "IamPassword",
    "Instance",
    "InstancePage",
    "InstanceSummary",
    "Job",
    "JobPage",
    "NoRateLimit",
    "Node",
    "Priority",
    "SignedRequest",
    "StaticToken",
    "TokenBucket",
    "dlf_endpoint",
    "iam_endpoint",
    "sign",
]
