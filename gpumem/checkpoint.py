"""Exact parameter counts from ``*.safetensors`` headers, without reading any tensor.

A safetensors file starts with an 8-byte little-endian header length, then a JSON header
mapping each tensor name to its ``dtype``, ``shape`` and ``data_offsets``
(format: https://huggingface.co/docs/safetensors/index#format). Only that header is read.
The count covers every tensor stored, which for a few checkpoints includes buffers (GPT-2's
causal masks) or quantization scales (FP8 checkpoints). MXFP4 weights stored the way gpt-oss
stores them — a ``U8`` tensor ``<name>_blocks`` of two 4-bit values per byte beside a ``U8``
tensor ``<name>_scales`` of one E8M0 exponent per 32 values (``convert_moe_packed_tensors`` in
transformers' ``integrations/mxfp4.py``) — count two parameters per byte; their scales are
listed apart and are not parameters.

Every file is read defensively: regular files only (a named pipe is refused without waiting
for a writer), each kind with a size cap, JSON that is too deep or holds numbers too long is
refused with a :class:`~gpumem.errors.ConfigError`.
"""

from __future__ import annotations

import json
import os
import stat
import struct
import sys
from collections import Counter
from math import prod
from pathlib import Path
from typing import Any, NamedTuple

from .errors import ConfigError, InvalidValueError, Text, shown
from .modelspec import ModelSpec, check_params_from, from_config

MAX_HEADER_BYTES = 100_000_000
"""Largest safetensors header accepted: the safetensors library's own ``MAX_HEADER_SIZE``."""
MAX_CONFIG_BYTES = 16 * 2**20
"""Largest ``config.json`` accepted; real ones are a few kB."""
MAX_INDEX_BYTES = 64 * 2**20
"""Largest ``*.safetensors.index.json`` accepted; real ones are a few MB at most."""
MAX_DIMS = 64
"""Most dimensions a tensor may have (NumPy 2's ``NPY_MAXDIMS``)."""
TOLERANCE = 0.10
"""Relative difference between the safetensors count and the architecture's count beyond
which :func:`load_model_dir` warns (and, by default, keeps the architecture's count)."""

# Every dtype of the safetensors format, with its size in bits: the ``Dtype`` enum and
# ``Dtype::bitsize`` in safetensors/src/tensor.rs of github.com/huggingface/safetensors.
DTYPES: dict[str, tuple[str, int]] = {
    "BOOL": ("bool", 8),
    "F4": ("float4_e2m1", 4),
    "F6_E2M3": ("float6_e2m3", 6),
    "F6_E3M2": ("float6_e3m2", 6),
    "U8": ("uint8", 8),
    "I8": ("int8", 8),
    "F8_E5M2": ("float8_e5m2", 8),
    "F8_E4M3": ("float8_e4m3", 8),
    "F8_E8M0": ("float8_e8m0", 8),
    "F8_E4M3FNUZ": ("float8_e4m3fnuz", 8),
    "F8_E5M2FNUZ": ("float8_e5m2fnuz", 8),
    "I16": ("int16", 16),
    "U16": ("uint16", 16),
    "F16": ("float16", 16),
    "BF16": ("bfloat16", 16),
    "I32": ("int32", 32),
    "U32": ("uint32", 32),
    "F32": ("float32", 32),
    "C64": ("complex64", 64),
    "F64": ("float64", 64),
    "I64": ("int64", 64),
    "U64": ("uint64", 64),
}
"""Safetensors dtype code -> (name used here, bits per element)."""

_USIZE = 2**64  # safetensors checks sizes and offsets in 64-bit unsigned arithmetic
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


class CheckpointInfo(NamedTuple):
    """What the headers of one or more safetensors files say."""

    parameters: int  # elements over all tensors (MXFP4 blocks: two per byte), scales excluded
    dtypes: dict[str, int]  # dtype name -> parameters stored in it ("mxfp4" for packed blocks)
    files: tuple[str, ...]
    scales: int = 0  # MXFP4 scale elements (one per 32 values), not counted as parameters

    @property
    def dtype(self) -> str:
        """The dtype that holds the most parameters."""
        return max(self.dtypes.items(), key=lambda item: item[1])[0]


