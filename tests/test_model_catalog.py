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


# Gemma 3: safetensors.total of google/gemma-3-{4b,12b,27b}-it, which holds the language model,
# the SigLIP vision tower (27 layers of 1,152) and its projection; gpumem counts all three.
GEMMA_3 = {
    "gemma-3-4b": (4_300_079_472, 34, 5),
    "gemma-3-12b": (12_187_325_040, 48, 8),
    "gemma-3-27b": (27_432_406_640, 62, 10),
}


@pytest.mark.parametrize(("model_id", "expected"), sorted(GEMMA_3.items()))
def test_gemma_3_counts_and_one_global_layer_in_six(model_id: str, expected: tuple) -> None:
    parameters, layers, full = expected
    spec = load_model(model_id)
    assert spec.parameters == parameters == catalog_entry(model_id)["published_parameters"]
    assert spec.vocab_size == 262_208 and spec.tie_word_embeddings
    assert spec.layer_types["full"] == full == layers // 6
    assert (spec.n_sliding_layers, spec.sliding_window) == (layers - full, 1024)


def test_gemma_3_27b_vision_tower_by_hand() -> None:
    # SigLIP So400m at 896 px, patches of 14: 27 layers (attention 4 x (1152² + 1152), MLP
    # 2 x 1152 x 4304 + 4304 + 1152, two LayerNorms 4 x 1152), a patch convolution
    # 3 x 14² x 1152 + 1152, 64² positions x 1152, a final LayerNorm 2 x 1152; then the
    # projection 1152 x 5376 and its RMSNorm 1152.
    layer = 4 * (1152**2 + 1152) + 2 * 1152 * 4304 + 4304 + 1152 + 4 * 1152
    tower = 27 * layer + 3 * 14**2 * 1152 + 1152 + 64**2 * 1152 + 2 * 1152
    assert load_model("gemma-3-27b").extra["vision_parameters"] == tower + 1152 * 5376 + 1152


# gpt-oss: the model card (arXiv 2508.10925, table 1) gives 20.91B and 116.83B. The Hub's
# safetensors total cannot be used: the experts are stored as MXFP4 blocks of packed bytes.
@pytest.mark.parametrize(
    ("model_id", "billions", "layers"), [("gpt-oss-20b", 20.91, 24), ("gpt-oss-120b", 116.83, 36)]
)
def test_gpt_oss_counts_and_alternating_windows(model_id: str, billions: float, layers: int):
    spec = load_model(model_id)
    assert round(spec.parameters / 1e9, 2) == billions
    assert spec.vocab_size == 201_088 and spec.sliding_window == 128
    assert spec.layer_types["sliding"] == spec.layer_types["full"] == layers // 2
