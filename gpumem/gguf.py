"""GGUF model files: the header, metadata and tensor infos, never the tensor data.

A GGUF file (format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md, read here as
llama.cpp's ``ggml/src/gguf.cpp`` reads it) holds, in little-endian order: the magic ``GGUF``, a
version (2 or 3), the number of tensors and of metadata entries, the entries (key, type,
value), one info per tensor (name, up to four dimensions, ggml type, offset), padding to the
alignment, then the data. The bytes of each tensor follow from its shape and ggml type
(:data:`GGML_TYPES`), so the exact weight bytes of a model are known without reading them.

Every file is read defensively, with the same rules as the safetensors reader: regular files
only, a cap on every length and count (and counts no larger than the file could hold),
nested arrays refused as llama.cpp refuses them; any problem is a
:class:`~gpumem.errors.ConfigError` naming the file and the bad value.
"""

from __future__ import annotations

import os
import re
import struct
from math import prod
from pathlib import Path
from typing import Any, NamedTuple

from .checkpoint import _open_regular
from .errors import ConfigError, InvalidValueError, Text, UnknownNameError, shown
from .modelspec import MAX_CONTEXT, MAX_EXPERTS, MAX_LAYERS, MAX_VOCAB, MAX_WIDTH, ModelSpec

MAGIC = b"GGUF"
VERSIONS = (2, 3)
"""GGUF versions read (llama.cpp refuses version 1 and anything above 3)."""
MAX_HEADER_BYTES = 256 * 2**20
"""Most bytes of metadata and tensor infos read; real files hold a few MB (vocabularies)."""
MAX_ENTRIES = 100_000
"""Most metadata entries accepted (real files have a few dozen)."""
MAX_TENSORS = 100_000
"""Most tensors accepted per file (DeepSeek-V3 has about 1,100)."""
MAX_STRING_BYTES = 16 * 2**20
"""Longest string accepted (chat templates are tens of kB)."""
MAX_ARRAY = 2**24
"""Most elements of one metadata array (vocabularies hold up to a few hundred thousand)."""
KEPT_ARRAY = 4096
"""Arrays up to this length are kept (per-layer values); longer ones only by their length."""
MAX_NAME = 63
"""Longest tensor name (``GGML_MAX_NAME`` is 64 with its terminating zero)."""
MAX_DIMS = 4
"""``GGML_MAX_DIMS``."""
MAX_SPLITS = 99_999
"""Most files of a split model (the names count with five digits)."""
DEFAULT_ALIGNMENT = 32
"""``GGUF_DEFAULT_ALIGNMENT``, used when ``general.alignment`` is absent."""

_INT64_MAX = 2**63 - 1
_CHUNK = 1 << 20


class GgmlType(NamedTuple):
    """One ggml tensor type: values per block and bytes per block."""

    name: str
    block: int
    size: int


# ggml's tensor types, as llama.cpp defines them: the ids are ``enum ggml_type`` in
# ggml/include/ggml.h; block and type sizes are ``type_traits`` in ggml/src/ggml.c
# (``blck_size`` and ``type_size = sizeof(block_…)``, the structs and their static_asserts in
# ggml/src/ggml-common.h, QK_K = 256). Ids 4, 5 and 31-33, 36-38 were removed from the format.
GGML_TYPES: dict[int, GgmlType] = {
    0: GgmlType("f32", 1, 4),
    1: GgmlType("f16", 1, 2),
    2: GgmlType("q4_0", 32, 2 + 16),
    3: GgmlType("q4_1", 32, 2 + 2 + 16),
    6: GgmlType("q5_0", 32, 2 + 4 + 16),
    7: GgmlType("q5_1", 32, 2 + 2 + 4 + 16),
    8: GgmlType("q8_0", 32, 2 + 32),
    9: GgmlType("q8_1", 32, 2 + 2 + 32),
    10: GgmlType("q2_K", 256, 2 + 2 + 16 + 64),
    11: GgmlType("q3_K", 256, 2 + 64 + 32 + 12),
    12: GgmlType("q4_K", 256, 2 + 2 + 12 + 128),
    13: GgmlType("q5_K", 256, 2 + 2 + 12 + 128 + 32),
    14: GgmlType("q6_K", 256, 2 + 16 + 192),
    15: GgmlType("q8_K", 256, 4 + 256 + 32),
    16: GgmlType("iq2_xxs", 256, 2 + 64),
    17: GgmlType("iq2_xs", 256, 2 + 64 + 8),
    18: GgmlType("iq3_xxs", 256, 2 + 96),
    19: GgmlType("iq1_s", 256, 2 + 32 + 16),
    20: GgmlType("iq4_nl", 32, 2 + 16),
    21: GgmlType("iq3_s", 256, 2 + 104 + 4),
    22: GgmlType("iq2_s", 256, 2 + 64 + 16),
    23: GgmlType("iq4_xs", 256, 2 + 2 + 4 + 128),
    24: GgmlType("i8", 1, 1),
    25: GgmlType("i16", 1, 2),
    26: GgmlType("i32", 1, 4),
    27: GgmlType("i64", 1, 8),
    28: GgmlType("f64", 1, 8),
    29: GgmlType("iq1_m", 256, 32 + 16 + 8),
    30: GgmlType("bf16", 1, 2),
    34: GgmlType("tq1_0", 256, 2 + 4 + 48),
    35: GgmlType("tq2_0", 256, 2 + 64),
    39: GgmlType("mxfp4", 32, 1 + 16),
    40: GgmlType("nvfp4", 64, 4 + 32),
    41: GgmlType("q1_0", 128, 2 + 16),
    42: GgmlType("q2_0", 64, 2 + 16),
}
"""ggml type id -> (name, values per block, bytes per block)."""

