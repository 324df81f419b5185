"""Names of components, phases and workloads in the page's language, and helpers shared by the
table and chart kinds (running an estimate for a workload written in an option)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..units import to_unit
from .formatting import chinese, format_amount, format_int, format_percent, format_size
from .translation import gettext as _

if TYPE_CHECKING:
    from ..estimate import Estimate
    from ..modelspec import ModelSpec
    from ..workload import Workload
    from .selection import WorkloadSpec

#: Order of the components in tables and stacked bars (bottom to top).
COMPONENTS = (
    "weights",
    "adapter_weights",
    "master_weights",
    "gradients",
    "optimizer_states",
    "optimizer_temporaries",
    "kv_cache",
    "activations",
    "autocast_copies",
    "recomputed_layer",
    "prefill_workspace",
    "logits",
    "cuda_context",
    "allocator_reserve",
)

#: One colour per component, the same in every chart (mid-tones: legible on light and dark).
COMPONENT_COLOURS = {
    "weights": "#3a87c8",
    "adapter_weights": "#8fb8de",
    "master_weights": "#1f5f8b",
    "gradients": "#c9609b",
    "optimizer_states": "#e0892b",
    "optimizer_temporaries": "#f2b46d",
    "kv_cache": "#2fa37a",
    "activations": "#8b78e6",
    "autocast_copies": "#6fb7c9",
    "recomputed_layer": "#b4a7f0",
    "prefill_workspace": "#b3913a",
    "logits": "#d95f5f",
    "cuda_context": "#9a9a9a",
    "allocator_reserve": "#c4c4c4",
}


def component_label(name: str) -> str:
    """``"kv_cache"`` → ``"KV cache"`` / ``"KV 缓存"``."""
    labels = {
        "weights": _("Weights"),
        "adapter_weights": _("LoRA adapters"),
        "master_weights": _("FP32 master weights"),
        "gradients": _("Gradients"),
        "optimizer_states": _("Optimizer states"),
        "optimizer_temporaries": _("Optimizer temporaries"),
        "kv_cache": _("KV cache"),
        "activations": _("Activations"),
        "autocast_copies": _("Autocast weight copies"),
        "recomputed_layer": _("Recomputed layer"),
        "prefill_workspace": _("Prefill workspace"),
        "logits": _("Logits"),
        "cuda_context": _("CUDA context"),
        "allocator_reserve": _("Allocator reserve"),
    }
    return labels.get(name, name)


def phase_label(phase: str) -> str:
    """When the peak occurs: ``"backward"`` → ``"backward pass"`` / ``"反向传播"``."""
    labels = {
        "prefill": _("prefill"),
        "forward": _("forward pass"),
        "backward": _("backward pass"),
        "optimizer": _("optimizer step"),
    }
    return labels.get(phase, phase)


def mode_label(mode: str) -> str:
    """``"training"`` → ``"Training"`` / ``"训练"``."""
    return {"inference": _("Inference"), "training": _("Training")}.get(mode, mode)


def separator(language: str) -> str:
    """Between the parts of a label: ``", "`` or the Chinese full-width comma."""
    return "，" if chinese(language) else ", "


def workload_label(spec: WorkloadSpec, language: str, work: Workload | None = None) -> str:
    """A workload in words, e.g. ``"Training, batch 1 × 4,096 tokens, full checkpointing"``.

    ``work`` is the resolved workload (its sequence length filled in); without it the label
    says only what ``spec`` says.
    """
    from ..precision import get_format
    from ..workload import get_optimizer

    fields = dict(spec)
    mode = str(fields.get("mode", "inference"))
    batch = work.batch if work else fields.get("batch")
    seq = work.seq if work else fields.get("seq")
    parts = [mode_label(mode)]
    if seq is not None and (batch not in (None, 1) or mode == "training"):
        parts.append(
            _("batch {batch} × {seq} tokens").format(
                batch=format_int(int(batch or 1), language), seq=format_int(int(seq), language)
            )
        )
    elif seq == 1:
        parts.append(_("1 token"))
    elif seq is not None:
        parts.append(_("{seq} tokens").format(seq=format_int(int(seq), language)))
    elif batch is not None:
        parts.append(_("batch {batch}").format(batch=format_int(int(batch), language)))
    words = {
        ("precision", "mixed"): _("mixed precision"),
        ("precision", "pure"): _("pure precision"),
        ("precision", "amp"): _("automatic mixed precision"),
        ("optimizer_impl", "fused"): _("fused optimizer"),
        ("optimizer_impl", "foreach"): _("foreach optimizer"),
        ("checkpointing", "none"): _("no checkpointing"),
        ("checkpointing", "full"): _("full checkpointing"),
        ("checkpointing", "selective"): _("selective recomputation"),
        ("attention", "flash"): _("fused attention"),
        ("attention", "eager"): _("eager attention"),
        ("logits", "last"): _("logits of the last position"),
        ("logits", "all"): _("logits of all positions"),
    }
    for key, value in spec:
        if key in ("mode", "batch", "seq"):
            continue
        if (key, value) in words:
            parts.append(words[key, value])
        elif key == "dtype":
            parts.append(get_format(str(value)).label)
        elif key == "kv_dtype":
            parts.append(_("{format} KV cache").format(format=get_format(str(value)).label))
        elif key == "optimizer":
            parts.append(get_optimizer(str(value)).label)
        elif key == "lora_rank":
            parts.append(_("LoRA rank {rank}").format(rank=value))
        elif key == "dp":
            parts.append(_("{n} data-parallel GPUs").format(n=value))
        elif key == "tp":
            parts.append(_("tensor parallel over {n} GPUs").format(n=value))
        elif key == "pp":
            parts.append(_("{n} pipeline stages").format(n=value))
        elif key == "zero" and value:
            parts.append(_("ZeRO stage {stage}").format(stage=value))
        elif key == "cuda_context":
            parts.append(_("CUDA context {size}").format(size=format_size(float(value), "GiB", 2)))
        elif key == "allocator_reserve":
            reserve = format_percent(float(value), language)
            parts.append(_("allocator reserve {percent}").format(percent=reserve))
    return separator(language).join(parts)


def run_estimate(model: str | ModelSpec, spec: WorkloadSpec, **changes: object) -> Estimate:
    """:func:`gpumem.estimate` for a workload spec, with some fields changed."""
    from ..estimate import estimate

    return estimate(model, **{**dict(spec), **changes})


def model_spec(name: str) -> ModelSpec:
    """A catalog model."""
    from ..catalog import load_model

    return load_model(name)


def amount(n_bytes: float, unit: str) -> str:
    """A table cell in ``unit``: 3–4 significant digits, ``"<0.001"`` for a tiny amount."""
    value = to_unit(n_bytes, unit)
    if value == 0:
        return "0"
    if 0 < value < 0.0005:
        return "<0.001"
    return format_amount(value)


def bytes_per_value(dtype: str) -> float:
    """Average bytes per stored value of a format."""
    from ..precision import get_format

    return float(get_format(dtype).bytes_per_param)


def short_gpu_name(name: str) -> str:
    """A GPU's name without the vendor's product line: ``"GeForce RTX 4090"`` → ``"RTX 4090"``."""
    for prefix in ("GeForce ", "Tesla ", "Instinct ", "Radeon "):
        name = name.removeprefix(prefix)
    return name
