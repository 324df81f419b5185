"""The kinds of ``gpumem-table``: each takes a :class:`Selection` and the page's language and
returns ``(title, header, rows)`` with every text already in that language."""

from __future__ import annotations

from collections.abc import Callable

from .. import vocabulary
from ..catalog import load_model
from ..errors import InvalidValueError
from ..estimate import rule_of_thumb, rule_of_thumb_multiplier
from ..hardware import get_gpu
from ..precision import get_format, weight_bytes
from ..solve import fit, max_context
from ..speed import decode_ceiling, ridge_point
from ..units import to_unit
from .formatting import (
    amount,
    format_amount,
    format_bandwidth,
    format_count,
    format_int,
    format_percent,
    format_rate,
    ratio_text,
    significant,
)
from .labels import (
    component_label,
    dtype_label,
    format_kind_label,
    phase_label,
    separator,
    workload_label,
)
from .options import WorkloadSpec, without
from .selection import Selection, Table, run_estimate
from .techniques import apply
from .translation import gettext as _

DASH = "—"
DEFAULT_SEQS = (4096, 32768, 131072)


def weights_table(selection: Selection, language: str) -> Table:
    """Memory of the weights: one row per parameter count, one column per precision."""
    header = [_("Parameters"), *(dtype_label(group) for group in selection.dtypes)]
    rows = [
        [format_count(params, language)]
        + [
            format_amount(to_unit(weight_bytes(params, group[0]), selection.unit))
            for group in selection.dtypes
        ]
        for params in selection.params
    ]
    return _("Memory of the weights ({unit})").format(unit=selection.unit), header, rows


def formats_table(selection: Selection, language: str) -> Table:
    """Storage cost of each precision: kind, bits and bytes per value."""
    header = [_("Format"), _("Kind"), _("Bits per value"), _("Bytes per value")]
    rows = []
    for group in selection.dtypes:
        fmt = get_format(group[0])
        rows.append(
            [
                dtype_label(group),
                format_kind_label(fmt.kind),
                significant(float(fmt.bits), 4),
                significant(float(fmt.bytes_per_param), 4),
            ]
        )
    return _("Storage cost of number formats"), header, rows


def breakdown_table(selection: Selection, language: str) -> Table:
    """Components of the peak of one model, one column per workload, with the total."""
    model = selection.one_model
    estimates = [run_estimate(model, spec) for spec in selection.workloads]
    present = [c for c in vocabulary.COMPONENTS if any(c in e.components for e in estimates)]
    pairs = zip(selection.workloads, estimates, strict=True)
    header = [_("Component"), *(workload_label(s, language, e.workload) for s, e in pairs)]
    rows = [
        [component_label(c)]
        + [amount(e.components[c], selection.unit) if c in e.components else "" for e in estimates]
        for c in present
    ]
    rows.append([_("Total"), *(amount(e.total_bytes, selection.unit) for e in estimates)])
    rows.append([_("Peak during"), *(phase_label(e.phase) for e in estimates)])
    title = _("Memory of {model} per GPU ({unit})").format(
        model=estimates[0].model.name, unit=selection.unit
    )
    return title, header, rows


def rule_of_thumb_table(selection: Selection, language: str) -> Table:
    """The popular shortcut (parameters × bytes × 1.2 or × 2) against gpumem's estimate."""
    unit = selection.unit
    header = [
        _("Model"),
        _("Workload"),
        _("Parameters"),
        _("Multiplier"),
        _("Rule of thumb ({unit})").format(unit=unit),
        _("gpumem ({unit})").format(unit=unit),
        _("gpumem ÷ rule"),
    ]
    rows = []
    for model in selection.some_models:
        for spec in selection.workloads:
            result = run_estimate(model, spec)
            work = result.workload
            rule = rule_of_thumb(result.model.parameters, work.dtype, work.mode)
            rows.append(
                [
                    result.model.name,
                    workload_label(spec, language, work),
                    format_count(result.model.parameters, language),
                    "×" + significant(rule_of_thumb_multiplier(work.mode), 2),
                    amount(rule, unit),
                    amount(result.total_bytes, unit),
                    ratio_text(result.total_bytes / rule),
                ]
            )
    title = _("Rule of thumb (parameters × bytes per parameter × multiplier) against gpumem")
    return title, header, rows


def _model_dtype_rows(selection: Selection) -> list[tuple[str, tuple[str, ...]]]:
    spec = selection.workload
    return [(m, group) for m in selection.some_models for group in selection.dtype_names(spec)]


