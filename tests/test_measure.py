"""The measurement harness: fake-tensor runs match real ones to the byte."""

from __future__ import annotations

from dataclasses import replace

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from gpumem.measure.build import build_model, fake_mode  # noqa: E402
from gpumem.measure.run import measure, sdpa_kernel  # noqa: E402
from gpumem.measure.scenarios import (  # noqa: E402
    Scenario,
    default_grid,
    lora_grid,
    lora_shapes_grid,
    recurrent_grid,
)

# Grouped-query attention (2 KV heads for 4 query heads), where a spurious attention mask
# on fake tensors would show; and GPT-2 with its tied embeddings, dropout and LayerNorm.
TINY = {
    "llama": dict(
        model_type="llama",
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=256,
        max_position_embeddings=256,
    ),
    "gpt2": dict(
        model_type="gpt2", n_embd=64, n_layer=2, n_head=4, vocab_size=256, n_positions=256
    ),
}

SCENARIOS = [
    Scenario("prefill", "bf16", batch=2, seq=64, logits="all"),
    Scenario("generate", "bf16", batch=2, seq=64, logits="last", new_tokens=2),
    Scenario("train", "fp32", batch=2, seq=64, logits="all", optimizer="foreach"),
    Scenario("train", "fp32", "bf16", batch=2, seq=64, logits="all", optimizer="fused"),
    Scenario(
        "train",
        "bf16",
        batch=2,
        seq=64,
        logits="all",
        grad_checkpointing=True,
        optimizer="foreach",
    ),
]


# The LoRA grid at the tiny model's size: q_proj,v_proj and all-linear, with and without
# checkpointing.
LORA = [replace(sc, batch=2, seq=64, lora_rank=4) for sc in lora_grid(True, 256)]
# The new grid's kinds at that size: an FP32 base, and adapters kept in the base's BF16.
LORA += [
    replace(sc, batch=2, seq=64, lora_rank=4)
    for sc in lora_shapes_grid(True, 256)
    if sc.batch == 1 and sc.lora_rank == 8 and sc.lora_targets == "q_proj,v_proj"
    if not sc.grad_checkpointing
    if sc.dtype == "fp32" or sc.adapter_dtype
]


def _measure(config: dict, sc: Scenario, fake: bool) -> dict:
    torch.manual_seed(0)
    with fake_mode(fake):
        model = build_model(config, "fp32" if sc.amp else sc.dtype)
        return measure(model, sc)


@pytest.mark.parametrize("arch", sorted(TINY))
@pytest.mark.parametrize("sc", SCENARIOS, ids=Scenario.label)
def test_fake_equals_real(arch: str, sc: Scenario) -> None:
    fake, real = _measure(TINY[arch], sc, True), _measure(TINY[arch], sc, False)
    assert fake == real
    assert fake["peak_bytes"] == max(p["peak_bytes"] for p in fake["phases"].values())


# A sliding window shorter than the prompt: Mistral with sdpa, and Gemma 2, built with eager
# attention (its every other layer slides), both with grouped KV heads.
WINDOWED = {
    "mistral": {**TINY["llama"], "model_type": "mistral", "sliding_window": 16},
    "gemma2": {
        **TINY["llama"],
        "model_type": "gemma2",
        "head_dim": 16,
        "query_pre_attn_scalar": 16,
        "sliding_window": 16,
    },
}


@pytest.mark.parametrize("arch", sorted(WINDOWED))
@pytest.mark.parametrize("sc", SCENARIOS[:2], ids=Scenario.label)
def test_fake_equals_real_past_the_window(arch: str, sc: Scenario) -> None:
    fake, real = _measure(WINDOWED[arch], sc, True), _measure(WINDOWED[arch], sc, False)
    assert fake == real
    if sc.mode == "prefill":
        # all 64 positions still cached after the prompt, not the window's 16: 2 layers x
        # (K, V) x 2 sequences x 2 KV heads x 64 x 16 values x 2 bytes
        assert fake["kv_cache_bytes"] == 2 * 2 * 2 * 2 * 64 * 16 * 2


# Multi-head latent attention (DeepSeek-V2) with value heads (16) narrower than its query and
# key heads (16 + 8): PyTorch's CPU kernels fuse none of it, so sdpa runs its math kernel.
MLA = dict(
    TINY["llama"],
    model_type="deepseek_v2",
    num_key_value_heads=4,
    kv_lora_rank=32,
    q_lora_rank=None,
    qk_nope_head_dim=16,
    qk_rope_head_dim=8,
    v_head_dim=16,
    moe_intermediate_size=32,
    n_routed_experts=4,
    num_experts_per_tok=2,
    n_shared_experts=1,
    first_k_dense_replace=1,
    topk_method="greedy",
    n_group=1,
    topk_group=1,
)


def _fake_equal_to_real(config: dict, sc: Scenario) -> dict:
    """The record measured on fake tensors, checked equal to the one on real tensors."""
    fake = _measure(config, sc, True)
    assert fake == _measure(config, sc, False)
    return fake


@pytest.mark.parametrize("sc", SCENARIOS[:2], ids=Scenario.label)
def test_math_kernel_is_recorded_and_fake_equals_real(sc: Scenario) -> None:
    fake = _fake_equal_to_real(MLA, sc)
    assert fake["attention"] == "math"
    assert "attention" not in _measure(TINY["llama"], sc, True)  # the fused kernel: unsaid


