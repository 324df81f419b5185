"""Text and JSON views of estimates and catalogs, for the command line.

Byte columns are always labelled with their unit: GB = 10**9 bytes, GiB = 2**30 bytes. The text
views speak the user's language (:mod:`gpumem.i18n`); the JSON views are English data.
"""

from __future__ import annotations

import json

from .estimate import Estimate, gpu_count, rule_of_thumb, rule_of_thumb_multiplier
from .i18n import N_, _, columns, current_language
from .precision import get_format
from .units import to_unit
from .vocabulary import (
    COMPONENTS,
    FORMAT_KINDS,
    GOALS,
    MEMORY_BASES,
    MODES,
    PARAMETER_SOURCES,
    PHASES,
    WORKLOAD_OPTIONS,
    label,
)
from .workload import ALL_LINEAR, Workload

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from .compare import Option
    from .hardware import GPU
    from .offload import Placement
    from .serve import Serving
    from .solve import Answers, Fit

#: Column headers of the text tables (the JSON keeps the English keys).
WORDS = {
    word: word
    for word in (
        N_("component"),
        N_("share"),
        N_("total"),
        N_("id"),
        N_("name"),
        N_("family"),
        N_("parameters"),
        N_("layers"),
        N_("context"),
        N_("memory GiB"),
        N_("memory basis"),
        N_("type"),
        N_("bandwidth GB/s"),
        N_("year"),
        N_("label"),
        N_("kind"),
        N_("bits/value"),
        N_("weights"),
        N_("KV cache"),
        N_("batch"),
        N_("total GiB"),
        N_("fits"),
        N_("headroom GiB"),
        N_("longest context"),
    )
}


#: Cells that are ids of a kind (of number format, of memory figure): the English table shows
#: the id, another language its word for it.
CELLS = {**FORMAT_KINDS, "reported": N_("reported"), "dies": N_("dies")}


