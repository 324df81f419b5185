"""The built-in model catalog (``gpumem/data/models/<id>.json``) and model lookup.

Each entry holds a real ``config.json`` with its source and the published parameter count.
Entries are read on first use and cached.
"""

from __future__ import annotations

import json
import os
from functools import cache

from . import _data
from .errors import ConfigError, InvalidValueError, Text, UnknownNameError
from .modelspec import ModelSpec, check_params_from, from_config

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
    entry = _lookup(_name_text(name).lower())
    if entry is None:
        raise UnknownNameError("model", name, model_names())
    return entry


@cache
def _catalog_model(key: str) -> ModelSpec | None:
    entry = _lookup(key)
    if entry is None:
        return None
    return from_config(entry["config"], name=entry["name"], source=entry["source"])


def _name_text(name: object) -> str:
    """``name`` as a non-empty string; :class:`InvalidValueError` for anything else."""
    text = os.fspath(name) if isinstance(name, (str, os.PathLike)) else None
    if not isinstance(text, str):
        raise InvalidValueError(
            "model", name, Text("a catalog id, a config.json or a model directory, as a string")
        )
    if not text.strip():
        raise InvalidValueError("model", text, Text("a non-empty catalog id or path"))
    return text


def _looks_like_path(text: str) -> bool:
    """Whether a name that is neither a catalog id nor an existing path was meant as a path."""
    separators = {os.sep, os.altsep or os.sep}
    return (
        any(sep in text for sep in separators)
        or text.startswith((".", "~"))
        or text.lower().endswith((".json", ".gguf"))
    )


def load_model(
    name_or_path: str | os.PathLike[str], *, params_from: str | None = None
) -> ModelSpec:
    """A model by catalog id (any case), path to a ``config.json``, model directory or GGUF file.

    A path ending in ``.gguf`` (one file, or any part of a split set
    ``NAME-00001-of-0000N.gguf``) is read by its header and tensor infos only
    (``gpumem.gguf``): the spec counts the file's tensors (``parameters_source`` is
    ``"gguf"``) and carries their exact bytes, which the estimate takes as the weights.

    Whatever is legal but suspicious (a safetensors count far from the architecture's, a
    missing shard) is said in the spec's ``warnings``, one sentence each, never passed over.

    Parameters
    ----------
    name_or_path
        Catalog id, ``config.json`` path, model directory or ``.gguf`` file.
    params_from
        Where the parameter count of a model directory comes from: ``"config"`` (the
        architecture; the safetensors files are not read), ``"safetensors"`` (their headers,
        exactly; refused when there are none or an index lists missing shards) or ``None``: the
        headers when they are complete and within 10 % of the architecture's count, else the
        architecture's count. Catalog models and ``config.json`` files count from their
        configuration: ``"safetensors"`` is refused for them. A GGUF file counts its tensors:
        any ``params_from`` is refused for it.

    Raises
    ------
    InvalidValueError
        Not a string or path, or an empty one.
    UnknownNameError
        Not a catalog id (and not meant as a path); suggests the closest ids.
    ConfigError
        A path that does not exist, or holds no usable configuration (for a GGUF file: any
        problem ``gpumem.gguf.read_model`` or ``spec_fields`` finds).
    """
    text = _name_text(name_or_path)
    check_params_from(params_from)
    spec = _catalog_model(text.lower())
    if spec is None:
        return _load_path(text, params_from)
    if params_from == "safetensors":
        raise ConfigError(text, _NO_SAFETENSORS)
    return spec


_NO_SAFETENSORS = Text(
    "params_from is 'safetensors' but this is not a model directory with safetensors files"
)


def _load_path(text: str, params_from: str | None) -> ModelSpec:
    from .checkpoint import display_name, load_model_dir, read_config

    is_dir = os.path.isdir(text)  # False, as lexists, for a name the OS cannot take
    exists = is_dir or os.path.lexists(text)
    if not exists:
        if _looks_like_path(text):
            raise ConfigError(text, Text("no such file or directory"))
        raise UnknownNameError("model", text, model_names())
    if is_dir:
        return load_model_dir(text, params_from=params_from)
    if text.lower().endswith(".gguf"):
        return _load_gguf(text, params_from)
    if params_from == "safetensors":
        raise ConfigError(text, _NO_SAFETENSORS)
    config = read_config(text)
    return from_config(config, name=display_name(config, text), source=text)


def _load_gguf(text: str, params_from: str | None) -> ModelSpec:
    """The spec of a GGUF file (or split set): its tensors counted, their bytes in ``extra``."""
    from . import gguf

    if params_from is not None:
        raise ConfigError(
            text,
            Text(
                "params_from is {value!r} but a GGUF file's parameters are counted in its "
                "tensors; leave it unset",
                value=params_from,
            ),
        )
    fields = gguf.spec_fields(gguf.read_model(text))
    return ModelSpec(**fields, parameters_source="gguf")
