"""Exact parameter counts from ``*.safetensors`` headers, without reading any tensor.

A safetensors file starts with an 8-byte little-endian header length, then a JSON header
mapping each tensor name to its ``dtype``, ``shape`` and ``data_offsets``
(format: https://huggingface.co/docs/safetensors/index#format). Only that header is read.
The count covers every tensor stored, which for a few checkpoints includes buffers (GPT-2's
causal masks) or quantization scales (FP8 checkpoints).
"""

from __future__ import annotations

import json
import os
import struct
from collections import Counter
from math import prod
from pathlib import Path
from typing import Any, NamedTuple

from .errors import ConfigError, Text
from .modelspec import ModelSpec, from_config

MAX_HEADER_BYTES = 100 * 2**20
"""Largest header accepted; real ones are a few MiB at most."""

DTYPES: dict[str, str] = {
    "F64": "float64",
    "F32": "float32",
    "F16": "float16",
    "BF16": "bfloat16",
    "F8_E4M3": "float8_e4m3",
    "F8_E5M2": "float8_e5m2",
    "I64": "int64",
    "I32": "int32",
    "I16": "int16",
    "I8": "int8",
    "U64": "uint64",
    "U32": "uint32",
    "U16": "uint16",
    "U8": "uint8",
    "BOOL": "bool",
}
"""Safetensors dtype codes and the names used for them here."""


class CheckpointInfo(NamedTuple):
    """What the headers of one or more safetensors files say."""

    parameters: int  # elements over all tensors
    dtypes: dict[str, int]  # dtype name -> elements stored in it
    files: tuple[str, ...]

    @property
    def dtype(self) -> str:
        """The dtype that holds the most elements."""
        return max(self.dtypes.items(), key=lambda item: item[1])[0]


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON header of a safetensors file, checked for shape.

    Raises
    ------
    ConfigError
        Unreadable file, absurd header length, malformed JSON or tensor entries.
    """
    where = str(path)
    try:
        with open(path, "rb") as file:
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
                        "header length {length} bytes exceeds {limit} bytes; "
                        "not a safetensors file?",
                        length=length,
                        limit=MAX_HEADER_BYTES,
                    ),
                )
            raw = file.read(length)
    except OSError as error:
        raise ConfigError(
            where, Text("cannot read: {error}", error=error.strerror or error)
        ) from None
    if len(raw) < length:
        raise ConfigError(
            where,
            Text(
                "header announces {length} bytes but the file ends after {size}",
                length=length,
                size=len(raw),
            ),
        )
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(where, Text("header is not valid JSON: {error}", error=error)) from None
    if not isinstance(header, dict):
        raise ConfigError(where, Text("header is not a JSON object"))
    for name, entry in header.items():
        if name != "__metadata__":
            _check_entry(where, name, entry)
    return header


def _check_entry(where: str, name: str, entry: object) -> None:
    if not isinstance(entry, dict):
        raise ConfigError(
            where, Text("tensor {name!r}: expected an object with dtype and shape", name=name)
        )
    if entry.get("dtype") not in DTYPES:
        raise ConfigError(
            where,
            Text(
                "tensor {name!r}: dtype {dtype!r} is not one of {dtypes}",
                name=name,
                dtype=entry.get("dtype"),
                dtypes=", ".join(DTYPES),
            ),
        )
    shape = entry.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
    ):
        raise ConfigError(
            where,
            Text("tensor {name!r}: shape {shape!r} is not a list of sizes", name=name, shape=shape),
        )


def read_checkpoint(paths: list[str | os.PathLike[str]]) -> CheckpointInfo:
    """Parameter count and dtypes over the given safetensors files (the shards of one model)."""
    if not paths:
        raise ConfigError("checkpoint", Text("no safetensors files given"))
    dtypes: Counter[str] = Counter()
    for path in paths:
        for name, entry in read_header(path).items():
            if name != "__metadata__":
                dtypes[DTYPES[entry["dtype"]]] += prod(entry["shape"])
    return CheckpointInfo(sum(dtypes.values()), dict(dtypes), tuple(str(p) for p in paths))


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed contents of a ``config.json``; :class:`ConfigError` if unreadable or not JSON."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(str(path), Text("cannot read: {error}", error=error)) from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(str(path), Text("not valid JSON: {error}", error=error)) from None
    if not isinstance(config, dict):
        raise ConfigError(str(path), Text("expected a JSON object at the top level"))
    return config


def load_model_dir(path: str | os.PathLike[str]) -> ModelSpec:
    """A :class:`ModelSpec` from a model directory: ``config.json`` plus safetensors headers.

    Without safetensors files the count is the one derived from the architecture.
    """
    directory = Path(path)
    config_path = directory / "config.json"
    if not config_path.is_file():
        raise ConfigError(str(directory), Text("no config.json in this directory"))
    spec = from_config(
        read_config(config_path), name=directory.resolve().name, source=str(config_path)
    )
    shards = sorted(directory.glob("*.safetensors"))
    if not shards:
        return spec
    info = read_checkpoint(list(shards))
    # Skipped experts are the same; whatever else the file holds counts as active.
    return spec.with_(
        parameters=info.parameters,
        active_parameters=spec.active_parameters - spec.parameters + info.parameters,
        parameters_source="safetensors",
        checkpoint_dtype=info.dtype,
    )