def to_json(data: object) -> str:
    """Pretty JSON text ending with a newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def table(rows: Sequence[dict[str, object]], right: Sequence[str] = ()) -> str:
    """Rows of equal keys as an aligned text table (numbers right-aligned).

    Headers (words of :data:`WORDS`) and the kinds of number formats are translated; columns
    are aligned by
    the width a terminal gives the text (a Chinese character takes two columns).
    """
    if not rows:
        return ""
    keys = list(rows[0])
    headers = [_(h) if h in WORDS else h for h in keys]
    cells = [[_cell(row[h]) for h in keys] for row in rows]
    widths = [max(columns(h), *(columns(c[i]) for c in cells)) for i, h in enumerate(headers)]
    numeric = [h in right or all(isinstance(r[h], int | float) for r in rows) for h in keys]

    def line(values: Sequence[str]) -> str:
        parts = [_pad(v, w, n) for v, w, n in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(c) for c in cells)]) + "\n"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return number(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if value in CELLS and current_language() != "en":
        return _(CELLS[value])
    return str(value)


def number(value: float, digits: int = 2) -> str:
    """``value`` with thousands separators and at most ``digits`` decimals, without trailing
    zeros: ``32.0`` → ``"32"``, ``4.5`` → ``"4.5"``, ``1555.0`` → ``"1,555"``."""
    text = f"{value:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * (width - columns(text))
    return space + text if right else text + space


def _byte_rows(components: dict[str, int], total: int) -> list[dict[str, object]]:
    rows = [(label(COMPONENTS, name, _), n) for name, n in components.items()]
    return [
        {"component": name, "GB": _in(n, "GB"), "GiB": _in(n, "GiB"), "share": f"{n / total:.1%}"}
        for name, n in [*rows, (_("total"), total)]
    ]


def _in(n_bytes: float, unit: str) -> str:
    """A byte amount in ``unit``, two decimals: ``"13.48"``."""
    return f"{to_unit(n_bytes, unit):,.2f}"


#: The stages of a pipeline the estimate may be for, with what sets them apart.
STAGES = {
    "first": N_("the first, with the embeddings"),
    "last": N_("the last, with the LM head and the final norm"),
}


def _formats(e: Estimate) -> str:
    """The weights' formats: the dtype, the file's own for a GGUF file, or the checkpoint's
    quantized format beside the dtype when counted as shipped."""
    w, m = e.workload, e.model
    if m.parameters_source == "gguf":  # the file's own formats; dtype is the activations'
        return _("weights as stored, {dtype} activations").format(dtype=w.dtype)
    if w.weights_as_shipped:
        q = m.extra["quantization"]
        formats = (q["format"], q.get("second_format"))  # a second where a checkpoint mixes two
        shipped = ", ".join(get_format(f).label for f in formats if f)
        return _("{dtype}, quantized modules as shipped ({format})").format(
            dtype=w.dtype, format=shipped
        )
    return w.dtype


def _stage(e: Estimate) -> str:
    """Which pipeline stage the estimate is for (nothing without pipelining)."""
    stage = e.pipeline_stage
    if not stage:
        return ""
    return (
        _(
            "heaviest pipeline stage: {stage}; {layers} of {total} layers, {parameters} parameters"
        ).format(
            stage=label(STAGES, stage["heaviest"], _),
            layers=stage["layers"],
            total=e.model.n_layers,
            parameters=f"{stage['parameters']:,}",
        )
        + "\n"
    )


def _lora(w: Workload) -> str:
    """What LoRA trains: rank, modules, the adapters' dtype, dropout; QLoRA's NF4 base."""
    text = (
        _("QLoRA r={rank} on {targets} (NF4 base, BF16 compute), {adapters} adapters")
        if w.qlora
        else _("LoRA r={rank} on {targets}, {adapters} adapters")
    ).format(
        rank=w.lora_rank,
        targets=w.lora_targets or ALL_LINEAR,
        adapters=w.resolved_adapter_dtype,
    )
    if w.lora_dropout:
        text += ", " + _("dropout {p}").format(p=f"{w.lora_dropout:g}")
    return text


def _headline(e: Estimate) -> str:
    w, m = e.workload, e.model
    gpus = gpu_count(w)
    parts = [
        m.name,
        label(MODES, w.mode, _),
        _formats(e),
        _("batch {batch} × {seq} tokens").format(batch=w.batch, seq=f"{w.seq:,}"),
        (_("{n} GPUs") if gpus > 1 else _("{n} GPU")).format(n=gpus),
    ]
    if w.new_tokens:
        parts.insert(4, _("then {n} new tokens").format(n=f"{w.new_tokens:,}"))
    if w.fsdp:
        parts.append(_("FSDP2, ZeRO-{stage}").format(stage=w.zero))
    if w.training:
        precision = label(WORKLOAD_OPTIONS, ("precision", w.resolved_precision), _)
        if w.lora_rank is not None:
            precision = _lora(w)
        parts.insert(
            3,
            _("{precision}, {optimizer}").format(
                precision=precision, optimizer=w.resolved_optimizer.label
            ),
        )
    source = m.parameters_source
    model = _(
        "model: {parameters} parameters ({source}), {layers} layers, hidden {hidden}, "
        "{heads} heads ({kv_heads} KV), vocab {vocab}"
    ).format(
        parameters=f"{m.parameters:,}",
        source=label(PARAMETER_SOURCES, source, _),
        layers=m.n_layers,
        hidden=m.hidden_size,
        heads=m.n_heads,
        kv_heads=m.n_kv_heads,
        vocab=f"{m.vocab_size:,}",
    )
    return " · ".join(parts) + "\n" + model + "\n"


def estimate_text(e: Estimate) -> str:
    """Human-readable estimate: headline, component table, peak phase and rule of thumb."""
    rule = rule_of_thumb(e.model.parameters, e.workload.dtype, e.workload.mode)
    factor = number(rule_of_thumb_multiplier(e.workload.mode))
    phase = label(PHASES, e.phase, _)
    return (
        _headline(e)
        + "\n"
        + table(_byte_rows(e.components, e.total_bytes), right=("GB", "GiB", "share"))
        + "\n"
        + _("peak per GPU during: {phase}").format(phase=phase)
        + "\n"
        + _stage(e)
        + _(
            "rule of thumb (parameters × bytes × {factor}, blind to batch, context and "
            "optimizer): {gb} GB = {gib} GiB"
        ).format(factor=factor, gb=_in(rule, "GB"), gib=_in(rule, "GiB"))
        + "\n"
    )


def estimate_json(e: Estimate) -> dict[str, object]:
    """Estimate as plain data: totals in bytes, components, phase, model (with the ``warnings``
    of its reader, English sentences) and workload."""
    model = {k: v for k, v in e.model.as_dict().items() if k != "extra"}
    return {
        "total_bytes": e.total_bytes,
        "tensor_bytes": e.tensor_bytes,
        "components": e.components,
        "kv_cache_layers": e.kv_cache_layers,
        "pipeline_stage": e.pipeline_stage,
        "phase": e.phase,
        "phases": e.phases,
        "units": "bytes",
        "model": model,
        "workload": e.workload.as_dict(),
        "rule_of_thumb_bytes": rule_of_thumb(e.model.parameters, e.workload.dtype, e.workload.mode),
    }


def _device(gpu: GPU) -> str:
    """A GPU and its memory in GiB, with what the figure is: ``"A10 (22.49 GiB, as the
    device reports it)"``."""
    return _("{gpu} ({memory} GiB, {basis})").format(
        gpu=gpu.name,
        memory=_in(gpu.memory_bytes, "GiB"),
        basis=label(MEMORY_BASES, gpu.memory_basis, _),
    )


