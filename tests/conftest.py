"""Shared fixtures: building a small Sphinx project from a test root under tests/roots/."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOTS = Path(__file__).parent / "roots"

if importlib.util.find_spec("sphinx"):
    pytest_plugins = ("sphinx.testing.fixtures",)


@pytest.fixture
def build_root(make_app, tmp_path):
    """Build test root ``name`` (plus ``extra`` documents); return (output dir, warnings)."""

    def run(
        name: str, builder: str, language: str = "en", extra: dict[str, str] | None = None
    ) -> tuple[Path, str]:
        srcdir = tmp_path / "src"
        shutil.copytree(ROOTS / name, srcdir)
        for file_name, text in (extra or {}).items():
            (srcdir / file_name).write_text(text, encoding="utf-8")
        app = make_app(builder, srcdir=srcdir, confoverrides={"language": language})
        app.build()
        return Path(app.outdir), app.warning.getvalue()

    return run
