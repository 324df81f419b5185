"""The kinds of ``gpumem-chart``: each takes a :class:`Selection` and the page's language and
returns the chart (labels in that language) and its alternative text.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import vocabulary
from ..catalog import load_model
from ..errors import InvalidValueError
from ..estimate import formula_values, rule_of_thumb
from ..hardware import GPU, get_gpu
from ..plotting import PALETTE, BarChart, Chart, LineChart, ScatterChart, StackedBarChart
from ..precision import weight_bytes
from ..speed import attainable_flops, decode_intensity, dense_peak_tflops, ridge_point
from ..units import to_unit
from .formatting import format_count, format_int, join_names, significant
from .labels import (
    COMPONENT_COLOURS,
    component_label,
    dtype_label,
    short_gpu_name,
    workload_label,
)
from .options import without
from .selection import Selection, run_estimate
from .translation import gettext as _

DEFAULT_GPUS = ("rtx-4090", "l40s", "a100-80gb", "h100-sxm", "h200", "b200")
#: NVIDIA data-centre GPUs, oldest first: the default of ``memory-wall``.
DATA_CENTRE = ("v100-16gb", "a100-40gb", "h100-sxm", "h200", "b200")
ROOFLINE_GPUS = ("rtx-4090", "a100-80gb", "h100-sxm", "b200")


def weights_chart(selection: Selection, language: str) -> tuple[Chart, str]:
    """Memory of the weights per parameter count and precision, against the memory of GPUs."""
    gpus = [get_gpu(name) for name in selection.gpus or DEFAULT_GPUS]
    figure = BarChart(
        categories=tuple(format_count(p, language) for p in selection.params),
        series=tuple(
            (
                dtype_label(group),
                tuple(to_unit(weight_bytes(p, group[0]), selection.unit) for p in selection.params),
            )
            for group in selection.dtypes
        ),
        lines=tuple((gpu.name, to_unit(gpu.memory_bytes, selection.unit)) for gpu in gpus),
        xlabel=_("Parameters"),
        ylabel=_("Memory of the weights ({unit})").format(unit=selection.unit),
    )
    alt = _(
        "Bar chart of the memory of the weights by parameter count and precision, "
        "with dashed lines at the memory of {gpus}."
    ).format(gpus=join_names([g.name for g in gpus], language))
    return figure, alt


def _gpu_lines(selection: Selection, unit: str) -> tuple[tuple[str, float], ...]:
    return tuple((get_gpu(g).name, to_unit(get_gpu(g).memory_bytes, unit)) for g in selection.gpus)


def breakdown_chart(selection: Selection, language: str) -> tuple[Chart, str]:
    """Stacked components of one model's peak, one bar per workload."""
    model, unit = selection.one_model, selection.unit
    estimates = [run_estimate(model, spec) for spec in selection.workloads]
    present = [c for c in vocabulary.COMPONENTS if any(c in e.components for e in estimates)]
    pairs = zip(selection.workloads, estimates, strict=True)
    figure = StackedBarChart(
        categories=tuple(workload_label(s, language, e.workload) for s, e in pairs),
        series=tuple(
            (
                component_label(c),
                tuple(to_unit(e.components.get(c, 0), unit) for e in estimates),
                COMPONENT_COLOURS[c],
            )
            for c in present
        ),
        lines=_gpu_lines(selection, unit),
        ylabel=_("Memory per GPU ({unit})").format(unit=unit),
    )
    alt = _("Stacked bar chart of the memory of {model} by component for each workload.").format(
        model=estimates[0].model.name
    )
    return figure, alt


def _log_range(low: int, high: int) -> list[int]:
    """Powers of two from ``low`` up to ``high``, ``high`` itself included."""
    values, n = [], low
    while n < high:
        values.append(n)
        n *= 2
    return [*values, high]


def _token_ticks(values: list[int], language: str) -> tuple[tuple[float, str], ...]:
    """Ticks at the powers of two (every other one when there are many): ``1,024``, …"""
    powers = sorted({v for v in values if v & (v - 1) == 0})
    if len(powers) > 7:
        powers = powers[::-1][::2][::-1]
    return tuple((v, format_int(v, language)) for v in powers)