def _layout(result: Fit) -> str:
    w = result.estimate.workload
    parts = [f"{name}={getattr(w, name)}" for name in ("tp", "pp", "dp") if getattr(w, name) > 1]
    if w.zero:
        parts.append(f"ZeRO-{w.zero}")
    return f"{gpu_count(w)} × {result.gpu.name}" + (f" ({', '.join(parts)})" if parts else "")


def fit_text(answers: Answers) -> str:
    """Human-readable answers: does it fit, on how many GPUs, largest batch and context."""
    result, w = answers.fit, answers.fit.estimate.workload
    gpu = result.gpu
    device, gib = _device(gpu), _in(abs(result.headroom_bytes), "GiB")
    if result.fits:
        verdict = _("{device}: fits, {gib} GiB to spare ({share} of it)").format(
            device=device, gib=gib, share=f"{result.headroom:.1%}"
        )
    else:
        verdict = _(
            "{device}: does NOT fit, {gib} GiB short (the estimate is {ratio} × its memory)"
        ).format(
            device=device, gib=gib, ratio=number(result.estimate.total_bytes / gpu.memory_bytes)
        )
    none = _("none")
    lines = [
        verdict,
        _("smallest layout that fits: {layout}").format(
            layout=_layout(answers.layout) if answers.layout else _("none up to 4,096 GPUs")
        ),
        _("largest batch at {seq} tokens on one GPU: {batch}").format(
            seq=f"{w.seq:,}", batch=f"{answers.max_batch:,}" if answers.max_batch else none
        ),
        _(
            "longest sequence at batch {batch} on one GPU: {tokens} (context window {window})"
        ).format(
            batch=w.batch,
            tokens=_("{n} tokens").format(n=f"{answers.max_context:,}")
            if answers.max_context
            else none,
            window=f"{result.estimate.model.max_context:,}",
        ),
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
            "gpus": gpu_count(layout.estimate.workload),
            **{k: getattr(layout.estimate.workload, k) for k in ("tp", "pp", "dp", "zero")},
            "total_bytes_per_gpu": layout.estimate.total_bytes,
        },
        "max_batch": answers.max_batch,
        "max_context": answers.max_context,
        "estimate": estimate_json(result.estimate),
    }


