"""Every script in examples/ runs as a reader would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(script: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert "Traceback" not in result.stderr


def test_config_example_reads_the_shipped_config() -> None:
    script = EXAMPLES[0].parent / "estimate_from_config.py"
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True).stdout
    assert out.startswith("Qwen2.5-0.5B: inference")  # the folder's name, as written


def test_chart_example_names_the_extra_it_needs(tmp_path: Path) -> None:
    """Without matplotlib (``pip install .``), the chart example says which extra to install."""
    blocked = tmp_path / "matplotlib"
    blocked.mkdir()
    (blocked / "__init__.py").write_text("raise ImportError(\"No module named 'matplotlib'\")\n")
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    script = EXAMPLES[0].parent / "breakdown_chart.py"
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
        cwd=tmp_path,
    )
    assert result.returncode == 1 and not result.stdout
    assert result.stderr == "This example draws with matplotlib: pip install '.[plot]'\n"
