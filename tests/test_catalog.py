"""The built-in catalog: every model's derived count matches its published count."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

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
    assert len(names) >= 22 and names == sorted(names)
    assert set(FIRST_MODELS) <= set(names)


@pytest.mark.parametrize("model_id", model_names())
def test_parameters_match_published(model_id: str) -> None:
    entry = catalog_entry(model_id)
    spec = load_model(model_id)
    published = entry["published_parameters"]
    assert abs(spec.parameters - published) <= 0.001 * published
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
