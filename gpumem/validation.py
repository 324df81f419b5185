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
the fitted split where a tensor-by-tensor count came short. Where PyTorch keeps other tensors
on the CPU than on a GPU (a dropout's noise for its one-byte mask, CPU autocast's lists for
CUDA's), the profiles follow CUDA, and the CPU training records of the models in
:data:`CPU_ONLY_BEHAVIOUR` are compared but held to no bound.

The CUDA set (``data/cuda_measurements.json``, ``source="cuda"``): the same harness with real
tensors on one NVIDIA H200 (``python -m gpumem.measure --device cuda``): MemTracker's tensor
bytes, each storage rounded up to the caching allocator's 512-byte blocks as MemTracker does on
CUDA, beside the allocator's own statistics. Every CUDA record is held out from any fitting:
none was in view when a coefficient was counted or fitted, except the default-grid rows of GPT-2
and Qwen2.5-0.5B, which repeat fitted scenarios and stay ``fitted``. The CPU records remain the
basis of the fitted and held-out splits; the CUDA set checks them on a real GPU. Measured
first, it showed four things the CPU records could not, each then counted from PyTorch's or
transformers' code, not fitted: sdpa's math kernel in training (PyTorch's choice on CUDA for
FP32 attention with grouped K/V heads: the FP32 LoRA grids, Qwen2.5-0.5B's FP32 step; -49 %
at worst before), CUDA's one-byte dropout masks, its autocast's FP32 ``pow`` (GPT-2's tanh
GELU) and its loss on BF16 logits (BERT), and Gemma 3's layer (its FP32 norms, a profile of
its own). On those terms the records that showed them are no longer a blind test.
:data:`CUDA_KNOWN_MISSES` names the held-out CUDA records gpumem misses by more than 5 % and
why; :func:`cuda_overheads` what the device holds beyond the tensors.
"""

from __future__ import annotations

import statistics

from ._data import load_json, path
from ._record import Record
from .errors import UnknownNameError
from .estimate import estimate, rule_of_thumb
from .i18n import N_
from .workload import DEFAULT_ALLOCATOR_RESERVE, DEFAULT_CUDA_CONTEXT, Workload

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
    ("gpt2", "inference.f.act"): N_("four f-sized temporaries at the inference peak"),
    ("bert", "amp.saved.h.fp32"): N_(
        "24 bytes per h-sized element under autocast beside the dropout masks (6 x FP32)"
    ),
}

#: Models whose training keeps other tensors on the CPU than on a GPU, which the profiles
#: follow: model -> the mechanism. Their CPU training records stay listed but are held to no
#: bound; their CUDA records are.
CPU_ONLY_BEHAVIOUR: dict[str, str] = {
    "gpt2": N_(
        "On the CPU PyTorch keeps a dropout's noise in the activation dtype, on CUDA a one-byte "
        "mask, and CPU autocast leaves pow in BF16, which CUDA's runs in FP32: GPT-2's hidden "
        "dropouts and tanh GELU keep other tensors in training on the CPU than on a GPU"
    ),
    "bert-base-uncased": N_(
        "On the CPU PyTorch keeps a dropout's noise in the activation dtype, on CUDA a one-byte "
        "mask, and CPU autocast computes the whole cross-entropy in FP32, where CUDA's keeps the "
        "log-softmax in BF16 and copies it to FP32 for nll_loss: BERT's hidden dropouts and loss "
        "keep other tensors in training on the CPU than on a GPU"
    ),
}


#: Held-out records the model is known to miss, found by the held-out set and left unfitted:
#: (model, scenario label) -> the mechanism. The bounds apply to the other held-out records.
KNOWN_MISSES: dict[tuple[str, str], str] = {}

#: The files of measurements: source -> file in ``gpumem/data``. ``cpu``: fake tensors under
#: FakeTensorMode; ``cuda``: real tensors on one NVIDIA H200.
SOURCES = {"cpu": "measurements.json", "cuda": "cuda_measurements.json"}

#: Held-out CUDA records gpumem misses by more than 5 %: (model, scenario label) -> the
#: mechanism. Each stays listed until the model accounts for it.
CUDA_KNOWN_MISSES: dict[tuple[str, str], str] = {}

#: Records whose memory allocated before the measured block beyond its tensors (memory of
#: earlier models not yet collected, the cuBLAS workspaces) is at most this fraction of the
#: allocator's peak count in :func:`cuda_overheads`' allocator figures.
STALE_FRACTION = 0.05


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
    source: str = "cpu"

    @property
    def family(self) -> str:
        """The family of scenario: ``inference``, ``decoding``, ``training``, ``LoRA`` or
        ``FSDP2`` (per rank)."""
        if self.fsdp:
            return "FSDP2"
        return "LoRA" if self.lora else FAMILIES[self.kind]

    @property
    def known_miss(self) -> bool:
        """Whether this is one of the :data:`KNOWN_MISSES` (:data:`CUDA_KNOWN_MISSES` for a
        CUDA record)."""
        misses = CUDA_KNOWN_MISSES if self.source == "cuda" else KNOWN_MISSES
        return (self.model, self.scenario) in misses

    @property
    def cpu_only(self) -> bool:
        """Whether this is a CPU training step of a model in :data:`CPU_ONLY_BEHAVIOUR`."""
        return self.source == "cpu" and self.kind == "train" and self.model in CPU_ONLY_BEHAVIOUR

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


def measurements(source: str = "cpu") -> dict:
    """The committed measurements of ``source`` (a key of :data:`SOURCES`):
    ``{"provenance": {...}, "records": [...]}``."""
    if source not in SOURCES:
        raise UnknownNameError("source", source, SOURCES)
    return load_json(path(SOURCES[source]))


def workload(scenario: dict) -> Workload:
    """The workload a measured scenario ran (runtime overhead excluded), with the attention
    kernel it ran: sdpa's math kernel where the scenario names it, at inference and in
    training (FP32 with grouped KV heads on CUDA, which no fused kernel takes: the LoRA grids
    of Qwen2.5-0.5B and Llama-3.2-1B, Qwen2.5-0.5B's full FP32 step; on the CPU
    DeepSeek-V2-Lite, whose peak is the optimizer step)."""
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
        attention=scenario.get("attention", "flash"),
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


def compare(record: dict, source: str = "cpu") -> Comparison:
    """gpumem's estimate and the rule of thumb for one measured record of ``source``."""
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
        source,
    )


