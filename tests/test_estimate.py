"""Estimates against hand-computed byte totals and published figures."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpumem import GpumemError, InvalidValueError, ParallelismError, estimate, rule_of_thumb
from gpumem._generated import formulas as fx
from gpumem.catalog import catalog_entry, load_model, model_names
from gpumem.estimate import LLAMA_NAMED, formula_values, gpu_count, rule_of_thumb_multiplier
from gpumem.modelspec import ModelSpec, from_config
from gpumem.workload import Workload

BARE = {"cuda_context": 0, "allocator_reserve": 0.0}  # tensor memory only
GiB = 2**30


def test_weights_llama_2_7b_fp16() -> None:
    # Published count 6,738,415,616 parameters x 2 bytes.
    e = estimate("llama-2-7b", dtype="fp16", **BARE)
    assert e.components["weights"] == 6_738_415_616 * 2


def test_kv_cache_mha_llama_2_7b() -> None:
    # 2 (K and V) x 32 layers x 32 heads x 128 dims x 4096 tokens x 2 bytes = 2 GiB.
    e = estimate("llama-2-7b", seq=4096, **BARE)
    assert e.components["kv_cache"] == 2 * 32 * 32 * 128 * 4096 * 2 == 2 * GiB


def test_kv_cache_gqa_llama_3_8b_and_its_own_dtype() -> None:
    # 8 KV heads instead of 32: 2 x 32 x 8 x 128 x 2 bytes = 128 KiB per token.
    e = estimate("llama-3-8b", seq=8192, **BARE)
    assert e.components["kv_cache"] == 131_072 * 8192 == GiB
    fp8 = estimate("llama-3-8b", seq=8192, kv_dtype="fp8_e4m3", **BARE)
    assert fp8.components["kv_cache"] == GiB // 2
    assert fp8.components["weights"] == e.components["weights"]  # weights stay BF16


def test_kv_cache_mla_deepseek_v3() -> None:
    # MLA caches the 512-wide latent plus the 64-wide RoPE key: (512 + 64) x 61 layers x 2 B.
    e = estimate("deepseek-v3", seq=1, **BARE)
    assert e.components["kv_cache"] == (512 + 64) * 61 * 2


def test_recurrent_state_keeps_its_temporal_part_in_fp32_qwen3_next() -> None:
    # Qwen3-Next-80B-A3B: 36 of 48 layers are gated DeltaNet, each keeping per sequence in
    # transformers' cache a 128 x 128 FP32 state for each of 32 value heads (2,097,152 bytes)
    # and the whole kernel, 4 positions, of its 8,192 convolution channels (2 x 16 x 128 keys
    # and queries, 32 x 128 values) in BF16 (65,536 bytes); 12 full-attention layers cache
    # 2 x 2 x 256 values a token (24,576 bytes across them).
    state = 36 * (32 * 128 * 128 * 4 + 4 * 8192 * 2)
    assert state == 77_856_768
    e = estimate("qwen3-next-80b-a3b", batch=16, seq=128, **BARE)
    assert e.components["kv_cache"] == 16 * (state + 128 * 12 * 2 * 2 * 256 * 2)
    # the temporal state in FP32 whatever the activations' dtype
    fp32 = estimate("qwen3-next-80b-a3b", batch=16, seq=128, dtype="fp32", **BARE)
    assert fp32.components["kv_cache"] == 16 * (36 * (2_097_152 + 4 * 8192 * 4) + 128 * 49_152)


def test_deltanet_prompt_peaks_in_the_chunked_rule_qwen3_6_27b() -> None:
    # Per token of a prompt, a gated DeltaNet layer of Qwen3.6-27B (48 value heads of 128,
    # 16 key heads of 128) holds its convolution's 10,240 channels and the output gate's 6,144
    # in BF16 and, in FP32, six query- or key-sized tensors (48 x 128, repeated to the value
    # heads), four value-sized ones and three 64-wide rows per head of the chunks' matrices;
    # with the residual stream's 4 x 5,120 BF16 values that beats the MLP's 3 x 17,408.
    per_token = 4 * 5120 * 2 + (10_240 + 6144) * 2 + 4 * 48 * (6 * 128 + 4 * 128 + 3 * 64)
    assert per_token == 356_352
    work = {"batch": 4, "seq": 2048, "logits": "last", **BARE}
    values = formula_values(load_model("qwen3.6-27b"), Workload(**work))
    assert values["prefill_workspace"] == 4 * 2048 * per_token


def test_sliding_window_caps_the_cache() -> None:
    # Mistral-7B v0.1 attends to the last 4096 tokens in every layer.
    long = estimate("mistral-7b-v0.1", seq=16384, **BARE).components["kv_cache"]
    assert long == 2 * 32 * 8 * 128 * 4096 * 2
    # Gemma-2-9B: 21 of 42 layers are local (4096), the others global.
    gemma = estimate("gemma-2-9b", seq=8192, **BARE).components["kv_cache"]
    assert gemma == 2 * 8 * 256 * 2 * (21 * 8192 + 21 * 4096)


def test_transformers_sliding_window_layers_hold_the_whole_prompt() -> None:
    # Mistral-7B v0.1, window 4,096, after an 8,192-token prompt: transformers' cache layers
    # still hold all 8,192 positions, 4,096 past the window at 32 x 8 x 128 x 2 (K, V) x 2
    # bytes = 131,072 bytes per token; sdpa gets one boolean 8,192 x 8,192 mask.
    e = estimate("mistral-7b-v0.1", seq=8192, **BARE)
    assert e.components["kv_cache"] == e.components["kv_cache_overhang"] == 4096 * 131_072
    assert e.components["attention_masks"] == 8192 * 8192
    # a prompt shorter than the window needs neither
    short = estimate("mistral-7b-v0.1", seq=4095, **BARE).components
    assert "kv_cache_overhang" not in short and "attention_masks" not in short


def test_eager_attention_peaks_in_its_softmax() -> None:
    # Gemma-2-9B, eager, 8,192 tokens: a BF16 mask for each kind of layer (2 x 8,192^2 x 2 B);
    # in one layer, per token, 4 residual-stream tensors (4 x 2 x 3,584 B) and attention's
    # 16 heads x (8,192 scores x (2 + 4 + 4) B + query, repeated keys and values 3 x 256 x 2 B),
    # more than the MLP's 3 x 2 x 14,336 B.
    e = estimate("gemma-2-9b", seq=8192, attention="eager", **BARE)
    assert e.components["attention_masks"] == 2 * 8192**2 * 2
    per_token = 4 * 2 * 3584 + 16 * (8192 * 10 + 3 * 256 * 2)
    assert e.components["prefill_workspace"] == 8192 * per_token


def test_tensor_parallel_splits_kv_heads_and_replicates_when_fewer() -> None:
    # Qwen2.5-7B has 4 KV heads: tp=4 gives one each; tp=... 28 heads allow tp=7, which
    # cannot split 4 KV heads, so each GPU keeps ceil(4/7) = 1 head.
    one = estimate("qwen2.5-7b", seq=4096, **BARE).components["kv_cache"]
    assert estimate("qwen2.5-7b", seq=4096, tp=4, **BARE).components["kv_cache"] == one // 4
    assert estimate("qwen2.5-7b", seq=4096, tp=7, **BARE).components["kv_cache"] == one // 4


def _synthetic(parameters: int):
    """Llama-2-7B shapes with another parameter count (use with seq=1: tiny activations)."""
    spec = load_model("llama-2-7b")
    return spec.with_(parameters=parameters, active_parameters=parameters)


@pytest.mark.parametrize(
    ("zero", "expected_gb"),
    # ZeRO paper (Rajbhandari et al. 2020, Fig. 1): 7.5B parameters, 64 GPUs, mixed-precision
    # Adam (K = 12): 120 GB, 31.4 GB, 16.6 GB, 1.9 GB per GPU.
    [(0, 120.0), (1, 31.4), (2, 16.6), (3, 1.875)],
)
def test_zero_paper_model_states(zero: int, expected_gb: float) -> None:
    e = estimate(
        _synthetic(7_500_000_000),
        mode="training",
        dtype="fp16",
        optimizer_impl="fused",
        dp=64,
        zero=zero,
        seq=1,
        **BARE,
    )
    states = sum(
        e.components[k] for k in ("weights", "gradients", "master_weights", "optimizer_states")
    )
    assert states / 1e9 == pytest.approx(expected_gb, rel=0.01)


def test_mixed_precision_adam_is_16_bytes_per_parameter() -> None:
    p = 1_000_000_000
    e = estimate(
        _synthetic(p), mode="training", dtype="bf16", optimizer_impl="fused", seq=1, **BARE
    )
    assert e.phase == "optimizer"
    assert e.tensor_bytes == 16 * p
    pure = estimate(
        _synthetic(p),
        mode="training",
        dtype="bf16",
        precision="pure",
        optimizer_impl="fused",
        seq=1,
        **BARE,
    )
    assert pure.tensor_bytes == 8 * p  # 2 weights + 2 gradients + 2 x 2 moments


def test_foreach_adamw_adds_one_state_sized_temporary() -> None:
    p = 1_000_000_000
    e = estimate(
        _synthetic(p), mode="training", dtype="fp32", optimizer_impl="foreach", seq=1, **BARE
    )
    assert e.components["optimizer_temporaries"] == 4 * p
    assert e.tensor_bytes == 20 * p


def test_optimizers() -> None:
    p = 1_000_000_000
    states = {
        name: estimate(
            _synthetic(p),
            mode="training",
            dtype="fp32",
            optimizer=name,
            optimizer_impl="fused",
            seq=1,
            **BARE,
        ).components.get("optimizer_states", 0)
        for name in ("adamw", "sgd", "sgd_momentum", "adamw_8bit")
    }
    assert states["adamw"] == 8 * p
    assert states["sgd"] == 0
    assert states["sgd_momentum"] == 4 * p
    assert states["adamw_8bit"] == pytest.approx(2 * p * (1 + 4 / 2048), rel=1e-6)


def test_lora_parameters_llama_2_7b() -> None:
    # LoRA r=8 on q, k, v, o, gate, up, down of Llama-2-7B: per layer
    # 4 x (4096 + 4096) + 3 x (4096 + 11008) = 78,080, x 8 x 32 layers = 19,988,480
    # (what peft prints as trainable parameters for this setting).
    e = estimate("llama-2-7b", mode="training", lora_rank=8, optimizer_impl="fused", **BARE)
    assert e.components["adapter_weights"] == 19_988_480 * 4


def test_qlora_weights_as_bitsandbytes_stores_them() -> None:
    # Llama-2-7B's 32 x (4 x 4096^2 + 3 x 4096 x 11008) = 6,476,005,376 linear-layer weights in
    # NF4: half a byte each, one 8-bit absmax per 64 and one FP32 scale per 256 absmax values;
    # the other 262,410,240 parameters (embeddings, LM head, norms) in BF16. (The 1,092 bytes
    # of FP32 codes each of the 224 matrices keeps are left out: 244,608 bytes.)
    e = estimate("llama-2-7b", mode="training", lora_rank=8, dtype="nf4", **BARE)
    linear = 6_476_005_376
    nf4 = linear // 2 + linear // 64 + linear // 64 // 256 * 4
    assert e.components["weights"] == nf4 + 262_410_240 * 2 == 3_865_591_808
    assert e.workload.qlora and e.workload.compute_dtype == "bf16"
    # backward dequantizes one weight at a time to BF16 with its FP32 absmax (one per 64):
    # the largest, 11,008 x 4,096, x (2 + 4 / 64) bytes = 92,995,584, beside a recomputed layer
    values = formula_values(e.model, e.workload)
    assert values["recomputed_layer"] == 92_995_584


def test_lora_adapter_activations_by_dtype_and_dropout() -> None:
    # Llama-2-7B, rank 8, per token and layer. FP32 adapters on q_proj and v_proj: each casts
    # its 4,096-wide BF16 input to an FP32 copy that lora_A saves, and lora_B saves the FP32
    # rank-8 output: 2 x (4,096 x 4 + 8 x 4) = 32,832 bytes. BF16 adapters share the BF16
    # input, which a frozen base would not keep: 4,096 x 2 + 2 x 8 x 2 = 8,224 bytes.
    # All-linear, FP32, dropout: the inputs of q, k, v, gate, up (4,096), o (4,096) and down
    # (11,008) as FP32 dropout outputs plus one-byte masks, 35,584 x 5, and 7 x 8 x 4; against
    # BF16 adapters without dropout: the input q, k, v share, the one gate and up share and
    # down's, (2 x 4,096 + 11,008) x 2, and 7 x 8 x 2 (o_proj's input is attention's output,
    # which attention saves anyway).
    def layer(**lora: object) -> float:
        work = {"mode": "training", "lora_rank": 8, "batch": 1, "seq": 1024, **BARE, **lora}
        e = estimate("llama-2-7b", **work)
        return formula_values(e.model, e.workload)["layer_activations"]

    qv = {"lora_targets": "q_proj,v_proj"}
    assert layer(**qv) - layer(**qv, adapter_dtype="bf16") == 1024 * (32_832 - 8_224)
    assert layer(lora_dropout=0.1) - layer(adapter_dtype="bf16") == 1024 * (
        35_584 * 5 + 7 * 8 * 4 - (2 * 4_096 + 11_008) * 2 - 7 * 8 * 2
    )


def test_training_activations_grow_and_checkpointing_cuts_them() -> None:
    full = estimate("llama-2-7b", mode="training", batch=8, seq=4096, **BARE)
    ckpt = estimate("llama-2-7b", mode="training", batch=8, seq=4096, checkpointing="full", **BARE)
    assert full.phase in ("forward", "backward")
    assert ckpt.components.get("activations", 0) < full.components["activations"] / 5


@pytest.mark.parametrize(
    ("dtype", "precision", "per_token"),
    [
        # h = 768 (5 tensors + 2 one-byte dropout masks, 3h of QKV), f = 3,072 (5 tensors),
        # 12 heads' FP32 log-sum-exp: 768 x (5b + 2 + 3b) + 3,072 x 5b + 48
        ("fp32", "pure", 768 * (20 + 2 + 12) + 3072 * 20 + 48),
        ("bf16", "pure", 768 * (10 + 2 + 6) + 3072 * 10 + 48),
        # autocast on CUDA: FP32 norm inputs (2), BF16 casts and attention output (3), masks;
        # the GELU's pow in FP32: 3 x FP32 + 2 x BF16 per MLP channel
        ("bf16", "amp", 768 * (2 * 4 + 3 * 2 + 2 + 6) + 3072 * (3 * 4 + 2 * 2) + 48),
    ],
)
def test_gpt2_layer_activations_as_cuda_keeps_them(dtype, precision, per_token) -> None:
    work = Workload(mode="training", dtype=dtype, precision=precision, batch=4, seq=1024, **BARE)
    values = formula_values(load_model("gpt2"), work)
    assert values["layer_activations"] == 4 * 1024 * per_token


# Gemma-3-1B: h = 1,152; 4 query heads and 1 KV head of 256 (q = 1,024, kv = 256); f = 6,912.
# Four RMSNorms a layer, each keeping an FP32 input and an FP32 normalised output (8 x 4), two
# of them feeding projections (2b); the query and key norms an FP32 input and output (2 x 4 per
# q and kv channel), attention the rotated query, key and value and its output (2b); the MLP
# 4 x f (2b each); per head the FP32 log-sum-exp and the query norm's reciprocal root.
GEMMA3_QKV = 1024 + 256


@pytest.mark.parametrize(
    ("dtype", "precision", "per_token"),
    [
        ("fp32", "pure", 1152 * 10 * 4 + GEMMA3_QKV * 4 * 4 + 6912 * 4 * 4 + 4 * 2 * 4),
        ("bf16", "pure", 1152 * (8 * 4 + 2 * 2) + GEMMA3_QKV * (8 + 4) + 6912 * 8 + 4 * 8),
        # autocast: the FP32 residual stream cast to BF16 once for each of q_proj, k_proj,
        # v_proj, gate_proj and up_proj (5 x 2 instead of 2 x 2)
        ("bf16", "amp", 1152 * (8 * 4 + 5 * 2) + GEMMA3_QKV * (8 + 4) + 6912 * 8 + 4 * 8),
    ],
)
def test_gemma3_layer_activations(dtype, precision, per_token) -> None:
    work = Workload(mode="training", dtype=dtype, precision=precision, batch=2, seq=1024, **BARE)
    values = formula_values(load_model("gemma-3-1b"), work)
    assert values["layer_activations"] == 2 * 1024 * per_token


def test_gemma3_layer_under_autocast_against_the_h200() -> None:
    # The H200 measured 304,935,936 bytes a layer of Gemma-3-1B under autocast at 2 x 1024
    # (cuda_measurements.json). Less autocast's BF16 copies of the layer's weights
    # (1,152 x (1,024 + 2 x 256) + 1,024 x 1,152 + 3 x 1,152 x 6,912 parameters x 2 bytes)
    # and what the profile leaves out (a sliding-window layer's BF16 mask, 2 x 1,024 bytes a
    # token, and its key repeated to the 4 query heads, 3 x 256 x 2; the norms' roots, 20),
    # the rest is the profile's, to within the tracker's 32 KB.
    copies = (1152 * (1024 + 2 * 256) + 1024 * 1152 + 3 * 1152 * 6912) * 2
    left_out = 2 * 1024 * (2 * 1024 + 3 * 256 * 2 + 20)
    work = Workload(mode="training", dtype="bf16", precision="amp", batch=2, seq=1024, **BARE)
    layer = formula_values(load_model("gemma-3-1b"), work)["layer_activations"]
    assert layer == pytest.approx(304_935_936 - copies - left_out, abs=32_000)


def test_gemma3_profile_for_the_multimodal_models_and_lora() -> None:
    # Gemma-3-4B (model_type gemma3): h = 2,560, 8 x 256 query and 4 x 256 KV channels,
    # f = 10,240, 8 heads, under autocast
    work = Workload(mode="training", dtype="bf16", precision="amp", batch=1, seq=1024, **BARE)
    values = formula_values(load_model("gemma-3-4b"), work)
    per_token = 2560 * (8 * 4 + 5 * 2) + (2048 + 1024) * (8 + 4) + 10240 * 8 + 8 * 8
    assert values["layer_activations"] == 1024 * per_token
    # A frozen base: the four norms' FP32 inputs, the q and k norms' FP32 inputs, the rotated
    # query, key and value and attention's output, the MLP's 3 x f; the adapters on top
    lora = Workload(mode="training", lora_rank=8, batch=1, seq=1024, **BARE)
    values = formula_values(load_model("gemma-3-1b"), lora)
    base = 1152 * 4 * 4 + GEMMA3_QKV * (4 + 4) + 6912 * 3 * 2 + 4 * 8
    assert values["layer_activations"] == 1024 * (base + values["adapter_bytes_per_token"])


def test_bert_loss_under_autocast_as_cuda_keeps_it() -> None:
    # BF16 logits into cross_entropy: log_softmax keeps BF16, nll_loss an FP32 copy of it
    # (forward: logits + log-softmax + copy; backward: log-softmax, copy, FP32 gradient)
    work = Workload(mode="training", dtype="bf16", precision="amp", batch=2, seq=512, **BARE)
    values = formula_values(load_model("bert-base-uncased"), work)
    assert (values["l_f"], values["l_b"]) == (2 + 2 + 4, 2 + 4 + 4)


def test_eager_attention_adds_the_quadratic_term() -> None:
    flash = estimate("llama-2-7b", mode="training", seq=4096, **BARE).phases["forward"]
    eager = estimate("llama-2-7b", mode="training", seq=4096, attention="eager", **BARE).phases[
        "forward"
    ]
    # the score matrix: 32 layers x 32 heads x 4096^2 x (2 + 4) bytes at least
    assert eager - flash >= 32 * 32 * 4096**2 * 6


def test_logits_last_vs_all() -> None:
    last = estimate("qwen2.5-0.5b", seq=8192, **BARE)
    every = estimate("qwen2.5-0.5b", seq=8192, logits="all", **BARE)
    # BF16 logits for each of 8,192 positions over a 151,936-token vocabulary
    assert every.components["logits"] == 151_936 * 8192 * 2
    assert "logits" not in last.components  # one position: the layers' workspace is larger


def test_overheads_are_explicit_components() -> None:
    e = estimate("llama-2-7b")
    assert e.components["cuda_context"] == 512 * 2**20
    assert e.components["allocator_reserve"] == pytest.approx(0.05 * e.tensor_bytes, abs=1)
    assert e.total_bytes == e.tensor_bytes + 512 * 2**20 + e.components["allocator_reserve"]


def test_lora_on_latent_attention_counts_its_own_projections() -> None:
    # DeepSeek-V2-Lite, r=16 on every linear layer of the 27 layers: attention q (2048 -> 3072),
    # kv_a (2048 -> 576), kv_b (512 -> 4096), o (2048 -> 2048); the MLP a token passes
    # through, 6 routed + 2 shared experts of width 1408, gated: 3 x (2048 + 11,264).
    per_layer = (2048 + 3072) + (2048 + 576) + (512 + 4096) + (2048 + 2048) + 3 * (2048 + 11_264)
    e = estimate("deepseek-v2-lite", mode="training", lora_rank=16, **BARE)
    assert e.components["adapter_weights"] == 16 * 27 * per_layer * 4  # FP32 adapters


def test_rule_of_thumb() -> None:
    assert rule_of_thumb(7_000_000_000, "fp16", "inference") == 16_800_000_000
    assert rule_of_thumb(7_000_000_000, "fp16", "training") == 28_000_000_000
    assert rule_of_thumb_multiplier("inference") == 1.2
    assert rule_of_thumb_multiplier("training") == 2
    with pytest.raises(GpumemError):
        rule_of_thumb(7_000_000_000, "fp16", "serving")
    with pytest.raises(GpumemError):
        rule_of_thumb_multiplier(None)


def test_gpu_count() -> None:
    e = estimate("llama-2-7b", mode="training", dp=4, tp=2, pp=2, zero=3)
    assert gpu_count(e.workload) == 16


@pytest.mark.parametrize(
    ("args", "settings", "words"),
    [
        ((None,), {}, "catalog id"),
        ((123,), {}, "123"),
        ((b"gpt2",), {}, "b'gpt2'"),
        (("gpt2", "x"), {}, "Workload"),
        (("gpt2",), {"btach": 2}, "'batch'"),
        (("gpt2",), {"mode": "training", "lora_rank": 769}, "768"),
    ],
)
def test_bad_arguments_are_gpumem_errors(args, settings, words) -> None:
    with pytest.raises(GpumemError) as info:
        estimate(*args, **settings)
    assert words in str(info.value) + (info.value.hint or "")


@pytest.mark.parametrize(
    ("settings", "error", "words"),
    [
        ({"seq": 200_000}, InvalidValueError, "4,096"),
        ({"tp": 3}, ParallelismError, "32 attention heads"),
        ({"pp": 33}, ParallelismError, "32 layers"),
        ({"batch": 0}, InvalidValueError, "positive integer"),
        ({"batch": 2.5}, InvalidValueError, "positive integer"),
        ({"optimizer": "adamw"}, InvalidValueError, "training"),
        ({"zero": 3}, InvalidValueError, "ZeRO"),
        ({"mode": "train"}, GpumemError, "training"),
        ({"mode": "training", "dtype": "int4"}, InvalidValueError, "QLoRA"),
        ({"mode": "training", "dtype": "fp32", "precision": "mixed"}, InvalidValueError, "pure"),
        ({"mode": "training", "optimizer": "lion"}, GpumemError, "adamw"),
        ({"mode": "training", "zero": 4}, InvalidValueError, "0, 1, 2 or 3"),
    ],
)
def test_bad_settings_name_the_value(settings, error, words) -> None:
    with pytest.raises(error) as info:
        estimate("llama-2-7b", **settings)
    assert isinstance(info.value, ValueError)
    assert words in str(info.value) + (info.value.hint or "")


@settings(max_examples=40, deadline=None)
@given(
    batch=st.integers(1, 64),
    seq=st.integers(1, 4096),
    mode=st.sampled_from(["inference", "training"]),
    ckpt=st.sampled_from(["none", "full"]),
)
def test_monotone_in_batch_and_sequence_and_never_negative(batch, seq, mode, ckpt) -> None:
    extra = {"checkpointing": ckpt} if mode == "training" else {}
    base = estimate("llama-3.2-1b", mode=mode, batch=batch, seq=seq, **extra)
    assert all(v >= 0 for v in base.components.values())
    assert (
        estimate("llama-3.2-1b", mode=mode, batch=batch + 1, seq=seq, **extra).total_bytes
        >= base.total_bytes
    )
    assert (
        estimate("llama-3.2-1b", mode=mode, batch=batch, seq=seq + 1, **extra).total_bytes
        >= base.total_bytes
    )


@settings(max_examples=30, deadline=None)
@given(p=st.integers(10**6, 10**12), mode=st.sampled_from(["inference", "training"]))
def test_monotone_in_parameters(p, mode) -> None:
    assert (
        estimate(_synthetic(p + 10**6), mode=mode).total_bytes
        >= estimate(_synthetic(p), mode=mode).total_bytes
    )


#: Workloads that together use every term, mode, optimizer and layout of the model.
GRID = [
    {},
    {"batch": 3, "seq": 500, "logits": "all", "attention": "eager", "kv_dtype": "fp8_e4m3"},
    {"dtype": "q4_k_m", "tp": 2, "pp": 2, "allocator_reserve": 0.1},
    {"dtype": "fp32", "seq": 1, "cuda_context": 0},
    *(
        {"mode": "training", "batch": 2, "seq": 512, "optimizer": name}
        for name in ("adamw", "adam", "adamw_8bit", "sgd", "sgd_momentum", "adafactor")
    ),
    {"mode": "training", "seq": 256, "checkpointing": "full", "precision": "amp"},
    {"mode": "training", "seq": 256, "checkpointing": "selective", "attention": "eager"},
    {"mode": "training", "seq": 128, "precision": "pure", "optimizer_impl": "fused", "zero": 1},
    {"mode": "training", "seq": 128, "dp": 8, "zero": 2, "tp": 2},
    {"mode": "training", "seq": 64, "dp": 4, "zero": 3, "pp": 2, "checkpointing": "full"},
    {"mode": "training", "seq": 512, "lora_rank": 16, "dtype": "nf4"},
    {"mode": "training", "seq": 512, "lora_rank": 8, "precision": "amp", "batch": 4},
    {"mode": "training", "seq": 256, "lora_rank": 8, "adapter_dtype": "bf16", "lora_dropout": 0.1},
]


@pytest.mark.parametrize("name", model_names())
def test_components_add_up_to_the_peak_of_the_formulas(name: str) -> None:
    for layout in layouts_of(name):
        e = estimate(name, **layout)
        values = formula_values(e.model, e.workload)
        peak = "training_peak" if e.workload.training else "inference_peak"
        phase_formula, slots = fx.PHASES[e.phase]
        # the breakdown adds up to the peak, to the byte, and the peak is the largest phase
        assert e.tensor_bytes == values[peak] == values[phase_formula], layout
        assert sum(e.components.values()) == e.total_bytes, layout
        assert e.total_bytes - e.tensor_bytes == values["runtime_overhead"], layout
        assert all(e.phases[p] <= e.tensor_bytes for p in e.phases)
        # whole bytes: each term rounded up by less than a byte
        assert 0 <= e.tensor_bytes - _unrounded(peak, values) < len(slots), layout


def layouts_of(name: str) -> list[dict]:
    """:data:`GRID` with ``tp=2`` replaced by the smallest tensor-parallel size of the model."""
    model = load_model(name)
    tp = next(t for t in range(2, model.n_heads + 1) if model.n_heads % t == 0)
    grid = [{**s, "tp": tp} if "tp" in s else s for s in GRID]
    # QLoRA (nf4) is refused for models not laid out as Llama: LoRA on their BF16 base instead
    qlora = model.family in LLAMA_NAMED
    return [s if qlora or s.get("dtype") != "nf4" else {**s, "dtype": "bf16"} for s in grid]


def _unrounded(peak: str, values: dict) -> float:
    """``peak`` from the formulas with no term rounded to a whole byte."""
    values = dict(values)
    for name in fx.ORDER[peak]:
        function = getattr(fx, name)
        code = function.__code__
        values[name] = function(**{k: values[k] for k in code.co_varnames[: code.co_argcount]})
    return values[peak]


def test_new_tokens_peak_is_the_last_decoding_step() -> None:
    # Llama 3.1 8B in BF16: 32 layers x 8 KV heads x 128 x 2 (K, V) x 2 bytes = 131,072 bytes
    # of cache per token. A 1,000-token prompt then 1,000 new tokens: the last step holds
    # 2,000 tokens (262,144,000 bytes); while a layer appends to its keys, the grown copy of
    # 2,000 x 8 x 128 x 2 bytes is live too, with one token's working set (4 x 2 x 4,096 +
    # 3 x 2 x 14,336 = 118,784 bytes): more than the last position's logits (128,256 x 2).
    bare = {"cuda_context": 0, "allocator_reserve": 0}
    e = estimate("llama-3.1-8b", seq=1000, new_tokens=1000, **bare)
    assert e.phase == "decode"
    assert e.components["kv_cache"] == 262_144_000
    assert e.components["decode_workspace"] == 2000 * 8 * 128 * 2 + 118_784 > 128_256 * 2
    # without new tokens, the prompt's forward pass: 1,000 tokens of cache, the workspace
    prompt = estimate("llama-3.1-8b", seq=1000, **bare)
    assert prompt.phase == "prefill" and prompt.components["kv_cache"] == 131_072_000
    assert prompt.components["prefill_workspace"] == 1000 * 118_784


def test_latent_attention_decompresses_the_cache_at_each_step() -> None:
    # DeepSeek-V2-Lite, 8,192 tokens at the last step: kv_b_proj turns each cached latent into
    # 16 heads x (128 + 128) values and the keys are assembled as 16 x 192, in BF16; the cache
    # grows by a copy of one layer's 512-wide latents; the residual stream (4 x 2,048) of the
    # one new token, 2 bytes each (the copies for routed experts exist only in the MoE block,
    # after attention).
    e = estimate("deepseek-v2-lite", seq=8188, new_tokens=4, **BARE)
    expanded = 8192 * 16 * (256 + 192) * 2
    grown = 8192 * 512 * 2
    token = 2 * 4 * 2048
    assert formula_values(e.model, e.workload)["decode_workspace"] == expanded + grown + token


def test_math_kernel_keeps_fp32_scores_and_probabilities() -> None:
    # DeepSeek-V2-Lite, a 1 x 8,192 BF16 prompt on sdpa's math kernel (attention.cpp,
    # _scaled_dot_product_attention_math), per layer at its softmax: 16 heads x 8,192^2 FP32
    # scores and as many FP32 probabilities; the (8,192, 8,192) FP32 causal mask; per token the
    # BF16 query it was given (16 x 192 x 2) with its FP32 copy and the scaled query
    # (2 x 16 x 192 x 4), the FP32 copies of keys and values (16 x (192 + 128) x 4); and what
    # the layer holds around it: the keys and values expanded from the latents
    # (16 x (256 + 192) x 2) and the residual stream (4 x 2,048 x 2).
    s, heads = 8192, 16
    scores = 2 * heads * s * s * 4
    mask = s * s * 4
    token = heads * 192 * 2 + 2 * heads * 192 * 4 + heads * 320 * 4 + heads * 448 * 2 + 8 * 2048
    e = estimate("deepseek-v2-lite", seq=s, attention="math", **BARE)
    assert e.components["prefill_workspace"] == scores + mask + s * token
    # the fused default keeps none of it: the MLP's temporaries are the layer's peak
    fused = estimate("deepseek-v2-lite", seq=s, **BARE)
    assert fused.components["prefill_workspace"] < scores / 5


def test_math_kernel_at_a_decoding_step() -> None:
    # One new token over 8,192 cached in FP32 (Llama-3.1-8B, 32 heads of 128, 8 KV heads):
    # the scores next to the keys scaled for QK^T (32 x 8,192 x (1 + 128) x 4), the FP32 copies
    # of the 8 KV heads' keys and values and their repetition to 32 heads (enable_gqa); no
    # mask. The query: its BF16 input, its FP32 copy and the scaled one.
    e = estimate("llama-3.1-8b", seq=8191, new_tokens=1, attention="math", **BARE)
    fused = estimate("llama-3.1-8b", seq=8191, new_tokens=1, **BARE)
    s = 8192
    kernel = 32 * s * 129 * 4 + s * (8 + 32) * 256 * 4 + 32 * 128 * (2 + 8)
    values = formula_values(e.model, e.workload)
    grown = s * 8 * 128 * 2  # one layer's keys copied as the cache grows, as with flash
    assert values["decode_workspace"] == grown + 2 * 4 * 4096 + kernel
    assert (
        formula_values(fused.model, fused.workload)["decode_workspace"] < values["decode_workspace"]
    )


def _layer(model: str, **work: object) -> dict:
    e = estimate(model, mode="training", dtype="fp32", precision="pure", **work, **BARE)
    return formula_values(e.model, e.workload)


def test_math_kernel_in_training_saves_fp32_probabilities() -> None:
    # Qwen2.5-0.5B (14 heads of 64, 2 KV heads, hidden 896), FP32, 4 x 2,048: per layer sdpa's
    # math kernel saves the FP32 probabilities, 4 x 14 x 2,048^2 x 4 bytes, the scaled query
    # and the keys and values repeated to the 14 heads (3 x 14 x 64 x 4 a token); the fused
    # kernel's rotated query (896 x 4), keys and values (2 x 128 x 4) and log-sum-exp
    # (14 x 4) are not kept; o_proj keeps its input either way.
    work = dict(batch=4, seq=2048)
    probabilities = 4 * 14 * 2048**2 * 4
    assert probabilities == 939_524_096
    per_token = 3 * 14 * 64 * 4 - 896 * 4 - 2 * 128 * 4 - 14 * 4
    math = _layer("qwen2.5-0.5b", attention="math", **work)
    fused = _layer("qwen2.5-0.5b", **work)
    added = math["layer_activations"] - fused["layer_activations"]
    assert added == probabilities + 4 * 2048 * per_token
    # measured on an H200 (cuda_measurements.json): 1,870,725,120 bytes a layer
    assert math["layer_activations"] == pytest.approx(1_870_725_120, rel=1e-4)
    # in backward _softmax_backward_data holds the probabilities' gradient and the scores'
    assert math["recomputed_layer"] == 2 * probabilities
    assert fused["recomputed_layer"] == 0


def test_math_kernel_in_lora_training_drops_the_fused_output() -> None:
    # LoRA on q_proj and v_proj, 1 x 512: the frozen o_proj keeps no input, so the fused
    # kernel's output (896 x 4 a token) is not kept either; with o_proj adapted (all-linear),
    # its adapter keeps it. Measured on an H200: 55,611,392 and 70,127,616 bytes a layer.
    work = dict(batch=1, seq=512, attention="math")
    fused_qv = _layer("qwen2.5-0.5b", batch=1, seq=512, lora_rank=8, lora_targets="q_proj,v_proj")
    qv = _layer("qwen2.5-0.5b", lora_rank=8, lora_targets="q_proj,v_proj", **work)
    per_token = 14 * (512 + 3 * 64) * 4 - 2 * 896 * 4 - 2 * 128 * 4 - 14 * 4
    assert qv["layer_activations"] - fused_qv["layer_activations"] == 512 * per_token
    assert qv["layer_activations"] == pytest.approx(55_611_392, rel=1e-4)
    every = _layer("qwen2.5-0.5b", lora_rank=64, lora_targets="all-linear", **work)
    assert every["layer_activations"] == pytest.approx(70_127_616, rel=1e-4)


def test_math_kernel_under_selective_checkpointing_keeps_nothing_of_attention() -> None:
    work = dict(batch=1, seq=512, checkpointing="selective")
    math = estimate("qwen2.5-0.5b", mode="training", attention="math", **work, **BARE)
    fused = estimate("qwen2.5-0.5b", mode="training", **work, **BARE)
    assert math.tensor_bytes == fused.tensor_bytes


def test_new_tokens_must_fit_the_context_window() -> None:
    with pytest.raises(InvalidValueError, match="new_tokens .*at most 96"):
        estimate("llama-2-7b", seq=4000, new_tokens=97)


@pytest.mark.parametrize(
    ("targets", "adapters"),
    [
        # peft's print_trainable_parameters for Llama 2 7B at rank 8: 8 x 32 layers x
        # (q: 4,096 + 4,096, v: 4,096 + 4,096) = 4,194,304 ...
        ("q_proj,v_proj", 4_194_304),
        # ... and with every linear layer: 8 x 32 x (4 x 8,192 + 3 x (4,096 + 11,008))
        ("all-linear", 19_988_480),
        (None, 19_988_480),
    ],
)
def test_lora_parameters_over_the_targets(targets, adapters) -> None:
    e = estimate("llama-2-7b", mode="training", lora_rank=8, lora_targets=targets)
    assert e.components["adapter_weights"] == 4 * adapters  # FP32 adapters


def test_lora_targets_need_llama_names() -> None:
    with pytest.raises(InvalidValueError, match="lora_targets .*all-linear for GPT-2"):
        estimate("gpt2", mode="training", lora_rank=8, lora_targets="q_proj")


# --- pipeline stages: embeddings on the first, LM head and final norm on the last ------------
# Llama 3.1 8B by hand: one layer is q, o (4096 x 4096), k, v (4096 x 1024), gate, up, down
# (4096 x 14336) and two RMSNorms = 41,943,040 + 176,160,768 + 8,192 = 218,112,000 parameters;
# the embedding and the untied LM head are 128,256 x 4096 = 525,336,576 each; the final norm
# 4,096. 32 layers + both matrices + the norm = 8,030,261,248, the published count.
LLAMA_LAYER, LLAMA_MATRIX, LLAMA_NORM = 218_112_000, 525_336_576, 4_096


def test_llama_3_1_8b_layer_counts_add_up_to_the_published_total() -> None:
    assert 32 * LLAMA_LAYER + 2 * LLAMA_MATRIX + LLAMA_NORM == 8_030_261_248


@pytest.mark.parametrize(
    ("pp", "layers", "weights"),
    [
        # the last stage is the heaviest: ⌈32 / pp⌉ layers, the LM head and the final norm
        (2, 16, 2 * (16 * LLAMA_LAYER + LLAMA_MATRIX + LLAMA_NORM)),  # 8,030,265,344
        (4, 8, 2 * (8 * LLAMA_LAYER + LLAMA_MATRIX + LLAMA_NORM)),  # 4,540,473,344
        (32, 1, 2 * (LLAMA_LAYER + LLAMA_MATRIX + LLAMA_NORM)),  # 1,486,905,344, not P / 32
    ],
)
def test_pipeline_stage_weights_llama_3_1_8b(pp: int, layers: int, weights: int) -> None:
    e = estimate("llama-3.1-8b", pp=pp, seq=4096, **BARE)
    assert e.components["weights"] == weights
    assert e.pipeline_stage == {"heaviest": "last", "layers": layers, "parameters": weights // 2}
    # the KV cache of the stage's own layers: 2 x 8 KV heads x 128 x 2 bytes per token and layer
    assert e.components["kv_cache"] == layers * 4096 * 2 * 8 * 128 * 2


def test_pipeline_stage_training_state_follows_the_stage() -> None:
    # mixed precision with AdamW at pp = 32: BF16 gradients (2 bytes), an FP32 master copy
    # (4) and two FP32 moments (8) of the last stage's 743,452,672 parameters
    stage = LLAMA_LAYER + LLAMA_MATRIX + LLAMA_NORM
    e = estimate("llama-3.1-8b", mode="training", pp=32, seq=512, **BARE)
    values = formula_values(e.model, e.workload)
    assert values["gradients"] == 2 * stage
    assert values["master_weights"] == 4 * stage
    assert values["optimizer_states"] == 8 * stage
    # LoRA adapters on the stage's own layer only: r x (in + out) over its seven projections
    lora = estimate("llama-3.1-8b", mode="training", pp=32, lora_rank=8, seq=512, **BARE)
    features = 2 * (4096 + 4096) + 2 * (4096 + 1024) + 3 * (4096 + 14336)
    assert formula_values(lora.model, lora.workload)["adapter_weights"] == 8 * features * 4


def test_pipeline_tied_embeddings_leave_a_copy_on_the_last_stage() -> None:
    # Llama 3.2 1B ties its LM head to the 128,256 x 2048 embedding: with 2 stages the first
    # holds the embedding, the last a copy of it and the final norm, as Megatron-LM does
    m = load_model("llama-3.2-1b")
    assert m.tie_word_embeddings
    matrix, layers = 128_256 * 2048, (m.parameters - 128_256 * 2048 - 2048) // 16
    e = estimate(m, pp=2, **BARE)
    assert e.pipeline_stage["parameters"] == matrix + 2048 + 8 * layers
    assert estimate(m, **BARE).components["weights"] == 2 * m.parameters  # one copy on one GPU


# --- weights as the checkpoint ships them ----------------------------------------------------
def _shipped(experts: int, layers: int, total: int) -> int:
    """gpt-oss by hand: the experts' gate, up and down matrices (3 x 2880 x 2880 each) in MXFP4,
    4.25 bits (4 + one 8-bit scale per 32 values); every other parameter in BF16."""
    mxfp4 = layers * experts * 3 * 2880 * 2880
    return mxfp4 * 17 // 32 + (total - mxfp4) * 2


@pytest.mark.parametrize(
    ("model", "experts", "layers", "published"),
    [
        # model.safetensors.index.json, metadata.total_size, of openai/gpt-oss-20b and -120b
        ("gpt-oss-20b", 32, 24, 13_761_264_768),
        ("gpt-oss-120b", 128, 36, 65_248_815_744),
    ],
)
def test_gpt_oss_weights_as_shipped_equal_the_published_files(
    model: str, experts: int, layers: int, published: int
) -> None:
    m = load_model(model)
    e = estimate(m, weights_as_shipped=True, **BARE)
    assert e.components["weights"] == _shipped(experts, layers, m.parameters) == published
    # asked for nothing, every weight is in the dtype: 41.8 GB for the 20b model in BF16
    assert estimate(m, **BARE).components["weights"] == 2 * m.parameters


def test_fp8_block_scaled_weights_as_shipped_deepseek_v3() -> None:
    # DeepSeek-V3 ships every linear layer of its 61 layers in e4m3 with one FP32 scale per
    # 128 x 128 block: 1 + 4 / 16,384 bytes per weight; embeddings, norms, routers and the LM
    # head in BF16. Its layers: 3 dense (18,432 wide), 58 MoE with 256 routed experts and one
    # shared expert (2,048 wide), and MLA projections of 187,105,280 weights each.
    h, attention = 7168, 7168 * 1536 + 1536 * 128 * 192 + 7168 * 576 + 512 * 128 * 256
    attention += 128 * 128 * 7168
    assert attention == 187_105_280
    fp8 = 61 * attention + 3 * 3 * h * 18_432 + 58 * (256 + 1) * 3 * h * 2048
    m = load_model("deepseek-v3")
    e = estimate(m, weights_as_shipped=True, **BARE)
    assert e.components["weights"] == -(-(fp8 * (1 + 4 / 16_384) + (m.parameters - fp8) * 2) // 1)


def test_weights_as_shipped_per_pipeline_stage() -> None:
    # gpt-oss-20b on 4 stages: the last holds 6 layers (their experts in MXFP4), the LM head
    # (201,088 x 2880) and the final norm in BF16
    m = load_model("gpt-oss-20b")
    e = estimate(m, weights_as_shipped=True, pp=4, **BARE)
    matrix, experts = 201_088 * 2880, 32 * 3 * 2880 * 2880
    layer = (m.parameters - 2 * matrix - 2880) // 24
    assert e.components["weights"] == (
        6 * experts * 17 // 32 + (6 * (layer - experts) + matrix + 2880) * 2
    )


@pytest.mark.parametrize(
    ("model", "settings", "words"),
    [
        ("llama-3.1-8b", {}, "no quantization_config"),
        ("gpt-oss-20b", {"mode": "training"}, "not trained"),
        ("gpt-oss-20b", {"dtype": "int8"}, "floating-point"),
    ],
)
def test_weights_as_shipped_refused_where_it_cannot_count(
    model: str, settings: dict, words: str
) -> None:
    with pytest.raises(InvalidValueError, match=words):
        estimate(model, weights_as_shipped=True, **settings)


@pytest.mark.parametrize(
    ("quantization", "words"),
    [
        ({"quant_method": "gptq", "bits": 4}, "quant_method 'gptq'"),
        ({"quant_method": "fp8", "weight_block_size": [64, 64]}, "quant_method 'fp8'"),
        (
            {"quant_method": "fp8", "modules_to_not_convert": ["model.layers.0.self_attn"]},
            "model.layers.0.self_attn",
        ),
    ],
)
def test_weights_as_shipped_refused_for_a_checkpoint_gpumem_cannot_place(
    quantization: dict, words: str
) -> None:
    config = {**catalog_entry("llama-3.1-8b")["config"], "quantization_config": quantization}
    m = from_config(config, name="m")
    assert estimate(m).components["weights"] == estimate("llama-3.1-8b").components["weights"]
    with pytest.raises(InvalidValueError, match=words):
        estimate(m, weights_as_shipped=True)


def test_fp8_checkpoint_keeps_what_modules_to_not_convert_names() -> None:
    # a Llama 3.1 8B in FP8 blocks with its attention left in BF16: only the 32 MLPs
    # (3 x 4096 x 14336 each) are FP8; vLLM's Fp8Config skips the layers the list names exactly
    q = {"quant_method": "fp8", "weight_block_size": [128, 128]}
    attention = [f"model.layers.{i}.self_attn.{x}_proj" for i in range(32) for x in "qkvo"]
    q["modules_to_not_convert"] = ["lm_head", *attention]
    m = from_config({**catalog_entry("llama-3.1-8b")["config"], "quantization_config": q}, name="m")
    fp8 = 32 * 3 * 4096 * 14_336
    e = estimate(m, weights_as_shipped=True, **BARE)
    assert e.components["weights"] == -(-(fp8 * (1 + 4 / 16_384) + (m.parameters - fp8) * 2) // 1)


def test_pipeline_stage_holds_moe_layers_not_the_average_deepseek_v3() -> None:
    # DeepSeek-V3's first 3 layers are dense, the other 58 MoE; on 4 stages the last holds 16
    # MoE layers. One MoE layer by hand: MLA projections 187,105,280 with their two latent norms
    # (1,536 + 512) and the layer's two norms (2 x 7,168); 256 routed and 1 shared expert of
    # 3 x 7,168 x 2,048; the 7,168 x 256 router and its 256 correction biases.
    h = 7168
    moe_layer = 187_105_280 + 1536 + 512 + 2 * h + 257 * 3 * h * 2048 + h * 256 + 256
    m = load_model("deepseek-v3")
    e = estimate(m, pp=4, **BARE)
    stage = 16 * moe_layer + 129_280 * h + h  # + the LM head and the final norm
    assert e.pipeline_stage["heaviest"] == "last"
    assert e.pipeline_stage["parameters"] == pytest.approx(stage, abs=16 * 256)  # biases: no
    assert e.components["weights"] == pytest.approx(2 * stage, abs=2 * 16 * 256)


def test_modelopt_nvfp4_checkpoint_by_hand_per_gpu_at_tp2() -> None:
    # Qwen3.8-27B quantized by ModelOpt to NVFP4 (16 FP4 values and one FP8 scale: 0.5625 bytes
    # a weight) with every gated DeltaNet layer's input projections and convolution, the LM
    # head, the embedding, the vision tower and the MTP module excluded: what stays NVFP4 are
    # the 64 MLPs (3 x 5,120 x 17,408), the 16 full-attention layers' projections (queries
    # with their gate 5,120 -> 12,288, keys and values 5,120 -> 1,024 each, output 6,144 ->
    # 5,120) and the 48 DeltaNet output projections (6,144 -> 5,120); every other parameter of
    # the 27,356,728,560 (language model and vision tower) is BF16, halved over two GPUs
    h = 5120
    nvfp4 = 64 * 3 * h * 17_408 + 16 * (h * 12_288 + 2 * h * 1024 + 6144 * h) + 48 * 6144 * h
    bf16 = 27_356_728_560 - nvfp4
    delta_net = [i for i in range(64) if i % 4 != 3]
    ignore = ["lm_head", "embed_tokens", "model.visual*", "mtp*"]
    ignore += [
        f"model.language_model.layers.{i}.linear_attn.{p}"
        for i in delta_net
        for p in ("conv1d", "in_proj_a", "in_proj_b", "in_proj_qkv", "in_proj_z")
    ]
    q = {"quant_method": "modelopt", "quant_algo": "NVFP4", "ignore": ignore}
    m = from_config({**catalog_entry("qwen3.8-27b")["config"], "quantization_config": q}, name="m")
    e = estimate(m, weights_as_shipped=True, tp=2, **BARE)
    assert e.components["weights"] == -(-(nvfp4 * 9 / 16 + bf16 * 2) // 2)
    assert round(e.components["weights"] / 2**30, 2) == 11.89


def test_modelopt_checkpoint_with_an_unplaced_exclusion_is_refused_by_name() -> None:
    q = {"quant_method": "modelopt", "quant_algo": "NVFP4", "ignore": ["vision_tower*"]}
    m = from_config({**catalog_entry("qwen3.8-27b")["config"], "quantization_config": q}, name="m")
    with pytest.raises(InvalidValueError, match=r"excludes vision_tower\*, which gpumem cannot"):
        estimate(m, weights_as_shipped=True)


# --- Weights as shipped in two formats: ModelOpt MIXED_PRECISION -----------------------------
#: A Qwen3-MoE of 2 layers: attention of 4 query and 2 KV heads of 64 on h = 256, 4 experts of
#: 128 each (gated), a vocabulary of 1,024 and an untied LM head.
TINY_MOE = {
    "model_type": "qwen3_moe",
    "hidden_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 64,
    "intermediate_size": 512,
    "moe_intermediate_size": 128,
    "num_experts": 4,
    "num_experts_per_tok": 2,
    "vocab_size": 1024,
    "max_position_embeddings": 4096,
    "tie_word_embeddings": False,
}
NVFP4_ENTRY = {"quant_algo": "W4A16_NVFP4", "group_size": 16}


def _mixed(layers: dict, ignore: list | None = None) -> ModelSpec:
    """The tiny MoE as a MIXED_PRECISION checkpoint (config.json's form) with ``layers``."""
    q = {"quant_method": "modelopt", "quant_algo": "MIXED_PRECISION", "quantized_layers": layers}
    config = {**TINY_MOE, "quantization_config": {**q, "ignore": ignore or []}}
    return from_config(config, name="m")


def _tiny_layers(attention: str = "FP8") -> dict:
    """Each layer's experts in NVFP4 (weights only), its attention in ``attention``; the LM
    head in NVFP4."""
    layers = {}
    for i in range(2):
        layers[f"model.layers.{i}.mlp.experts"] = NVFP4_ENTRY
        for x in "qkvo":
            layers[f"model.layers.{i}.self_attn.{x}_proj"] = {"quant_algo": attention}
    return {**layers, "lm_head": NVFP4_ENTRY}


def test_mixed_precision_weights_in_two_formats_by_hand() -> None:
    # per layer: q and o 256 x 256, k and v 256 x 128 (196,608 FP8, 1 byte); the experts
    # 4 x 3 x 256 x 128 (393,216 NVFP4, 9/16 byte); the LM head 1,024 x 256 in NVFP4; the
    # embedding, the routers (4 x 256), q_norm and k_norm (64 each), two norms a layer (256
    # each) and the final norm in BF16
    attention, experts, head = 196_608, 393_216, 1024 * 256
    bf16 = head + 2 * (4 * 256 + 2 * 64 + 2 * 256) + 256
    m = _mixed(_tiny_layers())
    assert m.parameters == 2 * (attention + experts) + head + bf16 == 1_707_520
    e = estimate(m, weights_as_shipped=True, **BARE)
    nvfp4 = (2 * experts + head) * 9 // 16
    assert e.components["weights"] == nvfp4 + 2 * attention + 2 * bf16 == 1_514_496
    # the attention in NVFP4 too: one format, counted as a single-format checkpoint counts it
    one = estimate(_mixed(_tiny_layers("NVFP4")), weights_as_shipped=True, **BARE)
    assert one.components["weights"] == (2 * (experts + attention) + head) * 9 // 16 + 2 * bf16
    # on two GPUs each holds half; in the dtype, nothing changes
    assert estimate(m, weights_as_shipped=True, tp=2, **BARE).components["weights"] == 757_248
    assert estimate(m, **BARE).components["weights"] == 2 * m.parameters


def test_mixed_precision_exclusions_come_first() -> None:
    # vLLM excludes before it looks a module up: the attention excluded is BF16 though listed
    m = _mixed(_tiny_layers(), ignore=["self_attn"])
    q = m.extra["quantization"]
    assert (q["second_format"], q["second_quantized"]) == (None, [])
    e = estimate(m, weights_as_shipped=True, **BARE)
    assert e.components["weights"] == 1_514_496 + 2 * 196_608


@pytest.mark.parametrize(
    ("change", "named"),
    [
        # a module in FP8 in one layer and unquantized in the other
        ({"model.layers.1.self_attn.q_proj": None}, "model.layers.#.self_attn.q_proj"),
        # the parts of one module in two formats
        ({"model.layers.0.self_attn.o_proj": NVFP4_ENTRY}, "model.layers.#.self_attn.o_proj"),
        # a per-layer format gpumem does not count, and a module it keeps in the dtype
        ({"model.layers.0.mlp.experts": {"quant_algo": "MXFP8"}}, "model.layers.#.mlp.experts"),
        ({"model.layers.0.mlp.gate": {"quant_algo": "FP8"}}, "model.layers.#.mlp.gate"),
    ],
)
def test_mixed_precision_refused_by_name_where_a_module_has_no_one_format(
    change: dict, named: str
) -> None:
    layers = {k: v for k, v in {**_tiny_layers(), **change}.items() if v is not None}
    m = _mixed(layers)
    with pytest.raises(InvalidValueError, match=named.replace(".", r"\.")) as error:
        estimate(m, weights_as_shipped=True)
    assert "NVFP4, W4A16_NVFP4 or FP8" in str(error.value)
    assert (
        estimate(m).components["weights"] == estimate(_mixed(_tiny_layers())).components["weights"]
    )