_BY_NAME = {t.name.lower(): t for t in GGML_TYPES.values()}

# Metadata value types (``enum gguf_type``): id -> (name, struct format; None for string/array).
_VALUE_TYPES: dict[int, tuple[str, struct.Struct | None]] = {
    0: ("uint8", struct.Struct("<B")),
    1: ("int8", struct.Struct("<b")),
    2: ("uint16", struct.Struct("<H")),
    3: ("int16", struct.Struct("<h")),
    4: ("uint32", struct.Struct("<I")),
    5: ("int32", struct.Struct("<i")),
    6: ("float32", struct.Struct("<f")),
    7: ("bool", struct.Struct("<?")),
    8: ("string", None),
    9: ("array", None),
    10: ("uint64", struct.Struct("<Q")),
    11: ("int64", struct.Struct("<q")),
    12: ("float64", struct.Struct("<d")),
}
_U32, _U64, _I64 = struct.Struct("<I"), struct.Struct("<Q"), struct.Struct("<q")


def ggml_type(name: str) -> GgmlType:
    """The ggml type called ``name`` (any case: ``"Q4_K"``, ``"q8_0"``, ``"bf16"``).

    Raises
    ------
    UnknownNameError
        Not a ggml type.
    """
    found = _BY_NAME.get(name.lower()) if isinstance(name, str) else None
    if found is None:
        raise UnknownNameError("dtype", shown(name), [t.name for t in GGML_TYPES.values()])
    return found


def tensor_bytes(kind: GgmlType, shape: tuple[int, ...]) -> int:
    """Bytes of a tensor of ``shape`` (ggml order: the row first) stored as ``kind``.

    Rows are stored in whole blocks, so the row length must be a multiple of the block size.
    """
    if shape and shape[0] % kind.block:
        raise InvalidValueError(
            "shape",
            shape,
            Text("rows of whole {type} blocks of {block} values", type=kind.name, block=kind.block),
        )
    return prod(shape) // kind.block * kind.size


class Array(NamedTuple):
    """A metadata array too long to keep (a vocabulary): its element type and length."""

    kind: str
    length: int


class TensorInfo(NamedTuple):
    """One tensor as its info describes it; ``shape`` in ggml order (the row first)."""

    name: str
    shape: tuple[int, ...]
    type: GgmlType
    offset: int  # from the start of the data section
    nbytes: int

    @property
    def elements(self) -> int:
        """Number of values."""
        return prod(self.shape)


class GGUFFile(NamedTuple):
    """What the header of one GGUF file says."""

    path: str
    version: int
    metadata: dict[str, Any]
    tensors: tuple[TensorInfo, ...]
    alignment: int
    data_offset: int  # where the data section starts
    size: int  # bytes of the file


class GGUFModel(NamedTuple):
    """A model in one GGUF file or a split set: the first file's metadata, every tensor."""

    files: tuple[GGUFFile, ...]

    @property
    def path(self) -> str:
        """The first file."""
        return self.files[0].path

    @property
    def metadata(self) -> dict[str, Any]:
        """The metadata of the first file (split files repeat only the split keys)."""
        return self.files[0].metadata

    @property
    def tensors(self) -> tuple[TensorInfo, ...]:
        """Every tensor of every file, in file order."""
        return tuple(t for f in self.files for t in f.tensors)

    @property
    def architecture(self) -> str:
        """``general.architecture``."""
        return _architecture(self.files[0])

    @property
    def tensor_bytes(self) -> int:
        """Bytes of all tensors: what llama.cpp loads as weights (``llama_model_size``)."""
        return sum(t.nbytes for t in self.tensors)

    @property
    def parameters(self) -> int:
        """Values over all tensors."""
        return sum(t.elements for t in self.tensors)

    @property
    def bytes_by_type(self) -> dict[str, int]:
        """ggml type name -> bytes of the tensors stored in it."""
        out: dict[str, int] = {}
        for t in self.tensors:
            out[t.type.name] = out.get(t.type.name, 0) + t.nbytes
        return out


# --- Reading one file -----------------------------------------------------------------------


