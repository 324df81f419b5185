r"""The symbolic memory model: every formula gpumem uses, written once, in SymPy.

Each :class:`Formula` gives one quantity in bytes (or bytes per element, or a count) per GPU
as an expression in named symbols. Everything numeric is derived from these expressions:
:mod:`gpumem.codegen` prints them as plain Python into ``gpumem/_generated/formulas.py``
(so the CLI never imports SymPy), and the documentation renders them with :func:`latex`.

The symbols are listed in :data:`SYMBOLS` with what they stand for.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp


class CeilDiv(sp.Function):
    r"""``ceil(a / b)`` for positive integers, printed exactly (no floating point)."""

    @classmethod
    def eval(cls, a: sp.Expr, b: sp.Expr) -> sp.Expr | None:
        if a.is_Integer and b.is_Integer:
            return sp.Integer(-(-int(a) // int(b)))
        if b == 1:
            return a
        return None

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        a, b = (printer._print(arg) for arg in self.args)
        return rf"\left\lceil \frac{{{a}}}{{{b}}} \right\rceil"


@dataclass(frozen=True)
class Symbol:
    """A named input of the model: its SymPy symbol, LaTeX and meaning."""

    name: str
    latex: str
    description: str
    symbol: sp.Symbol


SYMBOLS: dict[str, Symbol] = {}
SYMBOL_LATEX: dict[sp.Symbol, str] = {}


def _sym(name: str, latex: str, description: str, **assumptions: bool) -> sp.Symbol:
    symbol = sp.Symbol(name, nonnegative=True, **assumptions)
    SYMBOLS[name] = Symbol(name, latex, description, symbol)
    SYMBOL_LATEX[symbol] = latex
    return symbol


# --- the model -------------------------------------------------------------------------------
P = _sym("P", "P", "parameters of the whole model", integer=True)
P_t = _sym("P_t", r"P_{\mathrm{train}}", "trainable parameters", integer=True)
P_m = _sym("P_m", r"P_{\mathrm{mm}}", "parameters that enter matrix multiplications", integer=True)
P_a = _sym("P_a", r"P_{\mathrm{active}}", "parameters used per token (all of them unless MoE)")
L = _sym("L", "L", "transformer layers", integer=True)
h = _sym("h", "h", "hidden size", integer=True)
n_h = _sym("n_h", "n_h", "attention (query) heads", integer=True)
n_kv = _sym("n_kv", r"n_{kv}", "key/value heads (= n_h for MHA, 1 for MQA)", integer=True)
d_h = _sym("d_h", "d_h", "head dimension", integer=True)
f = _sym("f", "f", "MLP width used per token (active experts for MoE)", integer=True)
n_e = _sym("n_e", "n_e", "routed experts per MoE layer (0 if dense)", integer=True)
k_e = _sym("k_e", "k_e", "routed experts each token is sent to (0 if dense)", integer=True)
V = _sym("V", "V", "vocabulary size", integer=True)
c_kv = _sym("c_kv", "c_{kv}", "MLA latent width cached per token", integer=True)
d_r = _sym("d_r", "d_r", "MLA decoupled RoPE key width cached per token", integer=True)
L_w = _sym("L_w", "L_w", "layers with sliding-window attention", integer=True)
w = _sym("w", "w", "sliding-window length (tokens)", integer=True)
L_c = _sym("L_c", "L_c", "layers with chunked attention", integer=True)
w_c = _sym("w_c", "w_c", "attention chunk length (tokens)", integer=True)
L_r = _sym("L_r", "L_r", "recurrent layers (linear attention, state space)", integer=True)
e_r = _sym("e_r", "e_r", "values of a recurrent layer's state per sequence", integer=True)
L_n = _sym("L_n", "L_n", "layers that cache nothing (the MLP blocks of a hybrid)", integer=True)
R = _sym("R", "R", "sum of rows + columns over trainable weight matrices", integer=True)
F = _sym("F", "F", "sum of in + out features of the linear layers of one layer", integer=True)
r = _sym("r", "r", "LoRA rank (0 without LoRA)", integer=True)
P_e = _sym(
    "P_e",
    r"P_{\mathrm{emb}}",
    "embedding parameters: token, position and type embeddings and an untied LM head",
    integer=True,
)
f_d = _sym("f_d", "f_d", "MLP width of a dense layer (0 in a mixture of experts)", integer=True)
f_e = _sym("f_e", "f_e", "MLP width of one routed expert", integer=True)
n_s = _sym("n_s", "n_s", "shared experts per MoE layer", integer=True)
f_s = _sym("f_s", "f_s", "MLP width of one shared expert", integer=True)
m_g = _sym(
    "m_g", "m_g", "weight matrices per MLP: 3 when gated (gate, up, down), else 2", integer=True
)
c_q = _sym("c_q", "c_q", "MLA query latent width (0: queries are not compressed)", integer=True)
d_v = _sym("d_v", "d_v", "MLA value head dimension", integer=True)
k_c = _sym(
    "k_c", "k_c", "1 for a decoder, which caches keys and values; 0 for an encoder", integer=True
)
W_f = _sym(
    "W_f",
    r"W_{\mathrm{file}}",
    "bytes of the weights as stored in a GGUF file (0: parameters × bytes per weight)",
    integer=True,
)

# --- the workload ----------------------------------------------------------------------------
B = _sym("B", "B", "batch size (sequences per GPU per step)", integer=True)
s = _sym("s", "s", "sequence length (tokens per sequence)", integer=True)
s_l = _sym("s_l", r"s_{\mathrm{logits}}", "positions whose logits are kept", integer=True)
n_t = _sym(
    "n_t", "n_t", "tokens generated after a prompt of s tokens (0: no decoding)", integer=True
)
x_l = _sym("x_l", "x_l", "1 to keep the logits of every position, 0 for the last one", integer=True)
m_t = _sym("m_t", "m_t", "1 for a training step, 0 for inference", integer=True)
u_l = _sym("u_l", "u_l", "1 when LoRA adapters are trained on a frozen base, else 0", integer=True)
y_a = _sym("y_a", "y_a", "1 when LoRA adapts every linear layer (all-linear), else 0", integer=True)
j_q, j_k, j_v, j_o, j_g, j_u, j_d = (
    _sym(f"j_{key}", f"j_{{{key}}}", f"1 if LoRA adapts {name}, else 0", integer=True)
    for key, name in zip(
        "qkvogud",
        ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
        strict=True,
    )
)
p_m = _sym("p_m", "p_m", "1 with mixed precision (an FP32 master copy), else 0", integer=True)
p_a = _sym(
    "p_a", "p_a", "1 with autocast (FP32 weights, low-precision compute), else 0", integer=True
)

# --- bytes per stored value ------------------------------------------------------------------
b_d = _sym("b_d", "b_d", "bytes per value of the workload's dtype")
x_f = _sym(
    "x_f", "x_f", "1 if the workload's dtype is a floating-point format, else 0", integer=True
)
b_k = _sym("b_k", "b_k", "bytes per value of the KV-cache format (0: the activation format)")
b_t = _sym("b_t", r"b_{\mathrm{train}}", "bytes per value of trainable state")
b_s = _sym("b_s", "b_s", "bytes per optimizer-state value fixed by the optimizer (0: b_train)")
b_w = _sym("b_w", "b_w", "bytes per weight")
b_kv = _sym("b_kv", r"b_{kv}", "bytes per KV-cache value")
b_a = _sym("b_a", "b_a", "bytes per activation value")
b_g = _sym("b_g", "b_g", "bytes per gradient value")
b_c = _sym("b_c", "b_c", "bytes per weight copy made by autocast (0 without AMP)")
b_l = _sym("b_l", "b_l", "bytes per LoRA adapter value (0 without LoRA)")
b_m = _sym("b_m", "b_m", "bytes per master-weight value (0 without a master copy)")
b_o = _sym("b_o", "b_o", "bytes per optimizer-state value")
n_o = _sym("n_o", "n_o", "optimizer-state values per trainable parameter (Adam: 2)")
n_f = _sym("n_f", "n_f", "1 for a factored optimizer (Adafactor), else 0")
t_o = _sym("t_o", "t_o", "parameter-sized temporaries of the optimizer step (foreach: 1)")

# --- saved activations: bytes kept per element, by tensor shape ------------------------------
c_a = _sym("c_a", "c_a", "tensors of a shape saved in the activation dtype", integer=True)
c_32 = _sym("c_32", "c_{32}", "tensors of a shape saved in FP32", integer=True)
c_1 = _sym("c_1", "c_1", "one-byte tensors of a shape saved (dropout masks)", integer=True)
c_u = _sym(
    "c_u", "c_u", "FP32 copies made only when the activation dtype is narrower", integer=True
)
a_h = _sym("a_h", r"\alpha_h", "bytes saved per layer, per token and per hidden unit")
a_q = _sym("a_q", r"\alpha_q", "bytes saved per layer, per token and per query channel")
a_k = _sym("a_k", r"\alpha_{kv}", "bytes saved per layer, per token and per key/value channel")
a_f = _sym("a_f", r"\alpha_f", "bytes saved per layer, per token and per MLP channel")
a_n = _sym("a_n", r"\alpha_n", "bytes saved per layer, per token and per head")
a_s = _sym(
    "a_s", r"\alpha_s", "bytes saved per layer, per token, per head and per key (0 when fused)"
)
a_e = _sym("a_e", r"\alpha_e", "bytes saved per layer, per token and per routed expert")
a_r = _sym(
    "a_r", r"\alpha_r", "bytes saved per layer, per token and per hidden unit sent to an expert"
)
a_i = _sym("a_i", r"\alpha_{\mathrm{in}}", "bytes per hidden unit of a checkpointed layer input")
g_c = _sym(
    "g_c", "g", "1 with activation checkpointing (recompute each layer), else 0", integer=True
)
l_f = _sym("l_f", r"\lambda_f", "bytes held per logit at the end of the forward pass")
l_b = _sym("l_b", r"\lambda_b", "bytes held per logit at the start of the backward pass")
l_i = _sym("l_i", r"\lambda_i", "bytes held per logit at inference")
i_h = _sym("i_h", r"\iota_h", "bytes live per token and hidden unit inside one layer at inference")
i_f = _sym("i_f", r"\iota_f", "bytes live per token and MLP channel inside one layer at inference")
i_r = _sym("i_r", r"\iota_r", "bytes live per token and hidden unit sent to an expert at inference")
i_s = _sym("i_s", r"\iota_s", "bytes live per token, head and key at inference (0 when fused)")

# --- parallelism -----------------------------------------------------------------------------
N_dp = _sym("N_dp", r"N_{dp}", "data-parallel GPUs", integer=True)
N_tp = _sym("N_tp", r"N_{tp}", "tensor-parallel GPUs", integer=True)
N_pp = _sym("N_pp", r"N_{pp}", "pipeline-parallel stages", integer=True)
z_1 = _sym("z_1", "z_1", "1 if ZeRO stage >= 1 (optimizer states sharded), else 0", integer=True)
z_2 = _sym("z_2", "z_2", "1 if ZeRO stage >= 2 (gradients sharded), else 0", integer=True)
z_3 = _sym("z_3", "z_3", "1 if ZeRO stage 3 / FSDP (weights sharded), else 0", integer=True)

# --- hardware and overheads ------------------------------------------------------------------
C = _sym("C", "C", "CUDA context and library workspaces (bytes)")
rho = _sym("rho", r"\rho", "allocator reserve as a fraction of tensor memory")
BW = _sym("BW", r"\mathrm{BW}", "memory bandwidth (bytes per second)")
T_pk = _sym("T_pk", r"T_{\mathrm{peak}}", "dense peak throughput (FLOP per second)")
k_r = _sym("k_r", "k", "multiplier of a rule of thumb")
I_a = _sym("I_a", "I", "arithmetic intensity (FLOP per byte of memory traffic)")


@dataclass(frozen=True)
class Formula:
    """One quantity of the model: ``lhs = rhs``."""

    name: str
    lhs: sp.Symbol
    rhs: sp.Expr
    description: str
    component: str = ""  # the name of its bytes in a breakdown, if it is a term of a phase
    phase: str = ""  # the phase whose live bytes it sums, if it is one

    @property
    def arguments(self) -> tuple[str, ...]:
        """Names the right-hand side depends on: inputs in :data:`SYMBOLS` order, then the
        results of other formulas in :data:`FORMULAS` order."""
        free = {sym.name for sym in self.rhs.free_symbols}
        return tuple(name for name in dict.fromkeys([*SYMBOLS, *FORMULAS]) if name in free)


#: Every formula by name. A formula named after a symbol of :data:`SYMBOLS` derives that
#: input from others (``b_a`` from the dtype, ``F`` from the model's shapes …).
FORMULAS: dict[str, Formula] = {}


def _formula(name: str, lhs_latex: str, rhs: sp.Expr, description: str, **roles: str) -> sp.Symbol:
    lhs = sp.Symbol(name)
    SYMBOL_LATEX[lhs] = lhs_latex
    FORMULAS[name] = Formula(name, lhs, rhs, description, **roles)
    return lhs


def _derive(symbol: sp.Symbol, rhs: sp.Expr) -> None:
    """``symbol`` (an input of other formulas) as a formula of more basic inputs."""
    FORMULAS[symbol.name] = Formula(symbol.name, symbol, rhs, SYMBOLS[symbol.name].description)


# --- inputs derived from the model's shapes, the workload and the formats ------------------
_derive(P_m, P - P_e + V * h)
_derive(f, f_d + k_e * f_e + n_s * f_s)
_formula(
    "attention_features_gqa",
    r"F_{\mathrm{attn}}",
    2 * (h + n_h * d_h) + 2 * (h + n_kv * d_h),
    "in + out features of the query, key, value and output projections",
)
_formula(
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
_derive(
    F,
    sp.Piecewise(
        (sp.Symbol("attention_features_mla"), c_kv > 0),
        (sp.Symbol("attention_features_gqa"), True),
    )
    + m_g * (h + f),
)
_formula(
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
_formula(
    "lora_parameters",
    "P_{\\mathrm{LoRA}}",
    r * L * sp.Symbol("lora_features"),
    "trainable LoRA adapter parameters",
)
_derive(P_t, u_l * sp.Symbol("lora_parameters") + (1 - u_l) * P)
_derive(R, L * sp.Symbol("lora_features") + (1 - u_l) * (V + h))
_derive(s_l, sp.Piecewise((s, x_l > 0), (1, True)))
# Activations in the dtype when it is a float of 16 bits or more, else in 16 bits.
_derive(b_a, sp.Max(2, x_f * b_d))
_derive(b_kv, sp.Piecewise((b_k, b_k > 0), (b_a, True)))
# Trainable state in FP32 for LoRA adapters (peft's default), mixed precision and autocast;
# in the dtype itself for pure low-precision training.
_derive(b_t, sp.Piecewise((4, (u_l > 0) | (p_m > 0) | (p_a > 0)), (b_d, True)))
_autocast = p_a * (1 - u_l)  # autocast over the whole model (not over a frozen LoRA base)
_derive(b_w, sp.Piecewise((4, _autocast > 0), (b_d, True)))
_derive(b_l, u_l * b_t)
_derive(b_g, sp.Piecewise((b_t, (u_l > 0) | (p_a > 0)), (b_d, True)))
_derive(b_m, 4 * p_m * (1 - u_l))
_derive(b_o, sp.Piecewise((b_s, b_s > 0), (b_t, True)))
_derive(b_c, _autocast * b_a)
_formula(
    "gpu_count", "N", N_dp * N_tp * N_pp, "GPUs of a layout: data × tensor × pipeline parallel"
)

# Shards: how many GPUs share one copy of each kind of state.
_shard_weights = N_tp * N_pp * N_dp**z_3
_shard_grads = N_tp * N_pp * N_dp**z_2
_shard_optim = N_tp * N_pp * N_dp**z_1

# --- persistent state ------------------------------------------------------------------------
_formula(
    "weights",
    "M_{W}",
    sp.Piecewise((W_f, W_f > 0), (P * b_w, True)) / _shard_weights,
    "weights resident on one GPU: the file's exact bytes when it gives them, else parameters "
    "× bytes per weight",
)
_formula(
    "adapter_weights",
    r"M_{W\mathrm{LoRA}}",
    P_t * b_l / (N_tp * N_pp),
    "LoRA adapters beside the frozen base",
)
_formula(
    "master_weights", "M_{W32}", P_t * b_m / _shard_optim, "FP32 master copy of trainable weights"
)
_formula(
    "optimizer_states",
    "M_{O}",
    (n_o * P_t + n_f * R) * b_o / _shard_optim,
    "optimizer states (Adam: two moments per trainable parameter)",
)
_formula("gradients", "M_{G}", P_t * b_g / _shard_grads, "gradients of the trainable weights")
_formula(
    "optimizer_temporaries",
    "M_{T}",
    t_o * P_t * b_o / _shard_optim,
    "temporaries allocated during the optimizer step",
)
# --- KV cache --------------------------------------------------------------------------------
_formula(
    "kv_values_gqa",
    "e_{kv}",
    2 * CeilDiv(n_kv, N_tp) * d_h,
    "KV-cache values per token and layer on one GPU: a key and a value per KV head",
)
_formula(
    "kv_values_mla",
    "e_{kv}",
    c_kv + d_r,
    "KV-cache values per token and layer with multi-head latent attention",
)
e_kv = _sym("e_kv", "e_{kv}", "KV-cache values per token and layer on one GPU")
_derive(
    e_kv,
    k_c * sp.Piecewise((sp.Symbol("kv_values_mla"), c_kv > 0), (sp.Symbol("kv_values_gqa"), True)),
)
# The cache as a sum over kinds of layer; each stage of a pipeline holds its share of each kind.
_formula(
    "kv_cache_full",
    r"M_{KV,\mathrm{full}}",
    B * b_kv * e_kv * CeilDiv(L - L_w - L_c - L_r - L_n, N_pp) * s,
    "keys and values (or latents) of every token, in layers that attend to the whole context",
)
_formula(
    "kv_cache_sliding",
    r"M_{KV,\mathrm{window}}",
    B * b_kv * e_kv * CeilDiv(L_w, N_pp) * sp.Min(s, w),
    "keys and values of the last w tokens, in sliding-window layers",
)
_formula(
    "kv_cache_chunked",
    r"M_{KV,\mathrm{chunk}}",
    B * b_kv * e_kv * CeilDiv(L_c, N_pp) * sp.Min(s, w_c),
    "keys and values of the current chunk of at most w_c tokens, in chunked-attention layers",
)
_formula(
    "kv_cache_recurrent",
    r"M_{\mathrm{state}}",
    B * b_kv * k_c * CeilDiv(L_r, N_pp) * CeilDiv(e_r, N_tp),
    "the fixed-size state of each recurrent layer: it does not grow with the context",
)
_formula(
    "kv_cache",
    "M_{KV}",
    sum(sp.Symbol(f"kv_cache_{kind}") for kind in ("full", "sliding", "chunked", "recurrent")),
    "keys and values of every cached token, and the recurrent layers' state",
)

# --- activations kept for the backward pass --------------------------------------------------
_formula(
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
_formula(
    "layer_activations",
    "A_{\\ell}",
    B * s * layer_bytes_per_token,
    "activations one transformer layer saves for its backward pass",
)
A_l = sp.Symbol("layer_activations")
_formula(
    "activations_training",
    "M_{A}",
    (1 - g_c) * L * A_l + g_c * L * B * s * a_i * h,
    "activations saved during the forward pass: every layer's, or with checkpointing only "
    "each layer's input. With 1F1B pipelining the first stage holds as many micro-batches as "
    "there are stages, hence L rather than L / N_pp.",
    component="activations",
)
_formula(
    "recomputed_layer",
    "M_{R}",
    g_c * A_l,
    "with checkpointing, one layer's activations recomputed during the backward pass",
)
M_C = sp.Symbol("autocast_copies")
_formula(
    "autocast_copies",
    "M_{C}",
    P_m * b_c / _shard_weights,
    "low-precision copies of the weights that autocast keeps for the backward pass",
)
_formula(
    "autocast_copies_kept",
    "M_{C,\\mathrm{bwd}}",
    (1 - g_c) * M_C,
    "autocast's copies still held when backward starts: none with checkpointing, whose "
    "forward pass keeps no tensors, so the copies go when autocast's cache is cleared",
    component="autocast_copies",
)
_formula(
    "logits_forward",
    "M_{\\Lambda f}",
    B * s * V * l_f,
    "logits and loss at the end of forward",
    component="logits",
)
_formula(
    "logits_backward",
    "M_{\\Lambda b}",
    B * s * V * l_b,
    "logit gradients as backward starts",
    component="logits",
)

# --- inference working set -------------------------------------------------------------------
_formula(
    "prefill_workspace",
    "M_{P}",
    B * s * (i_h * h + i_r * k_e * h + (i_f * f + i_s * n_h * s) / N_tp),
    "tensors live inside one layer while the prompt is processed",
)
_formula(
    "logits_inference",
    "M_{\\Lambda}",
    B * s_l * V * l_i,
    "logits of the kept positions",
    component="logits",
)

# --- decoding: the last of n_t one-token steps after the prompt ------------------------------
_s_end = s + n_t  # tokens in the cache at the last step
_formula(
    "kv_cache_decode",
    r"M_{KV,\mathrm{dec}}",
    sum(
        FORMULAS[f"kv_cache_{kind}"].rhs.subs(s, _s_end)
        for kind in ("full", "sliding", "chunked", "recurrent")
    ),
    "the cache of the prompt and of every generated token at the last decoding step: each "
    "kind of layer's cache with s + n_t tokens",
    component="kv_cache",
)
_formula(
    "decode_workspace",
    r"M_{D}",
    B * (i_h * h + i_r * k_e * h + (i_f * f + i_s * n_h * _s_end) / N_tp),
    "tensors live inside one layer while one new token per sequence is processed",
)
_formula(
    "logits_decode",
    r"M_{\Lambda,\mathrm{dec}}",
    B * V * l_i,
    "logits of the last position at a decoding step",
    component="logits",
)

# --- phases and peaks ------------------------------------------------------------------------
M_W, M_Wl, M_W32, M_G, M_O, M_T = (
    sp.Symbol(n)
    for n in (
        "weights",
        "adapter_weights",
        "master_weights",
        "gradients",
        "optimizer_states",
        "optimizer_temporaries",
    )
)
M_KV, M_A, M_Lf, M_Lb, M_P, M_L = (
    sp.Symbol(n)
    for n in (
        "kv_cache",
        "activations_training",
        "logits_forward",
        "logits_backward",
        "prefill_workspace",
        "logits_inference",
    )
)
_persistent = M_W + M_Wl + M_W32 + M_O
_formula(
    "phase_forward",
    "M_{\\mathrm{fwd}}",
    _persistent + M_A + M_C + M_Lf,
    "end of forward",
    phase="forward",
)
_formula(
    "phase_backward",
    "M_{\\mathrm{bwd}}",
    _persistent
    + M_A
    + sp.Symbol("autocast_copies_kept")
    + sp.Max(M_Lb, sp.Symbol("recomputed_layer")),
    "backward: saved activations plus the logit gradients or, with checkpointing, one "
    "recomputed layer, whichever is larger",
    phase="backward",
)
_formula(
    "phase_optimizer",
    "M_{\\mathrm{opt}}",
    _persistent + M_G + M_T,
    "optimizer step: every gradient is ready, activations are freed",
    phase="optimizer",
)
_formula(
    "training_peak",
    "M_{\\mathrm{train}}",
    sp.Max(*(sp.Symbol(p) for p in ("phase_forward", "phase_backward", "phase_optimizer"))),
    "peak of a training step: the largest of its phases",
)
_formula(
    "phase_prefill",
    "M_{\\mathrm{prefill}}",
    M_W + M_KV + sp.Max(M_P, M_L),
    "forward pass over the prompt with the KV cache filled",
    phase="prefill",
)
_formula(
    "phase_decode",
    "M_{\\mathrm{decode}}",
    M_W
    + sp.Symbol("kv_cache_decode")
    + sp.Max(sp.Symbol("decode_workspace"), sp.Symbol("logits_decode")),
    "last decoding step: the cache full at the prompt plus the new tokens, one token's "
    "working set, the logits of the last position",
    phase="decode",
)
_formula(
    "inference_peak",
    "M_{\\mathrm{infer}}",
    sp.Max(sp.Symbol("phase_prefill"), sp.Symbol("phase_decode")),
    "peak of inference: the prompt's forward pass or the last decoding step, whichever is larger",
)
M_tensors = _sym("M_tensors", r"M_{\mathrm{tensors}}", "bytes of live tensors at the peak")
_formula(
    "runtime_overhead",
    "M_{\\mathrm{rt}}",
    C + rho * M_tensors,
    "CUDA context plus the allocator's reserve above the tensors",
)

# --- rules of thumb and speed ----------------------------------------------------------------
# The popular shortcut: × 1.2 for inference, × 2 for training.
_derive(k_r, sp.Piecewise((2, m_t > 0), (sp.Rational(6, 5), True)))
_formula("rule_of_thumb", "M_{\\mathrm{rule}}", k_r * P * b_w, "parameters × bytes × multiplier")
_formula(
    "decode_tokens_per_second",
    "\\tau",
    BW / (P_a * b_w + M_KV),
    "ceiling of decoding speed: every active weight and the KV cache are read once per step",
)
_formula(
    "ridge_point",
    "I^{*}",
    T_pk / BW,
    "arithmetic intensity (FLOP per byte) above which a kernel is compute-bound",
)
_formula(
    "attainable_throughput",
    r"T",
    sp.Min(BW * I_a, T_pk),
    "roofline: FLOP per second a kernel of arithmetic intensity I can reach",
)
_formula(
    "decode_intensity",
    r"I_{\mathrm{decode}}",
    2 * B / b_w,
    "arithmetic intensity of decoding B sequences at once: 2 FLOP per weight and token, "
    "each weight read once per step",
)


# --- serving: how an inference engine sizes its paged KV cache (vLLM V1) ---------------------
class FloorDiv(sp.Function):
    r"""``floor(a / b)`` for ``a >= 0`` and ``b > 0``, printed exactly (``a // b``)."""

    @classmethod
    def eval(cls, a: sp.Expr, b: sp.Expr) -> sp.Expr | None:
        if a.is_Integer and b.is_Integer:
            return sp.Integer(int(a) // int(b))
        if b == 1 and a.is_integer:
            return a
        return None

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        a, b = (printer._print(arg) for arg in self.args)
        return rf"\left\lfloor \frac{{{a}}}{{{b}}} \right\rfloor"

    def _pythoncode(self, printer: sp.printing.pycode.PythonCodePrinter) -> str:
        a, b = (printer._print(arg) for arg in self.args)
        return f"(({a}) // ({b}))"


M_gpu = _sym("M_gpu", r"M_{\mathrm{GPU}}", "memory the device reports to CUDA (bytes)")
u = _sym("u", "u", "share of the device memory the engine may use (gpu_memory_utilization)")
T_b = _sym(
    "T_b",
    r"T_{\mathrm{batch}}",
    "tokens of the engine's largest forward pass (max_num_batched_tokens)",
    integer=True,
)
N_s = _sym("N_s", r"N_{\mathrm{seq}}", "sequences sampled in one step (max_num_seqs)", integer=True)
l_s = _sym("l_s", r"\lambda_s", "bytes the sampler holds per logit")
M_nt = _sym(
    "M_nt",
    r"M_{\mathrm{nt}}",
    "memory allocated outside PyTorch while the engine starts (NCCL, cuBLAS workspaces)",
)
M_cg = _sym(
    "M_cg",
    r"M_{\mathrm{cg}}",
    "CUDA-graph memory set aside before the cache is sized (0 before vLLM 0.21)",
)
s_b = _sym("s_b", "s_b", "tokens per KV-cache block (block_size)", integer=True)
L_g = _sym("L_g", "L_g", "layers on one GPU sharing a block table (per group)", integer=True)
n_g = _sym("n_g", "n_g", "KV-cache groups (1 unless layers differ in attention type)", integer=True)
n_gw = _sym("n_gw", r"n_{g,w}", "KV-cache groups of sliding-window layers", integer=True)
N_r = _sym("N_r", r"N_{\mathrm{req}}", "requests to hold at once", integer=True)

_formula(
    "sampler_logits",
    r"M_{\Lambda s}",
    N_s * V * l_s,
    "logits and sampling buffers of one step over N_s sequences",
)
_formula(
    "engine_profile_peak",
    r"M_{\mathrm{prof}}",
    sp.Max(M_P, sp.Symbol("sampler_logits")),
    "peak of the engine's dummy run: a forward pass over T_b tokens (the prefill working set "
    "at B s = T_b), then the sampler over N_s sequences",
)
_formula("serve_budget", r"M_{\mathrm{req}}", u * M_gpu, "memory the engine may use on one GPU")
_formula(
    "kv_available",
    r"M_{KV,\mathrm{avail}}",
    sp.Symbol("serve_budget") - M_W - sp.Symbol("engine_profile_peak") - M_nt - M_cg,
    "memory left for the KV cache: the budget minus the weights, the profiled peak, memory "
    "outside PyTorch and CUDA graphs",
)
_formula("kv_page", r"S_{\mathrm{page}}", s_b * e_kv * b_kv, "bytes of one block of one layer")
S_page = sp.Symbol("kv_page")
_formula(
    "kv_blocks",
    r"N_{\mathrm{blk}}",
    FloorDiv(sp.Symbol("kv_available"), S_page * L_g),
    "KV-cache blocks: each holds one page for every layer of a group",
)
N_blk = sp.Symbol("kv_blocks")
_formula(
    "kv_tokens",
    r"N_{\mathrm{tok}}",
    FloorDiv(N_blk, n_g) * s_b,
    "the 'GPU KV cache size' vLLM prints: blocks per group times the block size",
)
_formula(
    "blocks_per_request",
    r"n_{\mathrm{blk}}",
    (n_g - n_gw) * CeilDiv(s, s_b) + n_gw * (CeilDiv(sp.Min(w - 1 + T_b, s), s_b) + 1),
    "blocks one request of s tokens holds: every token in full-attention groups; the window, "
    "one batch and one more block in sliding-window groups",
)
n_blk = sp.Symbol("blocks_per_request")
_formula(
    "max_concurrency",
    "X",
    N_blk / n_blk,
    "requests of s tokens the cache holds at once (vLLM's 'Maximum concurrency')",
)
_formula(
    "kv_memory_for_requests",
    r"M_{KV}(N_{\mathrm{req}})",
    N_r * n_blk * S_page * L_g,
    "KV-cache memory that holds N_req requests of s tokens (a --kv-cache-memory value)",
)


def to_latex(expr: sp.Expr, numbers: dict[str, str] | None = None) -> str:
    """LaTeX of ``expr`` with the symbols' own names; ``numbers`` prints some symbols as given.

    Sharding factors such as ``N_dp**(-z_3)`` are shown as :math:`N_{dp}^{z_3}` in the
    denominator, where a reader expects them.
    """
    names = dict(SYMBOL_LATEX)
    for z in (z_1, z_2, z_3):
        shard = sp.Symbol(f"N_dp^{z.name}", positive=True)
        names[shard] = rf"N_{{dp}}^{{{SYMBOL_LATEX[z]}}}"
        expr = expr.subs(N_dp ** (-z), 1 / shard)
    for symbol in expr.free_symbols:
        if numbers and symbol.name in numbers:
            names[symbol] = numbers[symbol.name]
    return sp.latex(expr, symbol_names=names, mul_symbol="dot")


def latex(name: str) -> str:
    """LaTeX of formula ``name`` as ``lhs = rhs``."""
    formula = FORMULAS[name]
    return f"{SYMBOL_LATEX[formula.lhs]} = {to_latex(formula.rhs)}"


def substitute(name: str, values: dict[str, object]) -> sp.Expr:
    """Formula ``name`` with the symbols in ``values`` replaced by exact numbers.

    Floats are converted through their decimal text so that ``0.5`` stays ``1/2``.
    """
    formula = FORMULAS[name]
    subs = {
        SYMBOLS[k].symbol if k in SYMBOLS else sp.Symbol(k): sp.nsimplify(str(v))
        for k, v in values.items()
    }
    return formula.rhs.subs(subs)


# --- local inference with llama.cpp: layers split between GPUs and the CPU ---------------------
n_u = _sym("n_u", r"n_{\mathrm{ub}}", "tokens of one micro-batch (llama.cpp -ub)", integer=True)
o_L = _sym("o_L", r"o_{\mathrm{out}}", "1 on the device that holds the output layer, else 0")
a_fa = _sym("a_fa", r"a_{\mathrm{FA}}", "1 with flash attention (-fa on), else 0")
W_rd = _sym("W_rd", r"W_{\mathrm{read}}", "weight bytes one device reads per generated token")
M_Kd = _sym("M_Kd", r"M_{KV,d}", "KV-cache bytes held on one device")
t_tok = _sym("t_tok", r"t_{\mathrm{tok}}", "seconds per generated token, summed over devices")
P_ad = _sym("P_ad", r"P_{a,d}", "parameters one device multiplies per token")
W_x = _sym("W_x", r"W_{\times}", "weight bytes in system memory copied to the GPU per micro-batch")
BW_x = _sym("BW_x", r"\mathrm{BW}_{\times}", "host-to-GPU link bandwidth (bytes per second)")
t_c = _sym("t_c", "t_c", "seconds of compute per micro-batch")
t_x = _sym("t_x", r"t_{\times}", "seconds of weight transfer per micro-batch")
n_ch = _sym("n_ch", r"n_{\mathrm{ch}}", "memory channels", integer=True)
w_ch = _sym("w_ch", r"w_{\mathrm{ch}}", "bits per memory channel", integer=True)
r_mt = _sym("r_mt", r"r_{\mathrm{MT}}", "transfers per second of the memory (MT/s × 10⁶)")

_formula(
    "channel_bandwidth",
    r"\mathrm{BW}_{\mathrm{RAM}}",
    n_ch * w_ch * r_mt / 8,
    "peak bandwidth of system memory: channels × bits per channel × transfers per second",
)
_formula(
    "device_token_seconds",
    r"t_d",
    (W_rd + M_Kd) / BW,
    "seconds one device needs per generated token to read its weights and KV cache once",
)
_formula(
    "offload_decode_ceiling",
    r"\tau_{\mathrm{split}}",
    1 / t_tok,
    "ceiling of decoding speed across devices that run one after the other",
)
_formula(
    "prefill_compute_seconds",
    r"t_{c,d}",
    2 * P_ad * n_u / T_pk,
    "seconds of compute for one micro-batch on one device: 2 FLOP per parameter and token",
)
_formula(
    "prefill_transfer_seconds",
    r"t_{\times}",
    W_x / BW_x,
    "seconds to copy the weights held in system memory to the GPU once per micro-batch",
)
_formula(
    "prefill_ceiling",
    r"\pi",
    n_u / sp.Max(t_c, t_x),
    "ceiling of prompt-processing speed: a micro-batch takes at least its compute or its "
    "weight transfer, whichever is longer",
)
_formula(
    "llamacpp_compute_buffer",
    r"M_{\mathrm{cb}}^{\mathrm{llama.cpp}}",
    sp.Max(
        4 * n_u * (o_L * V + 2 * h),
        (1 - a_fa) * 4 * n_u * s * (n_h + 1) + 22 * n_u * h,
    ),
    "compute buffer llama.cpp reserves for its worst-case micro-batch of n_u = min(context, "
    "-ub) tokens, the larger of two moments: the end of the graph (FP32 logits of every token "
    "where the output layer is, two FP32 hidden states per token) and, without flash "
    "attention, the FP32 scores of every head over the s cells with the FP32 mask (5.5 hidden "
    "states per token beside them)",
)
