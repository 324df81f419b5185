"""Persistent state on one GPU: weights, LoRA adapters, master weights, optimizer states."""

from __future__ import annotations

import sympy as sp

from .core import define
from .derived import shard_grads, shard_optim, shard_weights
from .inputs import N_pp, N_tp, P, P_t, R, W_f, b_g, b_l, b_m, b_o, b_w, n_f, n_o, t_o

# --- persistent state ------------------------------------------------------------------------
define(
    "weights",
    "M_{W}",
    sp.Piecewise((W_f, W_f > 0), (P * b_w, True)) / shard_weights,
    "weights resident on one GPU: the file's exact bytes when it gives them, else parameters "
    "× bytes per weight",
)
define(
    "adapter_weights",
    r"M_{W\mathrm{LoRA}}",
    P_t * b_l / (N_tp * N_pp),
    "LoRA adapters beside the frozen base",
)
define(
    "master_weights", "M_{W32}", P_t * b_m / shard_optim, "FP32 master copy of trainable weights"
)
define(
    "optimizer_states",
    "M_{O}",
    (n_o * P_t + n_f * R) * b_o / shard_optim,
    "optimizer states (Adam: two moments per trainable parameter)",
)
define("gradients", "M_{G}", P_t * b_g / shard_grads, "gradients of the trainable weights")
define(
    "optimizer_temporaries",
    "M_{T}",
    t_o * P_t * b_o / shard_optim,
    "temporaries allocated during the optimizer step",
)