def compare_text(
    options: Sequence[Option], best: int | None, goal: str, listed: Sequence[str]
) -> str:
    """Workloads side by side on one GPU: a headline, one row per option (the ``listed``
    settings, total, fits, headroom, longest context), the ``best`` one marked, and what
    best means for ``goal``."""
    first = options[0].fit
    w, gpu = first.estimate.workload, first.gpu
    headline = " · ".join(
        [
            first.estimate.model.name,
            label(MODES, w.mode, _),
            _("{seq} tokens").format(seq=f"{w.seq:,}"),
            _device(gpu),
        ]
    )
    columns = {"dtype": "weights", "kv_dtype": "KV cache", "batch": "batch"}
    shown = [name for name in columns if name in listed or name == "dtype"]
    rows = []
    for index, option in enumerate(options):
        work, result = option.workload, option.fit
        row: dict[str, object] = {columns[name]: str(getattr(work, name)) for name in shown}
        row["total GiB"] = _in(result.estimate.total_bytes, "GiB")
        row["fits"] = _("yes") if result.fits else _("no")
        row["headroom GiB"] = _in(result.headroom_bytes, "GiB")
        row["longest context"] = f"{option.max_context:,}" if option.max_context else _("none")
        row[""] = _("best") if index == best else ""
        rows.append(row)
    right = (
        "total GiB",
        "headroom GiB",
        "longest context",
        *(["batch"] if "batch" in shown else []),
    )
    window = first.estimate.model.max_context
    note = _(
        "fits and headroom at {seq} tokens; longest context in tokens, up to the model's "
        "window of {window}"
    ).format(seq=f"{w.seq:,}", window=f"{window:,}")
    note += "\n" + _("best: {goal}").format(goal=label(GOALS, goal, _))
    return headline + "\n\n" + table(rows, right=right) + "\n" + note + "\n"


def compare_json(options: Sequence[Option], best: int | None) -> list[dict[str, object]]:
    """The options as plain data (bytes and tokens), the best one with ``"best": true``."""
    return [
        {
            "dtype": option.workload.dtype,
            "kv_dtype": option.workload.kv_dtype,
            "batch": option.workload.batch,
            "seq": option.workload.seq,
            "fits": option.fit.fits,
            "total_bytes": option.fit.estimate.total_bytes,
            "available_bytes": option.fit.available_bytes,
            "headroom_bytes": option.fit.headroom_bytes,
            "max_context": option.max_context,
            "best": index == best,
        }
        for index, option in enumerate(options)
    ]


#: Request lengths whose concurrency ``gpumem serve`` lists (those below ``max_model_len``).
SERVE_LENGTHS = (1024, 4096, 16384, 65536)


def _cudagraph_lines(s: Serving, settings: dict[str, object]) -> list[str]:
    """vLLM's CUDA-graph estimate (as gpumem models it) and what came out of the budget."""
    lines = []
    if s.cudagraph_estimate_bytes is not None:
        lines.append(
            _("Estimated CUDA graph memory: {gib} GiB total (gpumem's model)").format(
                gib=_in(s.cudagraph_estimate_bytes, "GiB")
            )
        )
    if settings.get("cudagraph_memory") is not None:
        lines.append(
            _("CUDA-graph memory taken from the budget: {gib} GiB (--cudagraph-memory)").format(
                gib=_in(s.cudagraph_bytes, "GiB")
            )
        )
    elif s.cudagraph_estimate_bytes and not s.cudagraph_bytes:
        lines.append(_("(vLLM before 0.20 does not take it from the budget)"))
    return lines


def _runner_line(s: Serving) -> list[str]:
    """The model runner assumed for the launch, in one line."""
    if s.model_runner == "v2":
        return [
            _("model runner: the second (V2, vllm/v1/worker/gpu/); --model-runner v1 for the first")
        ]
    if s.model_runner == "v1":
        return [
            _("model runner: the first (V1, gpu_model_runner.py); --model-runner v2 for the second")
        ]
    return []


