"""Names of components, phases, workloads, formats and GPUs in the page's language."""

from __future__ import annotations

from .. import vocabulary
from ..precision import get_format
from ..vocabulary import label
from ..workload import Workload, get_optimizer
from .formatting import chinese, format_int, format_percent, format_size
from .options import WorkloadSpec
from .translation import gettext as _

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
    return label(vocabulary.COMPONENTS, name, _)


def phase_label(phase: str) -> str:
    """When the peak occurs: ``"backward"`` → ``"backward pass"`` / ``"反向传播"``."""
    return label(vocabulary.PHASES, phase, _)


def mode_label(mode: str) -> str:
    """``"training"`` → ``"Training"`` / ``"训练"``."""
    return label(vocabulary.MODES, mode, _)


def separator(language: str) -> str:
    """Between the parts of a label: ``", "`` or the Chinese full-width comma."""
    return "，" if chinese(language) else ", "


def workload_label(spec: WorkloadSpec, language: str, work: Workload | None = None) -> str:
    """A workload in words, e.g. ``"Training, batch 1 × 4,096 tokens, full checkpointing"``.

    ``work`` is the resolved workload (its sequence length filled in); without it the label
    says only what ``spec`` says.
    """
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
    for key, value in spec:
        if key in ("mode", "batch", "seq"):
            continue
        if (key, value) in vocabulary.WORKLOAD_OPTIONS:
            parts.append(label(vocabulary.WORKLOAD_OPTIONS, (key, value), _))
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


def dtype_label(group: tuple[str, ...]) -> str:
    """Label of formats of equal size: ``("fp16", "bf16")`` → ``"FP16/BF16"``."""
    return "/".join(get_format(name).label for name in group)


def short_gpu_name(name: str) -> str:
    """A GPU's name without the vendor's product line: ``"GeForce RTX 4090"`` → ``"RTX 4090"``."""
    for prefix in ("GeForce ", "Tesla ", "Instinct ", "Radeon "):
        name = name.removeprefix(prefix)
    return name


def kind_label(kind: str) -> str:
    """A kind of measured scenario: ``"train"`` → ``"Training step"`` / ``"训练步"``."""
    return {
        "weights": _("Weights only"),
        "prefill": _("Prefill"),
        "generate": _("Generation"),
        "train": _("Training step"),
    }[kind]


def scenario_label(scenario: dict, language: str) -> str:
    """A measured scenario in words, e.g. ``"Training, BF16, batch 4 × 2,048 tokens, full
    checkpointing, fused AdamW"``."""
    kind = scenario["mode"]
    dtype = get_format(scenario["dtype"]).label
    if kind == "weights":
        return separator(language).join([kind_label(kind), dtype])
    parts = [mode_label("training") if kind == "train" else kind_label(kind)]
    if scenario.get("amp"):
        amp = get_format(scenario["amp"]).label
        parts.append(_("{weights} weights, {format} autocast").format(weights=dtype, format=amp))
    else:
        parts.append(dtype)
    parts.append(
        _("batch {batch} × {seq} tokens").format(
            batch=format_int(int(scenario["batch"]), language),
            seq=format_int(int(scenario["seq"]), language),
        )
    )
    if kind == "generate":
        parts.append(
            _("{n} new tokens").format(n=format_int(int(scenario["new_tokens"]), language))
        )
    if scenario.get("grad_checkpointing"):
        parts.append(label(vocabulary.WORKLOAD_OPTIONS, ("checkpointing", "full"), _))
    optimizer = {"foreach": _("foreach AdamW"), "fused": _("fused AdamW")}
    if scenario.get("optimizer"):
        parts.append(optimizer.get(scenario["optimizer"], scenario["optimizer"]))
    return separator(language).join(parts)


def format_kind_label(kind: str) -> str:
    """Kind of a number format: ``"block-scaled"`` → ``"block-scaled"`` / ``"块缩放"``."""
    return label(vocabulary.FORMAT_KINDS, kind, _)
