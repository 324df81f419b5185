"""Safetensors headers: exact counts and dtypes from hand-made files, and bad files."""

from __future__ import annotations

import json
import os
import struct
import threading
from pathlib import Path

import pytest

from gpumem import checkpoint
from gpumem.checkpoint import (
    MAX_HEADER_BYTES,
    display_name,
    load_model_dir,
    read_checkpoint,
    read_config,
    read_header,
)
from gpumem.errors import ConfigError, InvalidValueError

# Bits per element of every safetensors dtype, written out from the format's list
# (safetensors/src/tensor.rs, ``Dtype::bitsize``), not taken from the code under test.
BITS = {
    "BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8,
    "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16, "U16": 16,
    "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64,
    "U64": 64,
}  # fmt: skip


def write_safetensors(path: Path, tensors: dict[str, tuple[str, list[int]]]) -> Path:
    """A valid safetensors file: header, then zero bytes for every tensor."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        bits = BITS[dtype]
        for n in shape:
            bits *= n
        size = bits // 8
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(offset))
    return path


def write_raw(path: Path, header: bytes, length: int | None = None) -> Path:
    size = len(header) if length is None else length
    path.write_bytes(struct.pack("<Q", size) + header)
    return path


def test_count_and_dtypes(tmp_path: Path) -> None:
    path = write_safetensors(
        tmp_path / "model.safetensors",
        {"embed": ("BF16", [10, 4]), "norm": ("F32", [4]), "scalar": ("F32", [])},
    )
    info = read_checkpoint([path])
    assert info.parameters == 10 * 4 + 4 + 1
    assert info.dtypes == {"bfloat16": 40, "float32": 5}
    assert info.dtype == "bfloat16"
    assert "__metadata__" in read_header(path)


def test_shards_add_up(tmp_path: Path) -> None:
    a = write_safetensors(tmp_path / "a.safetensors", {"x": ("F16", [3, 5])})
    b = write_safetensors(tmp_path / "b.safetensors", {"y": ("F16", [7])})
    assert read_checkpoint([a, b]).parameters == 22


def test_absurd_header_length_refused(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "big.safetensors", b"{}", length=MAX_HEADER_BYTES + 1)
    with pytest.raises(ConfigError, match="exceeds"):
        read_header(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"abc", "too short"),
        (struct.pack("<Q", 50) + b"{}", "announces 50 bytes"),
        (struct.pack("<Q", 3) + b"{x]", "not valid JSON"),
        (struct.pack("<Q", 2) + b"[]", "not a JSON object"),
    ],
)
def test_malformed_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        read_header(path)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"dtype": "F17", "shape": [2]}, "dtype 'F17' is not one of BOOL, F4, "),
        ({"dtype": "F16", "shape": [2, -1]}, "shape"),
        ({"dtype": "F16", "shape": "2"}, "shape"),
        ("F16", "expected an object"),
    ],
)
def test_malformed_entries(tmp_path: Path, entry: object, message: str) -> None:
    path = write_raw(tmp_path / "bad.safetensors", json.dumps({"w": entry}).encode())
    with pytest.raises(ConfigError, match=message):
        read_checkpoint([path])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file or directory"):
        read_header(tmp_path / "none.safetensors")


TINY_LLAMA = {
    "model_type": "llama",
    "hidden_size": 8,
    "intermediate_size": 16,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "num_hidden_layers": 1,
    "vocab_size": 10,
    "max_position_embeddings": 32,
    "tie_word_embeddings": False,
}


def tiny_llama_tensors() -> dict[str, tuple[str, list[int]]]:
    """The tensors of TINY_LLAMA, named and shaped as in a Llama checkpoint."""
    layer = "model.layers.0."
    return {
        "model.embed_tokens.weight": ("BF16", [10, 8]),
        layer + "self_attn.q_proj.weight": ("BF16", [8, 8]),
        layer + "self_attn.k_proj.weight": ("BF16", [4, 8]),
        layer + "self_attn.v_proj.weight": ("BF16", [4, 8]),
        layer + "self_attn.o_proj.weight": ("BF16", [8, 8]),
        layer + "mlp.gate_proj.weight": ("BF16", [16, 8]),
        layer + "mlp.up_proj.weight": ("BF16", [16, 8]),
        layer + "mlp.down_proj.weight": ("BF16", [8, 16]),
        layer + "input_layernorm.weight": ("BF16", [8]),
        layer + "post_attention_layernorm.weight": ("BF16", [8]),
        "model.norm.weight": ("BF16", [8]),
        "lm_head.weight": ("BF16", [10, 8]),
    }


def test_model_dir_matches_architecture(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(TINY_LLAMA))
    without = load_model_dir(tmp_path)
    assert without.parameters_source == "architecture" and without.checkpoint_dtype is None
    write_safetensors(tmp_path / "model.safetensors", tiny_llama_tensors())
    spec = load_model_dir(tmp_path)
    # 2*80 embeddings + (64+32+32+64) attention + 3*128 MLP + 3 norms of 8
    assert spec.parameters == without.parameters == 160 + 192 + 384 + 24
    assert spec.parameters_source == "safetensors"
    assert spec.checkpoint_dtype == "bfloat16"
    assert spec.name == tmp_path.name


def test_model_dir_without_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no config.json"):
        load_model_dir(tmp_path)


def test_model_dir_with_malformed_config(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_model_dir(tmp_path)


# --- Hostile files: refused at once, never a hang, a traceback or a silent miscount ------------


def finishes(call, seconds: float = 10.0) -> object:
    """What ``call()`` returns or raises, failing the test if it has not returned in time."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(call())
        except Exception as error:  # noqa: BLE001 - handed back to the test
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still running after {seconds} s"
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_fifo_named_like_a_checkpoint_is_refused_without_blocking(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(TINY_LLAMA))
    os.mkfifo(tmp_path / "model.safetensors")
    error = finishes(lambda: load_model_dir(tmp_path))
    assert isinstance(error, ConfigError) and "not a regular file" in str(error)
    # params_from="config" does not look at the checkpoint at all
    spec = finishes(lambda: load_model_dir(tmp_path, params_from="config"))
    assert spec.parameters == 760 and spec.parameters_source == "architecture"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_fifo_config_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "config.json")
    error = finishes(lambda: load_model_dir(tmp_path))
    assert isinstance(error, ConfigError) and "not a regular file" in str(error)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="a device file")