# --- Reading files defensively ---------------------------------------------------------------


def _cannot_read(where: str, error: OSError | ValueError) -> ConfigError:
    if isinstance(error, FileNotFoundError):
        return ConfigError(where, Text("no such file or directory"))
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return ConfigError(where, Text("cannot read: {error}", error=reason))


def _not_regular(where: str) -> ConfigError:
    return ConfigError(
        where,
        Text(
            "not a regular file (a directory, pipe, device or socket); only regular files are read"
        ),
    )


def _path(path: object, name: str = "path") -> str:
    """``path`` as a string: a ``str`` or ``os.PathLike`` (never bytes, never a file
    descriptor number, which ``os.stat`` would take)."""
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not isinstance(text, str) or not text:
        raise InvalidValueError(name, path, Text("a non-empty file path (str or os.PathLike)"))
    return text


def _open_regular(path: str | os.PathLike[str]) -> tuple[Any, int]:
    """``(binary file, size)`` of a regular file; anything else is refused before it can block
    (``stat`` first, then a non-blocking open checked again with ``fstat``)."""
    where = path = _path(path)
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError) as error:
        raise _cannot_read(where, error) from None
    if not stat.S_ISREG(mode):
        raise _not_regular(where)
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as error:
        raise _cannot_read(where, error) from None
    file = os.fdopen(fd, "rb")
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):  # replaced between stat and open
        file.close()
        raise _not_regular(where)
    return file, info.st_size


def _read_capped(path: str | os.PathLike[str], limit: int) -> bytes:
    """The whole contents of a regular file of at most ``limit`` bytes."""
    file, size = _open_regular(path)
    with file:
        raw = file.read(limit + 1) if size <= limit else b""
    if size > limit or len(raw) > limit:
        raise ConfigError(
            os.fspath(path),
            Text("file is larger than {limit} bytes, the most accepted", limit=limit),
        )
    return raw


def _parse_json(raw: bytes, where: str) -> object:
    """Parsed JSON; :class:`ConfigError` for text that is not UTF-8, not JSON, nested too deep
    for the parser or holding an integer too long to convert."""
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        problem = Text("not UTF-8 text")
    except json.JSONDecodeError as error:
        problem = Text("not valid JSON: {error}", error=str(error))
    except ValueError:  # an integer longer than Python converts
        problem = Text("holds an integer of more than {n} digits", n=sys.get_int_max_str_digits())
    except RecursionError:
        problem = Text("nested too deeply to read")
    raise ConfigError(where, problem)


def _read_json_object(path: str | os.PathLike[str], limit: int) -> dict[str, Any]:
    data = _parse_json(_read_capped(path, limit), os.fspath(path))
    if not isinstance(data, dict):
        raise ConfigError(os.fspath(path), Text("expected a JSON object at the top level"))
    return data


