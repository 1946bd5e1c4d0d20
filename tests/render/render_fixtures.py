"""Helpers for the render tests: fixture instances from JSON files, golden-file comparison, a hostile alphabet.

Fixture files are DLF instance-detail bodies as DLF would send them (through the same lenient model the client
uses). Two test-only keys keep the big fixture small on disk: `_repeat_nodes: N` repeats the node list N times
(names numbered) and `_fail_every: K` turns every K-th node into a failed one with retries and a log path.

Golden files are compared byte for byte; `UPDATE_GOLDEN=1 pytest tests/render` rewrites them (review the diff).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from bot.dlf.models import Instance

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
GOLDEN = HERE / "golden"
SEED_FIXTURE = HERE.parent / "fixtures" / "instance_job_batch_34765.json"
# 2025-11-26 07:10 UTC: ten minutes after the fixtures' planned time (the seed's times are from 2019).
NOW_MS = 1764141000000


def _expand(body: dict[str, Any]) -> dict[str, Any]:
    repeat = body.pop("_repeat_nodes", None)
    fail_every = body.pop("_fail_every", None)
    if repeat:
        template = body["nodes"]
        body["nodes"] = [
            {**node, "nodeName": f"{node['nodeName']}_{copy:04d}"} for copy in range(repeat) for node in template
        ]
    if fail_every:
        for index in range(fail_every - 1, len(body["nodes"]), fail_every):
            node = body["nodes"][index]
            node.update(
                status="fail",
                retryTimes=2,
                logPath=f"obs://dlf-log/{body['jobName']}/{node['nodeName']}/error.job",
                startTime=node.get("startTime") or body["startTime"],
                endTime=(node.get("startTime") or body["startTime"]) + 42_000,
            )
    return body


def fixture_body(name: str) -> dict[str, Any]:
    """The JSON body of fixture `name` (`seed` is the seed page's job_batch / 34765)."""
    path = SEED_FIXTURE if name == "seed" else FIXTURES / f"{name}.json"
    return _expand(json.loads(path.read_text(encoding="utf-8")))


def load_instance(name: str) -> Instance:
    """Fixture `name` parsed by the DLF model."""
    return Instance.model_validate(fixture_body(name))


FIXTURE_NAMES = ["seed", *sorted(path.stem for path in FIXTURES.glob("*.json"))]


def check_golden(name: str, data: Any) -> None:
    """Compare `data` with golden/<name>.json, or rewrite that file when UPDATE_GOLDEN=1."""
    path = GOLDEN / f"{name}.json"
    rendered = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(rendered, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path.name}: run with UPDATE_GOLDEN=1 and review it"
    expected = path.read_text(encoding="utf-8")
    assert rendered == expected, f"{path.name} differs from the rendering; if intended, UPDATE_GOLDEN=1 and review"
