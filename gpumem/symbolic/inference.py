"""Working sets of inference: the prompt's forward pass and the decoding steps after it."""

from __future__ import annotations

import sympy as sp

from .cache import L_full
from .core import FORMULAS, CeilDiv, define
from .inputs import (
    B,
    L_w,
    N_tp,
    V,
    b_a,
    b_kv,
    c_kv,
    d_h,
    d_r,
    d_v,
    f,
    h,
    i_f,
    i_h,
    i_r,
    i_s,
    k_c,
    k_e,
    l_i,
    n_h,
    n_kv,
    n_t,
    s,
    s_l,
    w,
)

# Eager attention (i_s > 0) holds the scores; it also holds the query and, with grouped KV
# heads, the keys and values repeated to every query head (transformers' eager_attention_forward
# calls repeat_kv): bytes per query channel, of a query and of a key. A fused kernel holds
# neither.
eager = i_s > 0
query_eager = sp.Piecewise((b_a, eager), (0, True))
keys_eager = sp.Piecewise((2 * b_a, eager & (n_kv < n_h)), (0, True))
# Multi-head latent attention in transformers (DeepseekV2Attention.expand_kv, as V3's)
# decompresses the cached latents of every key into per-head keys and values: kv_b_proj's
# output (d_h - d_r + d_v per head) and the keys it assembles (d_h per head), bytes per key.
mla_expanded = sp.Piecewise((b_a * (2 * d_h - d_r + d_v), c_kv > 0), (0, True))


def _layer_peak(queries: sp.Expr, keys: sp.Expr) -> sp.Expr:
    """Bytes live inside one layer per sequence, ``queries`` tokens attending over ``keys``
    positions: the residual stream and the routed copies, then the MLP's temporaries or
    attention's, whichever is larger (the two are never live together)."""
    attention = n_h * (
        queries * (i_s * keys + query_eager * d_h) + keys * (keys_eager * d_h + mla_expanded)
    )
    return queries * (i_h * h + i_r * k_e * h) + sp.Max(queries * i_f * f, attention) / N_tp


# --- inference working set -------------------------------------------------------------------
define(
    "prefill_workspace",
    "M_{P}",
    B * _layer_peak(s, s),
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
    B * b_kv * kv_step_values * kv_step_tokens + B * _layer_peak(1, s_end),
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