def test_device_is_refused() -> None:
    for read in (read_config, read_header):
        error = finishes(lambda read=read: read("/dev/zero"))
        assert isinstance(error, ConfigError) and "not a regular file" in str(error)


def test_config_size_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(TINY_LLAMA | {"padding": "x" * 200}))
    monkeypatch.setattr(checkpoint, "MAX_CONFIG_BYTES", 200)
    with pytest.raises(ConfigError, match="larger than 200 bytes"):
        read_config(path)
    assert checkpoint.MAX_CONFIG_BYTES < 2**30 and MAX_HEADER_BYTES == 100_000_000


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
        (b'{"a": ' + b"9" * 5_000 + b"}", "integer of more than 4300 digits"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "expected a JSON object"),
    ],
)
def test_hostile_config_json(tmp_path: Path, raw: bytes, message: str) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(raw)
    with pytest.raises(ConfigError, match=message):
        read_config(path)


def header_file(path: Path, header: object) -> Path:
    return write_raw(path, json.dumps(header).encode())


def tensor(dtype: str, shape: list, start: int = 0, size: int | None = None) -> dict:
    if size is None:
        size = BITS[dtype]
        for n in shape:
            size *= n
        size //= 8
    return {"dtype": dtype, "shape": shape, "data_offsets": [start, start + size]}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({}, "lists no tensors"),
        ({"__metadata__": {"format": "pt"}}, "lists no tensors"),
        ({"w": {"dtype": "F16", "shape": [10**400], "data_offsets": [0, 2]}}, "shape"),
        ({"w": {"dtype": "F16", "shape": [2] * 2_000, "data_offsets": [0, 2]}}, "at most 64"),
        ({"w": {"dtype": "F16", "shape": [2**40] * 2, "data_offsets": [0, 2]}}, "64 bits"),
        ({"w": {"dtype": "F16", "shape": [2], "data_offsets": [0, 3]}}, "do not span the 4"),
        ({"w": {"dtype": "F16", "shape": [2]}}, "data_offsets None"),
        ({"w": {"dtype": "F6_E2M3", "shape": [3], "data_offsets": [0, 2]}}, "whole bytes"),
        ({"w": tensor("F16", [2]), "v": tensor("F16", [2], start=8)}, "starts at byte 8"),
        ({"w": {"dtype": ["F16"], "shape": [2], "data_offsets": [0, 4]}}, "dtype \\['F16'\\]"),
    ],
)
def test_hostile_headers(tmp_path: Path, header: dict, message: str) -> None:
    path = header_file(tmp_path / "x.safetensors", header)
    with pytest.raises(ConfigError, match=message):
        read_checkpoint([path])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"w": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "nested too deeply"),
        (b'{"w": {"dtype": "F16", "shape": [' + b"9" * 5_000 + b"]}}", "4300 digits"),
    ],
)
def test_hostile_header_json(tmp_path: Path, raw: bytes, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        read_header(write_raw(tmp_path / "x.safetensors", raw))


def test_every_safetensors_dtype_with_sub_byte_packing(tmp_path: Path) -> None:
    # 8 elements of each dtype: 4 bytes of F4, 6 of F6, 8 of a byte-sized type, ...
    tensors = {f"t.{code}": (code, [2, 4]) for code in BITS}
    path = write_safetensors(tmp_path / "all.safetensors", tensors)
    info = read_checkpoint([path])
    assert info.parameters == 8 * 22 and len(info.dtypes) == 22
    header = read_header(path)
    assert header["t.F4"]["data_offsets"][1] - header["t.F4"]["data_offsets"][0] == 4
    assert info.dtypes["float4_e2m1"] == info.dtypes["float8_e8m0"] == 8


def test_mxfp4_blocks_count_two_values_per_byte(tmp_path: Path) -> None:
    # gpt-oss layout: 4 experts x 6 rows x 2 groups of 32 values; 16 bytes per group,
    # one E8M0 scale per group. 4*6*64 = 1,536 weights, 48 scales, plus a BF16 bias of 4*6.
    expert = "model.layers.0.mlp.experts.gate_up_proj"
    path = write_safetensors(
        tmp_path / "model.safetensors",
        {
            expert + "_blocks": ("U8", [4, 6, 2, 16]),
            expert + "_scales": ("U8", [4, 6, 2]),
            expert + "_bias": ("BF16", [4, 6]),
            "unpaired_blocks": ("U8", [3, 16]),  # no scales beside it: plain bytes
        },
    )
    info = read_checkpoint([path])
    assert info.dtypes == {"mxfp4": 1_536, "bfloat16": 24, "uint8": 48}
    assert info.parameters == 1_536 + 24 + 48 and info.scales == 48
    assert info.dtype == "mxfp4"


def test_tensor_in_two_shards_is_refused(tmp_path: Path) -> None:
    a = write_safetensors(tmp_path / "a.safetensors", {"x": ("F16", [3])})
    b = write_safetensors(tmp_path / "b.safetensors", {"x": ("F16", [3])})
    with pytest.raises(ConfigError, match="tensor 'x' is also in"):
        read_checkpoint([a, b])


def tiny_llama_dir(tmp_path: Path) -> Path:
    (tmp_path / "config.json").write_text(json.dumps(TINY_LLAMA))
    return tmp_path


def test_checkpoint_far_from_the_architecture_is_said(tmp_path: Path) -> None:
    folder = tiny_llama_dir(tmp_path)
    write_safetensors(folder / "model.safetensors", {"w": ("BF16", [10])})
    spec = load_model_dir(folder)
    assert spec.parameters == 760 and spec.parameters_source == "architecture"
    assert spec.checkpoint_dtype == "bfloat16"
    (warning,) = spec.warnings
    assert "hold 10 parameters, -98.7% from the 760" in warning
    assert "the architecture's count is used" in warning
    chosen = load_model_dir(folder, params_from="safetensors")
    assert chosen.parameters == 10 and chosen.parameters_source == "safetensors"
    assert "the safetensors count is used" in chosen.warnings[0]
    assert load_model_dir(folder, params_from="config").warnings == ()


def test_checkpoint_within_tolerance_is_used_silently(tmp_path: Path) -> None:
    folder = tiny_llama_dir(tmp_path)
    tensors = tiny_llama_tensors() | {"extra": ("F32", [70])}  # 760 + 70: +9.2 %
    write_safetensors(folder / "model.safetensors", tensors)
    spec = load_model_dir(folder)
    assert spec.parameters == 830 and spec.warnings == ()


def write_index(folder: Path, weight_map: dict[str, str]) -> None:
    index = {"metadata": {}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))


