"""Text and JSON views of estimates and catalogs, for the command line.

Byte columns are always labelled with their unit: GB = 10**9 bytes, GiB = 2**30 bytes.
"""

from __future__ import annotations

import json

from .estimate import Estimate, rule_of_thumb
from .units import to_unit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from .solve import Answers, Fit

LABELS = {
    "weights": "weights",
    "adapter_weights": "LoRA adapters (FP32)",
    "master_weights": "FP32 master weights",
    "gradients": "gradients",
    "optimizer_states": "optimizer states",
    "optimizer_temporaries": "optimizer temporaries",
    "activations": "activations",
    "logits": "logits",
    "autocast_copies": "autocast weight copies",
    "recomputed_layer": "recomputed layer",
    "kv_cache": "KV cache",
    "prefill_workspace": "prefill workspace",
    "cuda_context": "CUDA context",
    "allocator_reserve": "allocator reserve",
}


def to_json(data: object) -> str:
    """Pretty JSON text ending with a newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def table(rows: Sequence[dict[str, object]], right: Sequence[str] = ()) -> str:
    """Rows of equal keys as an aligned text table (numbers right-aligned)."""
    if not rows:
        return ""
    headers = list(rows[0])
    cells = [[_cell(row[h]) for h in headers] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    numeric = [h in right or all(isinstance(r[h], int | float) for r in rows) for h in headers]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(c) for c in cells)]) + "\n"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _byte_rows(components: dict[str, int], total: int) -> list[dict[str, object]]:
    rows = [
        {
            "component": LABELS.get(name, name),
            "GB": to_unit(n, "GB"),
            "GiB": to_unit(n, "GiB"),
            "share": f"{n / total:.1%}",
        }
        for name, n in components.items()
    ]
    rows.append(
        {
            "component": "total",
            "GB": to_unit(total, "GB"),
            "GiB": to_unit(total, "GiB"),
            "share": "100.0%",
        }
    )
    return rows


def _headline(e: Estimate) -> str:
    w, m = e.workload, e.model
    gpus = w.dp * w.tp * w.pp
    parts = [
        m.name,
        w.mode,
        w.dtype,
        f"batch {w.batch} × {w.seq:,} tokens",
        f"{gpus} GPU{'s' if gpus > 1 else ''}",
    ]
    if w.training:
        parts.insert(3, f"{w.resolved_precision} precision, {w.resolved_optimizer.label}")
    model = (
        f"model: {m.parameters:,} parameters ({m.parameters_source}), {m.n_layers} layers, "
        f"hidden {m.hidden_size}, {m.n_heads} heads ({m.n_kv_heads} KV), vocab {m.vocab_size:,}"
    )
    return " · ".join(parts) + "\n" + model + "\n"


def estimate_text(e: Estimate) -> str:
    """Human-readable estimate: headline, component table, peak phase and rule of thumb."""
    rule = rule_of_thumb(e.model.parameters, e.workload.dtype, e.workload.mode)
    factor = "1.2" if e.workload.mode == "inference" else "2"
    return (
        _headline(e)
        + "\n"
        + table(_byte_rows(e.components, e.total_bytes), right=("share",))
        + f"\npeak per GPU during: {e.phase}"
        + f"\nrule of thumb (parameters × bytes × {factor}): {to_unit(rule, 'GB'):,.2f} GB"
        + f" = {to_unit(rule, 'GiB'):,.2f} GiB\n"
    )


def estimate_json(e: Estimate) -> dict[str, object]:
    """Estimate as plain data: totals in bytes, components, phase, model and workload."""
    model = {k: v for k, v in e.model.as_dict().items() if k != "extra"}
    return {
        "total_bytes": e.total_bytes,
        "tensor_bytes": e.tensor_bytes,
        "components": e.components,
        "phase": e.phase,
        "phases": e.phases,
        "units": "bytes",
        "model": model,
        "workload": e.workload.as_dict(),
        "rule_of_thumb_bytes": rule_of_thumb(e.model.parameters, e.workload.dtype, e.workload.mode),
    }


def _layout(result: Fit) -> str:
    w = result.estimate.workload
    parts = [f"{name}={getattr(w, name)}" for name in ("tp", "pp", "dp") if getattr(w, name) > 1]
    if w.zero:
        parts.append(f"ZeRO-{w.zero}")
    count = w.tp * w.pp * w.dp
    return f"{count} × {result.gpu.name}" + (f" ({', '.join(parts)})" if parts else "")


def fit_text(answers: Answers) -> str:
    """Human-readable answers: does it fit, on how many GPUs, largest batch and context."""
    result, w = answers.fit, answers.fit.estimate.workload
    gpu = result.gpu
    verdict = "fits" if result.fits else "does NOT fit"
    lead = "headroom" if result.fits else "missing"
    lines = [
        f"{gpu.name} ({to_unit(gpu.memory_bytes, 'GiB'):,.2f} GiB usable): {verdict};"
        f" {lead} {to_unit(abs(result.headroom_bytes), 'GiB'):,.2f} GiB"
        f" ({abs(result.headroom):.1%} of the GPU)",
        "smallest layout that fits: "
        + (_layout(answers.layout) if answers.layout else "none up to 4,096 GPUs"),
        f"largest batch at {w.seq:,} tokens on one GPU: "
        + (f"{answers.max_batch:,}" if answers.max_batch else "none"),
        f"longest sequence at batch {w.batch} on one GPU: "
        + (f"{answers.max_context:,} tokens" if answers.max_context else "none")
        + f" (context window {result.estimate.model.max_context:,})",
    ]
    return estimate_text(result.estimate) + "\n" + "\n".join(lines) + "\n"


def fit_json(answers: Answers) -> dict[str, object]:
    """The answers as plain data (bytes and counts)."""
    result, layout = answers.fit, answers.layout
    return {
        "fits": result.fits,
        "gpu": result.gpu.name,
        "available_bytes": result.available_bytes,
        "headroom_bytes": result.headroom_bytes,
        "layout": None
        if layout is None
        else {
            "gpus": layout.estimate.workload.tp
            * layout.estimate.workload.pp
            * layout.estimate.workload.dp,
            **{k: getattr(layout.estimate.workload, k) for k in ("tp", "pp", "dp", "zero")},
            "total_bytes_per_gpu": layout.estimate.total_bytes,
        },
        "max_batch": answers.max_batch,
        "max_context": answers.max_context,
        "estimate": estimate_json(result.estimate),
    }


def models_rows() -> list[dict[str, object]]:
    """The model catalog as table rows."""
    from .catalog import load_model, model_names

    rows = []
    for name in model_names():
        m = load_model(name)
        rows.append(
            {
                "id": name,
                "name": m.name,
                "family": m.family,
                "parameters": m.parameters,
                "layers": m.n_layers,
                "context": m.max_context,
            }
        )
    return rows


def gpus_rows() -> list[dict[str, object]]:
    """The GPU catalog as table rows."""
    from .hardware import get_gpu, gpu_names

    rows = []
    for name in gpu_names():
        g = get_gpu(name)
        rows.append(
            {
                "id": name,
                "name": g.name,
                "memory GiB": to_unit(g.memory_bytes, "GiB"),
                "type": g.memory_type,
                "bandwidth GB/s": g.bandwidth_bytes_per_s / 1e9,
                "year": str(g.year),
            }
        )
    return rows


def formats_rows() -> list[dict[str, object]]:
    """Number formats as table rows."""
    from .precision import format_names, get_format

    return [
        {
            "id": n,
            "label": get_format(n).label,
            "kind": get_format(n).kind,
            "bits/value": float(get_format(n).bits),
        }
        for n in format_names()
    ]
