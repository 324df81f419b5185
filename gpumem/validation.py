"""Estimates held to the memory PyTorch actually allocates (``data/measurements.json``).

Each measured scenario is mapped onto the :class:`~gpumem.workload.Workload` that describes
it, with the runtime overhead set to zero (the measurements count live tensors only), and the
estimate's tensor bytes are compared with the measured peak. The same comparison is made for
the rules of thumb.

Every record names its ``split``. ``fitted``: the default grid (:mod:`gpumem.measure`) of the
first seven models measured, which the activation coefficients were counted and fitted on.
``held_out``: scenarios measured before any coefficient was chosen or changed with them in
view, by model family (Qwen3, Phi-3, DeepSeek-V2-Lite, Qwen1.5-MoE, Llama 3.2, Gemma 2 and
Gemma 3 at inference, never measured before) and by shape (1 x 128, 2 x 1024, 1 x 8192 at
inference, 1 x 512 and 2 x 1024 in training, on the models of the fitted set too), and every
LoRA scenario (by target set, rank, checkpointing, base and adapter dtype, 1 x 512 to
4 x 2048; QLoRA's NF4 bases count as LoRA), whose profile of a frozen base and its adapters
was counted in peft's, bitsandbytes' and torch's code, not fitted. Accuracy claims rest on
the held-out split; the fitted split only shows the fit.

FSDP2 training is measured per rank (``FSDPMemTracker`` on a fake process group), reported as
its own family. Its split was fixed before its terms were written: Qwen2.5-0.5B on two ranks
at 1 x 512 is ``fitted`` (the records the terms were checked against while counting them from
PyTorch's code; nothing was fitted), every other world size, shape and model ``held_out``.
The untied TinyLlama and the mixture of experts Qwen1.5-MoE came last: they showed two terms
missing (the backward pass through the blocks, the experts padded to a multiple of the ranks),
which were then counted from ``fully_shard``'s code, not fitted to them.

The recurrent hybrids (Qwen3-Next, Qwen3.6-27B, Qwen3.5-35B-A3B: gated DeltaNet layers between
full-attention ones) are held out at inference and decoding. Measured first, they showed the
layers' state kept in FP32 beside a whole convolution window, and the chunked delta rule's FP32
working set at prefill; both were then counted from transformers' code, not fitted to them.

What is counted and what is fitted: weights, gradients, optimizer states, master weights,
KV cache and logits follow from the model's sizes and the dtypes with no free coefficient.
The activation profiles (``data/activation_profiles.json``) were counted tensor by tensor in
transformers' modelling code, except the entries of :data:`FITTED`, which were set to match
the fitted split where a tensor-by-tensor count came short.
"""

from __future__ import annotations

import statistics

from ._data import load_json, path
from ._record import Record
from .errors import UnknownNameError
from .estimate import estimate, rule_of_thumb
from .i18n import N_
from .workload import Workload

_BARE = {"cuda_context": 0, "allocator_reserve": 0.0}

#: The two splits of the measurements, in the order reports list them.
SPLITS = ("fitted", "held_out")

#: Families of scenario reported apart: measured kind -> family (LoRA training apart).
FAMILIES = {
    "weights": "inference",
    "prefill": "inference",
    "generate": "decoding",
    "train": "training",
}
#: Every family of scenario, in the order reports list them: LoRA and FSDP2 training apart.
FAMILY_NAMES = (*dict.fromkeys(FAMILIES.values()), "LoRA", "FSDP2")