def comparisons(split: str | None = None, source: str = "cpu") -> list[Comparison]:
    """Every measured record of ``source`` (a key of :data:`SOURCES`) that completed, compared;
    only those of ``split`` if given."""
    if split not in (None, *SPLITS):
        raise UnknownNameError("split", split, SPLITS)
    records = measurements(source)["records"]
    return [
        compare(r, source) for r in records if r.get("peak_bytes") and split in (None, r["split"])
    ]


def _block(record: dict) -> tuple[int, int]:
    """(stale, allocator peak) of a completed CUDA record, in bytes. Stale: what the allocator
    held at the block's start beyond the tracked tensors (``memory_allocated_at_start`` less the
    first phase's ``start_bytes``). Allocator peak: the tracked tensors at the start plus the
    allocator's increase over the block, comparable with MemTracker's ``peak_bytes``."""
    cuda = record["cuda"]
    start = next(iter(record["phases"].values()))["start_bytes"]
    increase = cuda["max_memory_allocated"] - cuda["memory_allocated_at_start"]
    return cuda["memory_allocated_at_start"] - start, start + increase


def cuda_overheads() -> dict[str, float | int]:
    """What the H200 of the CUDA set holds beyond the tensors, in bytes unless said.

    ``device_total``: ``cudaMemGetInfo``'s total; ``nvidia_smi_total``: nvidia-smi's total
    (MiB x 2**20). ``context_after_init``: memory outside the caching allocator right after CUDA
    initialisation; ``context_after_matmuls``: the same after the first BF16 and FP32 matrix
    products; ``context_max``: the most outside the allocator after any measured scenario.
    ``cublas_workspace``: one cuBLAS workspace, allocated through the allocator before the
    measured blocks (no tensor holds it). ``default_context`` and ``default_reserve``: the
    workload's defaults (``DEFAULT_CUDA_CONTEXT``, ``DEFAULT_ALLOCATOR_RESERVE``) beside them.

    The allocator's figures count the completed records whose stale memory (what the allocator
    held at the start beyond the tracked tensors: earlier models not yet collected, the cuBLAS
    workspaces) is at most :data:`STALE_FRACTION` of ``max_memory_allocated``
    (``overhead_records`` of them): stale memory dilutes the reserve ratio, and when Python
    collects it during the block the allocator's increase shrinks. ``reserve_median``,
    ``reserve_worst``: ``max_memory_reserved / max_memory_allocated - 1`` (a fraction).
    ``allocator_over_tensors_median``, ``_worst``: the allocator's peak for the block (the
    first phase's ``start_bytes`` plus ``max_memory_allocated - memory_allocated_at_start``)
    less MemTracker's ``peak_bytes``: memory allocated for no tracked tensor (kernel
    workspaces allocated within the block), median (the lower middle value) and largest.
    """
    doc = measurements("cuda")
    provenance, records = doc["provenance"], doc["records"]
    done = [r for r in records if r.get("peak_bytes") and r.get("cuda")]
    kept = [r for r in done if _block(r)[0] <= STALE_FRACTION * r["cuda"]["max_memory_allocated"]]
    reserve = [
        r["cuda"]["max_memory_reserved"] / r["cuda"]["max_memory_allocated"] - 1 for r in kept
    ]
    over = [_block(r)[1] - r["peak_bytes"] for r in kept]
    return {
        "device_total": provenance["mem_get_info_total_bytes"],
        "nvidia_smi_total": provenance["nvidia_smi_total_mib"] * 2**20,
        "context_after_init": provenance["context_bytes_after_init"],
        "context_after_matmuls": provenance["non_allocator_bytes_after_first_matmuls"],
        "context_max": max(r["cuda"]["non_allocator_bytes"] for r in done),
        "cublas_workspace": provenance["cublas_workspace_bytes"],
        "reserve_median": statistics.median(reserve),
        "reserve_worst": max(reserve),
        "allocator_over_tensors_median": statistics.median_low(over),
        "allocator_over_tensors_worst": max(over),
        "overhead_records": len(kept),
        "default_context": DEFAULT_CUDA_CONTEXT,
        "default_reserve": DEFAULT_ALLOCATOR_RESERVE,
    }


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
