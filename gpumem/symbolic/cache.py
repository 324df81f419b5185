"""The KV cache, a sum over kinds of layer (full, sliding window, chunked, recurrent)."""

from __future__ import annotations

import sympy as sp

from .core import CeilDiv, define, derive, sym
from .inputs import (
    B,
    L,
    L_c,
    L_n,
    L_r,
    L_w,
    N_pp,
    N_tp,
    b_kv,
    b_r,
    c_kv,
    c_r,
    d_h,
    d_r,
    e_r,
    e_t,
    k_c,
    n_kv,
    s,
    w,
    w_c,
)

# --- KV cache --------------------------------------------------------------------------------
define(
    "kv_values_gqa",
    "e_{kv}",
    2 * CeilDiv(n_kv, N_tp) * d_h,
    "KV-cache values per token and layer on one GPU: a key and a value per KV head",
)
define(
    "kv_values_mla",
    "e_{kv}",
    c_kv + d_r,
    "KV-cache values per token and layer with multi-head latent attention",
)
e_kv = sym("e_kv", "e_{kv}", "KV-cache values per token and layer on one GPU")
derive(
    e_kv,
    k_c * sp.Piecewise((sp.Symbol("kv_values_mla"), c_kv > 0), (sp.Symbol("kv_values_gqa"), True)),
)
# The cache as a sum over kinds of layer; each stage of a pipeline holds its share of each kind.
L_full = L - L_w - L_c - L_r - L_n  # layers that attend to the whole context
define(
    "kv_cache_full",
    r"M_{KV,\mathrm{full}}",
    B * b_kv * e_kv * CeilDiv(L_full, N_pp) * s,
    "keys and values (or latents) of every token, in layers that attend to the whole context",
)
define(
    "kv_cache_sliding",
    r"M_{KV,\mathrm{window}}",
    B * b_kv * e_kv * CeilDiv(L_w, N_pp) * sp.Min(s, w),
    "keys and values of the last w tokens, in sliding-window layers",
)
define(
    "kv_cache_chunked",
    r"M_{KV,\mathrm{chunk}}",
    B * b_kv * e_kv * CeilDiv(L_c, N_pp) * sp.Min(s, w_c),
    "keys and values of the current chunk of at most w_c tokens, in chunked-attention layers",
)
# A recurrent layer's state: the temporal state (a gated DeltaNet's v x k matrix per value
# head, Mamba-2's head_dim x state per head) in its own format; the rest, the short
# convolution's window (with the current position where the engine keeps it), in the
# KV-cache format.
define(
    "kv_cache_recurrent",
    r"M_{\mathrm{state}}",
    B
    * k_c
    * CeilDiv(L_r, N_pp)
    * (b_kv * CeilDiv(e_r - e_t + c_r, N_tp) + b_r * CeilDiv(e_t, N_tp)),
    "the fixed-size state of each recurrent layer, its temporal part in its own format: it "
    "does not grow with the context",
)
define(
    "kv_cache",
    "M_{KV}",
    sum(sp.Symbol(f"kv_cache_{kind}") for kind in ("full", "sliding", "chunked", "recurrent")),
    "keys and values of every cached token, and the recurrent layers' state",
)

# An engine's own way of holding the sliding-window cache, read by transformers' prefill only
# (engines that page their cache allocate the window alone): DynamicSlidingWindowLayer.update
# (cache_utils.py) keeps the last w - 1 positions as a view of the keys and values it was given,
# so after the prompt each sliding-window layer still holds the storage of the whole prompt,
# until the first decoding step replaces it with a tensor of w positions.
define(
    "kv_cache_overhang",
    r"M_{KV,\mathrm{over}}",
    B * b_kv * e_kv * CeilDiv(L_w, N_pp) * (s - sp.Min(s, w)),
    "keys and values of the prompt beyond the window, still held by transformers' "
    "sliding-window cache layers after the prompt (a view of the last w - 1 positions keeps "
    "the whole prompt's tensor alive)",
    component="kv_cache_overhang",
)