def _engine_label(settings: dict[str, object]) -> str:
    """The vLLM whose accounting the figures follow: the release given (``--engine 0.27.1``),
    the newest release read for the row ``vllm`` (its ``row_release``), else the row's id."""
    from .serve import engine, engine_named  # loaded already: serve() gave the figures

    given = str(settings.get("engine_id") or "vllm")
    row = engine(engine_named(given))
    if given != row["id"]:
        return f"vLLM {given}"
    release = row.get("model_runner", {}).get("row_release")
    return f"vLLM {release}" if release else f"vLLM ({given})"


def _budget_line(s: Serving, settings: dict[str, object]) -> list[str]:
    """The memory vLLM may use on one GPU and the device total it is a share of (what CUDA
    reports, below nvidia-smi's total on Linux), as vLLM's budget line gives them; none where
    the cache's memory was given, which vLLM takes in place of the budget."""
    if s.budget_bytes is None or settings.get("kv_cache_memory") is not None:
        return []
    return [
        _(
            "Total memory vLLM sees (what CUDA reports): {total} GiB; desired GPU memory "
            "utilization is ({u}, {budget} GiB)"
        ).format(
            total=_in(s.values["M_gpu"], "GiB"),
            u=number(s.values["u"]),
            budget=_in(s.budget_bytes, "GiB"),
        )
    ]


def _start_line(s: Serving) -> list[str]:
    """Which start the second runner's figures are for, and the other start's tokens."""
    if s.other_start_kv_tokens is None:
        return []
    other = f"{s.other_start_kv_tokens:,}"
    if s.compile_cache == "cold":
        return [
            _(
                "first start (compiles the model inside the memory profile: {gib} GiB more "
                "peak, fitted): {tokens} tokens; a restart with the compile cache: {other} "
                "tokens (--compile-cache warm)"
            ).format(
                gib=_in(s.compile_transient_bytes, "GiB"), tokens=f"{s.kv_tokens:,}", other=other
            )
        ]
    return [
        _(
            "restart with the compile cache: {tokens} tokens; a first start (compiles the "
            "model inside the memory profile): {other} tokens (--compile-cache cold)"
        ).format(tokens=f"{s.kv_tokens:,}", other=other)
    ]


