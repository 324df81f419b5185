"""Pages that show computed values depend on the package: re-read them when any of it changes.

Sphinx re-reads a page when its source changes; a new GPU in ``gpus.json`` or a changed formula
must re-read the pages that show them too.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sphinx.environment import BuildEnvironment

PACKAGE = Path(__file__).resolve().parent.parent
SUFFIXES = {".py", ".json", ".mo"}


@cache
def package_files() -> tuple[str, ...]:
    """The package's code, data and compiled catalogs."""
    files = (p for p in PACKAGE.rglob("*") if p.suffix in SUFFIXES and "__pycache__" not in p.parts)
    return tuple(str(p) for p in sorted(files))


def depend_on_package(env: BuildEnvironment) -> None:
    """Record that the current page shows values computed by the package."""
    for path in package_files():
        env.note_dependency(path)
