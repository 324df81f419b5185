"""Accelerators and their memory, bandwidth and dense FP16/BF16 peaks (``data/gpus.json``).

Every row cites its source. ``memory_bytes`` is what the device reports (``nvidia-smi``
``memory.total`` or the vendor's equivalent) where a report is on record, else the binary
capacity of its memory dies; ``memory_basis`` says which (:data:`MEMORY_BASES`),
``memory_evidence`` quotes the figure and ``memory_source`` says where it was read. The vendor's
marketed capacity stays apart in ``memory_marketed``; it is never turned into bytes.
TFLOPS are dense (no 2:4 sparsity) tensor-core or matrix-engine peaks; ``None`` where the
vendor publishes no figure or the format is unsupported; ``tflops_basis`` says whether they are
printed by the vendor or derived (:data:`TFLOPS_BASES`).
"""

from __future__ import annotations

import json
from functools import cache

from . import _data
from ._record import Record
from .errors import ConfigError, UnknownNameError
from .units import UNITS

_DATA = _data.path("gpus.json")

MEMORY_TYPES = (
    "HBM2", "HBM2e", "HBM3", "HBM3e", "GDDR6", "GDDR6X", "GDDR7", "LPDDR5", "LPDDR5X",
)  # fmt: skip

MEMORY_BASES = ("reported", "dies")
"""``reported``: the total a device reports; ``dies``: the binary capacity of its memory dies."""

TFLOPS_BASES = ("datasheet", "derived", "none")
"""``datasheet``: the vendor's figure (halved where it is marked with sparsity); ``derived``:
computed from unit counts and clocks as the row's note says; ``none``: no figure published."""


class GPU(Record):
    """One accelerator model."""

    id: str
    name: str
    vendor: str
    memory_marketed: float  # capacity as printed by the vendor, in memory_unit
    memory_unit: str  # "GB" (10**9 bytes) or "GiB"
    memory_bytes: int  # reported by the device, or the binary capacity of its memory dies
    memory_basis: str  # one of MEMORY_BASES
    memory_evidence: str  # the reported figure, or the dies (count x GiB)
    memory_source: str  # where the evidence was read
    unified_memory: bool  # CPU and GPU share it (Apple M-series)
    memory_type: str
    bus_width_bits: int
    bandwidth_bytes_per_s: int
    fp16_tflops: float | None  # dense
    bf16_tflops: float | None  # dense
    tflops_basis: str  # one of TFLOPS_BASES
    year: int
    source: str
    note: str = ""
    gpu_working_set_bytes: int | None = None  # unified memory: Metal's default GPU limit
    gpu_working_set_evidence: str = ""  # the figure as reported, and on which machine
    gpu_working_set_source: str = ""


_FIELDS = GPU._fields
_OPTIONAL = ("fp16_tflops", "bf16_tflops", "note", *(f for f in _FIELDS if "working_set" in f))
_REQUIRED = tuple(f for f in _FIELDS if f not in _OPTIONAL)
_CHOICES = (
    ("memory_type", MEMORY_TYPES),
    ("memory_basis", MEMORY_BASES),
    ("tflops_basis", TFLOPS_BASES),
)


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
        for field, accepted in _CHOICES:
            if row[field] not in accepted:
                raise ConfigError(
                    label, f"{field} {row[field]!r} is not one of {', '.join(accepted)}"
                )
        if row["memory_basis"] == "dies" and row["memory_bytes"] % 2**30:
            raise ConfigError(label, "memory_bytes of memory_basis 'dies' is not a whole GiB")
        if not isinstance(row["unified_memory"], bool):
            raise ConfigError(label, "unified_memory is not true or false")
        if row["unified_memory"] and not row.get("gpu_working_set_source"):
            raise ConfigError(label, "unified memory without gpu_working_set_bytes and its source")
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
