"""The phases of a training or inference step, their live bytes and their peaks."""

from __future__ import annotations

import sympy as sp

from .activations import M_C
from .core import define, sym
from .inputs import C, rho

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
M_U, M_Ur, M_AG, M_AGb, M_Gb, M_Gr, M_RS = (
    sp.Symbol(n)
    for n in (
        "gathered_weights",
        "gathered_root",
        "all_gather_buffer",
        "all_gather_prefetch",
        "block_gradients",
        "root_gradients",
        "reduce_scatter_buffer",
    )
)
persistent = M_W + M_Wl + M_W32 + M_O
define(
    "phase_forward",
    "M_{\\mathrm{fwd}}",
    persistent + M_A + M_C + M_Lf + M_U + M_AG,
    "end of forward (with FSDP2, the gathered weights and the last block's all-gather output "
    "still live)",
    phase="forward",
)
define(
    "phase_backward",
    "M_{\\mathrm{bwd}}",
    persistent
    + M_A
    + sp.Symbol("autocast_copies_kept")
    + sp.Max(M_Lb, sp.Symbol("recomputed_layer"))
    + M_U
    + M_AGb,
    "backward: saved activations plus the logit gradients or, with checkpointing, one "
    "recomputed layer, whichever is larger (with FSDP2, the gathered weights and a prefetched "
    "block)",
    phase="backward",
)
define(
    "phase_optimizer",
    "M_{\\mathrm{opt}}",
    persistent + M_G + M_T,
    "optimizer step: every gradient is ready, activations are freed",
    phase="optimizer",
)
define(
    "phase_backward_end",
    "M_{\\mathrm{bwd,end}}",
    persistent + M_Gb + M_Gr + M_Ur + M_RS,
    "end of backward: the gradients complete but, with FSDP2, the root's still gathered and "
    "unreduced, with the last reduce-scatter input",
    phase="backward_end",
)
for where in ("top", "bottom"):
    define(
        f"phase_backward_{where}",
        rf"M_{{\mathrm{{bwd}},\mathrm{{{where}}}}}",
        persistent
        + sp.Symbol(f"activations_backward_{where}")
        + sp.Symbol(f"gathered_backward_{where}")
        + M_AGb
        + sp.Symbol(f"block_gradients_backward_{where}")
        + sp.Symbol("head_gradient")
        + M_RS,
        f"with FSDP2, the backward of the second block from the {where}, its gradients "
        "complete (see gpumem.symbolic.fsdp)",
        phase=f"backward_{where}",
    )
define(
    "training_peak",
    "M_{\\mathrm{train}}",
    sp.Max(
        *(
            sp.Symbol(p)
            for p in (
                "phase_forward",
                "phase_backward",
                "phase_backward_top",
                "phase_backward_bottom",
                "phase_optimizer",
                "phase_backward_end",
            )
        )
    ),
    "peak of a training step: the largest of its phases",
)
define(
    "phase_prefill",
    "M_{\\mathrm{prefill}}",
    M_W + M_KV + sp.Symbol("kv_cache_overhang") + sp.Symbol("attention_masks") + sp.Max(M_P, M_L),
    "forward pass over the prompt with the KV cache filled, transformers' sliding-window "
    "layers still holding the whole prompt, and the attention masks",
    phase="prefill",
)
define(
    "phase_decode",
    "M_{\\mathrm{decode}}",
    M_W
    + sp.Symbol("kv_cache_decode")
    + sp.Max(sp.Symbol("decode_workspace"), sp.Symbol("logits_decode")),
    "last decoding step: the cache full at the prompt plus the new tokens, one token's "
    "working set, the logits of the last position",
    phase="decode",
)
define(
    "inference_peak",
    "M_{\\mathrm{infer}}",
    sp.Max(sp.Symbol("phase_prefill"), sp.Symbol("phase_decode")),
    "peak of inference: the prompt's forward pass or the last decoding step, whichever is larger",
)
M_tensors = sym("M_tensors", r"M_{\mathrm{tensors}}", "bytes of live tensors at the peak")
define(
    "runtime_overhead",
    "M_{\\mathrm{rt}}",
    C + rho * M_tensors,
    "CUDA context plus the allocator's reserve above the tensors",
)
