"""Persistent state on one GPU: weights, LoRA adapters, master weights, optimizer states.

Each follows the parameters of the heaviest pipeline stage (all of them without pipelining).
"""

from __future__ import annotations

import sympy as sp

from .core import define
from .derived import stage_shard_grads, stage_shard_optim, stage_shard_weights
from .inputs import (
    L,
    L_s,
    N_pp,
    N_tp,
    P_q,
    P_q2,
    P_s,
    P_t,
    R,
    W_f,
    b_g,
    b_l,
    b_m,
    b_o,
    b_q,
    b_q2,
    b_w,
    n_f,
    n_o,
    t_o,
)

# --- persistent state ------------------------------------------------------------------------
define(
    "weights",
    "M_{W}",
    sp.Piecewise((W_f / N_pp, W_f > 0), ((P_s - P_q - P_q2) * b_w + P_q * b_q + P_q2 * b_q2, True))
    / stage_shard_weights,
    "weights resident on one GPU: the file's exact bytes when it gives them, else the "
    "parameters of the heaviest pipeline stage × bytes per weight, those the checkpoint "
    "ships quantized at the bytes of their format (of its two formats, for a mixed one)",
)
define(
    "adapter_weights",
    r"M_{W\mathrm{LoRA}}",
    P_t * b_l / N_tp,
    "LoRA adapters beside the frozen base",
)
define(
    "master_weights",
    "M_{W32}",
    P_t * b_m / stage_shard_optim,
    "FP32 master copy of trainable weights",
)
define(
    "optimizer_states",
    "M_{O}",
    (n_o * P_t + n_f * R * L_s / L) * b_o / stage_shard_optim,
    "optimizer states (Adam: two moments per trainable parameter)",
)
define("gradients", "M_{G}", P_t * b_g / stage_shard_grads, "gradients of the trainable weights")
define(
    "optimizer_temporaries",
    "M_{T}",
    t_o * P_t * b_o / stage_shard_optim,
    "temporaries allocated during the optimizer step",
)
