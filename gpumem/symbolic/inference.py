"""Working sets of inference: the prompt's forward pass and the decoding steps after it."""

from __future__ import annotations

import sympy as sp

from .cache import L_full
from .core import FORMULAS, CeilDiv, define, derive, sym
from .inputs import (
    B,
    L_w,
    N_tp,
    V,
    b_a,
    b_kv,
    c_kv,
    c_r,
    d_gk,
    d_gv,
    d_h,
    d_r,
    d_v,
    f,
    h,
    i_f,
    i_h,
    i_p,
    i_r,
    i_s,
    k_c,
    k_e,
    l_i,
    n_g,
    n_h,
    n_kv,
    n_t,
    s,
    s_l,
    w,
)

# sdpa's math kernel (PyTorch's _scaled_dot_product_attention_math, aten/src/ATen/native/
# transformers/attention.cpp) keeps what a fused kernel keeps in registers in FP32 tensors
# (i_p bytes per element) until it returns. It copies a half-precision query, key and value
# to FP32 (unless torch.backends.cuda.allow_fp16_bf16_reduction_math_sdp(True)), scales the
# query and, in the product QK^T, the keys; a causal prompt gets an FP32 (s, s) mask, grouped
# KV heads are repeated to every query head (enable_gqa). Its peak is the scores next to the
# softmax's probabilities, or, for a single query, the scores next to the scaled keys.
i_u = sym("i_u", r"\iota_u", "bytes per element of the math kernel's FP32 copies of its inputs")
derive(i_u, sp.Piecewise((i_p, b_a < i_p), (0, True)))

# Eager attention (i_s > 0) holds the scores; it also holds the query and, with grouped KV
# heads, the keys and values repeated to every query head (transformers' eager_attention_forward
# calls repeat_kv). A fused kernel holds neither. The math kernel holds the query it was given,
# its FP32 copy and the scaled query, and per key the FP32 copies of the KV heads' keys and
# values (d_h + d_o wide) and, with grouped KV heads, their repetition to every query head.
eager = i_s > 0
i_q = sym(
    "i_q", r"\iota_q", "bytes live per query channel in attention at inference (eager or math)"
)
derive(i_q, sp.Piecewise((b_a, eager), (b_a + i_p + i_u, i_p > 0), (0, True)))
d_o = sp.Piecewise((d_v, c_kv > 0), (d_h, True))  # value head width
grouped = sp.Piecewise((1, n_kv < n_h), (0, True))
i_k = sym(
    "i_k",
    r"\iota_k",
    "bytes live per key and query channel in attention at inference (eager: grouped KV heads "
    "repeated; math: FP32 keys and values)",
)
derive(
    i_k,
    sp.Piecewise(
        (2 * b_a * grouped, eager),
        ((i_u * n_kv / n_h + i_p * grouped) * (d_h + d_o) / d_h, i_p > 0),
        (0, True),
    ),
)
# Multi-head latent attention in transformers (DeepseekV2Attention.expand_kv, as V3's)
# decompresses the cached latents of every key into per-head keys and values: kv_b_proj's
# output (d_h - d_r + d_v per head) and the keys it assembles (d_h per head).
i_m = sym("i_m", r"\iota_m", "bytes live per key and head of latent attention's expanded cache")
derive(i_m, sp.Piecewise((b_a * (2 * d_h - d_r + d_v), c_kv > 0), (0, True)))
# The math kernel's FP32 mask: (s, s) from is_causal, or (B, 1, s, s) from the boolean mask that
# transformers passes sliding-window layers once the prompt reaches the window.
window_cut = sp.Piecewise((1, L_w > 0), (0, True)) * sp.Min(1, sp.Max(0, s - w + 1))
m_p = sym("m_p", r"\mu_p", "bytes of the FP32 mask sdpa's math kernel makes for a prompt")
derive(m_p, i_p * s**2 * (1 + (B - 1) * window_cut))


# A gated DeltaNet layer over a prompt (transformers' torch_chunk_gated_delta_rule, modeling_
# qwen3_next.py and modeling_qwen3_5.py) holds, in the activations' dtype, its convolution's
# output (c_r channels, queries, keys and values are views of it) and the output gate z (one
# value width); and in FP32, whatever the model's dtype, the queries and keys repeated to every
# value head and the values, beta times the keys and the values, the decayed keys, the UT
# system's solutions for values and keys and the output; and per chunk of 64 positions three
# (64, 64) matrices a head (the pairwise decays, the UT system, the intra-chunk attention).
# Its peak is when the queries are decayed: the new ones written while the old ones are live.
# Qwen3-Next's fused input projection (in_proj_qkvz) stays live too, its output left out
# (2 x (keys + values) values a token in the activations' dtype, 0.1 % of its peaks).
define(
    "deltanet_workspace",
    r"\omega_{\Delta}",
    sp.Piecewise(
        (b_a * (c_r + n_g * d_gv) + 4 * n_g * (6 * d_gk + 4 * d_gv + 3 * 64), n_g > 0),
        (0, True),
    ),
    "bytes a token of a gated DeltaNet layer's working set at prefill (the chunked delta rule)",
)


