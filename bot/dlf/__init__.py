"""The DLF side: the only package that speaks HTTP to DataArts Factory.

The front imports nothing, so a module that only needs the domain models (`bot.dlf.models`, `bot.dlf.identifiers`)
loads no HTTP client. Import what you use from its module:

    client.py       DlfClient: list / show / rerun / stop, answering with models or a `bot.errors.DlfError`
    config.py       DlfConfig (one profile's endpoint, project, workspace, rate limit, timeout)
    auth.py         one kind of credentials: AkSk, IamPassword, StaticToken
    signer.py       the pure AK/SK signer (`sign`)
    endpoints.py    dlf_endpoint / iam_endpoint: a region (or an override) to a base URL
    session.py      signed HTTP calls with retries; ratelimit.py: TokenBucket with person-first Priority
    models.py       Instance, Node, InstanceSummary, InstancePage, Job, JobPage and the status sets (pure pydantic)
    identifiers.py  bounds of job names and instance ids; paths.py: URL paths, every segment encoded
    failures.py     DLF's answers to typed errors; metrics.py: DlfMetrics (prometheus)

Nothing here knows Slack, storage or rendering.
"""
