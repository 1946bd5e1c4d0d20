"""What the garbage collector has to walk once `dlf-bot run` is wired (defect 11: acks waited on full collections
of the ~120k objects start-up leaves behind), and the dependency that keeps httpcore's per-request check cheap."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

SCRIPT = """
import gc
from bot.entry import main  # noqa: F401  (the console script's module)
import bot.cli
before = len(gc.get_objects())
bot.cli.settle_heap()
print(before, len(gc.get_objects()), gc.get_freeze_count(), gc.isenabled())
"""


def test_start_up_leaves_the_collector_only_what_comes_after() -> None:
    answer = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=120)
    before, after, frozen, enabled = answer.stdout.split()
    assert int(before) > 50_000  # what the imports built
    assert int(frozen) >= int(before) // 2  # moved out of the collector's way for good
    assert int(after) < 5_000  # a full collection now walks only this much (plus what requests create)
    assert enabled == "True"


def test_sniffio_is_a_dependency_so_httpcore_does_not_fail_an_import_per_request() -> None:
    requirements = importlib.metadata.requires("dlf-bot") or []
    assert any(requirement.startswith("sniffio") for requirement in requirements)
    import httpcore._synchronization as synchronization  # noqa: PLC0415

    assert synchronization.current_async_library.__code__.co_names.count("sniffio")  # still the code path it takes
    import sniffio  # noqa: F401, PLC0415