#: Activation-profile coefficients treated as fitted to the measurements: their profile's
#: derivation does not trace each of these tensors to the code. (profile id, path) -> what.
FITTED = {
    ("llama", "saved.h.act"): N_("a third h-sized tensor per layer beyond the two norm outputs"),
    ("llama", "amp.saved.h.fp32"): N_("FP32 residual copies under autocast (5)"),
    ("llama", "amp.saved.h.act"): N_("BF16 copies under autocast (2)"),
    ("llama", "logits.backward.fp32"): N_("a third FP32 logit-sized tensor in backward"),
    ("llama", "inference.h.act"): N_("the residual stream's four h-sized tensors at the peak"),
    ("gpt2", "saved.h.act"): N_("seven h-sized tensors per layer"),
    ("gpt2", "saved.f.act"): N_("five f-sized GELU intermediates"),
    ("gpt2", "inference.f.act"): N_("four f-sized temporaries at the inference peak"),
    ("gpt2", "amp.saved.h.fp32"): N_("FP32 copies under autocast (4)"),
    ("bert", "saved.h.act"): N_("seven h-sized tensors per layer"),
    ("bert", "amp.saved.h.fp32"): N_("FP32 copies under autocast (6)"),
}


#: Held-out records the model is known to miss, found by the held-out set and left unfitted:
#: (model, scenario label) -> the mechanism. The bounds apply to the other held-out records.
KNOWN_MISSES: dict[tuple[str, str], str] = {}


class Comparison(Record):
    """One measured scenario next to gpumem's estimate and the rule of thumb."""

    model: str
    scenario: str
    kind: str  # "weights", "prefill", "generate" or "train"
    measured_bytes: int
    estimate_bytes: int
    rule_bytes: int | None
    split: str = "fitted"

    lora: bool = False
    fsdp: bool = False

    @property
    def family(self) -> str:
        """The family of scenario: ``inference``, ``decoding``, ``training``, ``LoRA`` or
        ``FSDP2`` (per rank)."""
        if self.fsdp:
            return "FSDP2"
        return "LoRA" if self.lora else FAMILIES[self.kind]

    @property
    def known_miss(self) -> bool:
        """Whether this is one of the :data:`KNOWN_MISSES`."""
        return (self.model, self.scenario) in KNOWN_MISSES

    @property
    def error(self) -> float:
        """Relative error of the estimate: (estimate - measured) / measured."""
        return (self.estimate_bytes - self.measured_bytes) / self.measured_bytes

    @property
    def rule_error(self) -> float | None:
        """Relative error of the rule of thumb, where one applies."""
        if self.rule_bytes is None:
            return None
        return (self.rule_bytes - self.measured_bytes) / self.measured_bytes


def measurements() -> dict:
    """The committed measurements: ``{"provenance": {...}, "records": [...]}``."""
    return load_json(path("measurements.json"))


def workload(scenario: dict) -> Workload:
    """The workload a measured scenario ran (runtime overhead excluded), with the attention
    kernel it ran at inference: sdpa's math kernel where the scenario names it. gpumem models
    that kernel at inference only; a training step that ran it (DeepSeek-V2-Lite's, whose peak
    is the optimizer step, after attention's tensors are freed) is estimated with the fused
    kernel."""
    kind = scenario["mode"]
    if kind in ("weights", "prefill", "generate"):
        return Workload(
            dtype=scenario["dtype"],
            batch=max(scenario["batch"], 1),
            seq=scenario["seq"] or 1,
            new_tokens=scenario["new_tokens"] or None,
            logits=scenario["logits"],
            attention=scenario.get("attention", "flash"),
            **_BARE,
        )
    amp = scenario["amp"]
    return Workload(
        mode="training",
        dtype=amp or scenario.get("param_dtype") or scenario["dtype"],
        precision="amp" if amp else "mixed" if scenario.get("param_dtype") else "pure",
        batch=scenario["batch"],
        seq=scenario["seq"],
        checkpointing="full" if scenario["grad_checkpointing"] else "none",
        optimizer="adamw",
        optimizer_impl=scenario["optimizer"],
        lora_rank=scenario.get("lora_rank") or None,
        lora_targets=scenario.get("lora_targets"),
        adapter_dtype=scenario.get("adapter_dtype"),
        **_fsdp(scenario),
        **_BARE,
    )


def record_workload(record: dict) -> Workload:
    """The workload of a measured record: its scenario's, with the attention it was built with
    (eager where transformers refuses sdpa)."""
    work = workload(record["scenario"])
    if record.get("attn_implementation") == "eager":
        work = work.with_(attention="eager")
    return work


