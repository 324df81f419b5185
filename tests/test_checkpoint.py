"""Safetensors headers: exact counts and dtypes from hand-made files, and bad files."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from gpumem.checkpoint import MAX_HEADER_BYTES, load_model_dir, read_checkpoint, read_header
from gpumem.errors import ConfigError

BYTES = {"F16": 2, "BF16": 2, "F32": 4}


def write_safetensors(path: Path, tensors: dict[str, tuple[str, list[int]]]) -> Path:
    """A valid safetensors file: header, then zero bytes for every tensor."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        size = BYTES[dtype]
        for n in shape:
            size *= n
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
        ({"dtype": "F17", "shape": [2]}, "dtype 'F17' is not one of F64"),
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
    with pytest.raises(ConfigError, match="cannot read"):
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
