"""How close gpumem comes to measured memory: the ``accuracy`` table and chart kinds, the
``accuracy-summary``, ``accuracy-families``, ``accuracy-fitted``, ``accuracy-misses`` and
``accuracy-twins`` tables and the ``accuracy``, ``twins``, ``measurement-fact`` and
``cuda-overhead`` role quantities.

Everything is read from :mod:`gpumem.validation` (the committed measurements and the
comparison of each with the estimate and the rule of thumb), so the page follows the data.
Errors are relative, ``(estimate − measured) ÷ measured``: negative means the estimate is short.
Every selection takes a split (``fitted``, ``held_out``; both by default): claims rest on the
held-out one; and a source (:data:`~gpumem.validation.SOURCES`: ``cpu``, the default, under
``FakeTensorMode``; ``cuda``, real tensors on a GPU).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from .._data import load_json, path
from ..catalog import catalog_entry, load_model
from ..errors import InvalidValueError, UnknownNameError
from ..estimate import rule_of_thumb_multiplier
from ..gguf import ggml_type, layout, storage, tensor_bytes
from ..i18n import N_
from ..offload import plan
from ..plotting import ErrorChart
from ..units import to_unit
from ..validation import (
    CPU_ONLY_BEHAVIOUR,
    CUDA_KNOWN_MISSES,
    FAMILY_NAMES,
    FITTED,
    KNOWN_MISSES,
    SOURCES,
    SPLITS,
    Comparison,
    by_family,
    compare,
    cuda_overheads,
    measurements,
    summary,
)
from ..workload import MODES
from .datatext import translated
from .formatting import (
    amount,
    chinese,
    format_int,
    format_size,
    join_names,
    percent,
    signed_percent,
    significant,
)
from .labels import kind_label, scenario_label
from .options import digits as digits_option
from .selection import Selection, Table
from .translation import gettext as _

#: Kinds of measured scenario, in the order tables list them.
KINDS = ("weights", "prefill", "generate", "train")
DASH = "—"
STATS = ("median", "worst", "best", "rule_median", "rule_worst", "rule_best")
COUNTS = ("count", "failed", "exact", "models", "known_misses")
#: Which measurements a figure counts: every one, or all but those set aside (:func:`aside`).
MISSES = ("with", "without")
#: The known misses of each source of measurements: (model, scenario label) -> mechanism.
KNOWN = {"cpu": KNOWN_MISSES, "cuda": CUDA_KNOWN_MISSES}


@dataclass(frozen=True)
class Entry:
    """One measured record: its model, scenario and, when it ran, the comparison."""

    model: str
    scenario: dict
    comparison: Comparison | None  # None when the run failed

    split: str

    @property
    def kind(self) -> str:
        return str(self.scenario["mode"])


@cache
def _all_entries(source: str = "cpu") -> tuple[Entry, ...]:
    return tuple(
        Entry(
            r["model"],
            r["scenario"],
            compare(r, source) if r.get("peak_bytes") else None,
            r["split"],
        )
        for r in measurements(source)["records"]
    )


def _check(name: str, values: Iterable[str], accepted: Iterable[str]) -> None:
    accepted = tuple(accepted)
    for value in values:
        if value not in accepted:
            raise UnknownNameError(name, value, accepted)


def entries(
    models: Iterable[str] = (),
    kinds: Iterable[str] = (),
    splits: Iterable[str] = (),
    source: str = "cpu",
) -> list[Entry]:
    """Measured records of ``source`` (``cpu`` or ``cuda``) of ``models`` (default: all, in the
    data's order), ``kinds`` and ``splits`` (default: both), grouped by model and ordered by
    kind within each model."""
    _check("source of measurements", [source], SOURCES)
    everything = _all_entries(source)
    measured = list(dict.fromkeys(e.model for e in everything))
    models, kinds = tuple(models) or tuple(measured), tuple(kinds) or KINDS
    splits = tuple(splits) or SPLITS
    _check("measured model", models, measured)
    _check("scenario kind", kinds, KINDS)
    _check("split", splits, SPLITS)
    chosen = [e for e in everything if e.model in models and e.kind in kinds and e.split in splits]
    return sorted(chosen, key=lambda e: (models.index(e.model), KINDS.index(e.kind)))


def _selected(selection: Selection) -> list[Entry]:
    return entries(selection.models, selection.kinds, selection.split, selection.source)


def accuracy_table(selection: Selection, language: str) -> Table:
    """One row per measured scenario: measured peak, gpumem and its error, the rule of thumb
    and its error. The model is named on the first row of its group."""
    unit = selection.unit
    header = [
        _("Model"),
        _("Scenario"),
        _("Measured ({unit})").format(unit=unit),
        _("gpumem ({unit})").format(unit=unit),
        _("Error"),
        _("Rule of thumb ({unit})").format(unit=unit),
        _("Error of the rule"),
    ]
    rows, previous = [], None
    for entry in _selected(selection):
        name = load_model(entry.model).name if entry.model != previous else ""
        previous = entry.model
        label = scenario_label(entry.scenario, language)
        c = entry.comparison
        if c is None:
            rows.append([name, label, _("did not run"), DASH, DASH, DASH, DASH])
            continue
        rule = DASH if c.rule_bytes is None else amount(c.rule_bytes, unit)
        rule_error = DASH if c.rule_error is None else signed_percent(c.rule_error, 1)
        rows.append(
            [
                name,
                label,
                amount(c.measured_bytes, unit),
                amount(c.estimate_bytes, unit),
                signed_percent(c.error, 2),
                rule,
                rule_error,
            ]
        )
    title = _("Measured peak against gpumem and the rule of thumb ({unit})").format(unit=unit)
    return title, header, rows


def aside(comparison: Comparison) -> bool:
    """Whether a figure "without the known misses" leaves this comparison out: a known miss,
    or a CPU training step of a model whose tensors there are not a GPU's
    (:data:`~gpumem.validation.CPU_ONLY_BEHAVIOUR`)."""
    return comparison.known_miss or comparison.cpu_only


def _figures(chosen: list[Entry], misses: str = "with") -> dict[str, float | int | None]:
    ran = [e.comparison for e in chosen if e.comparison is not None]
    if misses == "without":
        ran = [c for c in ran if not aside(c)]
    return {
        "count": len(ran),
        "failed": len(chosen) - len(ran),
        "exact": sum(c.estimate_bytes == c.measured_bytes for c in ran),
        "models": len({c.model for c in ran}),
        "known_misses": sum(c.known_miss for c in ran),
        **summary(ran),
    }


def accuracy_summary_table(selection: Selection, language: str) -> Table:
    """Per kind of scenario and for all: scenarios compared, median and worst absolute error
    of gpumem and of the rule of thumb."""
    chosen = _selected(selection)
    header = [
        _("Kind of scenario"),
        _("Scenarios compared"),
        _("gpumem: median |error|"),
        _("gpumem: worst |error|"),
        _("Rule of thumb: median |error|"),
        _("Rule of thumb: worst |error|"),
    ]

    def row(label: str, group: list[Entry]) -> list[str]:
        f = _figures(group)
        cells = [f[key] for key in ("median", "worst", "rule_median", "rule_worst")]
        return [label, format_int(int(f["count"]), language)] + [
            DASH if value is None else percent(float(value)) for value in cells
        ]

    kinds = [k for k in KINDS if any(e.kind == k for e in chosen)]
    rows = [row(kind_label(k), [e for e in chosen if e.kind == k]) for k in kinds]
    if len(kinds) > 1:
        rows.append(row(_("All"), chosen))
    return _("Absolute relative error of the estimates"), header, rows


def family_label(family: str) -> str:
    """A family of scenario (:data:`gpumem.validation.FAMILIES`, ``LoRA``, ``FSDP2``) in
    words."""
    return {
        "inference": _("Inference (weights, prefill)"),
        "decoding": _("Generation"),
        "training": _("Training step"),
        "LoRA": _("LoRA training step"),
        "FSDP2": _("FSDP2 training step, per rank"),
    }[family]


def split_label(split: str) -> str:
    """A split of the measurements in words: ``"held_out"`` → ``"Held out"``."""
    return {"fitted": _("Fitted"), "held_out": _("Held out")}[split]


def accuracy_families_table(selection: Selection, language: str) -> Table:
    """Per family of scenario and split: scenarios compared, median and worst absolute error
    of gpumem, and the worst without those set aside (:func:`aside`)."""
    ran = [e.comparison for e in _selected(selection) if e.comparison is not None]
    header = [
        _("Kind of scenario"),
        _("Split"),
        _("Scenarios compared"),
        _("gpumem: median |error|"),
        _("gpumem: worst |error|"),
        _("Worst, known misses and CPU-only steps aside"),
    ]
    rows = []
    for (family, split), group in by_family(ran).items():
        worst = [summary(g)["worst"] for g in (group, [c for c in group if not aside(c)])]
        rows.append(
            [
                family_label(family),
                split_label(split),
                format_int(len(group), language),
                percent(float(summary(group)["median"])),  # type: ignore[arg-type]
                *(DASH if w is None else percent(w) for w in worst),
            ]
        )
    return _("Absolute relative error by kind of scenario and split"), header, rows


def statistic(
    stat: str,
    models: Iterable[str] = (),
    kinds: Iterable[str] = (),
    splits: Iterable[str] = (),
    misses: str = "with",
    families: Iterable[str] = (),
    source: str = "cpu",
) -> float | int:
    """One figure of the comparison (see :data:`STATS` and :data:`COUNTS`); ``misses``
    ``"without"`` leaves those of :func:`aside` out; ``families`` (of
    :data:`~gpumem.validation.FAMILY_NAMES`) keep the scenarios of those families that ran;
    ``source`` picks the measurements."""
    _check("statistic", [stat], STATS + COUNTS)
    _check("misses", [misses], MISSES)
    families = tuple(families)
    _check("family", families, FAMILY_NAMES)
    chosen = entries(models, kinds, splits, source)
    if families:
        chosen = [e for e in chosen if e.comparison and e.comparison.family in families]
    value = _figures(chosen, misses)[stat]
    if value is None:
        raise InvalidValueError("stat", stat, "a statistic the selected scenarios have")
    return value


def accuracy(
    *,
    language: str,
    stat: str,
    kind: str | None = None,
    model: str | None = None,
    split: str | None = None,
    misses: str = "with",
    family: str | None = None,
    source: str = "cpu",
    digits: str = "2",
) -> str:
    """A figure of the comparison with measurements: ``accuracy stat=median`` → ``0.2%``.

    ``stat`` is ``median``, ``worst`` or ``best`` (absolute error of gpumem), the same with
    ``rule_`` in front (of the rule of thumb), ``count`` (scenarios compared), ``failed``
    (scenarios that did not run), ``exact`` (estimates equal to the byte), ``models``
    (models compared) or ``known_misses`` (those among the known misses); ``kind`` and
    ``model`` narrow the scenarios, ``split`` (``fitted`` or ``held_out``) and ``family``
    (e.g. ``FSDP2``) too; ``misses=without`` leaves the known misses and the CPU-only steps
    out; ``source=cuda``
    takes the measurements on a GPU; ``digits`` are significant digits.
    """
    value = statistic(
        stat,
        [model] if model else [],
        [kind] if kind else [],
        [split] if split else [],
        misses,
        [family] if family else [],
        source,
    )
    if stat in COUNTS:
        return format_int(int(value), language)
    return percent(float(value), digits_option(digits, high=6, low=1))


def fitted_table(selection: Selection, language: str) -> Table:
    """The activation coefficients fitted to the measurements rather than counted."""
    header = [_("Activation profile"), _("Coefficient"), _("What it stands for")]
    rows = [[profile, key, translated(what)] for (profile, key), what in FITTED.items()]
    return _("Coefficients fitted to the fitted split"), header, rows


def misses_table(selection: Selection, language: str) -> Table:
    """The scenarios of the selection's source gpumem is known to miss, with the error and
    its cause."""
    known = KNOWN[selection.source]
    header = [_("Model"), _("Scenario"), _("Error"), _("Cause")]
    rows = [
        [
            load_model(e.model).name,
            scenario_label(e.scenario, language),
            signed_percent(e.comparison.error, 1),
            translated(known[e.model, e.comparison.scenario]),
        ]
        for e in _selected(selection)
        if e.comparison is not None and e.comparison.known_miss
    ]
    return _("Known misses"), header, rows


def cpu_only_table(selection: Selection, language: str) -> Table:
    """The models whose training steps keep other tensors on the CPU than on a GPU: why, how
    many such steps were measured and gpumem's error on them."""
    header = [_("Model"), _("Why"), _("Training steps"), _("Error")]
    rows = []
    for model, why in CPU_ONLY_BEHAVIOUR.items():
        steps = [e.comparison for e in _selected(selection) if e.comparison and e.model == model]
        steps = [c for c in steps if c.cpu_only]
        if steps:
            errors = [c.error for c in steps]
            rows.append(
                [
                    load_model(model).name,
                    translated(why),
                    format_int(len(steps), language),
                    _range(errors),
                ]
            )
    return _("Training steps that keep other tensors on the CPU"), header, rows


# The same scenarios on the CPU and on a GPU -----------------------------------------------------

#: Twins whose tensor peaks differ by no more than this fraction agree.
TWIN_TOLERANCE = 0.005
#: Figures of the twins: scenarios that ran on both, those that agree, those that differ, and
#: the tolerance.
TWIN_STATS = ("count", "agree", "differ", "tolerance")
#: Why a twin's peaks differ, as far as it has been traced.
CAUSES = {
    "math_on_gpu": N_(
        "sdpa's math kernel on the GPU, which keeps the attention scores and probabilities: "
        "FlashAttention takes 16-bit inputs only and the memory-efficient kernel no "
        "grouped-query heads, so an FP32 step of a grouped-query model falls back to it; "
        "the CPU's fused kernel took it"
    ),
    "math_on_cpu": N_(
        "sdpa's math kernel on the CPU, where the value heads are narrower than the query and "
        "key heads; on the GPU the memory-efficient kernel took them and keeps no scores"
    ),
    "autocast": N_(
        "the two autocast policies differ: pow and layer norm run in FP32 under CUDA's only "
        "(GPT-2's tanh GELU keeps FP32 intermediates on the GPU), cross-entropy under the "
        "CPU's only (BERT's loss keeps other copies of the logits)"
    ),
    "dropout": N_(
        "dropout masks: one byte per element on the GPU, the activation's type on the CPU"
    ),
    "untraced": N_("not traced yet"),
}
#: Configuration keys of a hidden dropout (in training the masks are kept for backward).
DROPOUT_KEYS = ("resid_pdrop", "embd_pdrop", "hidden_dropout_prob")


@dataclass(frozen=True)
class Twin:
    """One scenario measured under ``FakeTensorMode`` on the CPU and with real tensors on a
    GPU, both runs complete: the two tensor peaks."""

    model: str
    scenario: dict  # the GPU record's
    cpu_bytes: int
    cuda_bytes: int
    causes: tuple[str, ...]  # keys of CAUSES, for twins that differ

    @property
    def difference(self) -> float:
        """The GPU's peak against the CPU's: ``cuda / cpu − 1``."""
        return self.cuda_bytes / self.cpu_bytes - 1

    @property
    def agree(self) -> bool:
        """Whether the peaks are within :data:`TWIN_TOLERANCE` of each other."""
        return abs(self.difference) <= TWIN_TOLERANCE


def _hidden_dropout(model: str) -> bool:
    config = catalog_entry(model)["config"]
    return any(float(config.get(key) or 0) > 0 for key in DROPOUT_KEYS)


def _causes(model: str, cpu: dict, cuda: dict) -> tuple[str, ...]:
    """Why the two runs of a scenario can differ: the attention kernel each ran, autocast,
    dropout masks kept for backward."""
    found = []
    if cpu.get("attention") != cuda.get("attention"):
        found.append("math_on_gpu" if cuda.get("attention") == "math" else "math_on_cpu")
    training = cuda["mode"] == "train"
    if training and cuda["amp"]:
        found.append("autocast")
    if training and _hidden_dropout(model):
        found.append("dropout")
    return tuple(found) or ("untraced",)


@cache
def twins() -> tuple[Twin, ...]:
    """Every scenario that ran both on the CPU and on the GPU, in the GPU file's order."""
    cpu = {(e.model, e.comparison.scenario): e for e in _all_entries("cpu") if e.comparison}
    found = []
    for entry in _all_entries("cuda"):
        c = entry.comparison
        twin = cpu.get((entry.model, c.scenario)) if c else None
        if twin is not None and twin.comparison is not None and c is not None:
            causes = _causes(entry.model, twin.scenario, entry.scenario)
            found.append(
                Twin(
                    entry.model,
                    entry.scenario,
                    twin.comparison.measured_bytes,
                    c.measured_bytes,
                    causes,
                )
            )
    return tuple(found)


def twins_figure(*, language: str, stat: str, digits: str = "2") -> str:
    """A figure of the scenarios measured on both the CPU and the GPU: ``twins stat=agree`` →
    ``183``; ``stat`` is one of :data:`TWIN_STATS`."""
    _check("statistic", [stat], TWIN_STATS)
    if stat == "tolerance":
        return percent(TWIN_TOLERANCE, digits_option(digits, high=6, low=1))
    everything = twins()
    agree = sum(t.agree for t in everything)
    value = {"count": len(everything), "agree": agree, "differ": len(everything) - agree}[stat]
    return format_int(value, language)


def _range(values: list[float]) -> str:
    low, high = min(values), max(values)
    if signed_percent(low, 1) == signed_percent(high, 1):
        return signed_percent(low, 1)
    return f"{signed_percent(low, 1)} … {signed_percent(high, 1)}"


def twins_table(selection: Selection, language: str) -> Table:
    """The twins whose peaks differ, grouped by why: the models, how many, and the GPU's
    peak against the CPU's."""
    groups: dict[tuple[str, ...], list[Twin]] = {}
    for twin in twins():
        if not twin.agree:
            groups.setdefault(twin.causes, []).append(twin)
    header = [_("Why"), _("Models"), _("Scenarios"), _("GPU against the CPU")]
    rows = []
    for causes, group in groups.items():
        models = list(dict.fromkeys(load_model(t.model).name for t in group))
        rows.append(
            [
                ("；" if chinese(language) else "; ").join(translated(CAUSES[c]) for c in causes),
                join_names(models, language),
                format_int(len(group), language),
                _range([t.difference for t in group]),
            ]
        )
    return _("Tensor peaks that differ between the CPU and the GPU"), header, rows


# Overheads measured on the GPU ----------------------------------------------------------------


#: Figures of :func:`gpumem.validation.cuda_overheads` that count records, not bytes.
OVERHEAD_COUNTS = ("overhead_records",)


def _overheads() -> dict[str, int | float]:
    figures = dict(cuda_overheads())
    figures["driver_share"] = figures["nvidia_smi_total"] - figures["device_total"]
    return figures


def cuda_overhead(*, language: str, key: str, unit: str, digits: str = "2") -> str:
    """A runtime overhead measured on the GPU (:func:`gpumem.validation.cuda_overheads`, and
    ``driver_share``: what nvidia-smi counts beyond cudaMemGetInfo's total): bytes in
    ``unit``, fractions as percentages, :data:`OVERHEAD_COUNTS` as counts:
    ``cuda-overhead key=cublas_workspace unit=MiB`` → ``32 MiB``."""
    figures = _overheads()
    _check("overhead", [key], figures)
    value = figures[key]
    if key in OVERHEAD_COUNTS:
        return format_int(int(value), language)
    if isinstance(value, float):
        return percent(value, digits_option(digits, high=6, low=1))
    return format_size(value, unit, digits_option(digits, high=6, low=0))


#: Fields of a measurements file's provenance a page can print.
FACTS = (
    "device_name",
    "compute_capability",
    "torch",
    "cuda",
    "driver",
    "transformers",
    "peft",
    "date",
)


def measurement_fact(*, language: str, key: str, source: str = "cuda") -> str:
    """A field of a measurements file's provenance: ``measurement-fact key=device_name`` →
    ``NVIDIA H200``; ``key`` is one of :data:`FACTS`."""
    _check("source of measurements", [source], SOURCES)
    _check("provenance field", [key], FACTS)
    provenance = measurements(source)["provenance"]
    if key not in provenance:
        raise InvalidValueError("key", key, f"a field the {source} measurements record")
    return str(provenance[key])


# The chart ------------------------------------------------------------------------------------

#: Marker of each kind of scenario on the chart.
MARKERS = {"weights": "D", "prefill": "o", "generate": "s", "train": "^"}


def rule_label() -> str:
    """The rule of thumb with its multipliers: ``"Rule of thumb (×1.2 inference, ×2 training)"``."""
    return _("Rule of thumb (×{inference} inference, ×{training} training)").format(
        **{mode: significant(rule_of_thumb_multiplier(mode), 2) for mode in MODES}
    )


def accuracy_chart(selection: Selection, language: str) -> tuple[ErrorChart, str]:
    """Error of gpumem and of the rule of thumb against the measured peak, per scenario."""
    unit = selection.unit
    chosen = [e for e in _selected(selection) if e.comparison is not None]
    kinds = [k for k in KINDS if any(e.kind == k for e in chosen)]
    points = []
    for estimator in (0, 1):
        for entry in chosen:
            c = entry.comparison
            error = c.error if estimator == 0 else c.rule_error
            if error is not None:
                x = to_unit(c.measured_bytes, unit)
                points.append((x, round(100 * error, 6), estimator, kinds.index(entry.kind)))
    figure = ErrorChart(
        points=tuple(points),
        estimators=("gpumem", rule_label()),
        kinds=tuple((kind_label(k), MARKERS[k]) for k in kinds),
        xlabel=_("Measured peak ({unit})").format(unit=unit),
        ylabel=_("Error of the estimate"),
    )
    models = list(dict.fromkeys(load_model(e.model).name for e in chosen))
    alt = _(
        "Scatter chart of the relative error of gpumem and of the rule of thumb against the "
        "measured peak, for {count} scenarios of {models}."
    ).format(count=len(chosen), models=join_names(models, language))
    return figure, alt


# llama.cpp's own buffers ----------------------------------------------------------------------


@dataclass(frozen=True)
class LlamaCppCheck:
    """One load by llama.cpp (``data/llamacpp_measurements.json``) next to gpumem's figures."""

    record: dict
    weights_bytes: int  # from the tensors' shapes and ggml block sizes
    kv_bytes: int  # offload.plan with every layer on the CPU
    compute_bytes: int

    @property
    def split(self) -> str:
        return "held_out" if self.record["held_out"] else "fitted"

    @property
    def weights_exact(self) -> bool:
        """Equal to ``llama_model_size()``, to the byte."""
        return self.weights_bytes == self.record["model_size"]

    @property
    def kv_exact(self) -> bool:
        """Equal to the KV cache llama.cpp prints, in MiB to two decimals."""
        printed = sum(
            self.record[k]["mib"]
            for k in ("kv_cache", "kv_cache_swa", "recurrent_state")
            if k in self.record
        )
        return f"{self.kv_bytes / 2**20:.2f}" == f"{printed:.2f}"

    @property
    def compute_error(self) -> float:
        """Relative error of the compute buffer against the figure printed to four decimals."""
        return self.compute_bytes / (self.record["compute_buffer_exact"]["CPU"] * 2**20) - 1


@cache
def llamacpp_checks() -> tuple[LlamaCppCheck, ...]:
    """Every llama.cpp record, checked."""
    checks = []
    for r in load_json(path("llamacpp_measurements.json"))["records"]:
        spec = load_model(r["model"]).with_(**r.get("shape", {}))  # as the file was written
        tensors = layout(spec)
        weights = sum(tensor_bytes(ggml_type(storage(n, r["weights"])), s) for n, s in tensors)
        cpu = plan(  # -ngl 0: the CPU holds everything, the GPU named is left empty
            spec,
            ["rtx-4090"],
            ctx=r["n_ctx"],
            batch=r["n_batch"],
            ubatch=r["n_ubatch"],
            kv_dtype=r["kv_type"],
            flash_attn=r["flash_attn"],
            swa_full=r.get("swa_full", False),
            dtype="fp16",
            ngl=0,
            n_cpu_moe=0,
        ).devices[-1]
        checks.append(LlamaCppCheck(r, weights, cpu.kv_bytes, cpu.compute_bytes))
    return tuple(checks)


#: Figures of the llama.cpp comparison: loads compared, weights and KV caches equal to
#: llama.cpp's, median and worst absolute error of the compute buffer.
LLAMACPP_STATS = ("count", "weights_exact", "kv_exact", "compute_median", "compute_worst")


def _llamacpp_figures(checks: list[LlamaCppCheck]) -> dict[str, int | float]:
    errors = [abs(c.compute_error) for c in checks]
    return {
        "count": len(checks),
        "weights_exact": sum(c.weights_exact for c in checks),
        "kv_exact": sum(c.kv_exact for c in checks),
        "compute_median": statistics.median(errors),
        "compute_worst": max(errors),
    }


def _llamacpp_selected(splits: Iterable[str]) -> list[LlamaCppCheck]:
    splits = tuple(splits) or SPLITS
    _check("split", splits, SPLITS)
    return [c for c in llamacpp_checks() if c.split in splits]


def _llamacpp_header() -> list[str]:
    """Headers of the figures of :func:`_llamacpp_cells`, after the split."""
    return [
        _("Split"),
        _("Loads compared"),
        _("Weights equal to the byte"),
        _("KV cache equal to the MiB printed"),
        _("Compute buffer: median |error|"),
        _("Compute buffer: worst |error|"),
    ]


def _llamacpp_cells(split: str, checks: list[LlamaCppCheck], language: str) -> list[str]:
    """One row's cells: the split, the loads, the exact counts and the compute buffer's error."""
    f = _llamacpp_figures(checks)
    return [
        split_label(split),
        *(format_int(int(f[key]), language) for key in LLAMACPP_STATS[:3]),
        percent(float(f["compute_median"])),
        percent(float(f["compute_worst"])),
    ]


def llamacpp_table(selection: Selection, language: str) -> Table:
    """Per split: llama.cpp loads compared, weights and KV caches equal to what llama.cpp
    reports, and the median and worst error of the compute buffer."""
    rows = [
        _llamacpp_cells(split, _llamacpp_selected([split]), language)
        for split in selection.split or SPLITS
    ]
    return _("gpumem against the buffers llama.cpp reports"), _llamacpp_header(), rows


def llamacpp_models_table(selection: Selection, language: str) -> Table:
    """Per model (as its files were written, layers shown) and split: the same figures as
    :func:`llamacpp_table`."""
    groups: dict[tuple[str, str], list[LlamaCppCheck]] = {}
    for check in llamacpp_checks():
        if check.split in (selection.split or SPLITS):
            groups.setdefault((check.record["model"], check.split), []).append(check)
    rows = []
    for (model, split), checks in groups.items():
        spec = load_model(model).with_(**checks[0].record.get("shape", {}))
        name = _("{name}, {n} layers").format(name=spec.name, n=format_int(spec.n_layers, language))
        rows.append([name, *_llamacpp_cells(split, checks, language)])
    header = [_("Model"), *_llamacpp_header()]
    return _("gpumem against the buffers llama.cpp reports, by model"), header, rows


def llamacpp(*, language: str, stat: str, split: str | None = None, digits: str = "2") -> str:
    """A figure of the comparison with llama.cpp's own buffers: ``llamacpp stat=count`` → ``40``;
    ``stat`` is one of :data:`LLAMACPP_STATS`, ``split`` narrows the loads."""
    _check("statistic", [stat], LLAMACPP_STATS)
    value = _llamacpp_figures(_llamacpp_selected([split] if split else []))[stat]
    if stat.startswith("compute"):
        return percent(float(value), digits_option(digits, high=6, low=1))
    return format_int(int(value), language)


TABLES: dict[str, Callable[[Selection, str], Table]] = {
    "accuracy": accuracy_table,
    "accuracy-summary": accuracy_summary_table,
    "accuracy-families": accuracy_families_table,
    "accuracy-fitted": fitted_table,
    "accuracy-misses": misses_table,
    "accuracy-cpu-only": cpu_only_table,
    "accuracy-twins": twins_table,
    "llamacpp-summary": llamacpp_table,
    "llamacpp-models": llamacpp_models_table,
}
QUANTITIES: dict[str, Callable[..., str]] = {
    "accuracy": accuracy,
    "llamacpp": llamacpp,
    "twins": twins_figure,
    "cuda-overhead": cuda_overhead,
    "measurement-fact": measurement_fact,
}
CHARTS: dict[str, Callable[[Selection, str], tuple[ErrorChart, str]]] = {
    "accuracy": accuracy_chart,
}