class _Cursor:
    """Sequential reads from the start of a file, buffered, bounded by the file's size and by
    :data:`MAX_HEADER_BYTES`; every shortfall is a :class:`ConfigError`."""

    def __init__(self, file: Any, size: int, where: str) -> None:
        self.file, self.size, self.where = file, size, where
        self.buffer = b""
        self.start = 0  # file position of buffer[0]
        self.pos = 0

    def error(self, problem: str) -> ConfigError:
        return ConfigError(self.where, problem)

    def _need(self, n: int) -> int:
        """Make ``n`` bytes from ``pos`` available; their index in the buffer."""
        end = self.pos + n
        if end > self.size:
            raise self.error(
                Text(
                    "truncated: the header needs byte {end} but the file has {size}",
                    end=end,
                    size=self.size,
                )
            )
        if end > MAX_HEADER_BYTES:
            raise self.error(
                Text(
                    "the header is longer than {limit} bytes, the most accepted",
                    limit=MAX_HEADER_BYTES,
                )
            )
        if end > self.start + len(self.buffer):
            self.file.seek(self.pos)
            self.buffer = self.file.read(min(max(n, _CHUNK), MAX_HEADER_BYTES - self.pos))
            self.start = self.pos
            if len(self.buffer) < n:  # the file shrank since it was measured
                raise self.error(
                    Text(
                        "truncated: the header needs byte {end} but the file has {size}",
                        end=end,
                        size=self.start + len(self.buffer),
                    )
                )
        return self.pos - self.start

    def unpack(self, fmt: struct.Struct) -> Any:
        at = self._need(fmt.size)
        self.pos += fmt.size
        return fmt.unpack_from(self.buffer, at)[0]

    def raw(self, n: int) -> bytes:
        at = self._need(n)
        self.pos += n
        return self.buffer[at : at + n]

    def skip(self, n: int) -> None:
        if n > _CHUNK:  # check the bounds without reading what is skipped
            self.pos += n - 1
            self._need(1)
            self.pos += 1
        else:
            self._need(n)
            self.pos += n

    def skip_strings(self, n: int, what: str) -> None:
        """Step over ``n`` strings (a vocabulary): inside the buffer without a call each."""
        unpack = _U64.unpack_from
        for _ in range(n):
            at = self.pos - self.start
            if at + 8 <= len(self.buffer):
                length = unpack(self.buffer, at)[0]
                if length <= MAX_STRING_BYTES and at + 8 + length <= len(self.buffer):
                    self.pos += 8 + length
                    continue
            self.string(what, keep=False)  # at the buffer's end, or refused with its reason

    def count(self, what: str, limit: int, least: int) -> int:
        """A u64 count of items of at least ``least`` bytes each, at most ``limit`` and no more
        than the rest of the file could hold."""
        n = self.unpack(_U64)
        room = (min(self.size, MAX_HEADER_BYTES) - self.pos) // least
        if n > min(limit, room):
            raise self.error(
                Text(
                    "{what} is {n}; at most {limit} accepted ({room} fit in the file)",
                    what=what,
                    n=shown(n),
                    limit=limit,
                    room=max(room, 0),
                )
            )
        return n

    def string(self, what: str, limit: int = MAX_STRING_BYTES, *, keep: bool = True) -> str:
        """A u64-length-prefixed UTF-8 string of at most ``limit`` bytes ("" if not ``keep``)."""
        n = self.unpack(_U64)
        if n > limit:
            raise self.error(
                Text(
                    "{what} is {n} bytes long; at most {limit} accepted",
                    what=what,
                    n=shown(n),
                    limit=limit,
                )
            )
        if not keep:
            self.skip(n)
            return ""
        return self.raw(n).decode("utf-8", errors="replace")


def _value(cur: _Cursor, kind: int, key: str) -> Any:
    """One metadata value of type ``kind``."""
    if kind not in _VALUE_TYPES:
        raise cur.error(
            Text("key {key!r} has unknown value type {kind}", key=shown(key), kind=shown(kind))
        )
    name, fmt = _VALUE_TYPES[kind]
    if fmt is not None:
        return cur.unpack(fmt)
    if name == "string":
        return cur.string(Text("the value of {key!r}", key=shown(key)))
    element = cur.unpack(_U32)
    if element == 9:
        raise cur.error(
            Text("key {key!r} holds an array of arrays; llama.cpp refuses them", key=shown(key))
        )
    if element not in _VALUE_TYPES:
        raise cur.error(
            Text("key {key!r} has unknown value type {kind}", key=shown(key), kind=element)
        )
    element_name, element_fmt = _VALUE_TYPES[element]
    least = 8 if element_fmt is None else element_fmt.size
    n = cur.count(Text("the length of array {key!r}", key=shown(key)), MAX_ARRAY, least)
    if n <= KEPT_ARRAY:
        return tuple(_value(cur, element, key) for _ in range(n))
    if element_fmt is not None:
        cur.skip(n * least)
    else:
        cur.skip_strings(n, Text("a string in array {key!r}", key=shown(key)))
    return Array(element_name, n)


def _tensor_info(cur: _Cursor, index: int) -> tuple[str, tuple[int, ...], GgmlType, int]:
    name = cur.string(Text("the name of tensor {i}", i=index), MAX_NAME)
    dims = cur.unpack(_U32)
    if dims > MAX_DIMS:
        raise cur.error(
            Text(
                "tensor {name!r} has {n} dimensions; at most {limit}",
                name=shown(name),
                n=dims,
                limit=MAX_DIMS,
            )
        )
    shape = tuple(cur.unpack(_I64) for _ in range(dims))
    if any(n < 0 for n in shape) or prod(shape) > _INT64_MAX:
        raise cur.error(
            Text("tensor {name!r} has shape {shape}", name=shown(name), shape=shown(shape))
        )
    type_id = cur.unpack(_U32)
    kind = GGML_TYPES.get(type_id)
    if kind is None:
        raise cur.error(
            Text(
                "tensor {name!r} has ggml type {id}, which is not a type llama.cpp reads",
                name=shown(name),
                id=type_id,
            )
        )
    if shape and shape[0] % kind.block:
        raise cur.error(
            Text(
                "tensor {name!r}: rows of {n} values are not whole {type} blocks of {block}",
                name=shown(name),
                n=shape[0],
                type=kind.name,
                block=kind.block,
            )
        )
    return name, shape, kind, cur.unpack(_U64)


