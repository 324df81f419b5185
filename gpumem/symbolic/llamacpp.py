"""Local inference with llama.cpp: layers split between devices, speed ceilings and buffers."""

from __future__ import annotations

import sympy as sp

from .core import CeilDiv, define, sym
from .inputs import BW, T_pk, V, h, k_e, n_e, n_h, s, w

# --- local inference with llama.cpp: layers split between GPUs and the CPU ---------------------
n_u = sym("n_u", r"n_{\mathrm{ub}}", "tokens of one micro-batch (llama.cpp -ub)", integer=True)
o_L = sym("o_L", r"o_{\mathrm{out}}", "1 on the device that holds the output layer, else 0")
a_fa = sym("a_fa", r"a_{\mathrm{FA}}", "1 with flash attention (-fa on), else 0")
a_sh = sym("a_sh", r"a_{\mathrm{sh}}", "1 for a mixture of experts with a shared expert, else 0")
a_kp = sym(
    "a_kp",
    r"a_{\mathrm{keep}}",
    "1 where llama.cpp's graph keeps the last layer's output to the end (gpt-oss), else 0",
)
a_st = sym(
    "a_st",
    r"a_{\mathrm{stack}}",
    "1 where a routed expert's down projection fits the block its freed gate and up "
    "projections left (h <= 2 f_e), else 0",
)
W_rd = sym("W_rd", r"W_{\mathrm{read}}", "weight bytes one device reads per generated token")
M_Kd = sym("M_Kd", r"M_{KV,d}", "KV-cache bytes held on one device")
t_tok = sym("t_tok", r"t_{\mathrm{tok}}", "seconds per generated token, summed over devices")
P_ad = sym("P_ad", r"P_{a,d}", "parameters one device multiplies per token")
W_x = sym("W_x", r"W_{\times}", "weight bytes in system memory copied to the GPU per micro-batch")
BW_x = sym("BW_x", r"\mathrm{BW}_{\times}", "host-to-GPU link bandwidth (bytes per second)")
t_c = sym("t_c", "t_c", "seconds of compute per micro-batch")
t_x = sym("t_x", r"t_{\times}", "seconds of weight transfer per micro-batch")
n_ch = sym("n_ch", r"n_{\mathrm{ch}}", "memory channels", integer=True)
w_ch = sym("w_ch", r"w_{\mathrm{ch}}", "bits per memory channel", integer=True)
r_mt = sym("r_mt", r"r_{\mathrm{MT}}", "transfers per second of the memory (MT/s × 10⁶)")

define(
    "channel_bandwidth",
    r"\mathrm{BW}_{\mathrm{RAM}}",
    n_ch * w_ch * r_mt / 8,
    "peak bandwidth of system memory: channels × bits per channel × transfers per second",
)
define(
    "device_token_seconds",
    r"t_d",
    (W_rd + M_Kd) / BW,
    "seconds one device needs per generated token to read its weights and KV cache once",
)
define(
    "offload_decode_ceiling",
    r"\tau_{\mathrm{split}}",
    1 / t_tok,
    "ceiling of decoding speed across devices that run one after the other",
)
define(
    "prefill_compute_seconds",
    r"t_{c,d}",
    2 * P_ad * n_u / T_pk,
    "seconds of compute for one micro-batch on one device: 2 FLOP per parameter and token",
)
define(
    "prefill_transfer_seconds",
    r"t_{\times}",
    W_x / BW_x,
    "seconds to copy the weights held in system memory to the GPU once per micro-batch",
)
define(
    "prefill_ceiling",
    r"\pi",
    n_u / sp.Max(t_c, t_x),
    "ceiling of prompt-processing speed: a micro-batch takes at least its compute or its "
    "weight transfer, whichever is longer",
)
# The cache's cells: llama_context pads the context to 256 (src/llama-context.cpp,
# GGML_PAD(n_ctx, 256)); without --swa-full the windowed layers of Gemma 2/3, gpt-oss (and
# Llama 4's chunked ones, whose chunk is their window) keep only the window plus one
# micro-batch, padded to 256 (src/llama-kv-cache-iswa.cpp, size_swa; one sequence).
define(
    "llamacpp_cells",
    r"n_{\mathrm{cells}}",
    256 * CeilDiv(s, 256),
    "cells of llama.cpp's KV cache for a context of s tokens: the context padded to 256",
)
define(
    "llamacpp_window_cells",
    r"n_{\mathrm{cells},w}",
    256 * CeilDiv(sp.Min(s, w + n_u), 256),
    "cells of a windowed layer's cache without --swa-full: the window w plus one micro-batch "
    "of n_u tokens, at most the context, padded to 256",
)

# The compute buffer is ggml-alloc's high-water mark over llama.cpp's worst-case graph
# (ggml/src/ggml-alloc.c: tensors placed in graph order, best fit among freed blocks, freed
# after their last use unless flagged as graph outputs, element-wise ops done in place; a
# tensor no freed block holds goes at the end of the highest live one). Two moments decide it.
# At the end, the FP32 logits of every token are placed above the live tensors: the token
# embeddings' input and the final norm's output (two hidden states). In a mixture of experts
# with a shared expert (src/models/qwen2moe.cpp, qwen35moe.cpp, qwen3next.cpp) the last hidden
# state is the sum of the routed experts, placed above the router's 2 n_e + k_e values per
# token, three hidden states and the shared expert's one-value gate, and kept in place by the
# in-place adds and the final norm up to the LM head. Where it goes beside the experts' k_e
# stacked outputs [h, k_e, n_u] follows from build_moe_ffn (src/llama-graph.cpp): the gate and
# up projections [f_e, k_e, n_u], allocated one after the other, are freed once the SwiGLU has
# its block, so the down projection takes their 2 k_e f_e values per token if its k_e h fit
# (h <= 2 f_e: Qwen1.5-MoE), and the sum then goes above it; otherwise (Qwen3.5/3.6 MoE and
# Qwen3-Next, h = 4 f_e) it goes above the SwiGLU's output and the sum takes the freed block
# below it, so the stacked outputs are not under the logits. gpt-oss
# (src/models/openai-moe.cpp) marks the last layer's output as a graph output (t_h_nextn), so
# it is never freed and the logits go above it. Without flash attention that output is the
# routed experts' sum, placed above their stacked outputs, which took the block the FFN input's
# norm and the freed gate and up projections left, above the router's values and the residual
# stream; with flash attention the sum takes a freed block lower down, and only the kept
# hidden state itself is added.
define(
    "llamacpp_compute_buffer",
    r"M_{\mathrm{cb}}^{\mathrm{llama.cpp}}",
    sp.Max(
        4
        * n_u
        * (
            o_L * (V + a_kp * (h + (1 - a_fa) * (k_e * h + 2 * n_e + k_e)))
            + 2 * h
            + a_sh * ((2 + a_st * k_e) * h + 2 * n_e + k_e + 1)
        ),
        (1 - a_fa) * 4 * n_u * s * (n_h + 1) + 22 * n_u * h,
    ),
    "compute buffer llama.cpp reserves for its worst-case micro-batch of n_u = min(context, "
    "-ub) tokens, the larger of two moments: the end of the graph (FP32 logits of every token "
    "where the output layer is, above two FP32 hidden states per token, or with a shared "
    "expert above their sum, and above the routed experts' stacked outputs where those took "
    "the block their gate and up projections left, or where the last "
    "layer's output is kept above it, and without flash attention above the routed experts' "
    "stacked outputs and the router's values) and, without flash attention, the FP32 scores "
    "of every head over the s cells with the FP32 mask (5.5 hidden states per token beside "
    "them)",
)
