"""Pure layers stay pure on import: importing a renderer, the command parser or the watcher's decision loads no HTTP
client, database, scheduler or metrics library and none of the project's I/O modules. Each import runs in a fresh
interpreter and the modules it loaded are read from `sys.modules`.

slack_sdk is allowed: the renderers build Block Kit with its block models, and the package's `__init__` imports its
synchronous WebClient (urllib), which nothing pure calls."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

FORBIDDEN_LIBRARIES = (
    "httpx",
    "httpcore",
    "aiohttp",
    "sqlalchemy",
    "alembic",
    "asyncpg",
    "aiosqlite",
    "apscheduler",
    "slack_bolt",
    "prometheus_client",
)
FORBIDDEN_MODULES = (
    "bot.store",
    "bot.services",
    "bot.slack",
    "bot.dlf.client",
    "bot.dlf.session",
    "bot.dlf.auth",
    "bot.dlf.metrics",
    "bot.watcher.scheduler",
    "bot.watcher.poller",
    "bot.watcher.deliver",
    "bot.cli",
    "bot.settings",
)
PURE = [
    "bot.render",
    "bot.commands",
    "bot.watcher.decide",
    "bot.watcher.staging",
    "bot.watcher.compose",
    "bot.incidents.outbox",
    "bot.dlf.models",
    "bot.messages",
]


def _loaded_by(module: str) -> list[str]:
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return list(json.loads(out))


@pytest.mark.parametrize("module", PURE)
def test_a_pure_module_loads_no_io_on_import(module: str) -> None:
    loaded = _loaded_by(module)
    libraries = sorted({m.split(".")[0] for m in loaded} & set(FORBIDDEN_LIBRARIES))
    ours = sorted(m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN_MODULES))
    assert libraries == [] and ours == [], f"importing {module} loads {libraries + ours}"


def test_the_check_sees_an_io_module() -> None:
    """The check itself can fail: the DLF client does load httpx."""
    assert "httpx" in {m.split(".")[0] for m in _loaded_by("bot.dlf.client")}