def serve_text(s: Serving, gpu: GPU, settings: dict[str, object]) -> str:
    """What vLLM prints at startup (its own wording), whether the engine starts, and the
    requests the cache holds at a few lengths."""
    tp, pp = settings.get("tp", 1), settings.get("pp", 1)
    lines = [
        " · ".join([s.model.name, _engine_label(settings), _device(gpu), f"tp={tp}, pp={pp}"]),
        "",
    ]
    lines += _runner_line(s)
    if s.mamba_cache_mode == "align" and s.values.get("c_ck"):  # and a prefill checkpoint
        lines.append(
            _(
                "Setting attention block size to {tokens} tokens to ensure that attention page "
                "size is >= mamba page size ({groups} of {kinds} KV-cache groups hold three "
                "blocks of recurrent state per request: prefix caching, mamba_cache_mode "
                "'align' with a prefill checkpoint)"
            ).format(tokens=s.block_size, groups=s.recurrent_groups, kinds=s.groups)
        )
    elif s.mamba_cache_mode == "align":  # a hybrid model under prefix caching: two blocks
        lines.append(
            _(
                "Setting attention block size to {tokens} tokens to ensure that attention page "
                "size is >= mamba page size ({groups} of {kinds} KV-cache groups hold two "
                "blocks of recurrent state per request: prefix caching, mamba_cache_mode "
                "'align')"
            ).format(tokens=s.block_size, groups=s.recurrent_groups, kinds=s.groups)
        )
    elif s.recurrent_groups:  # a hybrid model: vLLM raises the attention block to fit a state
        lines.append(
            _(
                "Setting attention block size to {tokens} tokens to ensure that attention page "
                "size is >= mamba page size ({groups} of {kinds} KV-cache groups hold one "
                "recurrent state per request)"
            ).format(tokens=s.block_size, groups=s.recurrent_groups, kinds=s.groups)
        )
    if s.num_speculative_tokens:  # vLLM's MTP drafter: its layers, weights, draft tokens
        lines.append(
            _(
                "Speculative decoding: the MTP module drafts {n} tokens a step; its weights "
                "({gib} GiB) load with the model's, its attention layers join the KV cache, and "
                "each recurrent group keeps {n} more blocks a request"
            ).format(n=s.num_speculative_tokens, gib=_in(s.drafter_weights_bytes or 0, "GiB"))
        )
    if s.encoder_items:
        lines.append(
            _(
                "Vision encoder profiled before the cache is sized: {items} dummy item(s) of "
                "{tokens} tokens (--language-model-only skips it)"
            ).format(items=s.encoder_items, tokens=f"{s.encoder_item_tokens:,}")
        )
    lines += [
        *_budget_line(s, settings),
        _("Model loading took {gib} GiB").format(gib=_in(s.weights_bytes, "GiB")),
        *_cudagraph_lines(s, settings),
        _("Available KV cache memory: {gib} GiB").format(gib=_in(s.available_kv_bytes, "GiB")),
        _("GPU KV cache size: {tokens} tokens").format(tokens=f"{s.kv_tokens:,}"),
        _("Maximum concurrency for {tokens} tokens per request: {x}x").format(
            tokens=f"{s.max_model_len:,}", x=f"{s.max_concurrency:.2f}"
        ),
        "",
    ]
    if s.fits:
        lines.append(
            _("starts: the cache holds requests of up to {longest} tokens").format(
                longest=f"{s.longest_request:,}"
            )
        )
        held = [
            _("{tokens} tokens: {n}").format(tokens=f"{n:,}", n=number(s.concurrency(n)))
            for n in SERVE_LENGTHS
            if n < s.max_model_len
        ]
        if held:
            lines.append(_("requests held at once: {list}").format(list=", ".join(held)))
    elif s.longest_request:
        lines.append(
            _(
                "does NOT start: a request of {tokens} tokens needs more KV cache than there "
                "is; --max-model-len {longest} (or auto) fits"
            ).format(tokens=f"{s.max_model_len:,}", longest=s.longest_request)
        )
    else:
        lines.append(_("does NOT start: the weights and the profile run leave no KV cache"))
    lines += _start_line(s)
    if s.assumed_multiprocessors:
        lines.append(
            _(
                "assumed: {count} streaming multiprocessors (no count for {gpu} in the GPU "
                "catalog; one FP32 vocabulary row of the sampler's buffer each)"
            ).format(count=s.assumed_multiprocessors, gpu=gpu.name)
        )
    if s.assumed_link:
        lines.append(
            _(
                "assumed: the GPUs reach each other over NVLink (the GPU catalog does not say "
                "how {gpu} cards connect; over PCIe vLLM sets less aside outside PyTorch, and the "
                "cache is larger)"
            ).format(gpu=gpu.name)
        )
    return "\n".join(lines) + "\n"


def serve_json(s: Serving) -> dict[str, object]:
    """The startup figures as plain data (bytes, tokens), with ``fits``."""
    data = {k: v for k, v in s.as_dict().items() if k not in ("model", "values")}
    return {"model": s.model.name, **data, "fits": s.fits, "units": "bytes"}


