"""A fresh install builds the package without setuptools' deprecation warnings (`make demo` prints the build's)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_the_license_is_an_spdx_expression_and_the_build_backend_reads_it() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"] == "Apache-2.0"  # a TOML table is deprecated by setuptools 77
    assert pyproject["build-system"]["requires"] == ["setuptools>=77"]


@pytest.mark.slow
def test_building_the_wheel_prints_no_deprecation_warning(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--verbose", "--wheel-dir", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    output = built.stdout + built.stderr
    assert "Deprecat" not in output and "deprecat" not in output
    (wheel,) = tmp_path.glob("dlf_bot-*.whl")
    assert wheel.is_file()
