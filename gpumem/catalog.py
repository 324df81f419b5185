"""The built-in model catalog (``gpumem/data/models/<id>.json``) and model lookup.

Each entry holds a real ``config.json`` with its source and the published parameter count.
Entries are read on first use and cached.
"""

from __future__ import annotations

import json
import os
from functools import cache

from . import _data
from .errors import ConfigError, UnknownNameError
from .modelspec import ModelSpec, from_config

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_FOLDER = _data.path("models")
_REQUIRED = ("id", "name", "hf_repo", "source", "published_parameters", "config")


def _read_entry(item: str) -> dict[str, Any]:
    """The catalog entry in ``gpumem/data/models/<item>``, checked for its required keys."""
    where = f"gpumem/data/models/{item}"
    try:
        entry = _data.load_json(os.path.join(_FOLDER, item))
    except json.JSONDecodeError as error:
        raise ConfigError(where, f"not valid JSON: {error}") from None
    missing = [key for key in _REQUIRED if not entry.get(key)]
    if missing:
        raise ConfigError(where, f"catalog entry lacks {', '.join(missing)}")
    return entry


@cache
def _entries() -> dict[str, dict[str, Any]]:
    """Catalog entries by lower-case id."""
    entries: dict[str, dict[str, Any]] = {}
    for item in sorted(name for name in os.listdir(_FOLDER) if name.endswith(".json")):
        entry = _read_entry(item)
        key = entry["id"].lower()
        if key in entries:
            raise ConfigError(f"gpumem/data/models/{item}", f"duplicate catalog id {entry['id']!r}")
        entries[key] = entry
    return entries


def _lookup(key: str) -> dict[str, Any] | None:
    """The entry of lower-case id ``key``: its own file when named after it (the command line
    reads one file, not the catalog), else from the whole catalog; ``None`` if unknown."""
    item = f"{key}.json"
    if os.sep not in key and os.path.isfile(os.path.join(_FOLDER, item)):
        entry = _read_entry(item)
        if entry["id"].lower() == key:
            return entry
    return _entries().get(key)


def model_names() -> list[str]:
    """Ids of the catalog models, sorted."""
    return sorted(entry["id"] for entry in _entries().values())


def catalog_entry(name: str) -> dict[str, Any]:
    """The raw catalog entry (config, source, published count) of a model id."""
    entry = _lookup(name.lower())
    if entry is None:
        raise UnknownNameError("model", name, model_names())
    return entry


@cache
def _catalog_model(key: str) -> ModelSpec | None:
    entry = _lookup(key)
    if entry is None:
        return None
    return from_config(entry["config"], name=entry["name"], source=entry["source"])


def load_model(name_or_path: str | os.PathLike[str]) -> ModelSpec:
    """A model by catalog id (any case), path to a ``config.json``, or model directory.

    Raises
    ------
    UnknownNameError
        Neither a catalog id nor an existing path; suggests the closest ids.
    ConfigError
        The file or directory holds no usable configuration.
    """
    text = os.fspath(name_or_path)
    spec = _catalog_model(text.lower())
    if spec is not None:
        return spec
    from pathlib import Path  # only needed for paths, like the checkpoint reader

    from .checkpoint import load_model_dir, read_config

    path = Path(text)
    if path.is_dir():
        return load_model_dir(path)
    if path.is_file():
        return from_config(read_config(path), name=path.resolve().parent.name, source=text)
    raise UnknownNameError("model", text, model_names())