def display_name(config: dict[str, Any], path: str | os.PathLike[str]) -> str:
    """What a model read from ``path`` (a config file or a model directory) is called.

    The last part of the config's ``_name_or_path`` (the Hub id or folder it was saved from),
    else the file's stem when it is not ``config.json``, else the folder's name as written (a
    symbolic link is not followed: ``examples/Qwen2.5-0.5B`` stays ``Qwen2.5-0.5B``).
    """
    saved = config.get("_name_or_path")
    if isinstance(saved, str):
        last = saved.replace("\\", "/").rstrip("/").rpartition("/")[2]
        if 0 < len(last) <= 200 and last.isprintable():
            return last
    full = os.path.abspath(path)
    base = os.path.basename(full)
    if base == "config.json":
        base = os.path.basename(os.path.dirname(full))
    elif not os.path.isdir(full):
        base = os.path.splitext(base)[0]
    return base or os.fspath(path)


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed contents of a ``config.json`` (at most :data:`MAX_CONFIG_BYTES`);
    :class:`ConfigError` if unreadable, not a regular file, too large or not a JSON object."""
    return _read_json_object(path, MAX_CONFIG_BYTES)


# --- Safetensors headers -------------------------------------------------------------------


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON header of a safetensors file, checked as the safetensors library checks it.

    Raises
    ------
    ConfigError
        Unreadable or non-regular file, absurd header length, malformed JSON, no tensors, or a
        tensor entry with an unknown dtype, a bad shape or offsets that do not match it.
    """
    where = _path(path)
    file, size = _open_regular(where)
    with file:
        prefix = file.read(8)
        if len(prefix) < 8:
            raise ConfigError(
                where, Text("too short for a safetensors file (no 8-byte header length)")
            )
        (length,) = struct.unpack("<Q", prefix)
        if length > MAX_HEADER_BYTES:
            raise ConfigError(
                where,
                Text(
                    "header length {length} bytes exceeds {limit} bytes; not a safetensors file?",
                    length=length,
                    limit=MAX_HEADER_BYTES,
                ),
            )
        raw = file.read(length) if length <= size - 8 else b""
    if len(raw) < length:
        raise ConfigError(
            where,
            Text(
                "header announces {length} bytes but the file ends after {size}",
                length=length,
                size=max(0, size - 8),
            ),
        )
    header = _parse_json(raw, where)
    if not isinstance(header, dict):
        raise ConfigError(where, Text("header is not a JSON object"))
    tensors = [(name, entry) for name, entry in header.items() if name != "__metadata__"]
    if not tensors:
        raise ConfigError(where, Text("header lists no tensors"))
    end = 0
    for start, stop, name in sorted(_check_entry(where, name, entry) for name, entry in tensors):
        if start != end:
            raise ConfigError(
                where,
                Text(
                    "tensor {name!r}: data starts at byte {start}, expected {end} "
                    "(tensors must follow each other)",
                    name=shown(name),
                    start=start,
                    end=end,
                ),
            )
        end = stop
    return header


def _check_entry(where: str, name: str, entry: object) -> tuple[int, int, str]:
    """``(start, stop, name)`` of a valid tensor entry; :class:`ConfigError` otherwise."""
    if not isinstance(entry, dict):
        raise ConfigError(
            where,
            Text("tensor {name!r}: expected an object with dtype and shape", name=shown(name)),
        )
    dtype = entry.get("dtype")
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise ConfigError(
            where,
            Text(
                "tensor {name!r}: dtype {dtype!r} is not one of {dtypes}",
                name=shown(name),
                dtype=shown(dtype),
                dtypes=", ".join(DTYPES),
            ),
        )
    shape = entry.get("shape")
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_DIMS
        or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n < _USIZE for n in shape
        )
        or prod(shape) * DTYPES[dtype][1] >= _USIZE
    ):
        raise ConfigError(
            where,
            Text(
                "tensor {name!r}: shape {shape!r} is not a list of at most {dims} sizes "
                "whose product fits in 64 bits",
                name=shown(name),
                shape=shown(shape),
                dims=MAX_DIMS,
            ),
        )
    bits = prod(shape) * DTYPES[dtype][1]
    offsets = entry.get("data_offsets")
    if (
        bits % 8
        or not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in offsets)
        or not 0 <= offsets[0] <= offsets[1] < _USIZE
        or offsets[1] - offsets[0] != bits // 8
    ):
        raise ConfigError(
            where,
            Text(
                "tensor {name!r}: data_offsets {offsets!r} do not span the {bytes} bytes of "
                "shape {shape!r} in {dtype} (whole bytes only)",
                name=shown(name),
                offsets=shown(offsets),
                bytes=bits / 8,
                shape=shown(shape),
                dtype=dtype,
            ),
        )
    return offsets[0], offsets[1], name


def read_checkpoint(paths: list[str | os.PathLike[str]]) -> CheckpointInfo:
    """Parameter count and dtypes over the given safetensors files (the shards of one model).

    A tensor name found in two files is refused: counting it twice would be silently wrong.
    """
    return _summary(_read_tensors(paths), paths)