def _row_head(model: str, group: tuple[str, ...]) -> list[str]:
    return [load_model(model).name, dtype_label(group)]


def _gpu_header(gpus: tuple[str, ...]) -> list[str]:
    return [_("Model"), _("Format"), *(get_gpu(g).name for g in gpus)]


def fit_cell(model: str, gpu: str, spec: WorkloadSpec, unit: str) -> str:
    """``"✓ +3.2"`` (headroom) or ``"✗ −12.5"`` (missing) in ``unit``."""
    result = fit(model, gpu, **dict(spec))
    headroom = result.headroom_bytes
    if result.fits:
        return f"✓ +{amount(headroom, unit)}"
    return f"✗ −{amount(-headroom, unit)}"


def fit_table(selection: Selection, language: str) -> Table:
    """Does each model in each format fit on one GPU, and with how much to spare."""
    spec, gpus = selection.workload, selection.gpu_ids()
    rows = [
        _row_head(m, group)
        + [
            fit_cell(m, g, (*without(spec, "dtype"), ("dtype", group[0])), selection.unit)
            for g in gpus
        ]
        for m, group in _model_dtype_rows(selection)
    ]
    title = _("Fit on one GPU, {workload}: ✓ memory to spare, ✗ memory missing ({unit})").format(
        workload=workload_label(spec, language), unit=selection.unit
    )
    return title, _gpu_header(gpus), rows


def max_context_cell(model: str, gpu: str, spec: WorkloadSpec, language: str) -> str:
    """Longest context that fits, ``"—"`` if none, marked when the whole window fits."""
    tokens = max_context(model, gpu, **dict(without(spec, "seq")))
    if tokens is None:
        return DASH
    text = format_int(tokens, language)
    if tokens >= load_model(model).max_context:
        return _("{tokens} (whole window)").format(tokens=text)
    return text


def max_context_table(selection: Selection, language: str) -> Table:
    """Longest context (tokens) each model in each format can hold on one GPU."""
    spec, gpus = selection.workload, selection.gpu_ids()
    rows = [
        _row_head(m, group)
        + [
            max_context_cell(m, g, (*without(spec, "dtype"), ("dtype", group[0])), language)
            for g in gpus
        ]
        for m, group in _model_dtype_rows(selection)
    ]
    title = _("Longest context on one GPU (tokens), {workload}").format(
        workload=workload_label(without(spec, "seq"), language)
    )
    return title, _gpu_header(gpus), rows


def decode_table(selection: Selection, language: str) -> Table:
    """Upper bound of tokens per second per sequence when decoding is bandwidth-bound."""
    spec, gpus = selection.workload, selection.gpu_ids()
    rows = [
        _row_head(m, group)
        + [
            format_rate(decode_ceiling(m, g, **{**dict(spec), "dtype": group[0]}), language)
            for g in gpus
        ]
        for m, group in _model_dtype_rows(selection)
    ]
    title = _(
        "Ceiling of decoding speed (tokens/s per sequence): bandwidth ÷ (active weights + "
        "KV cache), {workload}"
    ).format(workload=workload_label(spec, language))
    return title, _gpu_header(gpus), rows


def attention_kind(model: str, language: str) -> str:
    """MHA, GQA, MQA or MLA, with a note on sliding-window layers."""
    m = load_model(model)
    if not m.causal:
        return _("bidirectional (no KV cache)")
    if m.uses_mla:
        kind = "MLA"
    elif m.n_kv_heads == m.n_heads:
        kind = "MHA"
    elif m.n_kv_heads == 1:
        kind = "MQA"
    else:
        kind = "GQA"
    if m.n_sliding_layers:
        note = _("sliding window of {window} tokens on {layers} of {total} layers").format(
            window=format_int(m.sliding_window, language),
            layers=m.n_sliding_layers,
            total=m.n_layers,
        )
        return kind + separator(language) + note
    return kind


def kv_heads(model: str) -> str:
    """KV heads per layer, or the width of MLA's cached latent."""
    m = load_model(model)
    if not m.causal:
        return DASH
    if m.uses_mla:
        return _("latent of {width}").format(width=m.kv_lora_rank + m.qk_rope_head_dim)
    return str(m.n_kv_heads)


def kv_per_token(model: str, spec: WorkloadSpec) -> int:
    """KV-cache bytes of one token (batch 1, sequence of 1)."""
    result = run_estimate(model, without(spec, "seq", "batch"), seq=1, batch=1, mode="inference")
    return result.components.get("kv_cache", 0)


