"""Tables and role quantities of running models locally with llama.cpp: GGUF file sizes against
parameters × bits, placements on GPUs and the CPU (:func:`gpumem.offload.plan`), and Apple's
default GPU working set."""

from __future__ import annotations

import re
from collections.abc import Callable

from .. import _data
from ..errors import UnknownNameError
from ..hardware import get_gpu, gpu_names
from ..offload import Placement, default_ram_bandwidth, plan, working_set_bytes
from ..precision import bytes_per_value, get_format
from ..units import to_unit
from .formatting import format_amount, format_bandwidth, format_int, format_rate, format_size
from .options import digits as digits_option
from .options import number
from .selection import Selection, Table
from .translation import gettext as _

DASH = "—"


def _placement(model: str, gpu: str, ctx: int, dtype: str | None) -> Placement:
    return plan(model, [gpu], ctx=ctx, dtype=dtype)


def gguf_sizes_table(selection: Selection, language: str) -> Table:
    """GGUF files as llama-quantize writes them against parameters × the bits in the name."""
    ref = _data.load_json(_data.path("precisions.json"))["gguf_reference"]
    header = [
        _("Format"),
        _("Bits in the name"),
        _("Bits per weight"),
        _("File ({unit})").format(unit="GiB"),
        _("Parameters × bits in the name ({unit})").format(unit="GiB"),
    ]
    rows = []
    for (dtype,) in selection.dtypes:
        fmt = get_format(dtype)
        named = int(re.search(r"\d+", dtype)[0])
        rows.append(
            [
                fmt.label,
                str(named),
                format_amount(bytes_per_value(dtype) * 8, 2),
                format_amount(to_unit(ref["parameters"] * bytes_per_value(dtype), "GiB"), 2),
                format_amount(to_unit(ref["parameters"] * named / 8, "GiB"), 2),
            ]
        )
    title = _("GGUF files of {model} ({params} parameters)").format(
        model=ref["model"], params=format_int(ref["parameters"], language)
    )
    return title, header, rows


def placements_table(selection: Selection, language: str) -> Table:
    """One row per model and GPU: llama.cpp's placement at one context and its ceilings."""
    ctx = selection.seqs[0] if selection.seqs else 8192
    dtype = selection.dtypes[0][0] if "dtypes" in selection.given else None
    header = [
        _("Model"),
        _("Device"),
        _("Flags"),
        _("GPU ({unit})").format(unit="GiB"),
        _("System memory ({unit})").format(unit="GiB"),
        _("Largest context"),
        _("Decode ceiling (tokens/s)"),
        _("Prompt ceiling (tokens/s)"),
    ]
    rows = []
    for model in selection.models:
        for gpu in selection.gpus:
            p = _placement(model, gpu, ctx, dtype)
            used, cpu = p.devices[0], p.devices[-1]
            flags = f"-ngl {p.ngl}" + (f" --n-cpu-moe {p.n_cpu_moe}" if p.n_cpu_moe else "")
            rows.append(
                [
                    p.model,
                    get_gpu(gpu).name,
                    flags,
                    f"{format_amount(to_unit(used.total_bytes, 'GiB'), 1)} / "
                    f"{format_amount(to_unit(used.capacity_bytes, 'GiB'), 1)}",
                    format_amount(to_unit(cpu.total_bytes, "GiB"), 1),
                    format_int(p.max_ctx, language),
                    format_rate(p.decode_ceiling, language),
                    DASH if p.prefill_ceiling is None else format_rate(p.prefill_ceiling, language),
                ]
            )
    title = _("llama.cpp placements at a context of {ctx} tokens, KV cache in f16").format(
        ctx=format_int(ctx, language)
    )
    return title, header, rows


def working_set_table(selection: Selection, language: str) -> Table:
    """Apple rows: unified memory, Metal's default GPU working set and what it rests on."""
    header = [_("Mac"), _("Unified memory"), _("GPU working set"), _("Share"), _("Bandwidth")]
    rows = []
    for name in selection.gpus or [g for g in gpu_names() if get_gpu(g).unified_memory]:
        gpu = get_gpu(name)
        limit = working_set_bytes(gpu)
        rows.append(
            [
                gpu.name,
                format_size(gpu.memory_bytes, "GiB"),
                format_size(limit, "GiB"),
                f"{limit / gpu.memory_bytes:.0%}",
                format_bandwidth(gpu.bandwidth_bytes_per_s),
            ]
        )
    return _("GPU working set of unified memory"), header, rows


TABLES: dict[str, Callable[[Selection, str], Table]] = {
    "gguf-sizes": gguf_sizes_table,
    "placements": placements_table,
    "working-set": working_set_table,
}

#: What the ``offload`` quantity can show of a placement.
SHOWN: dict[str, Callable[[Placement, str], str]] = {
    "decode": lambda p, lang: format_rate(p.decode_ceiling, lang),
    "prefill": lambda p, lang: (
        DASH if p.prefill_ceiling is None else format_rate(p.prefill_ceiling, lang)
    ),
    "ngl": lambda p, lang: str(p.ngl),
    "n-cpu-moe": lambda p, lang: str(p.n_cpu_moe),
    "max-ctx": lambda p, lang: format_int(p.max_ctx, lang),
    "gpu-gib": lambda p, lang: format_size(p.devices[0].total_bytes, "GiB", 1),
    "cpu-gib": lambda p, lang: format_size(p.devices[-1].total_bytes, "GiB", 1),
}


def offload(
    *, language: str, model: str, gpu: str, show: str, ctx: str = "8192", dtype: str | None = None
) -> str:
    """A figure of a placement: ``offload model=qwen3-30b-a3b gpu=rtx-4070 show=decode``."""
    if show not in SHOWN:
        raise UnknownNameError("show", show, SHOWN)
    return SHOWN[show](_placement(model, gpu, int(number(ctx, "ctx")), dtype), language)


def working_set(*, language: str, gpu: str, unit: str = "GiB", digits: str = "0") -> str:
    """Metal's default GPU working set: ``working-set gpu=m4-pro-64gb`` → ``48 GiB``."""
    return format_size(working_set_bytes(get_gpu(gpu)), unit, digits_option(digits))


def ram_bandwidth(*, language: str) -> str:
    """The system-memory bandwidth assumed: DDR5-5600 in two channels."""
    return format_bandwidth(default_ram_bandwidth())


QUANTITIES: dict[str, Callable[..., str]] = {
    "offload": offload,
    "working-set": working_set,
    "ram-bandwidth": ram_bandwidth,
}
