"""The package's data files (``gpumem/data``), read with ``os.path`` next to this module:
``importlib.resources`` and ``pathlib`` cost the command line more to import than the read."""

from __future__ import annotations

import json
import os

DATA = os.path.join(os.path.dirname(__file__), "data")


def path(*parts: str) -> str:
    """Path of a file or folder under ``gpumem/data``."""
    return os.path.join(DATA, *parts)


def load_json(file_path: str | os.PathLike[str]) -> object:
    """Parsed contents of a JSON file (one of :func:`path`)."""
    with open(file_path, encoding="utf-8") as file:
        return json.load(file)
