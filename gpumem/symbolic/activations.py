"""What a training step keeps for the backward pass, and the logits at its ends."""

from __future__ import annotations

import sympy as sp

from .core import define
from .derived import shard_weights
from .inputs import (
    B,
    L,
    N_tp,
    P_m,
    V,
    a_e,
    a_f,
    a_h,
    a_i,
    a_k,
    a_n,
    a_q,
    a_r,
    a_s,
    b_a,
    b_c,
    c_1,
    c_32,
    c_a,
    c_u,
    d_h,
    f,
    g_c,
    h,
    k_e,
    l_b,
    l_f,
    n_e,
    n_h,
    n_kv,
    s,
)

# --- activations kept for the backward pass --------------------------------------------------
define(
    "saved_bytes_per_element",
    r"\alpha",
    c_a * b_a + 4 * c_32 + c_1 + c_u * sp.Piecewise((4, b_a < 4), (0, True)),
    "bytes saved per element of one tensor shape",
)
layer_bytes_per_token = (
    a_h * h
    + a_e * n_e
    + a_r * k_e * h
    + (a_q * n_h * d_h + a_k * n_kv * d_h + a_f * f + a_n * n_h + a_s * n_h * s) / N_tp
)
define(
    "layer_activations",
    "A_{\\ell}",
    B * s * layer_bytes_per_token,
    "activations one transformer layer saves for its backward pass",
)
A_l = sp.Symbol("layer_activations")
define(
    "activations_training",
    "M_{A}",
    (1 - g_c) * L * A_l + g_c * L * B * s * a_i * h,
    "activations saved during the forward pass: every layer's, or with checkpointing only "
    "each layer's input. With 1F1B pipelining the first stage holds as many micro-batches as "
    "there are stages, hence L rather than L / N_pp.",
    component="activations",
)
define(
    "recomputed_layer",
    "M_{R}",
    g_c * A_l,
    "with checkpointing, one layer's activations recomputed during the backward pass",
)
M_C = sp.Symbol("autocast_copies")
define(
    "autocast_copies",
    "M_{C}",
    P_m * b_c / shard_weights,
    "low-precision copies of the weights that autocast keeps for the backward pass",
)
define(
    "autocast_copies_kept",
    "M_{C,\\mathrm{bwd}}",
    (1 - g_c) * M_C,
    "autocast's copies still held when backward starts: none with checkpointing, whose "
    "forward pass keeps no tensors, so the copies go when autocast's cache is cleared",
    component="autocast_copies",
)
define(
    "logits_forward",
    "M_{\\Lambda f}",
    B * s * V * l_f,
    "logits and loss at the end of forward",
    component="logits",
)
define(
    "logits_backward",
    "M_{\\Lambda b}",
    B * s * V * l_b,
    "logit gradients as backward starts",
    component="logits",
)