def test_sdpa_kernel_is_torchs_choice() -> None:
    q = torch.zeros(1, 4, 8, 24, dtype=torch.bfloat16)
    v = torch.zeros(1, 4, 8, 16, dtype=torch.bfloat16)
    assert sdpa_kernel(q, q, v, is_causal=True) == "math"  # value heads narrower
    assert sdpa_kernel(q, q, q, is_causal=True) == "flash_attention"
    with fake_mode():  # fake tensors: asked on real stand-ins, not the meta answer
        assert sdpa_kernel(*(torch.zeros(2, 4, 4096, 24),) * 3) == "flash_attention"
    # under autocast sdpa gets BF16 copies: FP32 queries and keys beside BF16 values are no mix
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert sdpa_kernel(q.float(), q.float(), q, is_causal=True) == "flash_attention"
    assert sdpa_kernel(q.float(), q.float(), q, is_causal=True) == "math"


def test_train_record_is_consistent() -> None:
    sc = Scenario("train", "bf16", batch=2, seq=64, logits="all", optimizer="fused")
    rec = _measure(TINY["llama"], sc, True)
    eof = rec["end_of_forward"]
    assert eof["gradients"] == 0 and eof["optimizer_state"] > 2 * eof["parameters"] - 1
    kept = 2 * rec["layer_activation_bytes"] + rec["head_activation_bytes"]
    assert 0 < rec["head_activation_bytes"] and 0 < rec["layer_activation_bytes"]
    assert kept <= eof["activations"]
    assert rec["phases"]["forward"]["start_bytes"] == rec["phases"]["optimizer"]["end_bytes"]


def test_generate_records_kv_cache() -> None:
    sc = Scenario("generate", "bf16", batch=2, seq=64, logits="last", new_tokens=2)
    rec = _measure(TINY["llama"], sc, True)
    # 2 layers x (K, V) x batch 2 x 2 KV heads x 66 positions x head_dim 16 x 2 bytes
    assert rec["kv_cache_bytes"] == 2 * 2 * 2 * 2 * 66 * 16 * 2
    assert rec["logits_bytes"] == 2 * 1 * 256 * 2


# Gated DeltaNet (Qwen3-Next) with one full-attention layer of four, transformers' PyTorch
# fallbacks of the delta rule and the short convolution.
DELTANET = {
    **TINY["llama"],
    "model_type": "qwen3_next",
    "num_hidden_layers": 4,
    "head_dim": 16,
    **{f"linear_{key}": value for key, value in (("num_key_heads", 2), ("num_value_heads", 4))},
    **{f"linear_{key}": value for key, value in (("key_head_dim", 8), ("value_head_dim", 16))},
    "linear_conv_kernel_dim": 4,
    "num_experts": 4,
    "num_experts_per_tok": 2,
    **dict.fromkeys(("moe_intermediate_size", "shared_expert_intermediate_size"), 32),
}


@pytest.mark.parametrize("sc", SCENARIOS[:2], ids=Scenario.label)
def test_linear_attention_states_are_cache_and_fake_equals_real(sc: Scenario) -> None:
    fake = _fake_equal_to_real(DELTANET, sc)
    # 3 DeltaNet layers x 2 sequences x (4 value heads x 8 x 16 FP32 state values x 4 bytes
    # + 4 kernel positions x (2 x 2 x 8 + 4 x 16) convolution channels x 2 bytes); the full
    # layer: (K, V) x 2 sequences x 2 KV heads x the positions x 16 x 2 bytes
    positions = sc.seq + sc.new_tokens
    state = 3 * 2 * (4 * 8 * 16 * 4 + 4 * 96 * 2)
    assert fake["kv_cache_bytes"] == state + 2 * 2 * 2 * positions * 16 * 2


def test_grid_respects_context_length() -> None:
    grid = default_grid(decoder=True, max_seq=1024)
    assert all(sc.seq + sc.new_tokens <= 1024 for sc in grid)
    assert len(grid) == len(set(grid))
    assert not [sc for sc in default_grid(decoder=False, max_seq=512) if sc.mode == "generate"]
    hybrid = recurrent_grid(decoder=True, max_seq=1024)
    assert len(hybrid) == 10 and all(sc.seq + sc.new_tokens <= 1024 for sc in hybrid)
    assert {(sc.batch, sc.seq) for sc in recurrent_grid(True, 4096)} == {
        (1, 128),
        (1, 2048),
        (4, 128),
        (4, 2048),
        (16, 128),
    }
    assert recurrent_grid(decoder=False, max_seq=512) == []


@pytest.mark.parametrize("sc", LORA, ids=Scenario.label)
def test_lora_fake_equals_real(sc: Scenario) -> None:
    pytest.importorskip("peft")
    fake, real = _measure(TINY["llama"], sc, True), _measure(TINY["llama"], sc, False)
    assert fake == real


def test_lora_adapters_in_the_base_dtype() -> None:
    """With ``adapter_dtype`` the adapters are BF16, so their input is not cast: lora_A saves
    the BF16 input q_proj and v_proj share; with FP32 adapters each module saves an FP32 copy.
    Two layers x batch 2 x 64 tokens x hidden 64: one BF16 input (2 bytes) against two FP32
    copies (8 bytes), plus the rank-4 outputs lora_B saves (2 modules x 4 x 2 or 4 bytes)."""
    pytest.importorskip("peft")
    sc = Scenario(
        "train",
        "bf16",
        batch=2,
        seq=64,
        logits="all",
        optimizer="foreach",
        lora_rank=4,
        lora_targets="q_proj,v_proj",
    )
    fp32 = _measure(TINY["llama"], sc, True)
    bf16 = _measure(TINY["llama"], replace(sc, adapter_dtype="bf16"), True)
    tokens = 2 * 64
    saved_fp32 = tokens * (2 * 64 * 4 + 2 * 4 * 4)
    saved_bf16 = tokens * (64 * 2 + 2 * 4 * 2)
    assert (
        fp32["layer_activation_bytes"] - bf16["layer_activation_bytes"] == saved_fp32 - saved_bf16
    )
