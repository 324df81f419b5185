"""Catalog models added for the GPUs people run now: counts equal the published totals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpumem.catalog import catalog_entry, load_model
from gpumem.estimate import estimate
from gpumem.modelspec import ModelSpec, from_config

# safetensors.total of each Hugging Face repository (the model page's "Model size")
PUBLISHED = {
    "mistral-nemo-12b": 12_247_782_400,
    "phi-4": 14_659_507_200,
    "qwen3-235b-a22b": 235_093_634_560,
    "qwen2.5-14b": 14_770_033_664,
    "qwen2.5-32b": 32_763_876_352,
    "qwen3-32b": 32_762_123_264,
}

# Added with a config read from a public copy (the entry's config_copy); the figure is the Hub's
# safetensors.total as recalled, not quoted by a public file: Llama-3.3-70B-Instruct has the
# architecture of Llama-3.1-70B and the same 70,553,706,496 parameters (BF16, 141.1 GB / 2).
PUBLISHED["llama-3.3-70b"] = 70_553_706_496
# Qwen3-1.7B: metadata.total_parameters of a public copy's model.safetensors.index.json (the
# entry's published_parameters_source); the index's total_size 3,441,149,952 bytes / 2 bytes a
# BF16 value gives the same count. The Hub's own checkpoint also stores the tied output matrix
# (151,936 x 2,048 more), so its safetensors.total reads 2,031,739,904.
PUBLISHED["qwen3-1.7b"] = 1_720_574_976

# safetensors.total of Qwen/Qwen2.5-3B and Qwen/Qwen3-4B as recalled (no public file quotes them);
# both tie the output matrix and their checkpoints store it once. Checked by hand below too.
PUBLISHED["qwen2.5-3b"] = 3_085_938_688
PUBLISHED["qwen3-4b"] = 4_022_468_096


def test_qwen2_5_3b_and_qwen3_4b_by_hand() -> None:
    # Qwen2.5-3B: 36 layers of q/k/v with biases (2048 -> 2048, 256, 256), o 2048², a SwiGLU
    # MLP 3 x 2048 x 11008, two norms; a tied 151,936 x 2048 embedding; a final norm
    layer = 2048 * 2048 + 2048 + 2 * (2048 * 256 + 256) + 2048**2 + 3 * 2048 * 11008 + 2 * 2048
    assert 36 * layer + 151_936 * 2048 + 2048 == PUBLISHED["qwen2.5-3b"]
    # Qwen3-4B: 36 layers of q 2560 -> 4096, k/v 2560 -> 1024, o 4096 -> 2560, q/k norms of
    # 128, an MLP 3 x 2560 x 9728, two norms; a tied 151,936 x 2560 embedding; a final norm
    layer = 2 * 2560 * 4096 + 2 * 2560 * 1024 + 2 * 128 + 3 * 2560 * 9728 + 2 * 2560
    assert 36 * layer + 151_936 * 2560 + 2560 == PUBLISHED["qwen3-4b"]


def test_qwen3_1_7b_count_from_the_index_bytes_less_the_stored_output_copy() -> None:
    spec = load_model("qwen3-1.7b")
    assert spec.parameters == 3_441_149_952 // 2 == 2_031_739_904 - 151_936 * 2048
    assert spec.tie_word_embeddings and spec.layer_types["full"] == 28


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


def hub_spec(name: str) -> ModelSpec:
    """A model whose ``config.json`` is kept beside the tests (its address is in the file)."""
    path = Path(__file__).parent / "configs" / f"{name}.json"
    return from_config(json.loads(path.read_text())["config"], name=name)


# The KV cache as a sum over kinds of layer, by hand, in BF16 (2 bytes a value), one sequence.
def _kv(model_id: str, seq: int) -> tuple[int, dict[str, int]]:
    e = estimate(model_id, mode="inference", seq=seq, dtype="bf16")
    return e.components["kv_cache"], e.kv_cache_layers


def test_kv_cache_full_and_sliding_layers_of_gpt_oss_20b() -> None:
    # 12 sliding layers keep min(8192, 128) tokens, 12 full layers all 8,192; per token and
    # layer a key and a value for 8 KV heads of 64: 2 x 8 x 64 x 2 bytes = 2,048 bytes.
    total, layers = _kv("gpt-oss-20b", 8192)
    assert layers == {"full": 12 * 8192 * 2048, "sliding": 12 * 128 * 2048}
    assert total == 12 * (8192 + 128) * 2048 == 204_472_320


def test_kv_cache_of_gemma_3_27b_keeps_a_1024_token_window_on_52_layers() -> None:
    # 16 KV heads of 128: 2 x 16 x 128 x 2 = 8,192 bytes per token and layer
    total, layers = _kv("gemma-3-27b", 32_768)
    assert layers == {"full": 10 * 32_768 * 8192, "sliding": 52 * 1024 * 8192}
    assert total == 3_120_562_176


def test_kv_cache_of_latent_attention() -> None:
    # DeepSeek-V3: 61 layers cache a latent of 512 and a RoPE key of 64 per token
    total, layers = _kv("deepseek-v3", 4096)
    assert layers == {"latent": total} and total == 61 * 4096 * (512 + 64) * 2


def test_kv_cache_of_chunked_layers() -> None:
    # A Llama-3.1-8B made to chunk 24 of its 32 layers at 8,192 tokens (Llama 4's scheme); per
    # token and layer a key and a value for 8 KV heads of 128: 2 x 8 x 128 x 2 = 4,096 bytes.
    spec = load_model("llama-3.1-8b").with_(attention_chunk=8192, n_chunked_layers=24)
    e = estimate(spec, mode="inference", seq=32_768, dtype="bf16")
    assert e.kv_cache_layers == {"full": 8 * 32_768 * 4096, "chunked": 24 * 8192 * 4096}


@pytest.mark.parametrize("seq", [1024, 262_144])
def test_kv_cache_of_recurrent_layers_does_not_grow(seq: int) -> None:
    # Qwen3-Next-80B-A3B: 36 gated DeltaNet layers keep, whatever the context, a 32 x 128 x 128
    # state in FP32 and transformers' 4 positions of 8,192 convolution channels in BF16;
    # 12 full layers cache 2 x 2 x 256 values per token.
    spec = load_model("qwen3-next-80b-a3b")
    e = estimate(spec, mode="inference", seq=seq, dtype="bf16")
    state = 36 * (32 * 128 * 128 * 4 + 4 * 8192 * 2)
    assert e.kv_cache_layers == {"full": 12 * seq * 1024 * 2, "recurrent": state}
    assert e.kv_cache_layers["recurrent"] == 77_856_768


def test_kv_cache_of_llama_4_scout_chunks_36_layers() -> None:
    # 36 chunked layers keep min(32768, 8192) tokens, 12 NoPE layers all of them; 8 KV heads of
    # 128: 2 x 8 x 128 x 2 = 4,096 bytes per token and layer
    spec = hub_spec("llama-4-scout")
    e = estimate(spec, mode="inference", seq=32_768, dtype="bf16")
    assert e.kv_cache_layers == {"full": 12 * 32_768 * 4096, "chunked": 36 * 8192 * 4096}


@pytest.mark.parametrize("seq", [4096, 131_072])
def test_kv_cache_of_nemotron_h_four_attention_blocks_and_27_states(seq: int) -> None:
    # 4 attention blocks cache 2 x 8 x 128 values per token; 27 Mamba-2 blocks keep a
    # 128 x 80 x 128 state in FP32 and transformers' 4 positions of 12,288 convolution
    # channels in BF16; the 25 MLP blocks cache nothing
    spec = hub_spec("nemotron-nano-9b-v2")
    e = estimate(spec, mode="inference", seq=seq, dtype="bf16")
    state = 27 * (128 * 80 * 128 * 4 + 4 * 12_288 * 2)
    assert e.kv_cache_layers == {"full": 4 * seq * 2048 * 2, "recurrent": state}


# Published figures read in public files (each entry's published_parameters_source): a copy of
# the Hub's model record (safetensors.total), keras-hub's preset list, or a copy of the
# checkpoint's model.safetensors.index.json (total_size bytes / 2 bytes a BF16 value).
PUBLISHED_2026 = {
    "qwen3-0.6b": 596_049_920,  # keras-hub qwen3_0.6b_en
    "gemma-3-1b": 999_885_952,  # safetensors.total of google/gemma-3-1b-it
    "phi-4-mini": 7_672_043_520 // 2,  # total_size of the index
    "deepseek-r1-distill-qwen-32b": 32_763_876_352,  # safetensors.total
    "mistral-small-24b": 47_144_806_400 // 2,  # total_size of the index
    "deepseek-r1-distill-llama-8b": 8_030_261_248,  # safetensors.total
    "qwen2.5-1.5b": 1_543_714_304,  # safetensors.total of Qwen/Qwen2.5-1.5B-Instruct
    "gemma-2-2b": 2_614_341_888,  # keras-hub gemma2_instruct_2b_en
    "tinyllama-1.1b": 1_100_048_384,  # safetensors.total of TinyLlama-1.1B-Chat-v1.0
}


@pytest.mark.parametrize(("model_id", "parameters"), sorted(PUBLISHED_2026.items()))
def test_new_catalog_counts_equal_published_totals(model_id: str, parameters: int) -> None:
    assert load_model(model_id).parameters == parameters
    assert catalog_entry(model_id)["published_parameters"] == parameters


def test_qwen3_0_6b_by_hand_and_the_hub_copy_of_its_output_matrix() -> None:
    # 28 layers: q 1024 -> 2048, k/v 1024 -> 1024, o 2048 -> 1024, q/k norms of 128, an MLP
    # 3 x 1024 x 3072, two norms; a tied 151,936 x 1024 embedding; a final norm
    layer = 2 * 1024 * 2048 + 2 * 1024 * 1024 + 2 * 128 + 3 * 1024 * 3072 + 2 * 1024
    assert 28 * layer + 151_936 * 1024 + 1024 == PUBLISHED_2026["qwen3-0.6b"]
    # the Hub checkpoint's safetensors.total (751,632,384) stores the tied matrix twice
    assert PUBLISHED_2026["qwen3-0.6b"] + 151_936 * 1024 == 751_632_384


def test_phi_4_mini_by_hand() -> None:
    # 32 layers of fused qkv 3072 -> 3072 + 2 x 8 x 128, o 3072², a fused gate/up
    # 3072 -> 2 x 8192 and down 8192 -> 3072, two norms; a tied 200,064 x 3072 embedding
    layer = 3072 * (3072 + 2 * 1024) + 3072**2 + 3 * 3072 * 8192 + 2 * 3072
    assert 32 * layer + 200_064 * 3072 + 3072 == PUBLISHED_2026["phi-4-mini"]


def test_mistral_small_24b_by_hand() -> None:
    # 40 layers: q 5120 -> 32 x 128, k/v 5120 -> 8 x 128, o back to 5120, an MLP
    # 3 x 5120 x 32,768, two norms; untied 131,072 x 5120 embedding and output; a final norm
    layer = 2 * 5120 * 4096 + 2 * 5120 * 1024 + 3 * 5120 * 32_768 + 2 * 5120
    assert 40 * layer + 2 * 131_072 * 5120 + 5120 == PUBLISHED_2026["mistral-small-24b"]
    assert load_model("mistral-small-24b").n_sliding_layers == 0


def test_gemma_3_1b_one_global_layer_in_six_and_a_512_window() -> None:
    spec = load_model("gemma-3-1b")
    assert spec.layer_types["full"] == 26 // 6 and spec.n_sliding_layers == 22
    assert (spec.sliding_window, spec.vocab_size) == (512, 262_144)


@pytest.mark.parametrize(
    ("distill", "base"),
    [
        ("deepseek-r1-distill-qwen-32b", "qwen2.5-32b"),
        ("deepseek-r1-distill-llama-8b", "llama-3.1-8b"),
    ],
)
def test_r1_distills_have_the_configs_of_their_bases(distill: str, base: str) -> None:
    assert catalog_entry(distill)["config"] == catalog_entry(base)["config"]


def test_gemma_2_2b_and_tinyllama_by_hand() -> None:
    # Gemma 2 2B: 26 layers of 8 query and 4 KV heads of 256 on 2304, an MLP 3 x 2304 x 9216,
    # four norms; a tied 256,000 x 2304 embedding; a final norm
    layer = 2 * 2304 * 8 * 256 + 2 * 2304 * 4 * 256 + 3 * 2304 * 9216 + 4 * 2304
    assert 26 * layer + 256_000 * 2304 + 2304 == PUBLISHED_2026["gemma-2-2b"]
    # TinyLlama: 22 layers of 2048 with 4 KV heads of 64, an MLP 3 x 2048 x 5632, two norms;
    # 32,000 x 2048 embedding and output; a final norm
    layer = 2 * 2048**2 + 2 * 2048 * 256 + 3 * 2048 * 5632 + 2 * 2048
    assert 22 * layer + 2 * 32_000 * 2048 + 2048 == PUBLISHED_2026["tinyllama-1.1b"]
    # Gemma 2 alternates a 4,096-token window with global layers: 13 of each
    spec = load_model("gemma-2-2b")
    assert (spec.n_sliding_layers, spec.layer_types["full"], spec.sliding_window) == (13, 13, 4096)


def test_qwen2_5_1_5b_by_hand() -> None:
    # 28 layers: q/k/v with biases (1536 -> 1536, 256, 256), o 1536², an MLP 3 x 1536 x 8960,
    # two norms; a tied 151,936 x 1536 embedding stored once; a final norm
    layer = 1536**2 + 1536 + 2 * (1536 * 256 + 256) + 1536**2 + 3 * 1536 * 8960 + 2 * 1536
    assert 28 * layer + 151_936 * 1536 + 1536 == PUBLISHED_2026["qwen2.5-1.5b"]


def test_qwen3_next_published_total_less_its_mtp_module() -> None:
    # safetensors.total of Qwen/Qwen3-Next-80B-A3B-Instruct, 81,324,862,720, holds mtp.*: one
    # gated full-attention layer (q and gate 2 x 16 x 256, k/v 2 x 2 x 256, o 16 x 256 -> 2048,
    # q/k norms of 256) with its MoE block (512 experts and a shared one of 3 x 2048 x 512, the
    # router, the shared expert's gate) and two norms, a 2 x 2048 -> 2048 projection and three
    # norms (embedding and hidden state before it, the output after)
    h = 2048
    attention = 2 * h * 16 * 256 + 16 * 256 * h + 2 * h * 2 * 256 + 2 * 256
    moe = 512 * 3 * h * 512 + 3 * h * 512 + h * 512 + h
    mtp = attention + moe + 2 * h + 2 * h * h + 3 * h
    entry = catalog_entry("qwen3-next-80b-a3b")
    assert entry["published_parameters"] == 81_324_862_720
    assert entry["uncounted_parameters"] == mtp == 1_650_471_424
    assert load_model("qwen3-next-80b-a3b").parameters == 81_324_862_720 - mtp


def test_kimi_k2_is_deepseek_v3_with_64_heads_and_384_experts() -> None:
    # DeepSeek-V3's layer at 7168 wide with 64 heads (q_lora 1536, kv_lora 512, heads of
    # 128 + 64 for queries and keys, 128 for values), one dense layer of 18,432, then 60 MoE
    # layers of 384 routed experts and a shared one of 3 x 7168 x 2048, a router without bias;
    # vocabulary 163,840, not tied
    h, heads = 7168, 64
    attention = (
        h * 1536
        + 1536
        + 1536 * heads * 192  # q_a, its norm, q_b
        + h * (512 + 64)
        + 512
        + 512 * heads * (128 + 128)  # kv_a, its norm, kv_b
        + heads * 128 * h  # o
    )
    expert = 3 * h * 2048
    moe = 385 * expert + 384 * h
    total = 2 * 163_840 * h + h + 61 * (attention + 2 * h) + 3 * h * 18_432 + 60 * moe
    spec = load_model("kimi-k2")
    assert spec.parameters == total == 1_026_408_209_408
    # the model card: 1T total, 32B activated (eight routed experts and the shared one)
    assert round(total / 1e12) == 1 and spec.active_parameters // 10**9 == 32
    assert spec.layer_types["latent"] == 61 and spec.kv_lora_rank + spec.qk_rope_head_dim == 576


# The Qwen3.5 generation (Qwen3.5-27B, Qwen3.6-27B and Qwen3.8-27B share one architecture,
# Qwen3.5-35B-A3B and Qwen3.6-35B-A3B another): safetensors.total of each Hub repository, which
# holds the language model, the vision tower and the multi-token-prediction module (mtp.*) that
# neither transformers nor vLLM builds unless it drafts tokens.
QWEN_3_5 = {
    "qwen3.5-27b": 27_781_427_952,
    "qwen3.6-27b": 27_781_427_952,
    "qwen3.8-27b": 27_781_427_952,
    "qwen3.6-35b-a3b": 35_951_822_704,
    "qwen3.5-35b-a3b": 35_951_822_704,
    "qwen3.5-397b-a17b": 403_397_928_944,
}


def _qwen_3_5_vision(out: int) -> int:
    # 27 blocks of 1,152 (q/k/v and output projections with biases, an MLP 1,152 -> 4,304 ->
    # 1,152 with biases, two LayerNorms); a patch embedding over 2 frames of 16 x 16 x 3 with
    # bias; 2,304 learned positions; the merger: a LayerNorm of 1,152, then 2 x 2 patches of
    # 1,152 = 4,608 -> 4,608 -> the language model's width, with biases
    block = 4 * (1152**2 + 1152) + 2 * 1152 * 4304 + 4304 + 1152 + 4 * 1152
    merger = 2 * 1152 + 4608**2 + 4608 + 4608 * out + out
    return 27 * block + 3 * 2 * 16 * 16 * 1152 + 1152 + 2304 * 1152 + merger


def _qwen_3_5_pair(model_ids: tuple[str, ...], language: int, vision: int, mtp: int) -> None:
    """The models of one architecture: gpumem counts the language model and the vision tower,
    the entry leaves the MTP module uncounted, and the three make the published total."""
    for model_id in model_ids:
        spec, entry = load_model(model_id), catalog_entry(model_id)
        assert language + vision + mtp == entry["published_parameters"] == QWEN_3_5[model_id]
        assert spec.parameters == language + vision
        assert spec.extra["vision_parameters"] == vision
        assert entry["uncounted_parameters"] == mtp


def test_qwen3_6_27b_by_hand_with_its_vision_tower_and_mtp_module() -> None:
    h = 5120
    # gated full attention (queries and gate 2 x 24 x 256, keys and values 4 x 256, output,
    # q/k norms of 256), gated DeltaNet (qkv 10,240, z 6,144, b and a 48 each, convolution
    # 10,240 x 4, dt_bias and A_log, norm 128, out 6,144 -> 5,120), a gated MLP of 17,408
    full = 2 * h * 24 * 256 + 2 * h * 4 * 256 + 24 * 256 * h + 2 * 256
    linear = h * 10240 + h * 6144 + 2 * h * 48 + 10240 * 4 + 2 * 48 + 128 + 6144 * h
    mlp = 3 * h * 17408
    language = 2 * 248_320 * h + h + 16 * full + 48 * linear + 64 * (mlp + 2 * h)
    vision = _qwen_3_5_vision(5120)
    # mtp.*: one full-attention layer with its MLP and two norms, fc 2 x 5,120 -> 5,120, and
    # three norms (embedding and hidden state before fc, the output after)
    mtp = full + mlp + 2 * h + 2 * h * h + 3 * h
    assert (language + vision, mtp) == (27_356_728_560, 424_699_392)
    _qwen_3_5_pair(("qwen3.5-27b", "qwen3.6-27b", "qwen3.8-27b"), language, vision, mtp)


#: The MoE models: hidden size, query heads (2 KV heads of 256), DeltaNet value heads (16 key
#: heads, all of 128), routed experts (and one shared expert) of a width, layers (every fourth one
#: full attention), the models of that architecture, the model card's billions total and active,
#: and gpumem's counts (language model and vision tower; the MTP module).
QWEN_3_5_MOE = {
    "35b-a3b": (2048, 16, 32, 256, 512, 40, ("qwen3.6-35b-a3b", "qwen3.5-35b-a3b"), 35, 3),
    "397b-a17b": (4096, 32, 64, 512, 1024, 60, ("qwen3.5-397b-a17b",), 397, 17),
}
QWEN_3_5_MOE_COUNTS = {
    "35b-a3b": (35_107_181_936, 844_640_768),
    "397b-a17b": (396_802_360_816, 6_595_568_128),
}


@pytest.mark.parametrize("size", sorted(QWEN_3_5_MOE))
def test_qwen3_5_moe_by_hand_with_its_vision_tower_and_mtp_module(size: str) -> None:
    h, heads, v_heads, experts, width, layers, model_ids, total, active = QWEN_3_5_MOE[size]
    # gated full attention: queries and their gate, keys and values, output, q/k norms of 256
    full = 2 * h * heads * 256 + 2 * h * 2 * 256 + heads * 256 * h + 2 * 256
    # gated DeltaNet: qkv, z, b and a, a 4-wide convolution over the qkv channels, dt_bias and
    # A_log, a norm of 128, out
    values = v_heads * 128
    conv = 2 * 16 * 128 + values
    linear = h * conv + h * values + 2 * h * v_heads + conv * 4 + 2 * v_heads + 128 + values * h
    # every layer an MoE block: the experts, the shared one, the router, the shared expert's gate
    moe = (experts + 1) * 3 * h * width + h * experts + h
    full_layers = layers // 4
    language = 2 * 248_320 * h + h + full_layers * full + (layers - full_layers) * linear
    language += layers * (moe + 2 * h)
    vision = _qwen_3_5_vision(h)
    mtp = full + moe + 2 * h + 2 * h * h + 3 * h
    assert (language + vision, mtp) == QWEN_3_5_MOE_COUNTS[size]
    _qwen_3_5_pair(model_ids, language, vision, mtp)
    # the model card's totals and activated parameters (the language model without the tower)
    spec = load_model(model_ids[0])
    assert round((spec.active_parameters - vision) / 1e9) == active
    assert round(spec.parameters / 1e9) == total


@pytest.mark.parametrize("seq", [4096, 262_144])
def test_kv_cache_of_qwen3_6_27b_16_full_layers_and_48_states(seq: int) -> None:
    # 16 full layers cache 2 x 4 x 256 values per token; 48 gated DeltaNet layers keep,
    # whatever the context, a 48 x 128 x 128 state in FP32 and transformers' 4 positions of
    # 10,240 convolution channels in BF16
    e = estimate("qwen3.6-27b", mode="inference", seq=seq, dtype="bf16")
    state = 48 * (48 * 128 * 128 * 4 + 4 * 10_240 * 2)
    assert e.kv_cache_layers == {"full": 16 * seq * 2048 * 2, "recurrent": state}


def test_inferact_nvfp4_build_is_qwen3_8_27b_with_its_described_exclusions() -> None:
    # the build's config as described: Qwen3.8-27B's architecture, ModelOpt NVFP4 and 244
    # ignore entries, the five input parts (convolution, a, b, qkv, z) of the 48 DeltaNet
    # layers, the LM head, the embedding, the vision tower and the MTP module
    base, build = load_model("qwen3.8-27b"), load_model("qwen3.8-27b-nvfp4")
    config = catalog_entry("qwen3.8-27b-nvfp4")["config"]
    ignore = config["quantization_config"]["ignore"]
    assert len(ignore) == 48 * 5 + 4 == 244
    assert {n.rsplit(".", 1)[-1] for n in ignore[4:]} == {
        "conv1d",
        "in_proj_a",
        "in_proj_b",
        "in_proj_qkv",
        "in_proj_z",
    }
    assert build.parameters == base.parameters
    # what stays NVFP4 (0.5625 bytes a weight): the 64 MLPs, the 16 full-attention layers'
    # projections and the 48 DeltaNet output projections; the rest BF16, halved over two GPUs
    h = 5120
    nvfp4 = 64 * 3 * h * 17_408 + 16 * (h * 12_288 + 2 * h * 1024 + 6144 * h) + 48 * 6144 * h
    bf16 = base.parameters - nvfp4
    e = estimate(build, mode="inference", tp=2, weights_as_shipped=True)
    assert e.components["weights"] == -(-(nvfp4 * 9 / 16 + bf16 * 2) // 2)


def test_qwen_fp8_release_keeps_its_tower_and_deltanet_gates_in_bf16() -> None:
    # Qwen/Qwen3.8-27B-FP8's quantization_config: 128 x 128 blocks of e4m3 and 882 modules not
    # converted; by layer kind: 27 vision blocks x 4 linear layers in two spellings, 3 Qwen3-VL
    # mergers x 3 in two, the merger, patch embedding and positions in two, the tower by two
    # names, the LM head and the embedding; 11 names in each of the 48 DeltaNet layers (2 norms,
    # 2 router names, A_log, conv1d, dt_bias, in_proj_ba, in_proj_b, in_proj_a, norm), 6 in
    # each of the 16 attention layers (4 and q_norm, k_norm), 10 in the MTP module
    base, build = load_model("qwen3.8-27b"), load_model("qwen3.8-27b-fp8")
    q = catalog_entry("qwen3.8-27b-fp8")["config"]["quantization_config"]
    assert (q["quant_method"], q["fmt"], q["weight_block_size"]) == ("fp8", "e4m3", [128, 128])
    kept = q["modules_to_not_convert"]
    assert len(kept) == 27 * 8 + 3 * 6 + 10 + 2 + 2 + 48 * 11 + 16 * 6 + 10 == 882
    assert len(set(kept)) == 882
    for layer in range(64):
        if layer % 4 != 3:
            for gate in ("in_proj_a", "in_proj_b"):
                assert f"model.language_model.layers.{layer}.linear_attn.{gate}" in kept
        for kind in ("mlp.gate_proj", "mlp.up_proj", "mlp.down_proj", "self_attn.q_proj"):
            assert f"model.language_model.layers.{layer}.{kind}" not in kept
    for block in range(27):
        for linear in ("attn.qkv", "attn.proj", "mlp.linear_fc1", "mlp.linear_fc2"):
            assert f"model.visual.blocks.{block}.{linear}" in kept
    assert build.parameters == base.parameters
    # kept in BF16 though a linear layer: the tower's 27 blocks (qkv 1,152 -> 3,456, proj,
    # MLP 1,152 -> 4,304 -> 1,152) and its merger (4,608 -> 4,608 -> 5,120), and each DeltaNet
    # layer's beta and decay projections (5,120 -> 48 each)
    tower = 27 * (4 * 1152**2 + 2 * 1152 * 4304) + 4608**2 + 4608 * 5120
    gates = 48 * 2 * 5120 * 48
    assert (tower, gates) == (455_897_088, 23_592_960)
    # FP8: the 64 MLPs, the 16 attention layers' projections (queries with their gate 5,120 ->
    # 12,288, keys and values 5,120 -> 1,024, output 6,144 -> 5,120) and each DeltaNet layer's
    # input (5,120 -> 10,240 and -> 6,144) and output (6,144 -> 5,120) projections; with the
    # MTP layer's 372,244,480 they are the 24,699,207,680 F8_E4M3 values of the checkpoint's
    # safetensors headers (the entry's published_parameters_source)
    h = 5120
    attention = h * 12_288 + 2 * h * 1024 + 6144 * h
    fp8 = 64 * 3 * h * 17_408 + 16 * attention + 48 * (h * 10_240 + h * 6144 + 6144 * h)
    assert fp8 + attention + 3 * h * 17_408 == 24_699_207_680
    # the rest in BF16 (embedding, LM head, norms, convolutions, the tower, the gates), one
    # FP32 scale a 128 x 128 block, halved over two GPUs: 14.15 GiB a GPU
    bf16 = base.parameters - fp8
    e = estimate(build, mode="inference", tp=2, weights_as_shipped=True)
    assert e.components["weights"] == -(-(fp8 * (1 + 4 / 16_384) + bf16 * 2) // 2)
    assert round(e.components["weights"] / 2**30, 2) == 14.15


def test_nvidia_mixed_precision_build_of_qwen3_6_35b_a3b_is_the_compose_s_23_4_gb() -> None:
    # the reconstruction of nvidia/Qwen3.6-35B-A3B-NVFP4: each layer's routed and shared
    # experts and the LM head NVFP4 (W4A16, groups of 16), full attention and the DeltaNet
    # projections but beta and decay FP8 (one byte a weight, a scale a tensor), the rest BF16
    entry = catalog_entry("qwen3.6-35b-a3b-nvfp4")
    text = entry["config"]["text_config"]
    q = entry["config"]["quantization_config"]["quantization"]
    assert (q["quant_algo"], q["exclude_modules"]) == ("MIXED_PRECISION", ["mtp*", "mtp.layers.0*"])
    assert {v["quant_algo"] for v in q["quantized_layers"].values()} == {"W4A16_NVFP4", "FP8"}
    h, vocab, width = text["hidden_size"], text["vocab_size"], text["moe_intermediate_size"]
    kinds = text["layer_types"]
    full, linear = kinds.count("full_attention"), kinds.count("linear_attention")
    assert (len(kinds), full, linear) == (40, 10, 30)
    experts = 40 * text["num_experts"] * 3 * h * width
    shared = 40 * 3 * h * text["shared_expert_intermediate_size"]
    assert experts == 32_212_254_720  # the 32.21 B of the by-hand check
    queries = text["num_attention_heads"] * text["head_dim"]  # and as many output gates
    attention = full * (2 * h * queries + 2 * h * text["num_key_value_heads"] * text["head_dim"])
    attention += full * queries * h
    keys = text["linear_num_key_heads"] * text["linear_key_head_dim"]
    values = text["linear_num_value_heads"] * text["linear_value_head_dim"]
    deltanet = linear * (h * (2 * keys + values) + h * values + values * h)
    nvfp4, fp8 = experts + shared + vocab * h, attention + deltanet
    build = load_model("qwen3.6-35b-a3b-nvfp4")
    assert build.parameters == load_model("qwen3.6-35b-a3b").parameters
    bf16 = build.parameters - nvfp4 - fp8  # embedding, vision tower, routers, gates, norms
    e = estimate(build, mode="inference", weights_as_shipped=True)
    assert e.components["weights"] == nvfp4 * 9 // 16 + fp8 + 2 * bf16
    # with the MTP module, which gpumem leaves uncounted, in BF16: the compose's 23.4 GB
    mtp = entry["uncounted_parameters"]
    assert round((nvfp4 * 9 / 16 + fp8 + 2 * (bf16 + mtp)) / 1e9, 1) == 23.4
