"""Published vLLM startup logs (``gpumem/data/vllm_startup_logs.json``).

Each row is one launch taken from a public GitHub thread: the model, GPUs and arguments, and the
numbers vLLM printed at startup, copied as printed, with the thread as its source.
"""

from __future__ import annotations

from functools import cache

from . import _data
from .errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_FILE = "vllm_startup_logs.json"
_REQUIRED = ("id", "source", "generation", "args", "logged", "outcome")
GENERATIONS = ("v1-tokens", "v1-blocks", "v0-blocks")


@cache
def logs() -> tuple[dict[str, Any], ...]:
    """The rows, each checked for a source, a known log generation and a unique id."""
    where = f"gpumem/data/{_FILE}"
    rows = _data.load_json(_data.path(_FILE))["logs"]
    seen: set[str] = set()
    for row in rows:
        missing = [key for key in _REQUIRED if not row.get(key)]
        if missing:
            raise ConfigError(where, f"log {row.get('id')!r} lacks {', '.join(missing)}")
        if row["generation"] not in GENERATIONS:
            raise ConfigError(
                where, f"log {row['id']!r} has unknown generation {row['generation']!r}"
            )
        if row["id"] in seen:
            raise ConfigError(where, f"duplicate log id {row['id']!r}")
        seen.add(row["id"])
    return tuple(rows)
