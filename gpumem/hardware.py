"""Accelerators and their memory, bandwidth and dense FP16/BF16 peaks (``data/gpus.json``).

Every row cites its source. ``memory_bytes`` is the total the device reports (e.g.
``nvidia-smi`` ``memory.total``) where such a figure is on record, else the marketed capacity
times 10**9; ``memory_basis`` says which. TFLOPS are dense (no 2:4 sparsity) tensor-core or
matrix-engine peaks; ``None`` where the vendor publishes no figure or the format is unsupported.
"""

from __future__ import annotations

import json
from functools import cache

from . import _data
from ._record import Record
from .errors import ConfigError, UnknownNameError
from .units import UNITS

_DATA = _data.path("gpus.json")

MEMORY_TYPES = ("HBM2", "HBM2e", "HBM3", "HBM3e", "GDDR6", "GDDR6X", "GDDR7")


class GPU(Record):
    """One accelerator model."""

    id: str
    name: str
    vendor: str
    memory_marketed: float  # capacity as printed by the vendor, in memory_unit
    memory_unit: str  # "GB" (10**9 bytes) or "GiB"
    memory_bytes: int  # total as reported by the device, or marketed capacity in bytes
    memory_basis: str  # "reported: …" or "marketed: …"
    memory_type: str
    bus_width_bits: int
    bandwidth_bytes_per_s: int
    fp16_tflops: float | None  # dense
    bf16_tflops: float | None  # dense
    year: int
    source: str
    note: str = ""


_FIELDS = GPU._fields
_REQUIRED = tuple(f for f in _FIELDS if f not in ("fp16_tflops", "bf16_tflops", "note"))


@cache
def _gpus() -> dict[str, GPU]:
    """Rows of ``gpus.json`` by lower-case id, checked."""
    where = "gpumem/data/gpus.json"
    try:
        rows = _data.load_json(_DATA)["gpus"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ConfigError(where, f"expected an object with a 'gpus' list: {error}") from None
    gpus: dict[str, GPU] = {}
    for row in rows:
        label = f"{where} row {row.get('id')!r}"
        missing = [key for key in _REQUIRED if row.get(key) in (None, "")]
        unknown = sorted(set(row) - set(_FIELDS))
        if missing or unknown:
            raise ConfigError(label, f"missing {missing or 'nothing'}; unknown {unknown or 'none'}")
        if row["memory_type"] not in MEMORY_TYPES:
            raise ConfigError(
                label, f"memory_type {row['memory_type']!r} is not one of {', '.join(MEMORY_TYPES)}"
            )
        if row["memory_unit"] not in UNITS:
            raise ConfigError(label, f"memory_unit {row['memory_unit']!r} is not a byte unit")
        key = row["id"].lower()
        if key in gpus:
            raise ConfigError(label, "duplicate id")
        gpus[key] = GPU(**row)
    return gpus


def gpu_names() -> list[str]:
    """Ids of the known accelerators, sorted."""
    return sorted(gpu.id for gpu in _gpus().values())


def get_gpu(name: str) -> GPU:
    """An accelerator by id, ignoring case; :class:`UnknownNameError` suggests close ids."""
    try:
        return _gpus()[name.lower()]
    except KeyError:
        raise UnknownNameError("gpu", name, gpu_names()) from None