def sharded_tiny_llama(folder: Path) -> dict[str, str]:
    """TINY_LLAMA in two shards with their index; returns the weight map."""
    tensors = tiny_llama_tensors()
    names = sorted(tensors)
    first, second = names[:6], names[6:]
    write_safetensors(folder / "model-1.safetensors", {n: tensors[n] for n in first})
    write_safetensors(folder / "model-2.safetensors", {n: tensors[n] for n in second})
    weight_map = {n: "model-1.safetensors" for n in first} | {
        n: "model-2.safetensors" for n in second
    }
    write_index(folder, weight_map)
    return weight_map


def test_index_decides_which_files_count(tmp_path: Path) -> None:
    folder = tiny_llama_dir(tmp_path)
    sharded_tiny_llama(folder)
    # a consolidated copy beside the shards is not counted twice
    write_safetensors(folder / "consolidated.safetensors", tiny_llama_tensors())
    spec = load_model_dir(folder)
    assert spec.parameters == 760 and spec.parameters_source == "safetensors"
    assert spec.warnings == ()


def test_missing_shard_is_said_never_undercounted(tmp_path: Path) -> None:
    folder = tiny_llama_dir(tmp_path)
    sharded_tiny_llama(folder)
    (folder / "model-2.safetensors").unlink()
    spec = load_model_dir(folder)
    assert spec.parameters == 760 and spec.parameters_source == "architecture"
    missing = "1 of the 2 safetensors files the index lists are missing (model-2.safetensors)"
    assert missing in spec.warnings[0]
    assert "the architecture's count is used" in spec.warnings[1]
    with pytest.raises(ConfigError, match="missing"):
        load_model_dir(folder, params_from="safetensors")