def offload_text(p: Placement) -> str:
    """The placement in llama.cpp's terms: devices, bytes, flags, speed ceilings."""
    L = len(p.devices[0].layers) + sum(len(d.layers) for d in p.devices[1:])
    lines = [
        " · ".join([p.model, "llama.cpp", f"-c {p.ctx:,}", f"KV {p.kv_dtype}"]),
        "",
        _("-ngl {ngl} of {slots}: the last {n} of {layers} layers and the output layer").format(
            ngl=p.ngl, slots=L + 1, n=max(p.ngl - 1, 0), layers=L
        )
        if p.ngl
        else _("-ngl 0: everything on the CPU"),
    ]
    if p.n_cpu_moe:
        lines.append(
            _("routed experts of layers 0-{last} in system memory (--n-cpu-moe {n})").format(
                last=p.n_cpu_moe - 1, n=p.n_cpu_moe
            )
        )
    rows = []
    for d in p.devices:
        span = f"{d.layers[0]}-{d.layers[-1]}" if d.layers else "—"
        rows.append(
            {
                _("device"): d.name,
                _("layers"): span + (" +out" if d.output else ""),
                _("weights GiB"): _in(d.weights_bytes, "GiB"),
                _("KV GiB"): _in(d.kv_bytes, "GiB"),
                _("compute GiB"): _in(d.compute_bytes, "GiB"),
                _("reserve GiB"): _in(d.reserve_bytes, "GiB"),
                _("total GiB"): _in(d.total_bytes, "GiB"),
                _("capacity GiB"): "—"
                if d.capacity_bytes is None
                else _in(d.capacity_bytes, "GiB"),
            }
        )
    lines += ["", table(rows, right=list(rows[0])[2:]).rstrip("\n"), ""]
    lines.append(
        (_("fits") if p.fits else _("does NOT fit"))
        + " · "
        + _("largest context with this placement: {n} tokens").format(n=f"{p.max_ctx:,}")
    )
    if p.fits and p.ctx > p.max_ctx:  # what fits is capped by the model's trained context
        lines.append(
            _(
                "-c {ctx} is beyond the {n} tokens the model was trained for: llama.cpp runs "
                "it and warns of a possible training context overflow"
            ).format(ctx=f"{p.ctx:,}", n=f"{p.max_ctx:,}")
        )
    lines.append("llama-cli -m MODEL.gguf " + " ".join(p.flags))
    if p.override_tensor:
        lines.append(_('or, instead of --n-cpu-moe: -ot "{ot}"').format(ot=p.override_tensor))
    prefill = "—" if p.prefill_ceiling is None else f"{p.prefill_ceiling:,.0f}"
    decode = "—" if p.decode_ceiling is None else f"{p.decode_ceiling:,.1f}"
    lines.append(
        _("ceilings: decode {decode} tokens/s, prompt {prefill} tokens/s").format(
            decode=decode, prefill=prefill
        )
    )
    if not p.exact:
        lines.append(_("weights from the model's shapes at the format's average bytes per value"))
    if p.vision_parameters:
        lines.append(
            _(
                "vision tower ({n} parameters) not counted: llama.cpp loads it from a separate "
                "projector file (--mmproj)"
            ).format(n=f"{p.vision_parameters:,}")
        )
    return "\n".join(lines) + "\n"


def offload_json(p: Placement) -> dict[str, object]:
    """The placement as plain data (bytes, tokens/s)."""
    data = p.as_dict()
    data["devices"] = [{**d.as_dict(), "total_bytes": d.total_bytes} for d in p.devices]
    return {**data, "fits": p.fits, "flags": p.flags, "override_tensor": p.override_tensor}


def models_rows() -> list[dict[str, object]]:
    """The model catalog as table rows."""
    from .catalog import load_model, model_names

    return [
        {
            "id": name,
            "name": m.name,
            "family": m.family,
            "parameters": m.parameters,
            "layers": m.n_layers,
            "context": m.max_context,
        }
        for name, m in ((n, load_model(n)) for n in model_names())
    ]


def gpus_rows() -> list[dict[str, object]]:
    """The GPU catalog as table rows."""
    from .hardware import get_gpu, gpu_names

    return [
        {
            "id": name,
            "name": g.name,
            "memory GiB": to_unit(g.memory_bytes, "GiB"),
            "memory basis": g.memory_basis,
            "type": g.memory_type,
            "bandwidth GB/s": g.bandwidth_bytes_per_s / 10**9,
            "year": str(g.year),
        }
        for name, g in ((n, get_gpu(n)) for n in gpu_names())
    ]


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
