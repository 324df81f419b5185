"""Accelerators and their memory, bandwidth and dense FP16/BF16 peaks (``data/gpus.json``), and
the links that join them.

Every row cites its source. ``memory_bytes`` is what the device reports (``nvidia-smi``
``memory.total`` or the vendor's equivalent) where a report is on record, else the binary
capacity of its memory dies; ``memory_basis`` says which (:data:`MEMORY_BASES`),
``memory_evidence`` quotes the figure and ``memory_source`` says where it was read. The vendor's
marketed capacity stays apart in ``memory_marketed``; it is never turned into bytes.
TFLOPS are dense (no 2:4 sparsity) tensor-core or matrix-engine peaks; ``None`` where the
vendor publishes no figure or the format is unsupported; ``tflops_basis`` says whether they are
printed by the vendor or derived (:data:`TFLOPS_BASES`).

The links between a GPU and its host or other GPUs (``data/links.json``: PCI Express and NVLink
generations) carry their peak bandwidth for both directions together, as their sources print it.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache

from . import _data
from ._record import Record
from .errors import ConfigError, UnknownNameError
from .units import UNITS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    _Row = TypeVar("_Row", "GPU", "Link")

_DATA = _data.path("gpus.json")
_LINKS = _data.path("links.json")

MEMORY_TYPES = (
    "HBM2", "HBM2e", "HBM3", "HBM3e", "GDDR6", "GDDR6X", "GDDR7", "LPDDR5", "LPDDR5X",
)  # fmt: skip

MEMORY_BASES = ("reported", "dies")
"""``reported``: the total a device reports; ``dies``: the binary capacity of its memory dies."""

LINK_KINDS = ("pcie", "nvlink")
"""``pcie``: a GPU's x16 link to its host; ``nvlink``: NVIDIA's GPU-to-GPU links, all of one GPU."""

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
    multiprocessors: int | None = None  # streaming multiprocessors the CUDA device reports
    multiprocessors_source: str = ""  # where the count was read ("" when there is none)
    multiprocessors_evidence: str = ""  # the figure as the source gives it, or why there is none
    compute_capability: str | None = None  # CUDA "major.minor", e.g. "9.0"; None off NVIDIA
    compute_capability_source: str = ""
    compute_capability_evidence: str = ""
    #: how GPUs of this model in one server reach each other (one of LINK_KINDS, by the form
    #: factor: SXM modules "nvlink", PCI Express cards "pcie"); None where not recorded
    peer_link: str | None = None
    peer_link_source: str = ""
    peer_link_evidence: str = ""


class Link(Record):
    """A GPU's link to its host (PCI Express) or to other GPUs (NVLink), ``data/links.json``."""

    id: str
    name: str
    kind: str  # one of LINK_KINDS
    bandwidth_bytes_per_s: int  # both directions together, as the source prints it
    evidence: str  # the figures as the source prints them
    source: str
    lanes: int | None = None  # PCI Express: the lanes the bandwidth is for
    transfer_rate_gt_per_s: float | None = None  # PCI Express: per lane


_Choices = tuple[tuple[str, tuple[str, ...]], ...]
_GPU_OPTIONAL = (
    "fp16_tflops",
    "bf16_tflops",
    "note",
    *(f for f in GPU._fields if "working_set" in f),
    "multiprocessors",
    "multiprocessors_source",
    "compute_capability",
    "compute_capability_source",
    "peer_link",
    "peer_link_source",
)
_GPU_CHOICES: _Choices = (
    ("memory_type", MEMORY_TYPES),
    ("memory_basis", MEMORY_BASES),
    ("tflops_basis", TFLOPS_BASES),
)