def _layer_peak(
    attention: sp.Expr, shared: sp.Expr = sp.S.Zero, recurrent: sp.Expr = sp.S.Zero
) -> sp.Expr:
    """Bytes live inside one layer per token: the residual stream, then the MLP's temporaries
    (with a mixture of experts' routed copies), ``attention``'s or a ``recurrent`` layer's,
    whichever is largest (never live together); ``shared`` is attention's bytes every
    tensor-parallel rank holds whole (a mask)."""
    return i_h * h + sp.Max(
        i_r * k_e * h + i_f * f / N_tp, attention / N_tp + shared, recurrent / N_tp
    )


# --- inference working set -------------------------------------------------------------------
define(
    "prefill_workspace",
    "M_{P}",
    B
    * s
    * _layer_peak(
        n_h * (i_s * s + (i_q + i_k) * d_h + i_m + i_p * (s + sp.Max(s, d_h))),
        m_p / (B * s),
        sp.Symbol("deltanet_workspace"),
    ),
    "tensors live inside one layer while the prompt is processed",
)
define(
    "logits_inference",
    "M_{\\Lambda}",
    B * s_l * V * l_i,
    "logits of the kept positions",
    component="logits",
)
# transformers builds one mask per kind of layer for the whole forward pass (masking_utils):
# for sdpa a boolean (1, 1, s, s) mask, expanded over the batch, only where a window cuts the
# prompt (the causal case is sdpa's is_causal); for eager attention a (B, 1, s, s) mask in the
# activation dtype for every kind of layer.
has_full = sp.Piecewise((1, L_full > 0), (0, True))
has_window = sp.Piecewise((1, L_w > 0), (0, True))
define(
    "attention_masks",
    r"M_{\mathrm{mask}}",
    s**2
    * sp.Piecewise(
        (B * b_a * (has_full + has_window), eager),
        (has_window * sp.Min(1, sp.Max(0, s - w + 1)), True),  # 1 when s >= w, else 0
    ),
    "attention masks of the prompt's forward pass: one per kind of layer with eager "
    "attention, a boolean one for sliding-window layers when the prompt reaches the window "
    "with a fused kernel",
    component="attention_masks",
)

# --- decoding: the last of n_t one-token steps after the prompt ------------------------------
s_end = s + n_t  # tokens in the cache at the last step
define(
    "kv_cache_decode",
    r"M_{KV,\mathrm{dec}}",
    sp.Max(
        sum(
            FORMULAS[f"kv_cache_{kind}"].rhs.subs(s, s_end)
            for kind in ("full", "sliding", "chunked", "recurrent")
        ),
        sp.Symbol("kv_cache") + sp.Symbol("kv_cache_overhang"),
    ),
    "the cache at the decoding step that holds the most: the last, with s + n_t tokens in "
    "each kind of layer, or the first, whose sliding-window layers still hold the prompt",
    component="kv_cache",
)
# transformers appends a step's keys and values with torch.cat, writing the grown tensor while
# the old one is live (cache_utils.py): DynamicLayer.update replaces the keys, then the values
# (MLA: its two latents), one at a time; DynamicSlidingWindowLayer.update concatenates both
# before it lets the old ones go.
kv_step_values = k_c * sp.Piecewise((c_kv, c_kv > 0), (CeilDiv(n_kv, N_tp) * d_h, True))
kv_step_tokens = sp.Max(
    sp.Piecewise((s_end, L_full > 0), (0, True)),
    sp.Piecewise((2 * sp.Min(s_end, w), L_w > 0), (0, True)),
)
define(
    "decode_workspace",
    r"M_{D}",
    B * b_kv * kv_step_values * kv_step_tokens
    + B
    * _layer_peak(n_h * (i_s * s_end + i_q * d_h + s_end * (i_k * d_h + i_m + i_p * (1 + d_h)))),
    "tensors live inside one layer while one new token per sequence is processed: one "
    "layer's keys copied as the cache grows, and the layer's working set",
)
define(
    "logits_decode",
    r"M_{\Lambda,\mathrm{dec}}",
    B * V * l_i,
    "logits of the last position at a decoding step",
    component="logits",
)