def _read_tensors(paths: list[str | os.PathLike[str]]) -> dict[str, tuple[str, list[int]]]:
    """``{tensor name: (dtype code, shape)}`` over the headers of ``paths``."""
    if isinstance(paths, (str, bytes, os.PathLike)) or not isinstance(paths, (list, tuple)):
        raise InvalidValueError("paths", paths, Text("a list of safetensors file paths"))
    if not paths:
        raise ConfigError("checkpoint", Text("no safetensors files given"))
    tensors: dict[str, tuple[str, list[int]]] = {}
    seen_in: dict[str, str] = {}
    for path in paths:
        for name, entry in read_header(path).items():
            if name == "__metadata__":
                continue
            if name in tensors:
                raise ConfigError(
                    os.fspath(path),
                    Text(
                        "tensor {name!r} is also in {other}", name=shown(name), other=seen_in[name]
                    ),
                )
            tensors[name] = (entry["dtype"], entry["shape"])
            seen_in[name] = os.fspath(path)
    return tensors


def _summary(
    tensors: dict[str, tuple[str, list[int]]], paths: list[str | os.PathLike[str]]
) -> CheckpointInfo:
    dtypes: Counter[str] = Counter()
    scales = 0
    for name, (dtype, shape) in tensors.items():
        kind = _mxfp4_part(name, dtype, shape, tensors)
        if kind == "scales":
            scales += prod(shape)
        elif kind == "blocks":
            dtypes["mxfp4"] += 2 * prod(shape)
        else:
            dtypes[DTYPES[dtype][0]] += prod(shape)
    return CheckpointInfo(
        sum(dtypes.values()), dict(dtypes), tuple(os.fspath(p) for p in paths), scales
    )


def _mxfp4_part(
    name: str, dtype: str, shape: list[int], entries: dict[str, tuple[str, list[int]]]
) -> str:
    """``"blocks"`` or ``"scales"`` for the two ``U8`` halves of an MXFP4 weight (the scales'
    shape is the blocks' without its last dimension), else ``""``."""
    if dtype != "U8":
        return ""
    if name.endswith("_blocks"):
        other = entries.get(name[: -len("_blocks")] + "_scales")
        if other == ("U8", shape[:-1]) and shape:
            return "blocks"
    elif name.endswith("_scales"):
        other = entries.get(name[: -len("_scales")] + "_blocks")
        if other is not None and other[0] == "U8" and other[1][:-1] == shape and other[1]:
            return "scales"
    return ""


# --- Model directories ---------------------------------------------------------------------


class _Shards(NamedTuple):
    present: list[Path]
    missing: list[str]  # shard files an index lists that are not there
    expected: dict[str, str]  # tensor -> shard, from the index (empty without one)


def _find_shards(directory: Path) -> _Shards:
    """The safetensors files of a model directory: those its ``*.safetensors.index.json``
    lists (a directory may also hold a consolidated copy), else every ``*.safetensors``."""
    indexes = sorted(directory.glob("*.safetensors.index.json"))
    if not indexes:
        return _Shards(sorted(directory.glob("*.safetensors")), [], {})
    expected: dict[str, str] = {}
    for index in indexes:
        weight_map = _read_json_object(index, MAX_INDEX_BYTES).get("weight_map")
        if (
            not weight_map
            or not isinstance(weight_map, dict)
            or not all(
                isinstance(shard, str)
                and shard not in ("", ".", "..")
                and Path(shard).name == shard
                for shard in weight_map.values()
            )
        ):
            raise ConfigError(
                os.fspath(index),
                Text(
                    "'weight_map' must map tensor names (at least one) to file names in the "
                    "same directory"
                ),
            )
        expected.update(weight_map)
    names = sorted(set(expected.values()))
    present = [directory / name for name in names if (directory / name).exists()]
    missing = [name for name in names if not (directory / name).exists()]
    return _Shards(present, missing, expected)


