"""Working sets of inference: the prompt's forward pass and the decoding steps after it."""

from __future__ import annotations

import sympy as sp

from .cache import L_full
from .core import FORMULAS, define
from .inputs import (
    B,
    L_w,
    N_tp,
    V,
    b_a,
    d_h,
    f,
    h,
    i_f,
    i_h,
    i_r,
    i_s,
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
# calls repeat_kv): bytes per token and query channel. A fused kernel holds neither.
eager = i_s > 0
qkv_eager = sp.Piecewise((b_a * sp.Piecewise((3, n_kv < n_h), (1, True)), eager), (0, True))


def _layer_peak(keys: sp.Expr) -> sp.Expr:
    """Bytes live per token inside one layer, attending over ``keys`` positions: the residual
    stream and the routed copies, then the MLP's temporaries or attention's, whichever is
    larger (the two are never live together)."""
    return i_h * h + i_r * k_e * h + sp.Max(i_f * f, n_h * (i_s * keys + qkv_eager * d_h)) / N_tp


# --- inference working set -------------------------------------------------------------------
define(
    "prefill_workspace",
    "M_{P}",
    B * s * _layer_peak(s),
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
    sum(
        FORMULAS[f"kv_cache_{kind}"].rhs.subs(s, s_end)
        for kind in ("full", "sliding", "chunked", "recurrent")
    ),
    "the cache of the prompt and of every generated token at the last decoding step: each "
    "kind of layer's cache with s + n_t tokens",
    component="kv_cache",
)
define(
    "decode_workspace",
    r"M_{D}",
    B * _layer_peak(s_end),
    "tensors live inside one layer while one new token per sequence is processed",
)
define(
    "logits_decode",
    r"M_{\Lambda,\mathrm{dec}}",
    B * V * l_i,
    "logits of the last position at a decoding step",
    component="logits",
)