def kv_cache_table(selection: Selection, language: str) -> Table:
    """Attention kind, KV heads, KV cache per token and at each context length."""
    spec = without(selection.workload, "mode")
    seqs = selection.seqs or DEFAULT_SEQS
    header = [
        _("Model"),
        _("Attention"),
        _("KV heads"),
        _("Per token (KiB)"),
        *(
            _("{seq} tokens ({unit})").format(seq=format_int(s, language), unit=selection.unit)
            for s in seqs
        ),
    ]
    rows = []
    for model in selection.some_models:
        m = load_model(model)
        cells = [
            m.name,
            attention_kind(model, language),
            kv_heads(model),
            amount(kv_per_token(model, spec), "KiB") if m.causal else DASH,
        ]
        for s in seqs:
            if s > m.max_context or not m.causal:
                cells.append(DASH)
                continue
            result = run_estimate(model, without(spec, "seq"), seq=s, mode="inference")
            cells.append(amount(result.components.get("kv_cache", 0), selection.unit))
        rows.append(cells)
    kv = dict(spec).get("kv_dtype") or dict(spec).get("dtype", "bf16")
    title = _("KV cache per sequence, {format}; “—”: longer than the context window").format(
        format=dtype_label((str(kv),))
    )
    return title, header, rows


def gpus_table(selection: Selection, language: str) -> Table:
    """The GPU catalog: memory, memory type, bandwidth, dense FP16/BF16 peak, FLOP per byte."""
    header = [
        _("GPU"),
        _("Vendor"),
        _("Year"),
        _("Memory (marketed)"),
        _("Memory reported (GiB)"),
        _("Memory type"),
        _("Bus width (bits)"),
        _("Bandwidth"),
        _("Dense FP16/BF16 TFLOPS"),
        _("FLOP per byte"),
    ]
    rows = []
    for gpu in selection.gpu_ids():
        g = get_gpu(gpu)
        peaks = [t for t in (g.fp16_tflops, g.bf16_tflops) if t is not None]
        if not peaks:
            tflops = DASH
        elif len(set(peaks)) == 1:
            tflops = significant(peaks[0], 4)
        else:
            tflops = " / ".join(significant(t, 4) for t in peaks)
        ridge = significant(ridge_point(g), 3) if peaks else DASH
        reported = amount(g.memory_bytes, "GiB") if g.memory_basis.startswith("reported") else DASH
        rows.append(
            [
                g.name,
                g.vendor,
                str(g.year),
                f"{significant(g.memory_marketed, 4)}\u00a0{g.memory_unit}",
                reported,
                g.memory_type,
                str(g.bus_width_bits),
                format_bandwidth(g.bandwidth_bytes_per_s),
                tflops,
                ridge,
            ]
        )
    return _("GPUs: memory, bandwidth and dense FP16/BF16 compute"), header, rows


def savings_table(selection: Selection, language: str) -> Table:
    """What each technique saves per GPU against one baseline workload."""
    model, spec, unit = selection.one_model, selection.workload, selection.unit
    if not selection.variants:
        raise InvalidValueError("variants", "", "one or more technique ids")
    base = run_estimate(model, spec)
    header = [
        _("Technique"),
        _("Per GPU ({unit})").format(unit=unit),
        _("Saving ({unit})").format(unit=unit),
        _("Saving (%)"),
    ]
    rows = [
        [
            _("Baseline: {workload}").format(
                workload=workload_label(spec, language, base.workload)
            ),
            amount(base.total_bytes, unit),
            DASH,
            DASH,
        ]
    ]
    for variant in selection.variants:
        label, other, changed = apply(variant, model, spec)
        total = run_estimate(other, changed).total_bytes
        saved = base.total_bytes - total
        rows.append(
            [
                label,
                amount(total, unit),
                amount(saved, unit) if saved >= 0 else "−" + amount(-saved, unit),
                format_percent(saved / base.total_bytes, language),
            ]
        )
    title = _("Memory saved per GPU on {model}").format(model=base.model.name)
    return title, header, rows


TABLES: dict[str, Callable[[Selection, str], Table]] = {
    "weights": weights_table,
    "formats": formats_table,
    "breakdown": breakdown_table,
    "rule-of-thumb": rule_of_thumb_table,
    "fit": fit_table,
    "max-context": max_context_table,
    "decode": decode_table,
    "kv-cache": kv_cache_table,
    "gpus": gpus_table,
    "savings": savings_table,
}
