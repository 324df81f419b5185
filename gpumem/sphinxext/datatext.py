"""The prose of the data files (a GPU's notes, how the measurements were made) in the page's
language.

The English text in the data file is the message id in the ``gpumem`` catalog, so a changed
note is untranslated until its translation is added. :func:`extract` is the ``pybabel
extract`` method that puts these texts into the catalog's template (``nox -s i18n``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import IO

from .. import _data
from .translation import gettext

#: Per data file: the key of its rows (a list of them, or one object) and the fields of a row
#: that hold prose (a text, or a list of texts).
PROSE: dict[str, tuple[str, tuple[str, ...]]] = {
    "gpus.json": ("gpus", ("note", "memory_evidence")),
    "links.json": ("links", ("evidence",)),
    "measurements.json": ("provenance", ("method", "conventions")),
    "cuda_measurements.json": ("provenance", ("method", "conventions")),
}


def translated(text: str) -> str:
    """A data file's text in the page's language (the text itself where it has no translation)."""
    return gettext(text) if text else text


def _texts(name: str, content: dict) -> Iterator[str]:
    key, fields = PROSE[name]
    rows = content.get(key, [])
    for row in rows if isinstance(rows, list) else [rows]:
        for field in fields:
            value = row.get(field) or []
            yield from value if isinstance(value, list) else [value]


def texts() -> list[str]:
    """Every prose text of the data files, in file order, once each."""
    found: list[str] = []
    for name in PROSE:
        if os.path.exists(_data.path(name)):
            found += _texts(name, _data.load_json(_data.path(name)))  # type: ignore[arg-type]
    return list(dict.fromkeys(found))


def extract(
    fileobj: IO[bytes], keywords: object, comment_tags: object, options: object
) -> Iterator[tuple[int, None, str, list[str]]]:
    """``pybabel extract`` method for the data files named in :data:`PROSE`."""
    name = os.path.basename(getattr(fileobj, "name", ""))
    if name in PROSE:
        for text in dict.fromkeys(_texts(name, json.loads(fileobj.read().decode("utf-8")))):
            yield 0, None, text, []
