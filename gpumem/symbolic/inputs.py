"""The inputs of the memory model: the model's shapes, the workload, the formats, the layout and
the hardware.
"""

from __future__ import annotations

from .core import sym

# --- the model -------------------------------------------------------------------------------
P = sym("P", "P", "parameters of the whole model", integer=True)
P_t = sym(
    "P_t",
    r"P_{\mathrm{train}}",
    "trainable parameters of the heaviest pipeline stage (all of them without pipelining)",
)
P_m = sym("P_m", r"P_{\mathrm{mm}}", "parameters that enter matrix multiplications", integer=True)
P_a = sym("P_a", r"P_{\mathrm{active}}", "parameters used per token (all of them unless MoE)")
L = sym("L", "L", "transformer layers", integer=True)
h = sym("h", "h", "hidden size", integer=True)
n_h = sym("n_h", "n_h", "attention (query) heads", integer=True)
n_kv = sym("n_kv", r"n_{kv}", "key/value heads (= n_h for MHA, 1 for MQA)", integer=True)
d_h = sym("d_h", "d_h", "head dimension", integer=True)
f = sym("f", "f", "MLP width used per token (active experts for MoE)", integer=True)
n_e = sym("n_e", "n_e", "routed experts per MoE layer (0 if dense)", integer=True)
k_e = sym("k_e", "k_e", "routed experts each token is sent to (0 if dense)", integer=True)
V = sym("V", "V", "vocabulary size", integer=True)
c_kv = sym("c_kv", "c_{kv}", "MLA latent width cached per token", integer=True)
d_r = sym("d_r", "d_r", "MLA decoupled RoPE key width cached per token", integer=True)
L_w = sym("L_w", "L_w", "layers with sliding-window attention", integer=True)
w = sym("w", "w", "sliding-window length (tokens)", integer=True)
L_c = sym("L_c", "L_c", "layers with chunked attention", integer=True)
w_c = sym("w_c", "w_c", "attention chunk length (tokens)", integer=True)
L_r = sym("L_r", "L_r", "recurrent layers (linear attention, state space)", integer=True)
e_r = sym("e_r", "e_r", "values of a recurrent layer's state per sequence", integer=True)
e_t = sym(
    "e_t",
    "e_t",
    "values of e_r that form the temporal (state-space) state, kept in its own format "
    "(0: the whole state in the KV-cache format)",
    integer=True,
)
c_r = sym(
    "c_r",
    "c_r",
    "channels of a recurrent layer's short convolution whose current position is kept beside "
    "the kernel - 1 past ones e_r counts (0: the engine keeps those alone)",
    integer=True,
)
L_n = sym("L_n", "L_n", "layers that cache nothing (the MLP blocks of a hybrid)", integer=True)
R = sym("R", "R", "sum of rows + columns over trainable weight matrices", integer=True)
F = sym("F", "F", "sum of in + out features of the linear layers of one layer", integer=True)
r = sym("r", "r", "LoRA rank (0 without LoRA)", integer=True)
P_e = sym(
    "P_e",
    r"P_{\mathrm{emb}}",
    "embedding parameters: token, position and type embeddings and an untied LM head",
    integer=True,
)
f_d = sym("f_d", "f_d", "MLP width of a dense layer (0 in a mixture of experts)", integer=True)
f_e = sym("f_e", "f_e", "MLP width of one routed expert", integer=True)
n_s = sym("n_s", "n_s", "shared experts per MoE layer", integer=True)
f_s = sym("f_s", "f_s", "MLP width of one shared expert", integer=True)
m_g = sym(
    "m_g", "m_g", "weight matrices per MLP: 3 when gated (gate, up, down), else 2", integer=True
)
c_q = sym("c_q", "c_q", "MLA query latent width (0: queries are not compressed)", integer=True)
d_v = sym("d_v", "d_v", "MLA value head dimension", integer=True)
k_c = sym(
    "k_c", "k_c", "1 for a decoder, which caches keys and values; 0 for an encoder", integer=True
)
W_f = sym(
    "W_f",
    r"W_{\mathrm{file}}",
    "bytes of the weights as stored in a GGUF file (0: parameters × bytes per weight)",
    integer=True,
)
t_w = sym("t_w", "t_w", "1 if the LM head is the token embedding's matrix (tied)", integer=True)
P_n = sym("P_n", r"P_{\mathrm{norm}}", "parameters of the norm after the last layer", integer=True)
n_g = sym("n_g", "n_g", "value heads of a gated DeltaNet layer (0: none)", integer=True)
d_gk = sym("d_gk", r"d_{gk}", "key head width of a gated DeltaNet layer", integer=True)
d_gv = sym("d_gv", r"d_{gv}", "value head width of a gated DeltaNet layer", integer=True)
L_e = sym("L_e", "L_e", "layers whose MLP is a mixture of experts", integer=True)
L_d = sym("L_d", "L_d", "layers with a dense MLP", integer=True)
f_x = sym("f_x", "f_x", "MLP width of the layers with a dense MLP", integer=True)
g_q = sym(
    "g_q",
    "g_q",
    "1 if a full-attention layer's query projection also yields an output gate as wide as "
    "its queries (Qwen3-Next, Qwen3.5), else 0",
    integer=True,
)
#: The modules a checkpoint may ship quantized, by the key of their flags: q_a … q_v for the
#: checkpoint's quantized format, q_a2 … q_v2 for its second (ModelOpt MIXED_PRECISION).
SHIPPED_MODULES = (
    ("a", "the attention projections"),
    ("m", "the dense MLPs"),
    ("e", "the routed experts"),
    ("s", "the shared experts"),
    ("r", "the gated DeltaNet layers' query, key, value and output-gate projections"),
    ("b", "the gated DeltaNet layers' beta and decay projections"),
    ("o", "the gated DeltaNet layers' output projections"),
    ("h", "the LM head"),
    ("v", "the vision tower's linear layers"),
)
SHIPPED_FLAGS, SECOND_FLAGS = (
    tuple(
        sym(
            f"q_{key}{suffix}",
            f"q{prime}_{{{key}}}",
            f"1 if the checkpoint ships {what} in its {which} format, else 0",
            integer=True,
        )
        for key, what in SHIPPED_MODULES
    )
    for suffix, prime, which in (("", "", "quantized"), ("2", "'", "second quantized"))
)
q_a, q_m, q_e, q_s, q_r, q_b, q_o, q_h, q_v = SHIPPED_FLAGS
P_v = sym(
    "P_v",
    r"P_{\mathrm{vis}}",
    "parameters of the weight matrices of the vision tower's linear layers",
    integer=True,
)

