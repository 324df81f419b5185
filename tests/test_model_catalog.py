"""Catalog models added for the GPUs people run now: counts equal the published totals."""

from __future__ import annotations

import pytest

from gpumem.catalog import catalog_entry, load_model

# safetensors.total of each Hugging Face repository (the model page's "Model size")
PUBLISHED = {
    "mistral-nemo-12b": 12_247_782_400,
    "qwen2.5-14b": 14_770_033_664,
    "qwen2.5-32b": 32_763_876_352,
    "qwen3-32b": 32_762_123_264,
}


@pytest.mark.parametrize(("model_id", "parameters"), sorted(PUBLISHED.items()))
def test_count_equals_published_total(model_id: str, parameters: int) -> None:
    assert load_model(model_id).parameters == parameters
    assert catalog_entry(model_id)["published_parameters"] == parameters


def test_qwen2_5_32b_shape() -> None:
    # model card: 64 layers, 40 query heads and 8 KV heads, 131,072 tokens of context
    spec = load_model("qwen2.5-32b")
    assert (spec.n_layers, spec.n_heads, spec.n_kv_heads) == (64, 40, 8)
    assert spec.max_context == 131_072