def _fsdp(scenario: dict) -> dict[str, object]:
    """The parallel settings of an FSDP2 scenario, measured per rank: ``world`` ranks of data
    parallelism, ``reshard_after_forward`` as ZeRO-3 (else ZeRO-2); a ``MixedPrecisionPolicy``
    computing in ``param_dtype`` is mixed precision. None without FSDP2."""
    if not scenario.get("world"):
        return {}
    return {
        "dp": scenario["world"],
        "zero": 3 if scenario["reshard_after_forward"] else 2,
        "fsdp": True,
    }


def _label(scenario: dict) -> str:
    parts = [scenario["mode"], scenario["dtype"]]
    if scenario["amp"]:
        parts.append(f"amp-{scenario['amp']}")
    if scenario["batch"]:
        new = f"+{scenario['new_tokens']}" if scenario["new_tokens"] else ""
        parts.append(f"{scenario['batch']}x{scenario['seq']}{new}")
    if scenario["logits"]:
        parts.append(f"logits={scenario['logits']}")
    if scenario.get("lora_rank"):
        parts.append(f"LoRA r={scenario['lora_rank']} {scenario['lora_targets']}")
        if scenario.get("adapter_dtype"):
            parts.append(f"adapters={scenario['adapter_dtype']}")
    if scenario.get("world"):
        stage = 3 if scenario["reshard_after_forward"] else 2
        parts.append(f"FSDP2 world={scenario['world']} ZeRO-{stage}")
        if scenario["param_dtype"]:
            parts.append(f"param_dtype={scenario['param_dtype']}")
    if scenario["grad_checkpointing"]:
        parts.append("checkpointing")
    if scenario["optimizer"]:
        parts.append(scenario["optimizer"])
    return " ".join(parts)


def compare(record: dict) -> Comparison:
    """gpumem's estimate and the rule of thumb for one measured record."""
    scenario = record["scenario"]
    kind = scenario["mode"]
    result = estimate(record["model"], record_workload(record))
    if kind == "weights":
        predicted = result.components["weights"]
        rule = None
    elif scenario.get("world"):  # per rank: the rule of thumb does not shard
        predicted = result.tensor_bytes
        rule = None
    else:
        predicted = result.tensor_bytes
        mode = "training" if kind == "train" else "inference"
        # the rule multiplies the stored weights: FP32 under autocast, whatever it computes in
        rule = rule_of_thumb(result.model.parameters, scenario["dtype"], mode)
    return Comparison(
        record["model"],
        _label(scenario),
        kind,
        record["peak_bytes"],
        predicted,
        rule,
        record["split"],
        bool(scenario.get("lora_rank")),
        bool(scenario.get("world")),
    )


def comparisons(split: str | None = None) -> list[Comparison]:
    """Every measured record that completed, compared; only those of ``split`` if given."""
    if split not in (None, *SPLITS):
        raise UnknownNameError("split", split, SPLITS)
    records = measurements()["records"]
    return [compare(r) for r in records if r.get("peak_bytes") and split in (None, r["split"])]


def by_family(rows: list[Comparison]) -> dict[tuple[str, str], list[Comparison]]:
    """``rows`` grouped by (family, split), families in the order of :data:`FAMILY_NAMES`."""
    groups: dict[tuple[str, str], list[Comparison]] = {}
    for family in FAMILY_NAMES:
        for split in SPLITS:
            found = [r for r in rows if r.family == family and r.split == split]
            if found:
                groups[family, split] = found
    return groups


def summary(rows: list[Comparison]) -> dict[str, float | None]:
    """Median, worst and best absolute relative error of gpumem (``median``, ``worst``,
    ``best``) and of the rule of thumb (``rule_median`` …); ``None`` where no row has one."""
    errors = [abs(r.error) for r in rows]
    rules = [abs(r.rule_error) for r in rows if r.rule_error is not None]
    figures: dict[str, float | None] = {}
    for prefix, values in (("", errors), ("rule_", rules)):
        figures[prefix + "median"] = statistics.median(values) if values else None
        figures[prefix + "worst"] = max(values) if values else None
        figures[prefix + "best"] = min(values) if values else None
    return figures
