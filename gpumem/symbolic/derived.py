"""Inputs derived from more basic ones: counts from the model's shapes, bytes from the formats,
shards from the layout.
"""

from __future__ import annotations

import sympy as sp

from .core import CeilDiv, define, derive
from .inputs import (
    SECOND_FLAGS,
    SHIPPED_FLAGS,
    F,
    L,
    L_d,
    L_e,
    L_n,
    L_r,
    L_s,
    N_dp,
    N_pp,
    N_tp,
    P,
    P_e,
    P_m,
    P_n,
    P_q,
    P_q2,
    P_s,
    P_t,
    P_v,
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
    b_u,
    b_w,
    c_kv,
    c_q,
    c_r,
    d_gv,
    d_h,
    d_r,
    d_v,
    f,
    f_d,
    f_e,
    f_s,
    f_x,
    g_q,
    h,
    j_d,
    j_g,
    j_k,
    j_o,
    j_q,
    j_u,
    j_v,
    k_c,
    k_e,
    m_g,
    n_e,
    n_g,
    n_h,
    n_kv,
    n_s,
    p_a,
    p_m,
    q_4,
    r,
    s,
    s_l,
    t_w,
    u_l,
    x_f,
    x_l,
    x_s,
    y_a,
    y_f,
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
derive(R, L * sp.Symbol("lora_features") + (1 - u_l) * (V + h))
derive(s_l, sp.Piecewise((s, x_l > 0), (1, True)))
# Activations in the dtype when it is a float of 16 bits or more, else in 16 bits.
derive(b_a, sp.Max(2, x_f * b_d))
derive(b_kv, sp.Piecewise((b_k, b_k > 0), (b_a, True)))
# Trainable state in the adapters' dtype for LoRA (peft: FP32 unless autocast_adapter_dtype
# is off); in FP32 for mixed precision and autocast; in the dtype itself for pure
# low-precision training.
derive(b_t, sp.Piecewise((b_u, u_l > 0), (4, (p_m > 0) | (p_a > 0)), (b_d, True)))
autocast = p_a * (1 - u_l)  # autocast over the whole model (not over a frozen LoRA base)
# QLoRA: weights in the compute dtype but the linear layers' (see P_q below). FSDP2's
# MixedPrecisionPolicy keeps FP32 sharded weights and gradients (reduce_dtype FP32), which are
# the master copy: it gathers 16-bit copies per block (gpumem.symbolic.fsdp).
derive(b_w, sp.Piecewise((4, (autocast > 0) | (y_f * p_m > 0)), (b_a, q_4 > 0), (b_d, True)))
derive(b_l, u_l * b_t)
derive(b_g, sp.Piecewise((b_t, (u_l > 0) | (p_a > 0) | (y_f > 0)), (b_d, True)))
derive(b_m, 4 * p_m * (1 - u_l) * (1 - y_f))
derive(b_o, sp.Piecewise((b_s, b_s > 0), (b_t, True)))
derive(b_c, autocast * b_a)
define("gpu_count", "N", N_dp * N_tp * N_pp, "GPUs of a layout: data × tensor × pipeline parallel")

# --- weights as the checkpoint ships them ----------------------------------------------------
q_out = n_h * d_h  # width of the query heads
define(
    "attention_weights",
    r"P_{\mathrm{attn}}",
    sp.Piecewise(
        (
            sp.Piecewise((h * c_q + c_q * q_out, c_q > 0), (h * q_out, True))
            + h * (c_kv + d_r)
            + c_kv * n_h * (d_h - d_r + d_v)
            + n_h * d_v * h,
            c_kv > 0,
        ),
        ((2 + g_q) * h * q_out + 2 * h * n_kv * d_h, True),
    ),
    "parameters of the weight matrices of one attention block: query (with the output gate "
    "where g_q = 1), key, value and output projections, or the down and up projections of "
    "multi-head latent attention",
)


def _shipped(flags: tuple[sp.Symbol, ...]) -> sp.Expr:
    """Parameters of the modules ``flags`` (one per :data:`~.inputs.SHIPPED_MODULES`) mark."""
    a, m, e, s_, r_, b, o, h_, v = flags
    return x_s * (
        a * (L - L_r - L_n) * sp.Symbol("attention_weights")
        + m_g * h * (m * L_d * f_x + L_e * (e * n_e * f_e + s_ * n_s * f_s))
        + L_r * h * (r_ * (c_r + n_g * d_gv) + b * 2 * n_g + o * n_g * d_gv)
        + h_ * k_c * (1 - t_w) * V * h
        + v * P_v
    )


define(
    "shipped_parameters",
    r"P_{\mathrm{quant}}",
    _shipped(SHIPPED_FLAGS),
    "parameters the checkpoint ships in its quantized format: the weight matrices of the "
    "modules its quantization config covers (a gated DeltaNet layer's projections: queries, "
    "keys and values (c_r channels) with the output gate, beta and decay (n_g each), output; "
    "an untied LM head; the vision tower's linear layers); biases, norms, routers, "
    "convolutions and the token embedding stay in the dtype",
)
define(
    "shipped_parameters_second",
    r"P'_{\mathrm{quant}}",
    _shipped(SECOND_FLAGS),
    "parameters the checkpoint ships in its second quantized format (a ModelOpt "
    "MIXED_PRECISION checkpoint's per-layer formats): the same modules' weight matrices, "
    "marked by the second flags",
)

# --- pipeline stages: embeddings on the first, the LM head and final norm on the last -------
derive(L_s, CeilDiv(L, N_pp))
define(
    "layer_parameters",
    r"P_{\mathrm{layers}}",
    P - P_e - P_n,
    "parameters of the L transformer layers: all but the embeddings, the LM head and the "
    "final norm",
)
define(
    "moe_layer_excess",
    r"\Delta_{\mathrm{MoE}}",
    m_g * h * (n_e * f_e + n_s * f_s - f_x) + h * n_e,
    "parameters a mixture-of-experts layer holds beyond a dense one: routed and shared "
    "experts and the router in place of a dense MLP",
)
# The stage's layers: as many of the MoE layers as it can hold, the rest dense (the average
# layer when every layer is of one kind); an upper bound where MoE layers alternate.
P_layer_stage = sp.Symbol("layer_parameters") * L_s / L + sp.Symbol("moe_layer_excess") * (
    sp.Min(L_s, L_e) - L_s * L_e / L
)
define(
    "stage_first_parameters",
    r"P_{\mathrm{first}}",
    P_e - k_c * (1 - t_w) * V * h + P_layer_stage,
    "parameters of the first pipeline stage: the input embeddings and L_s layers",
)
define(
    "stage_last_parameters",
    r"P_{\mathrm{last}}",
    k_c * V * h + P_n + P_layer_stage,
    "parameters of the last pipeline stage: L_s layers, the final norm and the LM head (with "
    "tied embeddings a copy of the embedding matrix, which Megatron-LM keeps on the last stage)",
)
# FSDP2 pads each parameter's first dimension to a multiple of the ranks (see
# gpumem.symbolic.fsdp): the routed experts' and the router's rows.
define(
    "fsdp_padding",
    r"P_{\mathrm{pad}}",
    y_f * L_e * (N_dp * CeilDiv(n_e, N_dp) - n_e) * (m_g * h * f_e + h),
    "parameters FSDP2 adds when it shards the routed experts and the router's rows over "
    "data-parallel GPUs that do not divide their number",
)
derive(
    P_s,
    sp.Piecewise(
        (P + sp.Symbol("fsdp_padding"), N_pp <= 1),
        (sp.Max(sp.Symbol("stage_first_parameters"), sp.Symbol("stage_last_parameters")), True),
    ),
)
# QLoRA stores the weight matrices of every layer's attention and MLP in NF4, as bitsandbytes'
# Linear4bit does (functional.py, quantize_4bit); the 1,092 bytes of FP32 codes and offset
# each matrix also keeps are left out (under 0.01 % of the weights).
derive(
    P_q,
    (sp.Symbol("shipped_parameters") + q_4 * L * (sp.Symbol("attention_weights") + m_g * h * f))
    * L_s
    / L,
)
derive(P_q2, sp.Symbol("shipped_parameters_second") * L_s / L)
derive(P_t, u_l * sp.Symbol("lora_parameters") * L_s / L + (1 - u_l) * P_s)

# Shards: how many GPUs of one pipeline stage share one copy of each kind of state; the
# weights of a whole model (autocast's copies) are also split over the stages. FSDP2 shards
# the weights at rest at either stage.
shard_weights = N_tp * N_pp * N_dp ** sp.Max(z_3, y_f)
stage_shard_weights = N_tp * N_dp ** sp.Max(z_3, y_f)
stage_shard_grads = N_tp * N_dp**z_2
stage_shard_optim = N_tp * N_dp**z_1
