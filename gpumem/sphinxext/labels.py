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


def _size_label(seq: object, batch: object, mode: str, language: str) -> str | None:
    """The batch and sequence part of a workload's label, if it has one."""
    if seq is not None and (batch not in (None, 1) or mode == "training"):
        return _("batch {batch} × {seq} tokens").format(
            batch=format_int(int(batch or 1), language), seq=format_int(int(seq), language)
        )
    if seq == 1:
        return _("1 token")
    if seq is not None:
        return _("{seq} tokens").format(seq=format_int(int(seq), language))
    if batch is not None:
        return _("batch {batch}").format(batch=format_int(int(batch), language))
    return None


def _field_label(key: str, value: object, language: str) -> str | None:
    """A field of a workload (other than mode, batch and sequence) in words, if it has any."""
    if (key, value) in vocabulary.WORKLOAD_OPTIONS:
        return label(vocabulary.WORKLOAD_OPTIONS, (key, value), _)
    words = {
        "dtype": lambda: get_format(str(value)).label,
        "kv_dtype": lambda: _("{format} KV cache").format(format=get_format(str(value)).label),
        "optimizer": lambda: get_optimizer(str(value)).label,
        "lora_rank": lambda: _("LoRA rank {rank}").format(rank=value),
        "dp": lambda: _("{n} data-parallel GPUs").format(n=value),
        "tp": lambda: _("tensor parallel over {n} GPUs").format(n=value),
        "pp": lambda: _("{n} pipeline stages").format(n=value),
        "zero": lambda: _("ZeRO stage {stage}").format(stage=value) if value else None,
        "cuda_context": lambda: _("CUDA context {size}").format(
            size=format_size(float(value), "GiB", 2)  # type: ignore[arg-type]
        ),
        "allocator_reserve": lambda: _("allocator reserve {percent}").format(
            percent=format_percent(float(value), language)  # type: ignore[arg-type]
        ),
    }
    return words[key]() if key in words else None


def workload_label(spec: WorkloadSpec, language: str, work: Workload | None = None) -> str:
    """A workload in words, e.g. ``"Training, batch 1 × 4,096 tokens, full checkpointing"``.

    ``work`` is the resolved workload (its sequence length filled in); without it the label
    says only what ``spec`` says.
    """
    fields = dict(spec)
    mode = str(fields.get("mode", "inference"))
    batch = work.batch if work else fields.get("batch")
    seq = work.seq if work else fields.get("seq")
    parts = [mode_label(mode), _size_label(seq, batch, mode, language)]
    parts += [_field_label(k, v, language) for k, v in spec if k not in ("mode", "batch", "seq")]
    return separator(language).join(part for part in parts if part)


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
    if scenario.get("attention"):  # the kernel sdpa ran, where not a fused one
        parts.append(label(vocabulary.WORKLOAD_OPTIONS, ("attention", scenario["attention"]), _))
    if scenario.get("lora_rank"):
        targets = scenario["lora_targets"]
        parts.append(
            _("LoRA rank {rank} on {targets}").format(
                rank=format_int(int(scenario["lora_rank"]), language),
                targets=_("all linear layers") if targets == "all-linear" else targets,
            )
        )
        if scenario.get("adapter_dtype"):
            adapters = get_format(scenario["adapter_dtype"]).label
            parts.append(_("{format} adapters").format(format=adapters))
    if scenario.get("world"):
        parts.append(
            _("FSDP2 on {world} ranks, ZeRO-{stage}").format(
                world=format_int(int(scenario["world"]), language),
                stage=3 if scenario["reshard_after_forward"] else 2,
            )
        )
    if scenario.get("param_dtype"):
        compute = get_format(scenario["param_dtype"]).label
        parts.append(_("gathered in {format}").format(format=compute))
    if scenario.get("grad_checkpointing"):
        parts.append(label(vocabulary.WORKLOAD_OPTIONS, ("checkpointing", "full"), _))
    optimizer = {"foreach": _("foreach AdamW"), "fused": _("fused AdamW")}
    if scenario.get("optimizer"):
        parts.append(optimizer.get(scenario["optimizer"], scenario["optimizer"]))
    return separator(language).join(parts)


def format_kind_label(kind: str) -> str:
    """Kind of a number format: ``"block-scaled"`` → ``"block-scaled"`` / ``"块缩放"``."""
    return label(vocabulary.FORMAT_KINDS, kind, _)