# --- the workload ----------------------------------------------------------------------------
B = sym("B", "B", "batch size (sequences per GPU per step)", integer=True)
s = sym("s", "s", "sequence length (tokens per sequence)", integer=True)
s_l = sym("s_l", r"s_{\mathrm{logits}}", "positions whose logits are kept", integer=True)
n_t = sym(
    "n_t", "n_t", "tokens generated after a prompt of s tokens (0: no decoding)", integer=True
)
x_l = sym("x_l", "x_l", "1 to keep the logits of every position, 0 for the last one", integer=True)
m_t = sym("m_t", "m_t", "1 for a training step, 0 for inference", integer=True)
u_l = sym("u_l", "u_l", "1 when LoRA adapters are trained on a frozen base, else 0", integer=True)
y_a = sym("y_a", "y_a", "1 when LoRA adapts every linear layer (all-linear), else 0", integer=True)
#: The flags j_q … j_d, in the order of peft's names q_proj … down_proj.
LORA_FLAGS = j_q, j_k, j_v, j_o, j_g, j_u, j_d = tuple(
    sym(f"j_{key}", f"j_{{{key}}}", f"1 if LoRA adapts {name}, else 0", integer=True)
    for key, name in zip(
        "qkvogud",
        ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
        strict=True,
    )
)
q_4 = sym(
    "q_4",
    "q_4",
    "1 for QLoRA: LoRA on a base whose linear layers are stored in NF4 (bitsandbytes), else 0",
    integer=True,
)
p_m = sym("p_m", "p_m", "1 with mixed precision (an FP32 master copy), else 0", integer=True)
p_a = sym(
    "p_a", "p_a", "1 with autocast (FP32 weights, low-precision compute), else 0", integer=True
)

x_s = sym(
    "x_s",
    "x_s",
    "1 to count the weights as the checkpoint ships them (its quantized modules in their "
    "format), else 0",
    integer=True,
)

# --- bytes per stored value ------------------------------------------------------------------
b_d = sym("b_d", "b_d", "bytes per value of the workload's dtype")
x_f = sym(
    "x_f", "x_f", "1 if the workload's dtype is a floating-point format, else 0", integer=True
)
b_k = sym("b_k", "b_k", "bytes per value of the KV-cache format (0: the activation format)")
b_t = sym("b_t", r"b_{\mathrm{train}}", "bytes per value of trainable state")
b_s = sym("b_s", "b_s", "bytes per optimizer-state value fixed by the optimizer (0: b_train)")
b_w = sym("b_w", "b_w", "bytes per weight")
b_q = sym(
    "b_q", "b_q", "bytes per weight of the checkpoint's quantized format, block scales included"
)
b_q2 = sym(
    "b_q2",
    "b'_q",
    "bytes per weight of the checkpoint's second quantized format (ModelOpt MIXED_PRECISION), "
    "block scales included",
)
b_kv = sym("b_kv", r"b_{kv}", "bytes per KV-cache value")
b_r = sym("b_r", "b_r", "bytes per value of a recurrent layer's temporal state")
b_a = sym("b_a", "b_a", "bytes per activation value")
b_g = sym("b_g", "b_g", "bytes per gradient value")
b_c = sym("b_c", "b_c", "bytes per weight copy made by autocast (0 without AMP)")
b_u = sym("b_u", "b_u", "bytes per value of the LoRA adapters' dtype (peft: FP32 by default)")
b_l = sym("b_l", "b_l", "bytes per LoRA adapter value (0 without LoRA)")
b_m = sym("b_m", "b_m", "bytes per master-weight value (0 without a master copy)")
b_o = sym("b_o", "b_o", "bytes per optimizer-state value")
n_o = sym("n_o", "n_o", "optimizer-state values per trainable parameter (Adam: 2)")
n_f = sym("n_f", "n_f", "1 for a factored optimizer (Adafactor), else 0")
t_o = sym("t_o", "t_o", "parameter-sized temporaries of the optimizer step (foreach: 1)")