def read_file(path: str | os.PathLike[str]) -> GGUFFile:
    """The header of one GGUF file, checked as llama.cpp checks it; no tensor data is read.

    Raises
    ------
    ConfigError
        Not a regular readable file, not GGUF, an unsupported version, a count, length or
        type out of range, duplicate keys or tensor names, misplaced tensors or a file too
        short for its tensors.
    """
    where = os.fspath(path)
    file, size = _open_regular(path)
    with file:
        cur = _Cursor(file, size, where)
        if size < 24 or cur.raw(4) != MAGIC:
            raise cur.error(Text("not a GGUF file (no 'GGUF' magic)"))
        version = cur.unpack(_U32)
        if version not in VERSIONS:
            raise cur.error(Text("GGUF version {v} is not supported (only 2 and 3)", v=version))
        n_tensors = cur.count(Text("the tensor count"), MAX_TENSORS, 24)
        n_entries = cur.count(Text("the metadata count"), MAX_ENTRIES, 14)
        metadata: dict[str, Any] = {}
        for _ in range(n_entries):
            key = cur.string(Text("a metadata key"), 65535)
            if not key or key in metadata:
                raise cur.error(Text("metadata key {key!r} is empty or repeated", key=shown(key)))
            metadata[key] = _value(cur, cur.unpack(_U32), key)
        infos = [_tensor_info(cur, i) for i in range(n_tensors)]
        alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
        if (
            not isinstance(alignment, int)
            or isinstance(alignment, bool)
            or alignment <= 0
            or alignment & (alignment - 1)
        ):
            raise cur.error(
                Text("general.alignment {a!r} is not a power of two", a=shown(alignment))
            )
    data_offset = -(-cur.pos // alignment) * alignment
    return GGUFFile(
        where, version, metadata, _place(cur, infos, alignment, data_offset), alignment,
        data_offset, size,
    )  # fmt: skip


def _place(
    cur: _Cursor, infos: list[tuple[str, tuple[int, ...], GgmlType, int]], alignment: int, data: int
) -> tuple[TensorInfo, ...]:
    """Tensor infos with their bytes; each must start where the previous one ends (padded to
    the alignment) and end inside the file, as llama.cpp requires."""
    out: list[TensorInfo] = []
    seen: set[str] = set()
    expected = 0
    for name, shape, kind, offset in infos:
        if name in seen:
            raise cur.error(Text("tensor name {name!r} is repeated", name=shown(name)))
        seen.add(name)
        nbytes = tensor_bytes(kind, shape)
        if offset != expected:
            raise cur.error(
                Text(
                    "tensor {name!r} starts at data offset {offset}; expected {expected}",
                    name=shown(name),
                    offset=shown(offset),
                    expected=expected,
                )
            )
        if data + offset + nbytes > cur.size:
            raise cur.error(
                Text(
                    "tensor {name!r} ends at byte {end}, past the end of the file ({size})",
                    name=shown(name),
                    end=data + offset + nbytes,
                    size=cur.size,
                )
            )
        out.append(TensorInfo(name, shape, kind, offset, nbytes))
        expected = offset + -(-nbytes // alignment) * alignment
    return tuple(out)


# --- Split models ---------------------------------------------------------------------------

_SPLIT_NAME = re.compile(r"^(?P<prefix>.+)-(?P<no>\d{5})-of-(?P<count>\d{5})\.gguf$")


def split_paths(path: str | os.PathLike[str]) -> list[Path]:
    """The files of the model ``path`` belongs to: itself, or every part of a split set named
    ``PREFIX-00001-of-0000N.gguf`` (llama.cpp's ``llama_split_path``), in order."""
    path = Path(path)
    match = _SPLIT_NAME.match(path.name)
    if match is None:
        return [path]
    count = int(match["count"])
    if not 1 <= int(match["no"]) <= count:
        raise ConfigError(os.fspath(path), Text("not a part of a split set of {n} files", n=count))
    parts = [
        path.with_name(f"{match['prefix']}-{i:05d}-of-{count:05d}.gguf")
        for i in range(1, count + 1)
    ]
    for part in parts:
        if not part.exists():
            raise ConfigError(os.fspath(part), Text("missing part of a split GGUF model"))
    return parts


def read_model(path: str | os.PathLike[str]) -> GGUFModel:
    """A GGUF model: one file, or every file of its split set (any part may be named).

    Raises
    ------
    ConfigError
        A file that :func:`read_file` refuses, a missing part, split metadata that disagrees
        with the file names, or no ``general.architecture``.
    """
    parts = split_paths(path)
    files = tuple(read_file(p) for p in parts)
    if len(files) > 1:
        declared = files[0].metadata.get("split.tensors.count")
        for i, f in enumerate(files):
            if f.metadata.get("split.no") != i or f.metadata.get("split.count") != len(files):
                raise ConfigError(
                    f.path,
                    Text(
                        "split.no/split.count say {no!r}/{count!r}; the file name says {i}/{n}",
                        no=shown(f.metadata.get("split.no")),
                        count=shown(f.metadata.get("split.count")),
                        i=i,
                        n=len(files),
                    ),
                )
        total = sum(len(f.tensors) for f in files)
        if declared is not None and declared != total:
            raise ConfigError(
                files[0].path,
                Text(
                    "split.tensors.count is {declared!r} but the files hold {total} tensors",
                    declared=shown(declared),
                    total=total,
                ),
            )
    model = GGUFModel(files)
    _architecture(files[0])
    return model


def _architecture(f: GGUFFile) -> str:
    arch = f.metadata.get("general.architecture")
    if not isinstance(arch, str) or not arch:
        raise ConfigError(f.path, Text("no general.architecture string in the metadata"))
    return arch


# --- Architecture -> ModelSpec fields -------------------------------------------------------

#: GGUF ``general.architecture`` (llama.cpp's src/llama-arch.cpp names) -> Hugging Face
#: ``model_type`` as gpumem's ModelSpec names families. A ``llama`` file with experts is Mixtral,
#: a ``deepseek2`` file with a router score-correction bias (``exp_probs_b``) DeepSeek-V3.
ARCHITECTURES: dict[str, str] = {
    "bert": "bert",
    "deepseek2": "deepseek_v2",
    "gemma2": "gemma2",
    "gemma3": "gemma3_text",
    "gpt-oss": "gpt_oss",
    "gpt2": "gpt2",
    "llama": "llama",
    "olmoe": "olmoe",
    "phi3": "phi3",
    "qwen2": "qwen2",
    "qwen2moe": "qwen2_moe",
    "qwen3": "qwen3",
    "qwen3moe": "qwen3_moe",
    "qwen35": "qwen3_5_text",
    "qwen35moe": "qwen3_5_moe_text",
    "qwen3next": "qwen3_next",
}
#: A multimodal family -> its language model's, the family a GGUF file of its text holds.
TEXT_FAMILY = {
    "gemma3": "gemma3_text",
    "qwen3_5": "qwen3_5_text",
    "qwen3_5_moe": "qwen3_5_moe_text",
}

_BLOCK = re.compile(r"^blk\.(\d+)\.")


class _Meta:
    """Typed access to ``{arch}.…`` metadata; problems are :class:`ConfigError`."""

    def __init__(self, model: GGUFModel) -> None:
        self.meta = model.metadata
        self.arch = model.architecture
        self.where = model.path

    def integer(self, key: str, default: int | None = None, *, low: int = 1, high: int) -> int:
        full = f"{self.arch}.{key}"
        value = self.meta.get(full)
        if isinstance(value, tuple) and value and len(set(value)) == 1:
            value = value[0]  # a per-layer array with one value throughout
        if value is None:
            if default is None:
                raise ConfigError(self.where, Text("missing metadata key {key!r}", key=full))
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(
                self.where,
                Text(
                    "metadata {key!r} is {value!r}; expected an integer from {low} to {high}",
                    key=full,
                    value=shown(value),
                    low=low,
                    high=high,
                ),
            )
        return value


def spec_fields(model: GGUFModel) -> dict[str, Any]:
    """The :class:`~gpumem.modelspec.ModelSpec` fields a GGUF model's metadata and tensors give.

    Counts come from the tensors themselves (``parameters`` = their values, the vocabulary =
    the embedding's rows, an LM head only if ``output.weight`` is stored), the architecture
    from ``{arch}.*`` keys as llama.cpp reads them. ``extra`` holds the GGUF architecture,
    the exact tensor bytes and the bytes per ggml type.

    Raises
    ------
    ConfigError
        An architecture gpumem does not model, or a required key missing or out of range.
    """
    arch = model.architecture
    if arch not in ARCHITECTURES:
        raise ConfigError(
            model.path,
            Text(
                "GGUF architecture {arch!r} is not supported; supported: {names}",
                arch=shown(arch),
                names=", ".join(sorted(ARCHITECTURES)),
            ),
        )
    read = _Meta(model)
    layers = read.integer("block_count", high=MAX_LAYERS)
    mtp = 0
    if arch in RECURRENT_ARCHITECTURES:  # the last nextn layers are the MTP module
        layers -= read.integer("nextn_predict_layers", 0, low=0, high=layers - 1)
        loaded = _loaded(model, layers)
        mtp, model = model.tensor_bytes - loaded.tensor_bytes, loaded
    tensors = {t.name: t for t in model.tensors}
    h = read.integer("embedding_length", high=MAX_WIDTH)
    heads = read.integer("attention.head_count", high=MAX_WIDTH)
    embedding = tensors.get("token_embd.weight")
    vocab = embedding.shape[1] if embedding is not None and len(embedding.shape) == 2 else None
    if vocab is None:
        vocab = read.integer("vocab_size", high=MAX_VOCAB)
    output = tensors.get("output.weight")
    experts = read.integer("expert_count", 0, low=0, high=MAX_EXPERTS)
    active_experts = read.integer(
        "expert_used_count", 0 if not experts else None, low=0, high=experts
    )
    moe_layers = {
        int(m[1]) for name in tensors if (m := _BLOCK.match(name)) and ".ffn_gate_inp." in name
    }
    expert_values = sum(t.elements for t in model.tensors if "_exps." in t.name)
    # Shared experts: Qwen2-MoE files store one without a count; DeepSeek's are stacked
    # (rows = count x width) and counted by expert_shared_count
    shexp = next((t for t in model.tensors if t.name.endswith(".ffn_up_shexp.weight")), None)
    shared = read.integer("expert_shared_count", int(shexp is not None), low=0, high=MAX_EXPERTS)
    shared_width = shexp.shape[-1] // shared if shexp is not None and shared else 0
    family = ARCHITECTURES[arch]
    if family == "llama" and experts:
        family = "mixtral"
    if family == "deepseek_v2" and any(".exp_probs_b." in name for name in tensors):
        family = "deepseek_v3"
    fields: dict[str, Any] = {
        "name": str(model.metadata.get("general.name") or Path(model.path).stem),
        "family": family,
        "parameters": model.parameters,
        "active_parameters": model.parameters
        - (expert_values // experts * (experts - active_experts) if experts else 0),
        "embedding_parameters": sum(t.elements for t in (embedding, output) if t is not None),
        "n_layers": layers,
        "hidden_size": h,
        "n_heads": heads,
        "n_kv_heads": read.integer("attention.head_count_kv", heads, high=heads),
        "head_dim": read.integer("attention.key_length", h // heads, high=MAX_WIDTH),
        "intermediate_size": read.integer("feed_forward_length", 0, low=0, high=MAX_WIDTH),
        "vocab_size": vocab,
        "max_context": read.integer("context_length", high=MAX_CONTEXT),
        "gated_mlp": any(".ffn_gate" in name for name in tensors),
        "causal": arch != "bert",
        "tie_word_embeddings": output is None,
        "n_experts": experts,
        "n_experts_active": active_experts,
        "moe_intermediate_size": read.integer(
            "expert_feed_forward_length", 0, low=0, high=MAX_WIDTH
        )
        if experts
        else 0,
        "n_shared_experts": shared,
        "shared_intermediate_size": read.integer(
            "expert_shared_feed_forward_length", shared_width, low=0, high=MAX_WIDTH
        ),
        "n_dense_layers": layers - len(moe_layers) if experts else 0,
        "kv_lora_rank": read.integer("attention.kv_lora_rank", 0, low=0, high=MAX_WIDTH),
        "source": model.path,
        "checkpoint_dtype": max(model.bytes_by_type.items(), key=lambda kv: kv[1])[0],
        "extra": {
            "gguf_architecture": arch,
            "tensor_bytes": model.tensor_bytes,
            "bytes_by_type": model.bytes_by_type,
            "llamacpp_slots": llamacpp_slots(model, layers),
        },
    }
    if fields["kv_lora_rank"]:  # latent attention: per-head sizes under the *_mla keys
        rope = read.integer("rope.dimension_count", high=MAX_WIDTH)
        key = read.integer("attention.key_length_mla", fields["head_dim"], high=MAX_WIDTH)
        fields["head_dim"], fields["qk_rope_head_dim"] = key, rope
        value = read.integer("attention.value_length", high=MAX_WIDTH)
        fields["extra"].update(
            q_lora_rank=read.integer("attention.q_lora_rank", 0, low=0, high=MAX_WIDTH),
            qk_nope_head_dim=key - rope,
            v_head_dim=read.integer("attention.value_length_mla", value, high=MAX_WIDTH),
        )
    if arch in RECURRENT_ARCHITECTURES:
        extra = _deltanet(read, model, layers)
        fields["n_recurrent_layers"] = len(extra["recurrent_layers"])
        fields["recurrent_state"] = extra.pop("recurrent_state")
        fields["extra"].update(extra)
        if mtp:
            fields["extra"]["mtp_bytes"] = mtp
    if experts and not fields["moe_intermediate_size"]:  # Mixtral: experts as wide as the MLP
        fields["moe_intermediate_size"] = fields["intermediate_size"]
    # Sliding windows as llama.cpp applies them (its set_swa_pattern); Phi-3's window is read but
    # disabled (src/models/phi3.cpp: "Phi SWA is currently disabled"), so its cache holds the
    # whole context
    window = read.integer("attention.sliding_window", 0, low=0, high=MAX_CONTEXT)
    if window and arch in SWA_PATTERN:
        pattern = model.metadata.get(f"{arch}.attention.sliding_window_pattern")
        if isinstance(pattern, tuple):  # one flag per layer
            sliding = sum(bool(flag) for flag in pattern[:layers])
        else:
            every = read.integer("attention.sliding_window_pattern", SWA_PATTERN[arch], high=layers)
            sliding = sum(sliding_layer(i, every) for i in range(layers))
        fields["sliding_window"] = window
        fields["n_sliding_layers"] = sliding
    return fields


#: GGUF architectures with gated DeltaNet layers between full-attention ones (llama.cpp's
#: qwen3next.cpp, qwen35.cpp, qwen35moe.cpp read the same keys).
RECURRENT_ARCHITECTURES = ("qwen3next", "qwen35", "qwen35moe")


def _loaded(model: GGUFModel, layers: int) -> GGUFModel:
    """``model`` without the tensors of layers from ``layers`` on: the multi-token-prediction
    layers, which llama.cpp skips unless asked to load them (``load_mtp``, for speculative
    decoding): its model buffers leave them out, while ``llama_model_size()`` still counts
    every tensor of the file."""
    return GGUFModel(
        tuple(
            f._replace(
                tensors=tuple(
                    t for t in f.tensors if not (m := _BLOCK.match(t.name)) or int(m[1]) < layers
                )
            )
            for f in model.files
        )
    )


def _deltanet(read: _Meta, model: GGUFModel, layers: int) -> dict[str, Any]:
    """The gated DeltaNet layers: which layers they are (``attention.recurrent_layers``,
    one flag per layer, else every layer but each ``full_attention_interval``-th) and the state
    llama.cpp keeps for each per sequence, in F32 (``llama_hparams::n_embd_r`` +
    ``n_embd_s``: the convolution's last ``conv_kernel - 1`` inputs of its channels, and one
    ``state_size`` x ``state_size`` matrix per value head)."""
    kernel = read.integer("ssm.conv_kernel", high=MAX_WIDTH)
    inner = read.integer("ssm.inner_size", high=MAX_WIDTH)
    state = read.integer("ssm.state_size", high=MAX_WIDTH)
    v_heads = read.integer("ssm.time_step_rank", high=MAX_WIDTH)
    k_heads = read.integer("ssm.group_count", high=MAX_WIDTH)
    flags = model.metadata.get(f"{read.arch}.attention.recurrent_layers")
    if flags is not None:
        if not isinstance(flags, tuple) or isinstance(flags, Array) or len(flags) < layers:
            raise ConfigError(
                read.where,
                Text(
                    "metadata {key!r} is {value!r}; expected one flag per layer ({n})",
                    key=f"{read.arch}.attention.recurrent_layers",
                    value=shown(flags),
                    n=layers,
                ),
            )
        recurrent = tuple(i for i in range(layers) if flags[i])
    else:
        every = read.integer("full_attention_interval", 4, high=MAX_LAYERS)
        recurrent = tuple(i for i in range(layers) if (i + 1) % every)
    conv = inner + 2 * k_heads * state
    return {
        "recurrent_state": (kernel - 1) * conv + state * inner,
        "recurrent_layers": recurrent,
        "recurrent_temporal_state": state * inner,
        "linear_attention": {
            "key_heads": k_heads,
            "value_heads": v_heads,
            "key_head_dim": state,
            "value_head_dim": inner // v_heads,
            "conv_kernel": kernel,
        },
    }


_EXPERTS = re.compile(r"\.ffn_(up|down|gate|gate_up)_(ch|)exps\.")


def llamacpp_slots(model: GGUFModel, layers: int) -> dict[str, Any]:
    """Bytes and values of a file's tensors in llama.cpp's slots (``llama_model::load_tensors``):
    the input (token embedding), each repeating layer without and with only its routed experts
    (``--n-cpu-moe`` moves those), and the output layer; a tied embedding is loaded again as the
    output layer, so it counts in both the input and the output."""
    names = {t.name for t in model.tensors}
    dense, experts = [0] * layers, [0] * layers
    dense_p, experts_p = [0] * layers, [0] * layers
    inp = out = out_p = 0
    for t in model.tensors:
        m = _BLOCK.match(t.name)
        if m and int(m[1]) < layers:
            i = int(m[1])
            routed = _EXPERTS.search(t.name + ".")
            (experts if routed else dense)[i] += t.nbytes
            (experts_p if routed else dense_p)[i] += t.elements
        elif t.name.startswith("output") or (
            t.name == "token_embd.weight" and "output.weight" not in names
        ):
            out += t.nbytes
            out_p += t.elements
            inp += t.nbytes if t.name == "token_embd.weight" else 0
        else:
            inp += t.nbytes
    return {
        "input_bytes": inp,
        "layer_bytes": tuple(dense),
        "expert_bytes": tuple(experts),
        "output_bytes": out,
        "layer_params": tuple(dense_p),
        "expert_params": tuple(experts_p),
        "output_params": out_p,
    }


#: llama.cpp's default sliding-window pattern per architecture (``load_swa_pattern(ml, n)`` in
#: src/models/gemma2.cpp, gemma3.cpp, openai-moe.cpp), used when the file gives none.
SWA_PATTERN = {"gemma2": 2, "gemma3": 6, "gpt-oss": 2}


def sliding_layer(index: int, every: int) -> bool:
    """Whether layer ``index`` is a windowed one under llama.cpp's pattern of ``every`` layers
    (``llama_hparams::set_swa_pattern``: all but the last layer of each group of ``every``)."""
    return index % every < every - 1


# --- a model's tensors as llama.cpp names and stores them --------------------------------


def layout(spec: ModelSpec) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape in ggml order) of every tensor llama.cpp loads for ``spec``'s family."""
    h, vocab = spec.hidden_size, spec.vocab_size
    out: list[tuple[str, tuple[int, ...]]] = [("token_embd.weight", (h, vocab))]
    delta = spec.extra.get("linear_attention") if spec.family in DELTANET else None
    recurrent = recurrent_layers(spec.n_layers, spec.n_recurrent_layers) if delta else ()
    for i in range(spec.n_layers):
        b = f"blk.{i}."
        if delta:
            out += _deltanet_block(spec, delta, b, i in recurrent)
        else:
            out += _attention_block(spec, b)
        out += _ffn_block(spec, b)
    out.append(("output_norm.weight", (h,)))
    if not spec.tie_word_embeddings:
        out.append(("output.weight", (h, vocab)))
    return out


def _attention_block(spec: ModelSpec, b: str) -> list[tuple[str, tuple[int, ...]]]:
    """A layer's attention and its norms (every family but the gated DeltaNet hybrids)."""
    h, hd = spec.hidden_size, spec.head_dim
    q, kv = spec.n_heads * hd, spec.n_kv_heads * hd
    out: list[tuple[str, tuple[int, ...]]] = []
    out += [
        (b + "attn_norm.weight", (h,)),
        (b + "attn_q.weight", (h, q)),
        (b + "attn_k.weight", (h, kv)),
        (b + "attn_v.weight", (h, kv)),
        (b + "attn_output.weight", (q, h)),
        # gpt-oss normalises the FFN input with its post-attention norm
        (
            b + ("post_attention_norm" if spec.family == "gpt_oss" else "ffn_norm") + ".weight",
            (h,),
        ),
    ]
    if spec.family in ("qwen2", "qwen2_moe"):
        out += [
            (b + "attn_q.bias", (q,)),
            (b + "attn_k.bias", (kv,)),
            (b + "attn_v.bias", (kv,)),
        ]
    if spec.family == "olmoe":
        out += [(b + "attn_q_norm.weight", (q,)), (b + "attn_k_norm.weight", (kv,))]
    if spec.family in GEMMA3:
        out += [
            (b + "attn_q_norm.weight", (hd,)),
            (b + "attn_k_norm.weight", (hd,)),
            (b + "post_attention_norm.weight", (h,)),
            (b + "post_ffw_norm.weight", (h,)),
        ]
    if spec.family == "gpt_oss":
        out += [
            (b + "attn_q.bias", (q,)),
            (b + "attn_k.bias", (kv,)),
            (b + "attn_v.bias", (kv,)),
            (b + "attn_output.bias", (h,)),
            (b + "attn_sinks.weight", (spec.n_heads,)),
            (b + "ffn_gate_inp.bias", (spec.n_experts,)),
            (b + "ffn_gate_exps.bias", (spec.moe_intermediate_size, spec.n_experts)),
            (b + "ffn_up_exps.bias", (spec.moe_intermediate_size, spec.n_experts)),
            (b + "ffn_down_exps.bias", (h, spec.n_experts)),
        ]
    return out


def _ffn_block(spec: ModelSpec, b: str) -> list[tuple[str, tuple[int, ...]]]:
    """A layer's MLP: dense, or routed experts with an optional shared one."""
    h = spec.hidden_size
    out: list[tuple[str, tuple[int, ...]]] = []
    if spec.is_moe:
        e, ff = spec.n_experts, spec.moe_intermediate_size
        out += [
            (b + "ffn_gate_inp.weight", (h, e)),
            (b + "ffn_gate_exps.weight", (h, ff, e)),
            (b + "ffn_up_exps.weight", (h, ff, e)),
            (b + "ffn_down_exps.weight", (ff, h, e)),
        ]
        if spec.n_shared_experts:
            fs = spec.shared_intermediate_size
            out += [
                (b + "ffn_gate_inp_shexp.weight", (h,)),
                (b + "ffn_gate_shexp.weight", (h, fs)),
                (b + "ffn_up_shexp.weight", (h, fs)),
                (b + "ffn_down_shexp.weight", (fs, h)),
            ]
    else:
        ff = spec.intermediate_size
        out += [
            (b + "ffn_gate.weight", (h, ff)),
            (b + "ffn_up.weight", (h, ff)),
            (b + "ffn_down.weight", (ff, h)),
        ]
    return out


def _deltanet_block(
    spec: ModelSpec, delta: dict[str, int], b: str, recurrent: bool
) -> list[tuple[str, tuple[int, ...]]]:
    """A Qwen3.5 or Qwen3-Next layer before its MLP (src/models/qwen35.cpp, qwen35moe.cpp,
    qwen3next.cpp): a gated
    full-attention layer (the query projection twice as wide: queries and their output gate)
    or a gated DeltaNet layer (llama.cpp keys and values of one head size, ``ssm.state_size``)."""
    h, hd = spec.hidden_size, spec.head_dim
    out = [(b + "attn_norm.weight", (h,)), (b + "post_attention_norm.weight", (h,))]
    if not recurrent:
        q, kv = spec.n_heads * hd, spec.n_kv_heads * hd
        return out + [
            (b + "attn_q.weight", (h, 2 * q)),
            (b + "attn_k.weight", (h, kv)),
            (b + "attn_v.weight", (h, kv)),
            (b + "attn_output.weight", (q, h)),
            (b + "attn_q_norm.weight", (hd,)),
            (b + "attn_k_norm.weight", (hd,)),
        ]
    d, v_heads = delta["key_head_dim"], delta["value_heads"]
    inner = v_heads * d
    conv = 2 * delta["key_heads"] * d + inner
    if spec.family == "qwen3_next":  # qwen3next.cpp: queries, keys, values and gate in one
        projections = [(b + "ssm_in.weight", (h, conv + inner))]
        decay = [(b + "ssm_ba.weight", (h, 2 * v_heads))]
    else:
        projections = [(b + "attn_qkv.weight", (h, conv)), (b + "attn_gate.weight", (h, inner))]
        decay = [(b + "ssm_beta.weight", (h, v_heads)), (b + "ssm_alpha.weight", (h, v_heads))]
    return out + [
        *projections,
        (b + "ssm_conv1d.weight", (delta["conv_kernel"], conv)),
        (b + "ssm_dt.bias", (v_heads,)),
        (b + "ssm_a", (v_heads,)),
        *decay,
        (b + "ssm_norm.weight", (d,)),
        (b + "ssm_out.weight", (inner, h)),
    ]


def full_attention_interval(n_layers: int, n_recurrent: int) -> int:
    """``full_attention_interval`` of ``n_layers`` of which ``n_recurrent`` are DeltaNet ones."""
    return n_layers // max(n_layers - n_recurrent, 1)


def recurrent_layers(n_layers: int, n_recurrent: int) -> frozenset[int]:
    """The gated DeltaNet layers among ``n_layers``: llama.cpp's default pattern (layer ``i``
    is full attention when ``(i + 1) % interval == 0``, qwen35.cpp) where it gives
    ``n_recurrent`` such layers, else the first ``n_recurrent``."""
    every = full_attention_interval(n_layers, n_recurrent)
    flags = [(i + 1) % every != 0 for i in range(n_layers)]
    if every > 1 and sum(flags) == n_recurrent:
        return frozenset(i for i in range(n_layers) if flags[i])
    return frozenset(range(n_recurrent))


#: Gemma 3's families: the multimodal checkpoint and its language model (GGUF ``gemma3``).
GEMMA3 = ("gemma3", "gemma3_text")
#: Families with gated DeltaNet layers that llama.cpp builds (``qwen35``, ``qwen35moe``: the
#: multimodal checkpoints and their language models; ``qwen3next``).
DELTANET = ("qwen3_5", "qwen3_5_text", "qwen3_5_moe", "qwen3_5_moe_text", "qwen3_next")


def storage(name: str, weights: str) -> str:
    """The ggml type a tensor is written in: vectors, attention sinks, the router and the
    DeltaNet's convolution (rows of 4 values) in f32 (as llama.cpp's converter keeps them),
    every other matrix in ``weights``."""
    vector = name.endswith((".bias", ".ssm_a")) or "norm" in name or "gate_inp" in name
    return "f32" if vector or "sinks" in name or "ssm_conv1d" in name else weights
