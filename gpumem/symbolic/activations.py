"""What a training step keeps for the backward pass, and the logits at its ends."""

from __future__ import annotations

import sympy as sp

from .core import define, sym
from .derived import shard_weights
from .inputs import (
    LORA_FLAGS,
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
    b_u,
    c_1,
    c_32,
    c_a,
    c_u,
    d_h,
    f,
    g_c,
    h,
    i_p,
    k_e,
    l_b,
    l_f,
    n_e,
    n_h,
    n_kv,
    q_4,
    r,
    s,
    u_l,
    y_a,
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

# --- LoRA: what the adapters of one layer add to a frozen base's profile ----------------------
# Counted in peft 0.21 lora/layer.py (Linear.forward) and torch's autograd formulas: the frozen
# projection ``base_layer(x)`` saves no input, since no weight gradient is computed; each adapter
# casts the module's input to its own dtype (``_cast_input_dtype``: a new tensor per module when
# the dtypes differ, the input itself when they agree), ``lora_A`` saves what it multiplies and
# ``lora_B`` saves ``lora_A``'s rank-sized output. A dropout before ``lora_A`` saves its mask
# (one byte per element on CUDA) and its output, a new tensor per module.
o_l = sym("o_l", "o_l", "1 when LoRA applies dropout to the adapters' inputs, else 0", integer=True)
t_q, t_k, t_v, t_o, t_g, t_u, t_d = (sp.Max(y_a, j) for j in LORA_FLAGS)
define(
    "adapter_bytes_per_token",
    r"\alpha_{\mathrm{LoRA}}",
    u_l
    * (
        sp.Piecewise(
            (
                (b_u + o_l)
                * ((t_q + t_k + t_v + t_g + t_u) * h + (t_o * n_h * d_h + t_d * f) / N_tp),
                (o_l > 0) | (b_u > b_a),
            ),
            ((sp.Max(t_q, t_k, t_v) + sp.Max(t_g, t_u)) * h * b_a + t_d * f * b_a / N_tp, True),
        )
        + (t_q + t_k + t_v + t_o + t_g + t_u + t_d) * r * b_u
    ),
    "bytes the LoRA adapters of one layer save per token: each adapted module's input in the "
    "adapters' dtype (a copy per module when it is cast or dropped out, with the dropout "
    "mask; otherwise the shared input of q, k, v, of gate and up, and down's input, "
    "which a frozen base does not save; o_proj's input is attention's output, saved anyway), "
    "and lora_A's rank-sized output",
)

# --- sdpa's math kernel in training ------------------------------------------------------------
# Counted in PyTorch's _scaled_dot_product_attention_math (aten/src/ATen/native/transformers/
# attention.cpp, torch 2.11 to 2.13), a composite of differentiable operators, and their
# autograd formulas (tools/autograd/derivatives.yaml). It copies half-precision inputs to FP32
# (query_.to(at::kFloat) ..., unless allow_fp16_bf16_reduction_math_sdp), so all it saves is
# FP32 (i_p bytes): the product QK^T (matmul, a bmm) saves the scaled query (query_acc *
# scaling_factor) and the keys repeated to every query head (pre_process_group_query_
# attention_input: repeat_interleave under enable_gqa), then scaled; _safe_softmax saves its
# probabilities, (B, n_h, s, s); the product with V saves them and the values repeated to every
# query head (the values themselves when they are FP32 and not grouped). What a fused kernel
# saves, which the profiles count, is not kept: the rotated query, key and value, its output
# and the FP32 log-sum-exp per head; only o_proj keeps its input where it needs it (a trained
# base's weight gradient; an adapter taking it in the base's dtype), then a contiguous copy of
# the math kernel's output. Dropout on the probabilities (none in the models followed) would
# save its output and its mask besides. Not counted: where the query, key and value are views
# of one projection's output and no rotary embedding copies them (GPT-2's c_attn), FP32 values
# saved as they are keep that output whole, so its query and key are not freed either.
o_in = 1 - u_l * (1 - t_o * sp.Piecewise((0, (o_l > 0) | (b_u > b_a)), (1, True)))
define(
    "math_attention_bytes_per_token",
    r"\alpha_{\mathrm{math}}",
    sp.Piecewise(
        (
            i_p * n_h * (s + 3 * d_h) - b_a * (n_h * d_h * (2 - o_in) + 2 * n_kv * d_h) - 4 * n_h,
            i_p > 0,
        ),
        (0, True),
    ),
    "bytes one layer saves per token with sdpa's math kernel beyond the fused kernel's: the "
    "FP32 probabilities, scaled query, and keys and values repeated to every query head, "
    "less the fused kernel's rotated query, key, value, log-sum-exp and (unless o_proj "
    "keeps it) output",
)
define(
    "layer_activations",
    "A_{\\ell}",
    B
    * s
    * (
        layer_bytes_per_token
        + sp.Symbol("adapter_bytes_per_token")
        + sp.Symbol("math_attention_bytes_per_token") / N_tp
    ),
    "activations one transformer layer saves for its backward pass (with LoRA, the frozen "
    "base's plus its adapters'; with sdpa's math kernel, its FP32 tensors)",
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
    g_c * A_l
    + q_4 * sp.Max(n_h * d_h, f) / N_tp * h * (b_a + sp.Rational(4, 64))
    + 2 * i_p * B * n_h * s**2 / N_tp,
    "the working set of one layer's backward pass: with checkpointing, its activations "
    "recomputed; with QLoRA, the weight matrix it multiplies by, dequantized to the compute "
    "dtype with its FP32 absmax (bitsandbytes MatMul4Bit.backward, dequantize_4bit); with "
    "sdpa's math kernel, the gradients of its probabilities and of its scores, both FP32 "
    "(B, n_h, s, s), live together in _softmax_backward_data",
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