def kv_cache_chart(selection: Selection, language: str) -> tuple[Chart, str]:
    """KV cache against context length per model (and per KV format), log x."""
    unit, spec = selection.unit, without(selection.workload, "mode", "seq")
    kv_formats = [g[0] for g in selection.dtypes] if "dtypes" in selection.given else [None]
    series, styles, colours, every = [], [], [], []
    for i, model in enumerate(selection.some_models):
        m = load_model(model)
        seqs = [s for s in selection.seqs if s <= m.max_context] or _log_range(512, m.max_context)
        every += seqs
        for j, kv in enumerate(kv_formats):
            changes = {"kv_dtype": kv} if kv else {}
            ys = tuple(
                to_unit(
                    run_estimate(model, spec, seq=s, **changes).components.get("kv_cache", 0), unit
                )
                for s in seqs
            )
            label = m.name if kv is None else f"{m.name}, {dtype_label((kv,))}"
            series.append((label, tuple(float(s) for s in seqs), ys))
            styles.append("--" if j else "-")
            colours.append(PALETTE[i % len(PALETTE)])
    figure = LineChart(
        series=tuple(series),
        xlabel=_("Context length (tokens)"),
        ylabel=_("KV cache per sequence ({unit})").format(unit=unit),
        logx=True,
        styles=tuple(styles),
        colours=tuple(colours),
        xticks=_token_ticks(sorted(set(every)), language),
    )
    names = join_names([load_model(m).name for m in selection.models], language)
    alt = _("Line chart of the KV cache against context length for {models}.").format(models=names)
    return figure, alt