def _rows(
    file: str, key: str, record: type[Record], optional: tuple[str, ...], choices: _Choices
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Rows of the list ``key`` in the data file ``file`` by lower-case id, each with a label
    for errors; :class:`ConfigError` for a missing or unknown field, a value not among its
    ``choices`` or a duplicate id."""
    where = f"gpumem/data/{os.path.basename(file)}"
    try:
        rows = _data.load_json(file)[key]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ConfigError(where, f"expected an object with a {key!r} list: {error}") from None
    required = [f for f in record._fields if f not in optional]
    checked: dict[str, tuple[str, dict[str, Any]]] = {}
    for row in rows:
        label = f"{where} row {row.get('id')!r}"
        missing = [field for field in required if row.get(field) in (None, "")]
        unknown = sorted(set(row) - set(record._fields))
        if missing or unknown:
            raise ConfigError(label, f"missing {missing or 'nothing'}; unknown {unknown or 'none'}")
        for field, accepted in choices:
            if row[field] not in accepted:
                raise ConfigError(
                    label, f"{field} {row[field]!r} is not one of {', '.join(accepted)}"
                )
        if row["id"].lower() in checked:
            raise ConfigError(label, "duplicate id")
        checked[row["id"].lower()] = (label, row)
    return checked


@cache
def _gpus() -> dict[str, GPU]:
    """Rows of ``gpus.json`` by lower-case id, checked."""
    gpus: dict[str, GPU] = {}
    for key, (label, row) in _rows(_DATA, "gpus", GPU, _GPU_OPTIONAL, _GPU_CHOICES).items():
        if row["memory_basis"] == "dies" and row["memory_bytes"] % 2**30:
            raise ConfigError(label, "memory_bytes of memory_basis 'dies' is not a whole GiB")
        if not isinstance(row["unified_memory"], bool):
            raise ConfigError(label, "unified_memory is not true or false")
        if row["unified_memory"] and not row.get("gpu_working_set_source"):
            raise ConfigError(label, "unified memory without gpu_working_set_bytes and its source")
        count, capability = row.get("multiprocessors"), row.get("compute_capability")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise ConfigError(label, f"multiprocessors {count!r} is not a positive integer")
        if capability is not None and not re.fullmatch(r"\d+\.\d", str(capability)):
            raise ConfigError(label, f"compute_capability {capability!r} is not 'major.minor'")
        if row.get("peer_link") not in (None, *LINK_KINDS):
            raise ConfigError(label, f"peer_link {row['peer_link']!r} is not one of {LINK_KINDS}")
        for field in ("multiprocessors", "compute_capability", "peer_link"):
            if row.get(field) is not None and not row.get(f"{field}_source"):
                raise ConfigError(label, f"{field} without {field}_source")
        if row["memory_unit"] not in UNITS:
            raise ConfigError(label, f"memory_unit {row['memory_unit']!r} is not a byte unit")
        gpus[key] = GPU(**row)
    return gpus


def _find(rows: dict[str, _Row], kind: str, name: str) -> _Row:
    """The row of id ``name`` (any case); :class:`UnknownNameError` suggests close ids."""
    if name.lower() not in rows:
        raise UnknownNameError(kind, name, sorted(row.id for row in rows.values()))
    return rows[name.lower()]


def gpu_names() -> list[str]:
    """Ids of the known accelerators, sorted."""
    return sorted(gpu.id for gpu in _gpus().values())


def get_gpu(name: str) -> GPU:
    """An accelerator by id, ignoring case; :class:`UnknownNameError` suggests close ids."""
    return _find(_gpus(), "gpu", name)


@cache
def _links() -> dict[str, Link]:
    """Rows of ``links.json`` by lower-case id, checked."""
    optional = ("lanes", "transfer_rate_gt_per_s")
    rows = _rows(_LINKS, "links", Link, optional, (("kind", LINK_KINDS),))
    return {key: Link(**row) for key, (_label, row) in rows.items()}


def link_names() -> list[str]:
    """Ids of the known links, sorted."""
    return sorted(link.id for link in _links().values())


def get_link(name: str) -> Link:
    """A link by id, ignoring case; :class:`UnknownNameError` suggests close ids."""
    return _find(_links(), "link", name)
