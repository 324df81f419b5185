"""Inputs derived from more basic ones: counts from the model's shapes, bytes from the formats,
shards from the layout.
"""

from __future__ import annotations

import sympy as sp

from .core import define, derive
from .inputs import (
    F,
    L,
    N_dp,
    N_pp,
    N_tp,
    P,
    P_e,
    P_m,
    P_t,
    R,
    V,
    b_a,
    b_c,
    b_d,
    b_g,
    b_k,
    b_kv,
    b_l,
    b_m,
    b_o,
    b_s,
    b_t,
    b_w,
    c_kv,
    c_q,
    d_h,
    d_r,
    d_v,
    f,
    f_d,
    f_e,
    f_s,
    h,
    j_d,
    j_g,
    j_k,
    j_o,
    j_q,
    j_u,
    j_v,
    k_e,
    m_g,
    n_h,
    n_kv,
    n_s,
    p_a,
    p_m,
    r,
    s,
    s_l,
    u_l,
    x_f,
    x_l,
    y_a,
    z_1,
    z_2,
    z_3,
)

# --- inputs derived from the model's shapes, the workload and the formats ------------------
derive(P_m, P - P_e + V * h)
derive(f, f_d + k_e * f_e + n_s * f_s)
define(
    "attention_features_gqa",
    r"F_{\mathrm{attn}}",
    2 * (h + n_h * d_h) + 2 * (h + n_kv * d_h),
    "in + out features of the query, key, value and output projections",
)
define(
    "attention_features_mla",
    r"F_{\mathrm{attn}}",
    (h + c_q)
    + (c_q + n_h * d_h)
    + (h + c_kv + d_r)
    + (c_kv + n_h * (d_h - d_r + d_v))
    + (n_h * d_v + h),
    "in + out features of the projections of multi-head latent attention: query down and "
    "up (or one query projection when c_q = 0), the joint key/value down projection with the "
    "RoPE key, key/value up, output",
)
derive(
    F,
    sp.Piecewise(
        (sp.Symbol("attention_features_mla"), c_kv > 0),
        (sp.Symbol("attention_features_gqa"), True),
    )
    + m_g * (h + f),
)
define(
    "lora_features",
    r"F_{\mathrm{LoRA}}",
    sp.Piecewise(
        (F, y_a > 0),
        (
            j_q * (h + n_h * d_h)
            + (j_k + j_v) * (h + n_kv * d_h)
            + j_o * (n_h * d_h + h)
            + (j_g + j_u + j_d) * (h + f),
            True,
        ),
    ),
    "in + out features of the linear layers of one layer that LoRA adapts: all of them "
    "(peft's all-linear), or the named projections (e.g. q_proj and v_proj)",
)
define(
    "lora_parameters",
    "P_{\\mathrm{LoRA}}",
    r * L * sp.Symbol("lora_features"),
    "trainable LoRA adapter parameters",
)
derive(P_t, u_l * sp.Symbol("lora_parameters") + (1 - u_l) * P)
derive(R, L * sp.Symbol("lora_features") + (1 - u_l) * (V + h))
derive(s_l, sp.Piecewise((s, x_l > 0), (1, True)))
# Activations in the dtype when it is a float of 16 bits or more, else in 16 bits.
derive(b_a, sp.Max(2, x_f * b_d))
derive(b_kv, sp.Piecewise((b_k, b_k > 0), (b_a, True)))
# Trainable state in FP32 for LoRA adapters (peft's default), mixed precision and autocast;
# in the dtype itself for pure low-precision training.
derive(b_t, sp.Piecewise((4, (u_l > 0) | (p_m > 0) | (p_a > 0)), (b_d, True)))
autocast = p_a * (1 - u_l)  # autocast over the whole model (not over a frozen LoRA base)
derive(b_w, sp.Piecewise((4, autocast > 0), (b_d, True)))
derive(b_l, u_l * b_t)
derive(b_g, sp.Piecewise((b_t, (u_l > 0) | (p_a > 0)), (b_d, True)))
derive(b_m, 4 * p_m * (1 - u_l))
derive(b_o, sp.Piecewise((b_s, b_s > 0), (b_t, True)))
derive(b_c, autocast * b_a)
define("gpu_count", "N", N_dp * N_tp * N_pp, "GPUs of a layout: data × tensor × pipeline parallel")

# Shards: how many GPUs share one copy of each kind of state.
shard_weights = N_tp * N_pp * N_dp**z_3
shard_grads = N_tp * N_pp * N_dp**z_2
shard_optim = N_tp * N_pp * N_dp**z_1
