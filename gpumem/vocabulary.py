"""gpumem's words for users: components, phases, modes, workload options, format kinds.

One table per kind of word, from an id (a key of :attr:`gpumem.estimate.Estimate.components`,
a workload option's value…) to its English label, marked for the ``gpumem`` message catalog
with :func:`~gpumem.i18n.N_`. The command line and the Sphinx extension translate the labels
with their own gettext (``_(COMPONENTS["kv_cache"])``), so a word is written, and translated,
once. An id without a label is shown as it is.

This module sits next to :mod:`gpumem.errors` and :mod:`gpumem.units`: it imports nothing of
the model.
"""

from __future__ import annotations

from .i18n import N_

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "COMPONENTS",
    "FORMAT_KINDS",
    "GOALS",
    "MEMORY_BASES",
    "MODES",
    "PARAMETER_SOURCES",
    "PHASES",
    "WORKLOAD_OPTIONS",
    "label",
]

#: The components of an estimate, in the order tables list them and charts stack them
#: (bottom to top).
COMPONENTS = {
    "weights": N_("Weights"),
    "adapter_weights": N_("LoRA adapters"),
    "master_weights": N_("FP32 master weights"),
    "gradients": N_("Gradients"),
    "optimizer_states": N_("Optimizer states"),
    "optimizer_temporaries": N_("Optimizer temporaries"),
    "kv_cache": N_("KV cache"),
    "kv_cache_overhang": N_("Prompt cached past the window"),
    "activations": N_("Activations"),
    "autocast_copies": N_("Autocast weight copies"),
    "gathered_weights": N_("Gathered weights (FSDP)"),
    "all_gather_buffer": N_("All-gather buffer"),
    "root_gradients": N_("Unreduced root gradients"),
    "reduce_scatter_buffer": N_("Reduce-scatter buffer"),
    "recomputed_layer": N_("Recomputed layer"),
    "prefill_workspace": N_("Prefill workspace"),
    "attention_masks": N_("Attention masks"),
    "decode_workspace": N_("Decoding workspace"),
    "logits": N_("Logits"),
    "cuda_context": N_("CUDA context"),
    "allocator_reserve": N_("Allocator reserve"),
}

#: When the peak occurs (:attr:`gpumem.estimate.Estimate.phase`).
PHASES = {
    "prefill": N_("prefill"),
    "decode": N_("last decoding step"),
    "forward": N_("forward pass"),
    "backward": N_("backward pass"),
    "backward_top": N_("backward pass, second block from the top"),
    "backward_bottom": N_("backward pass, second block from the bottom"),
    "backward_end": N_("end of the backward pass"),
    "optimizer": N_("optimizer step"),
}

#: What the model is used for.
MODES = {"inference": N_("Inference"), "training": N_("Training")}

#: Values of the workload's word-valued options, by ``(option, value)``.
WORKLOAD_OPTIONS = {
    ("precision", "mixed"): N_("mixed precision"),
    ("precision", "pure"): N_("pure precision"),
    ("precision", "amp"): N_("automatic mixed precision"),
    ("optimizer_impl", "fused"): N_("fused optimizer"),
    ("optimizer_impl", "foreach"): N_("foreach optimizer"),
    ("checkpointing", "none"): N_("no checkpointing"),
    ("checkpointing", "full"): N_("full checkpointing"),
    ("checkpointing", "selective"): N_("selective recomputation"),
    ("attention", "flash"): N_("fused attention"),
    ("attention", "eager"): N_("eager attention"),
    ("attention", "math"): N_("sdpa's math kernel"),
    ("logits", "last"): N_("logits of the last position"),
    ("logits", "all"): N_("logits of all positions"),
}

#: Kinds of number formats (:attr:`gpumem.precision.Format.kind`).
FORMAT_KINDS = {
    "float": N_("floating point"),
    "int": N_("integer"),
    "block-scaled": N_("block-scaled"),
    "gguf": N_("GGUF mix"),
}

#: Where a model's parameter count comes from
#: (:attr:`gpumem.modelspec.ModelSpec.parameters_source`).
PARAMETER_SOURCES = {
    "architecture": N_("derived from the architecture"),
    "safetensors": N_("counted in the safetensors files"),
    "catalog": N_("from the catalog"),
    "gguf": N_("counted in the GGUF file's tensors; weights as stored in it"),
}

#: What a GPU's memory figure is (:attr:`gpumem.hardware.GPU.memory_basis`; ``given``: a budget
#: typed by the user).
MEMORY_BASES = {
    "reported": N_("as the device reports it"),
    "dies": N_("the capacity of its memory dies"),
    "given": N_("as given"),
}

#: What a comparison of workloads can favour when it marks the best row.
GOALS = {
    "context": N_("the longest context"),
    "quality": N_("the most precise formats that fit"),
}


def label(table: Mapping[object, str], key: object, gettext: Callable[[str], str] = str) -> str:
    """``key``'s label in ``table``, translated by ``gettext``; ``key`` itself if it has none."""
    return gettext(table[key]) if key in table else str(key)
