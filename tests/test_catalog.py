"""The built-in catalog: every model's derived count matches its published count."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from gpumem import catalog
from gpumem.catalog import catalog_entry, load_model, model_names
from gpumem.errors import ConfigError, InvalidValueError, UnknownNameError

FIRST_MODELS = [
    "gpt2",
    "bert-base-uncased",
    "llama-2-7b",
    "mistral-7b-v0.1",
    "qwen2.5-0.5b",
    "olmoe-1b-7b",
    "mixtral-8x7b",
]


def test_catalog_size_and_first_models() -> None:
    names = model_names()
    assert len(names) >= 45 and names == sorted(names)
    assert set(FIRST_MODELS) <= set(names)


@pytest.mark.parametrize("model_id", model_names())
def test_parameters_match_published(model_id: str) -> None:
    entry = catalog_entry(model_id)
    spec = load_model(model_id)
    # a published total may hold parts the model class does not build (a multi-token-prediction
    # module): the entry says how many, and its note what they are
    published = entry["published_parameters"] - entry.get("uncounted_parameters", 0)
    if "published_parameters_rounding" in entry:  # a figure the source rounds ("1T")
        rounding = entry["published_parameters_rounding"]
        assert round(spec.parameters / rounding) * rounding == published
    else:
        assert abs(spec.parameters - published) <= 0.001 * published
    assert {"uncounted_parameters", "published_parameters_rounding"}.isdisjoint(entry) or (
        "note" in entry
    )
    assert spec.parameters_source == "architecture"
    assert entry["hf_repo"] in entry["source"] and entry["source"].startswith("https://")
    assert entry["published_parameters_source"]
    assert 0 < spec.active_parameters <= spec.parameters
    assert 0 < spec.embedding_parameters < spec.parameters


@pytest.mark.parametrize(
    ("model_id", "parameters"),
    [
        ("gpt2", 124_439_808),  # llm.c README
        ("llama-2-7b", 6_738_415_616),
        ("mixtral-8x7b", 46_702_792_704),
    ],
)
def test_exact_published_counts(model_id: str, parameters: int) -> None:
    assert load_model(model_id).parameters == parameters


def test_llama_3_1_405b_has_8_kv_heads() -> None:
    spec = load_model("llama-3.1-405b")
    assert (spec.n_layers, spec.n_heads, spec.n_kv_heads) == (126, 128, 8)


def test_lookup_is_case_insensitive_and_cached() -> None:
    assert load_model("Llama-2-7B") is load_model("llama-2-7b")


def test_unknown_model_suggests_close_names() -> None:
    with pytest.raises(UnknownNameError) as caught:
        load_model("llama-2-7")
    assert "llama-2-7b" in caught.value.suggestions
    assert caught.value.kind == "model"


def test_config_path_and_directory(tmp_path: Path) -> None:
    config = catalog_entry("qwen2.5-0.5b")["config"]
    folder = tmp_path / "my-qwen"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    from_file = load_model(folder / "config.json")
    from_dir = load_model(str(folder))
    assert from_file.parameters == from_dir.parameters == 494_032_768
    assert from_file.name == from_dir.name == "my-qwen"


def test_malformed_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"model_type": "llama",')
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_model(path)


def test_unsupported_model_type_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"model_type": "rwkv"}')
    with pytest.raises(ConfigError, match="model_type 'rwkv' is not supported; supported:"):
        load_model(path)


@pytest.fixture
def fake_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(catalog, "_FOLDER", tmp_path)
    catalog._entries.cache_clear()
    yield tmp_path
    catalog._entries.cache_clear()


def entry(model_id: str, **changes: object) -> str:
    data = {
        "id": model_id,
        "name": model_id,
        "hf_repo": "org/x",
        "source": "https://huggingface.co/org/x/blob/main/config.json",
        "published_parameters": 1,
        "config": {"model_type": "gpt2"},
        **changes,
    }
    return json.dumps(data)


def test_entry_without_source_is_refused(fake_catalog: Path) -> None:
    (fake_catalog / "a.json").write_text(entry("a", source=""))
    with pytest.raises(ConfigError, match="lacks source"):
        model_names()


def test_duplicate_id_is_refused(fake_catalog: Path) -> None:
    (fake_catalog / "a.json").write_text(entry("a"))
    (fake_catalog / "b.json").write_text(entry("A"))
    with pytest.raises(ConfigError, match="duplicate catalog id 'A'"):
        model_names()


def test_malformed_entry_is_refused(fake_catalog: Path) -> None:
    (fake_catalog / "a.json").write_text("{")
    with pytest.raises(ConfigError, match="a.json: not valid JSON"):
        model_names()


@pytest.mark.parametrize("name", ["", "   ", None, 123, b"gpt2", ["gpt2"]])
def test_empty_or_non_string_names_are_refused(name: object) -> None:
    with pytest.raises(InvalidValueError, match="invalid model") as caught:
        load_model(name)  # type: ignore[arg-type]
    expected = "non-empty" if isinstance(name, str) else "as a string"
    assert expected in str(caught.value)


def test_long_name_is_an_unknown_model_not_an_os_error() -> None:
    with pytest.raises(UnknownNameError) as caught:
        load_model("x" * 300)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize("path", ["/nonexistent/config.json", "./nope", "models/x", "my.json"])
def test_missing_path_says_no_such_file(path: str) -> None:
    with pytest.raises(ConfigError, match="no such file or directory") as caught:
        load_model(path)
    assert caught.value.path == path


def test_params_from(tmp_path: Path) -> None:
    assert load_model("gpt2", params_from="config") is load_model("gpt2")
    with pytest.raises(ConfigError, match="not a model directory with safetensors files"):
        load_model("gpt2", params_from="safetensors")
    path = tmp_path / "config.json"
    path.write_text(json.dumps(catalog_entry("gpt2")["config"]))
    with pytest.raises(ConfigError, match="not a model directory with safetensors files"):
        load_model(path, params_from="safetensors")
    with pytest.raises(InvalidValueError, match="invalid params_from 'weights'"):
        load_model("gpt2", params_from="weights")
    assert load_model("gpt2").warnings == ()


# --- GGUF files -----------------------------------------------------------------------------

#: ggml bytes per block of 32 values (ggml-common.h: block_q4_0 = 2 + 16, block_q8_0 = 2 + 32).
Q4_0, Q8_0 = 18, 34


def write_toy_gguf(path: Path) -> int:
    """A 2-layer Llama-shaped GGUF (64 wide, 4 heads, 2 KV heads of 16, MLP 96, 128 tokens)
    written by llama.cpp's gguf package: embedding q4_0, attention and LM head q8_0, MLP f16,
    norms f32. Returns the bytes of its tensors, counted by hand from shapes and block sizes."""
    gguf_writer = pytest.importorskip("gguf")
    w = gguf_writer.GGUFWriter(str(path), "llama")
    for add, value in (
        (w.add_name, "toy"),
        (w.add_block_count, 2),
        (w.add_context_length, 4096),
        (w.add_embedding_length, 64),
        (w.add_feed_forward_length, 96),
        (w.add_head_count, 4),
        (w.add_head_count_kv, 2),
    ):
        add(value)
    types = gguf_writer.GGMLQuantizationType

    def quantized(name: str, rows: int, row: int, kind: object, block: int) -> None:
        w.add_tensor(name, np.zeros((rows, row // 32 * block), np.uint8), raw_dtype=kind)

    quantized("token_embd.weight", 128, 64, types.Q4_0, Q4_0)
    for i in range(2):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(64, np.float32))
        for part, rows in (("q", 64), ("k", 32), ("v", 32), ("output", 64)):
            quantized(f"blk.{i}.attn_{part}.weight", rows, 64, types.Q8_0, Q8_0)
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(64, np.float32))
        for part, shape in (("gate", (96, 64)), ("up", (96, 64)), ("down", (64, 96))):
            w.add_tensor(f"blk.{i}.ffn_{part}.weight", np.zeros(shape, np.float16))
    w.add_tensor("output_norm.weight", np.ones(64, np.float32))
    quantized("output.weight", 128, 64, types.Q8_0, Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    embedding = 128 * 2 * Q4_0
    attention = (64 + 32 + 32 + 64) * 2 * Q8_0
    layer = 2 * 64 * 4 + attention + 3 * 96 * 64 * 2
    return embedding + 2 * layer + 64 * 4 + 128 * 2 * Q8_0


def test_gguf_file_is_a_model(tmp_path: Path) -> None:
    path = tmp_path / "toy.gguf"
    exact = write_toy_gguf(path)
    spec = load_model(path)
    assert spec.parameters_source == "gguf"
    assert (spec.family, spec.n_layers, spec.n_heads, spec.n_kv_heads, spec.head_dim) == (
        "llama", 2, 4, 2, 16,
    )  # fmt: skip
    per_layer = 2 * 64 + (64 + 32 + 32 + 64) * 64 + 3 * 96 * 64
    assert spec.parameters == 2 * 128 * 64 + 2 * per_layer + 64
    assert spec.extra["tensor_bytes"] == exact == 114_432
    with pytest.raises(ConfigError, match="counted in its tensors"):
        load_model(path, params_from="config")
    upper = tmp_path / "TOY.GGUF"
    path.rename(upper)
    assert load_model(upper) == spec.with_(source=str(upper))


def test_gguf_missing_split_part_and_hostile_file(tmp_path: Path) -> None:
    path = tmp_path / "toy-00001-of-00002.gguf"
    write_toy_gguf(path)
    raw = path.read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ConfigError, match="past the end of the file|truncated"):
        load_model(cut)
    with pytest.raises(ConfigError, match="no such file or directory"):
        load_model(tmp_path / "absent.gguf")
    with pytest.raises(ConfigError, match="missing part of a split GGUF model"):
        load_model(path)