def load_model_dir(path: str | os.PathLike[str], *, params_from: str | None = None) -> ModelSpec:
    """A :class:`ModelSpec` from a model directory: ``config.json`` plus safetensors headers.

    Parameters
    ----------
    path
        The directory.
    params_from
        Where the parameter count comes from: ``"config"`` (the architecture; safetensors files
        are not read), ``"safetensors"`` (the headers, exactly; an error if there are none or
        shards are missing), or ``None``: the headers when they are complete and within
        :data:`TOLERANCE` of the architecture's count, else the architecture's count.

    Whatever is suspicious — shards an index lists that are missing, a safetensors count far
    from the architecture's — is said in :attr:`ModelSpec.warnings`, never passed over.
    """
    check_params_from(params_from)
    directory = Path(_path(path))
    config_path = directory / "config.json"
    if not os.path.lexists(config_path):
        raise ConfigError(os.fspath(directory), Text("no config.json in this directory"))
    config = read_config(config_path)
    spec = from_config(config, name=display_name(config, directory), source=os.fspath(config_path))
    if params_from == "config":
        return spec
    shards = _find_shards(directory)
    where = os.fspath(directory)
    if not shards.present and params_from == "safetensors":
        raise ConfigError(
            where, Text("params_from is 'safetensors' but there is no safetensors file")
        )
    problems = [_missing_shards(shards)] if shards.missing else []
    arch, counted, dtype, far = spec.parameters, 0, None, False
    if shards.present:
        tensors = _read_tensors(list(shards.present))
        listed = {t for t, shard in shards.expected.items() if directory / shard in shards.present}
        absent = sorted(listed - set(tensors))
        if absent:
            problems.append(
                Text(
                    "{n} tensors the index lists are not in the safetensors files "
                    "(first: {name!r})",
                    n=len(absent),
                    name=shown(absent[0]),
                )
            )
        if problems and params_from == "safetensors":
            raise ConfigError(where, problems[0])
        info = _summary(tensors, list(shards.present))
        counted, dtype = info.parameters, info.dtype
        far = abs(counted - arch) > TOLERANCE * arch
    use_file = bool(shards.present) and (params_from == "safetensors" or (not problems and not far))
    numbers = {"counted": counted, "change": counted / arch - 1, "arch": arch}
    if far and use_file:
        problems.append(
            Text(
                "the safetensors files hold {counted:,} parameters, {change:+.1%} from the "
                "{arch:,} of the architecture; the safetensors count is used (params_from)",
                **numbers,
            )
        )
    elif far:
        problems.append(
            Text(
                "the safetensors files hold {counted:,} parameters, {change:+.1%} from the "
                "{arch:,} of the architecture (packed quantized weights, extra tensors or "
                "another model?); the architecture's count is used (params_from)",
                **numbers,
            )
        )
    elif problems:
        problems.append(
            Text("the architecture's count of {arch:,} parameters is used (params_from)", arch=arch)
        )
    warnings = _warnings(where, problems)
    if not use_file:
        return spec.with_(checkpoint_dtype=dtype, warnings=warnings)
    inactive = spec.parameters - spec.active_parameters  # experts a token skips: the same
    active = counted - inactive if counted > inactive else counted * spec.active_parameters // arch
    return spec.with_(
        parameters=counted,
        active_parameters=max(1, active),
        parameters_source="safetensors",
        checkpoint_dtype=dtype,
        warnings=warnings,
    )


def _missing_shards(shards: _Shards) -> Text:
    return Text(
        "{n} of the {total} safetensors files the index lists are missing ({names})",
        n=len(shards.missing),
        total=len(set(shards.expected.values())),
        names=", ".join(shards.missing[:3]) + (", …" if len(shards.missing) > 3 else ""),
    )


def _warnings(where: str, problems: list[Text]) -> tuple[Text, ...]:
    """Each problem as a warning that names the directory (worded as a ConfigError is)."""
    return tuple(Text("{path}: {problem}", path=where, problem=problem) for problem in problems)