def activations_chart(selection: Selection, language: str) -> tuple[Chart, str]:
    """Saved activations of one training step against sequence length, fused vs eager."""
    model, unit = selection.one_model, selection.unit
    spec = without(selection.workload, "seq", "attention", "mode")
    m = load_model(model)
    top = min(m.max_context, 16384)
    seqs = [s for s in selection.seqs if s <= m.max_context] or [top * k // 8 for k in range(1, 9)]
    series = []
    for attention, label in (("flash", _("Fused attention")), ("eager", _("Eager attention"))):
        ys = []
        for s in seqs:
            result = run_estimate(model, spec, seq=s, attention=attention, mode="training")
            values = formula_values(result.model, result.workload)
            ys.append(to_unit(values["activations_training"], unit))
        series.append((label, tuple(float(s) for s in seqs), tuple(ys)))
    figure = LineChart(
        series=tuple(series),
        xlabel=_("Sequence length (tokens)"),
        ylabel=_("Saved activations ({unit})").format(unit=unit),
        styles=("o-", "o-"),
        xticks=tuple((s, format_int(s, language)) for s in seqs[1::2]),
    )
    alt = _(
        "Line chart of the activations {model} saves for the backward pass against sequence "
        "length, with fused and with eager attention."
    ).format(model=m.name)
    return figure, alt


def gpus_chart(selection: Selection, language: str) -> tuple[Chart, str]:
    """Memory against bandwidth, one point per GPU, grouped by memory type."""
    gpus = [get_gpu(g) for g in selection.gpu_ids()]
    figure = ScatterChart(
        points=tuple(
            (
                short_gpu_name(g.name),
                g.bandwidth_bytes_per_s / 1e12,
                to_unit(g.memory_bytes, "GiB"),
                g.memory_type,
            )
            for g in gpus
        ),
        xlabel=_("Memory bandwidth (TB/s)"),
        ylabel=_("Memory (GiB)"),
        logx=True,
        logy=True,
    )
    alt = _("Scatter chart of the memory of {count} GPUs against their bandwidth.").format(
        count=len(gpus)
    )
    return figure, alt


def _with_peak(gpus: list[GPU]) -> list[GPU]:
    """The GPUs with a published dense FP16/BF16 peak."""
    return [g for g in gpus if g.tflops_basis != "none"]


def memory_wall_chart(selection: Selection, language: str) -> tuple[Chart, str]:
    """Compute, bandwidth and capacity relative to the oldest GPU, and FLOP per byte."""
    gpus = sorted((get_gpu(g) for g in selection.gpus or DATA_CENTRE), key=lambda g: g.year)
    gpus = _with_peak(gpus)
    if len(gpus) < 2:
        raise InvalidValueError("gpus", " ".join(selection.gpus), "two or more GPUs with a peak")
    first = gpus[0]
    xs = tuple(float(i) for i in range(len(gpus)))

    def relative(value: Callable) -> tuple[float, ...]:
        return tuple(value(g) / value(first) for g in gpus)

    figure = LineChart(
        series=(
            (_("Dense FP16/BF16 compute"), xs, relative(dense_peak_tflops)),
            (_("FLOP per byte (ridge point)"), xs, relative(ridge_point)),
            (_("Memory bandwidth"), xs, relative(lambda g: g.bandwidth_bytes_per_s)),
            (_("Memory capacity"), xs, relative(lambda g: g.memory_bytes)),
        ),
        xlabel=_("GPU and release year"),
        ylabel=_("Relative to {gpu} (×)").format(gpu=short_gpu_name(first.name)),
        logy=True,
        styles=("o-", "o--", "o-", "o-"),
        colours=(PALETTE[1], PALETTE[1], PALETTE[0], PALETTE[2]),
        xticks=tuple(
            (x, f"{short_gpu_name(g.name).split()[0]}\n{g.year}")
            for x, g in zip(xs, gpus, strict=True)
        ),
    )
    alt = _(
        "Line chart by release year of the dense compute, memory bandwidth and capacity of "
        "{gpus}, relative to the first: compute grows faster than bandwidth."
    ).format(gpus=join_names([g.name for g in gpus], language))
    return figure, alt


def roofline_chart(selection: Selection, language: str) -> tuple[Chart, str]:
    """Attainable TFLOPS against arithmetic intensity, with ridge points and batch-1 decoding."""
    gpus = _with_peak([get_gpu(g) for g in selection.gpus or ROOFLINE_GPUS])
    low, high = 0.25, 4096.0
    series, points = [], []
    for g in gpus:
        ridge = ridge_point(g)
        label = _("{gpu} (ridge at {ridge} FLOP/B)").format(
            gpu=short_gpu_name(g.name), ridge=significant(ridge, 3)
        )
        xs = (low, ridge, high)
        series.append((label, xs, tuple(attainable_flops(g, x) / 1e12 for x in xs)))
        points.append(("", ridge, dense_peak_tflops(g)))
    batch = int(dict(selection.workload).get("batch", 1))
    groups = selection.dtypes if "dtypes" in selection.given else (("bf16",), ("fp8",), ("int4",))
    vlines = tuple(
        (
            _("decoding, {format}, batch {batch}").format(format=dtype_label(group), batch=batch),
            decode_intensity(group[0], batch),
        )
        for group in groups
    )
    figure = LineChart(
        series=tuple(series),
        xlabel=_("Arithmetic intensity (FLOP per byte of memory traffic)"),
        ylabel=_("Attainable dense FP16/BF16 TFLOPS"),
        logx=True,
        logy=True,
        points=tuple(points),
        vlines=vlines,
    )
    alt = _(
        "Roofline chart of {gpus}: attainable compute against arithmetic intensity, with the "
        "ridge points and the intensity of decoding one sequence."
    ).format(gpus=join_names([g.name for g in gpus], language))
    return figure, alt


def rule_of_thumb_chart(selection: Selection, language: str) -> tuple[Chart, str]:
    """Per model: the rule of thumb and gpumem's estimate for each workload."""
    unit, models = selection.unit, selection.some_models
    series, colours = [], []
    for i, spec in enumerate(selection.workloads):
        rules, estimates = [], []
        for model in models:
            result = run_estimate(model, spec)
            work = result.workload
            rules.append(
                to_unit(rule_of_thumb(result.model.parameters, work.dtype, work.mode), unit)
            )
            estimates.append(to_unit(result.total_bytes, unit))
        label = workload_label(spec, language)
        series.append((_("Rule of thumb, {workload}").format(workload=label), tuple(rules)))
        series.append((_("gpumem, {workload}").format(workload=label), tuple(estimates)))
        colour = PALETTE[i % len(PALETTE)]
        colours += [colour + "80", colour]  # the rule of thumb half transparent
    figure = BarChart(
        categories=tuple(load_model(m).name for m in models),
        series=tuple(series),
        lines=_gpu_lines(selection, unit),
        ylabel=_("Memory per GPU ({unit})").format(unit=unit),
        log=False,
        colours=tuple(colours),
        legend_below=True,
    )
    alt = _("Bar chart of the rule of thumb against gpumem's estimate for {models}.").format(
        models=join_names([load_model(m).name for m in models], language)
    )
    return figure, alt


CHARTS: dict[str, Callable[[Selection, str], tuple[Chart, str]]] = {
    "weights": weights_chart,
    "breakdown": breakdown_chart,
    "kv-cache": kv_cache_chart,
    "activations": activations_chart,
    "gpus": gpus_chart,
    "memory-wall": memory_wall_chart,
    "roofline": roofline_chart,
    "rule-of-thumb": rule_of_thumb_chart,
}
