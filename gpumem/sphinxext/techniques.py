"""Memory-saving techniques by id, for the ``savings`` table and the ``saving`` role quantity.

A technique changes the baseline's workload (quantised weights, checkpointing, ZeRO, …) or
replaces the model (``model:<id>``, ``distilled:<id>``). Each one applies to some modes; using
it on a baseline of another mode, or on one that already uses it, is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..catalog import load_model
from ..errors import InvalidValueError, UnknownNameError
from .options import WorkloadSpec
from .translation import gettext as _

INFERENCE = ("inference",)
TRAINING = ("training",)
BOTH = ("inference", "training")


@dataclass(frozen=True)
class Technique:
    """``label()`` in the page's language, the workload ``changes``, the modes it applies to."""

    label: Callable[[], str]
    changes: dict[str, object]
    modes: tuple[str, ...]


def _techniques() -> dict[str, Technique]:
    return {
        "fp8": Technique(lambda: _("FP8 weights"), {"dtype": "fp8"}, INFERENCE),
        "int8": Technique(lambda: _("INT8 weights"), {"dtype": "int8"}, INFERENCE),
        "int4": Technique(lambda: _("INT4 weights"), {"dtype": "int4"}, INFERENCE),
        "q4_k_m": Technique(lambda: _("GGUF Q4_K_M weights"), {"dtype": "q4_k_m"}, INFERENCE),
        "nf4": Technique(lambda: _("NF4 weights"), {"dtype": "nf4"}, INFERENCE),
        "fp8-kv": Technique(lambda: _("FP8 KV cache"), {"kv_dtype": "fp8"}, INFERENCE),
        "flash": Technique(lambda: _("Fused (flash) attention"), {"attention": "flash"}, BOTH),
        "checkpointing": Technique(
            lambda: _("Full activation checkpointing"), {"checkpointing": "full"}, TRAINING
        ),
        "selective": Technique(
            lambda: _("Selective recomputation"), {"checkpointing": "selective"}, TRAINING
        ),
        "lora": Technique(lambda: _("LoRA, rank 16"), {"lora_rank": 16}, TRAINING),
        "qlora": Technique(
            lambda: _("QLoRA, rank 16 on NF4"), {"lora_rank": 16, "dtype": "nf4"}, TRAINING
        ),
        "adamw-8bit": Technique(lambda: _("8-bit AdamW"), {"optimizer": "adamw_8bit"}, TRAINING),
        "fused-adamw": Technique(lambda: _("Fused AdamW"), {"optimizer_impl": "fused"}, TRAINING),
        **{
            f"zero{stage}": Technique(
                lambda stage=stage: _("ZeRO stage {stage} over 8 GPUs").format(stage=stage),
                {"zero": stage, "dp": 8},
                TRAINING,
            )
            for stage in (1, 2, 3)
        },
        **{
            f"tp{n}": Technique(
                lambda n=n: _("Tensor parallel over {n} GPUs").format(n=n), {"tp": n}, BOTH
            )
            for n in (2, 4)
        },
        "logits-last": Technique(
            lambda: _("Logits of the last position only"), {"logits": "last"}, INFERENCE
        ),
    }


#: Prefixes of techniques that replace the model: ``distilled:llama-3.2-1b``.
MODEL_PREFIXES = ("model", "distilled")


def technique_names() -> list[str]:
    """Ids accepted by ``:variants:`` (the model-replacing ones as ``model:<id>``)."""
    return [*_techniques(), *(f"{prefix}:<model id>" for prefix in MODEL_PREFIXES)]


def apply(variant: str, model: str, baseline: WorkloadSpec) -> tuple[str, str, WorkloadSpec]:
    """``(label, model, workload)`` of ``variant`` applied to ``model`` under ``baseline``."""
    fields = dict(baseline)
    mode = str(fields.get("mode", "inference"))
    prefix, colon, other = variant.partition(":")
    if colon:
        if prefix not in MODEL_PREFIXES or not other:
            raise UnknownNameError("variant", variant, technique_names())
        name = load_model(other).name
        label = _("{name} (distilled)").format(name=name) if prefix == "distilled" else name
        return label, other, baseline
    techniques = _techniques()
    if variant not in techniques:
        raise UnknownNameError("variant", variant, technique_names())
    technique = techniques[variant]
    if mode not in technique.modes:
        raise InvalidValueError(
            "variant",
            variant,
            f"a technique for {' or '.join(technique.modes)} (the baseline workload is {mode})",
        )
    changed = {**fields, **technique.changes}
    if variant == "flash" and fields.get("attention", "flash") == "flash":
        raise InvalidValueError(
            "variant", variant, "a baseline with attention=eager (the default is already flash)"
        )
    if variant == "logits-last" and fields.get("logits", "last") == "last":
        raise InvalidValueError(
            "variant", variant, "a baseline with logits=all (the default already keeps the last)"
        )
    if all(fields.get(key) == value for key, value in technique.changes.items()):
        raise InvalidValueError("variant", variant, "a baseline that does not already use it")
    return technique.label(), model, tuple(changed.items())