def test_missing_shard_with_a_close_count_is_said_too(tmp_path: Path) -> None:
    folder = tiny_llama_dir(tmp_path)
    weight_map = sharded_tiny_llama(folder)
    write_index(folder, weight_map | {"extra.bias": "model-3.safetensors"})
    spec = load_model_dir(folder)  # the two shards hold all 760: within tolerance
    assert spec.parameters == 760 and spec.parameters_source == "architecture"
    assert "1 of the 3 safetensors files the index lists are missing" in spec.warnings[0]
    assert spec.warnings[1].endswith(
        "the architecture's count of 760 parameters is used (params_from)"
    )


def test_tensor_missing_from_its_shard_is_said(tmp_path: Path) -> None:
    folder = tiny_llama_dir(tmp_path)
    weight_map = sharded_tiny_llama(folder)
    write_index(folder, weight_map | {"model.layers.1.mlp.up_proj.weight": "model-1.safetensors"})
    spec = load_model_dir(folder)
    assert spec.parameters_source == "architecture"
    assert "1 tensors the index lists are not in the safetensors files" in spec.warnings[0]


@pytest.mark.parametrize(
    "weight_map",
    [{"w": "../model.safetensors"}, {"w": "/dev/zero"}, {"w": ""}, {"w": 3}, {}, [], None],
)
def test_index_naming_files_elsewhere_or_none_is_refused(tmp_path: Path, weight_map) -> None:
    folder = tiny_llama_dir(tmp_path)
    write_index(folder, weight_map)
    with pytest.raises(ConfigError, match="'weight_map' must map tensor names"):
        load_model_dir(folder)


def test_params_from_is_checked(tmp_path: Path) -> None:
    folder = tiny_llama_dir(tmp_path)
    with pytest.raises(InvalidValueError, match="'config', 'safetensors' or None"):
        load_model_dir(folder, params_from="weights")
    with pytest.raises(ConfigError, match="no safetensors file"):
        load_model_dir(folder, params_from="safetensors")


def test_display_name(tmp_path: Path) -> None:
    folder = tmp_path / "Downloads"
    folder.mkdir()
    config = folder / "config.json"
    config.write_text(json.dumps(TINY_LLAMA))
    assert display_name(TINY_LLAMA, config) == "Downloads"
    assert display_name(TINY_LLAMA, folder) == "Downloads"
    assert display_name(TINY_LLAMA, folder / "llama-tiny.json") == "llama-tiny"
    link = tmp_path / "Qwen2.5-0.5B"
    link.symlink_to(folder)
    assert display_name(TINY_LLAMA, link) == load_model_dir(link).name == "Qwen2.5-0.5B"
    saved = TINY_LLAMA | {"_name_or_path": "Qwen/Qwen2.5-0.5B/"}
    assert display_name(saved, config) == "Qwen2.5-0.5B"
    for hostile in ("x" * 10_000, "", "a/\n", 7, ["a"]):
        assert display_name(TINY_LLAMA | {"_name_or_path": hostile}, folder) == "Downloads"


@pytest.mark.parametrize("path", [None, 3, b"/etc/hostname", "", ["x"]])
def test_paths_must_be_paths(path: object) -> None:
    """Not a str or os.PathLike is refused (an int would be taken as a file descriptor)."""
    for read in (read_config, read_header, load_model_dir, lambda p: read_checkpoint([p])):
        with pytest.raises(InvalidValueError, match="expected a non-empty file path"):
            read(path)


@pytest.mark.parametrize("paths", ["model.safetensors", Path("model.safetensors"), None, 3])
def test_checkpoint_paths_are_a_list(paths: object) -> None:
    with pytest.raises(InvalidValueError, match="expected a list of safetensors file paths"):
        read_checkpoint(paths)  # type: ignore[arg-type]
