"""Working sets of inference: the prompt's forward pass and the decoding steps after it."""

from __future__ import annotations

from .core import FORMULAS, define
from .inputs import B, N_tp, V, f, h, i_f, i_h, i_r, i_s, k_e, l_i, n_h, n_t, s, s_l

# --- inference working set -------------------------------------------------------------------
define(
    "prefill_workspace",
    "M_{P}",
    B * s * (i_h * h + i_r * k_e * h + (i_f * f + i_s * n_h * s) / N_tp),
    "tensors live inside one layer while the prompt is processed",
)
define(
    "logits_inference",
    "M_{\\Lambda}",
    B * s_l * V * l_i,
    "logits of the kept positions",
    component="logits",
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
    B * (i_h * h + i_r * k_e * h + (i_f * f + i_s * n_h * s_end) / N_tp),
    "tensors live inside one layer while one new token per sequence is processed",
)
define(
    "logits_decode",
    r"M_{\Lambda,\mathrm{dec}}",
    B * V * l_i,
    "logits of the last position at a decoding step",
    component="logits",
)