# --- saved activations: bytes kept per element, by tensor shape ------------------------------
c_a = sym("c_a", "c_a", "tensors of a shape saved in the activation dtype", integer=True)
c_32 = sym("c_32", "c_{32}", "tensors of a shape saved in FP32", integer=True)
c_1 = sym("c_1", "c_1", "one-byte tensors of a shape saved (dropout masks)", integer=True)
c_u = sym("c_u", "c_u", "FP32 copies made only when the activation dtype is narrower", integer=True)
a_h = sym("a_h", r"\alpha_h", "bytes saved per layer, per token and per hidden unit")
a_q = sym("a_q", r"\alpha_q", "bytes saved per layer, per token and per query channel")
a_k = sym("a_k", r"\alpha_{kv}", "bytes saved per layer, per token and per key/value channel")
a_f = sym("a_f", r"\alpha_f", "bytes saved per layer, per token and per MLP channel")
a_n = sym("a_n", r"\alpha_n", "bytes saved per layer, per token and per head")
a_s = sym(
    "a_s", r"\alpha_s", "bytes saved per layer, per token, per head and per key (0 when fused)"
)
a_e = sym("a_e", r"\alpha_e", "bytes saved per layer, per token and per routed expert")
a_r = sym(
    "a_r", r"\alpha_r", "bytes saved per layer, per token and per hidden unit sent to an expert"
)
a_i = sym("a_i", r"\alpha_{\mathrm{in}}", "bytes per hidden unit of a checkpointed layer input")
g_c = sym(
    "g_c", "g", "1 with activation checkpointing (recompute each layer), else 0", integer=True
)
l_f = sym("l_f", r"\lambda_f", "bytes held per logit at the end of the forward pass")
l_b = sym("l_b", r"\lambda_b", "bytes held per logit at the start of the backward pass")
l_i = sym("l_i", r"\lambda_i", "bytes held per logit at inference")
i_h = sym("i_h", r"\iota_h", "bytes live per token and hidden unit inside one layer at inference")
i_f = sym("i_f", r"\iota_f", "bytes live per token and MLP channel inside one layer at inference")
i_r = sym("i_r", r"\iota_r", "bytes live per token and hidden unit sent to an expert at inference")
i_s = sym("i_s", r"\iota_s", "bytes live per token, head and key at inference (0 when fused)")
i_p = sym(
    "i_p",
    r"\iota_p",
    "bytes per element of sdpa's math kernel (FP32; 0 with a fused kernel or eager attention)",
)

# --- parallelism -----------------------------------------------------------------------------
N_dp = sym("N_dp", r"N_{dp}", "data-parallel GPUs", integer=True)
N_tp = sym("N_tp", r"N_{tp}", "tensor-parallel GPUs", integer=True)
N_pp = sym("N_pp", r"N_{pp}", "pipeline-parallel stages", integer=True)
L_s = sym("L_s", "L_s", "transformer layers of one pipeline stage", integer=True)
P_s = sym("P_s", "P_s", "parameters of the heaviest pipeline stage (all without pipelining)")
P_q = sym("P_q", "P_q", "parameters of that stage shipped quantized (0 unless as shipped)")
P_q2 = sym(
    "P_q2", "P'_q", "parameters of that stage shipped in the checkpoint's second quantized format"
)
z_1 = sym("z_1", "z_1", "1 if ZeRO stage >= 1 (optimizer states sharded), else 0", integer=True)
z_2 = sym("z_2", "z_2", "1 if ZeRO stage >= 2 (gradients sharded), else 0", integer=True)
z_3 = sym("z_3", "z_3", "1 if ZeRO stage 3 / FSDP (weights sharded), else 0", integer=True)
y_f = sym(
    "y_f",
    "y_f",
    "1 with FSDP2 (fully_shard): weights sharded at rest and gathered block by block, "
    "ZeRO-3 resharding each block after forward and ZeRO-2 not; else 0",
    integer=True,
)

# --- hardware and overheads ------------------------------------------------------------------
C = sym("C", "C", "CUDA context and library workspaces (bytes)")
rho = sym("rho", r"\rho", "allocator reserve as a fraction of tensor memory")
BW = sym("BW", r"\mathrm{BW}", "memory bandwidth (bytes per second)")
T_pk = sym("T_pk", r"T_{\mathrm{peak}}", "dense peak throughput (FLOP per second)")
k_r = sym("k_r", "k", "multiplier of a rule of thumb")
I_a = sym("I_a", "I", "arithmetic intensity (FLOP per byte of memory traffic)")
