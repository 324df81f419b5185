"""The reader's calculator: the ``calculator`` directive places its form on a page, and every
HTML build writes what the form's script reads next to it.

``_static/calculator/`` receives the formulas generated from the symbolic model
(``gpumem/_generated/formulas.js``), the engine that evaluates them as ``gpumem estimate`` and
``gpumem fit`` do (``gpumem/web/engine.js``), the llama.cpp planner of ``gpumem offload``
(``gpumem/web/offload.js``), vLLM's startup figures of ``gpumem serve``
(``gpumem/web/serve.js``) and ``data.js``: the catalogs and tables exported by
:mod:`gpumem.calcdata` plus the calculator's words in the build's language, from the same
``gpumem`` catalog as every other label of the site. The form's glue (``docs/_static/calculator``)
only reads inputs and shows what the engine returns.
"""

from __future__ import annotations

import json
import re
import shutil
from html import escape
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from ..calcdata import calculator_data
from ..i18n import N_
from ..jsgen import TARGET as FORMULAS
from ..report import SERVE_LENGTHS
from ..vocabulary import COMPONENTS, MEMORY_BASES, MODES, PHASES, WORKLOAD_OPTIONS
from .translation import gettext as _

MARKER = "gpumem-calculator"
WEB = Path(__file__).resolve().parent.parent / "web"
SCRIPTS = ("formulas.js", "engine.js", "config.js", "offload.js", "serve.js", "data.js", "ui.js")
#: The scripts of gpumem/web copied into the build beside the generated formulas.
WEB_SCRIPTS = tuple(WEB / name for name in ("engine.js", "config.js", "offload.js", "serve.js"))
#: The engine's error templates (``text("…")`` in engine.js) are translated for data.js.
_TEMPLATES = re.compile(r'\btext\(\s*"((?:[^"\\]|\\.)*)"')

#: Words of the form and the answer that are the calculator's own; the others are the
#: command line's (:mod:`gpumem.vocabulary` and the sentences of :mod:`gpumem.report`).
WORDS = {
    "calculator": N_("GPU memory calculator"),
    "view": N_("Question"),
    "view_estimate": N_("Memory to run or train a model on GPUs"),
    "view_offload": N_("Local: llama.cpp on GPUs and the CPU (offload)"),
    "view_serve": N_("Serving: what vLLM reserves when it starts"),
    "model": N_("Model"),
    "config": N_("Or paste a config.json (it takes the place of the model above)"),
    "gpu": N_("GPU"),
    "vram": N_(
        "Or a GPU by its memory, with its unit (--vram; 24GB = 24 × 10⁹ bytes, "
        "24GiB = 24 × 2³⁰ bytes)"
    ),
    "mode": N_("Mode"),
    "dtype": N_("Weight format"),
    "kv_dtype": N_("KV-cache format"),
    "default": N_("default: {value}"),
    "kv_same": N_("the activations' format"),
    "batch": N_("Batch (sequences per GPU)"),
    "seq": N_("Context (tokens per sequence)"),
    "seq_default": N_("default: 2,048 or the model's window"),
    "attention": N_("Attention"),
    "logits": N_("Logits kept"),
    "training": N_("Training"),
    "precision": N_("Precision"),
    "optimizer": N_("Optimizer"),
    "optimizer_impl": N_("Optimizer step"),
    "checkpointing": N_("Activation checkpointing"),
    "lora_rank": N_("LoRA rank (empty: train every weight)"),
    "parallelism": N_("Parallelism"),
    "tp": N_("Tensor-parallel GPUs (tp)"),
    "pp": N_("Pipeline stages (pp)"),
    "dp": N_("Data-parallel GPUs (dp)"),
    "zero": N_("ZeRO stage"),
    "overhead": N_("Runtime overhead"),
    "cuda_context": N_("CUDA context (MiB)"),
    "allocator_reserve": N_("Allocator reserve (fraction of tensor memory)"),
    "answer": N_("Answer"),
    "peak": N_("Peak memory per GPU: {gb} GB = {gib} GiB"),
    "decode": N_("decoding ceiling on one GPU: {rate} tokens/s per sequence"),
    "command": N_("The same with the command line"),
    "copy": N_("Copy"),
    "copied": N_("Copied"),
    "share_note": N_("The page's address holds these inputs: copy it to share the answer."),
    "noscript": N_("The calculator needs JavaScript."),
    # The local (llama.cpp) question.
    "local": N_("Local inference (llama.cpp)"),
    "gpus": N_("More GPUs (ids, comma-separated)"),
    "gguf": N_("GGUF weight format"),
    "ram": N_("System memory (24GB, 64GiB; empty: not checked)"),
    "ctx": N_("Context (-c)"),
    "ctk": N_("KV-cache type (-ctk, -ctv)"),
    "fa": N_("Flash attention (-fa)"),
    "swa": N_("Windowed layers cache the whole context (--swa-full)"),
    "on": N_("on"),
    "off": N_("off"),
    "ngl": N_("Layers on the GPUs (-ngl; empty: the most that fit)"),
    "n_cpu_moe": N_("MoE layers with experts on the CPU (--n-cpu-moe; empty: the fewest)"),
    "b": N_("Logical batch (-b)"),
    "ub": N_("Micro-batch (-ub)"),
    "llama_flags": N_("llama.cpp's flags for this placement"),
    # The serving question (vLLM).
    "serving": N_("Serving with vLLM"),
    "gpu_memory_utilization": N_(
        "Share of the GPU for vLLM (default 0.92 from vLLM 0.20, 0.9 before)"
    ),
    "max_model_len": N_("Tokens per request (--max-model-len: a number or auto)"),
    "max_num_seqs": N_("Requests per step (--max-num-seqs)"),
    "max_num_batched_tokens": N_("Tokens per step (--max-num-batched-tokens)"),
    "block_size": N_("Tokens per KV-cache block (--block-size)"),
    "kv_cache_memory": N_("KV-cache memory per GPU instead of the budget (20GiB)"),
    "cudagraph_memory": N_(
        "CUDA-graph memory per GPU taken from the budget (--cudagraph-memory; vLLM 0.21 and "
        "later print it; empty: 0)"
    ),
    "engine": N_("vLLM version whose accounting to follow (--engine)"),
    "prefix_caching": N_(
        "Prefix caching (--[no-]enable-prefix-caching; a hybrid model's recurrent layers then "
        "hold two blocks a request)"
    ),
    "vllm_default": N_("vLLM's default (on for hybrid models from 0.26)"),
    "language_model_only": N_(
        "Text only (--language-model-only; a vision-language model without images or videos: "
        "vLLM neither builds its vision tower nor profiles its encoder)"
    ),
    "multimodal": N_("off: images and videos (vLLM's default)"),
    "mtp": N_(
        "Draft tokens of the model's MTP module (--speculative-config method mtp; empty: no "
        "speculative decoding)"
    ),
    "drafter": N_(
        "Speculative decoding: the MTP module drafts {n} tokens a step; its weights ({gib} GiB) "
        "load with the model's, its attention layers join the KV cache, and each recurrent "
        "group keeps {n} more blocks a request"
    ),
    "compile_cache": N_(
        "Start (--compile-cache; vLLM's second model runner compiles the model inside its "
        "memory profile on a first start)"
    ),
    "compile_default": N_("first start (compiles the model)"),
    "compile_warm": N_("restart with the compile cache"),
    "wsl2": N_(
        "Platform (--wsl2: vLLM under WSL2 on Windows, where CUDA reports the card's whole "
        "memory, nvidia-smi's total, with no driver share held back)"
    ),
    "linux": N_("Linux (the total CUDA reports there)"),
    "wsl2_on": N_("WSL2 on Windows (the card's whole memory)"),
    # The rows of data/serving.json, by id.
    "engine_vllm": N_("0.20 and later (vllm)"),
    "engine_vllm-0.17": N_("0.17 to 0.19 (vllm-0.17)"),
    "engine_vllm-0.13": N_("0.13 to 0.16 (vllm-0.13)"),
    "engine_vllm-0.8": N_("0.8.5 to 0.12 (vllm-0.8)"),
    # The command line's words for a launch (gpumem.report.serve_text).
    "runner_v1": N_(
        "model runner: the first (V1, gpu_model_runner.py); --model-runner v2 for the second"
    ),
    "runner_v2": N_(
        "model runner: the second (V2, vllm/v1/worker/gpu/); --model-runner v1 for the first"
    ),
    "start_cold": N_(
        "first start (compiles the model inside the memory profile: {gib} GiB more "
        "peak, fitted): {tokens} tokens; a restart with the compile cache: {other} "
        "tokens (--compile-cache warm)"
    ),
    "start_warm": N_(
        "restart with the compile cache: {tokens} tokens; a first start (compiles the "
        "model inside the memory profile): {other} tokens (--compile-cache cold)"
    ),
    "loading": N_("Model loading took {gib} GiB"),
    "available_kv": N_("Available KV cache memory: {gib} GiB"),
    "kv_size": N_("GPU KV cache size: {tokens} tokens"),
    "concurrency": N_("Maximum concurrency for {tokens} tokens per request: {x}x"),
    "starts": N_("starts: the cache holds requests of up to {longest} tokens"),
    "no_start": N_(
        "does NOT start: a request of {tokens} tokens needs more KV cache than there is; "
        "--max-model-len {longest} (or auto) fits"
    ),
    "no_kv": N_("does NOT start: the weights and the profile run leave no KV cache"),
    "held": N_("requests held at once: {list}"),
    "held_at": N_("{tokens} tokens: {n}"),
    # The command line's words for a placement (gpumem.report.offload_text).
    "ngl_line": N_("-ngl {ngl} of {slots}: the last {n} of {layers} layers and the output layer"),
    "ngl_zero": N_("-ngl 0: everything on the CPU"),
    "cpu_moe_line": N_("routed experts of layers 0-{last} in system memory (--n-cpu-moe {n})"),
    "col_device": N_("device"),
    "col_layers": N_("layers"),
    "col_weights": N_("weights GiB"),
    "col_kv": N_("KV GiB"),
    "col_compute": N_("compute GiB"),
    "col_reserve": N_("reserve GiB"),
    "col_total": N_("total GiB"),
    "col_capacity": N_("capacity GiB"),
    "placed": N_("fits"),
    "not_placed": N_("does NOT fit"),
    "max_ctx": N_("largest context with this placement: {n} tokens"),
    "override": N_('or, instead of --n-cpu-moe: -ot "{ot}"'),
    "ceilings": N_("ceilings: decode {decode} tokens/s, prompt {prefill} tokens/s"),
    "inexact": N_("weights from the model's shapes at the format's average bytes per value"),
    "vision": N_(
        "vision tower ({n} parameters) not counted: llama.cpp loads it from a separate "
        "projector file (--mmproj)"
    ),
    # The command line's sentences (gpumem.report, gpumem.cli).
    "phase": N_("peak per GPU during: {phase}"),
    "component": N_("component"),
    "share": N_("share"),
    "total": N_("total"),
    "device": N_("{gpu} ({memory} GiB, {basis})"),
    "fits": N_("{device}: fits, {gib} GiB to spare ({share} of it)"),
    "misses": N_("{device}: does NOT fit, {gib} GiB short (the estimate is {ratio} × its memory)"),
    "layout": N_("smallest layout that fits: {layout}"),
    "no_layout": N_("none up to 4,096 GPUs"),
    "max_batch": N_("largest batch at {seq} tokens on one GPU: {batch}"),
    "max_context": N_(
        "longest sequence at batch {batch} on one GPU: {tokens} (context window {window})"
    ),
    "tokens": N_("{n} tokens"),
    "none": N_("none"),
    "rule": N_(
        "rule of thumb (parameters × bytes × {factor}, blind to batch, context and "
        "optimizer): {gb} GB = {gib} GiB"
    ),
    "not_integer": N_("expected a positive integer, got {text!r}"),
    "not_fraction": N_("expected a number in [0, 1), got {text!r}"),
    "not_size": N_(
        "expected a size with its unit such as 512MiB, 0.5GiB or 24GB, or 0, got {text!r}"
    ),
    "not_vram": N_("expected a size with its unit such as 24GB or 16GiB, got {text!r}"),
    "error": N_("{prog}: error: {message}"),
    "error_hint": N_("{message} ({hint})"),
}


def words() -> dict[str, object]:
    """The calculator's words in the build's language."""
    templates = [t for path in WEB_SCRIPTS for t in _TEMPLATES.findall(path.read_text("utf-8"))]
    options: dict[str, dict[str, str]] = {}
    for (option, value), text in WORKLOAD_OPTIONS.items():
        options.setdefault(option, {})[value] = _(text)
    return {
        "words": {key: _(text) for key, text in WORDS.items()},
        "english": WORDS,
        "components": {key: _(text) for key, text in COMPONENTS.items()},
        "phases": {key: _(text) for key, text in PHASES.items()},
        "modes": {key: _(text) for key, text in MODES.items()},
        "options": options,
        "memory_bases": {key: _(text) for key, text in MEMORY_BASES.items()},
        "templates": {t: _(t) for t in [*templates, *WORDS.values()]},
    }


def _word(key: str) -> str:
    """Word ``key`` of :data:`WORDS` in the build's language, escaped for HTML."""
    return escape(_(WORDS[key]))


def _field(key: str, control: str) -> str:
    label = _word(key)
    return f'<div class="gc-field"><label for="gc-{key}">{label}</label>{control}</div>'


def _select(key: str) -> str:
    return _field(key, f'<select id="gc-{key}" name="{key}"></select>')


def _number(key: str, placeholder: str = "", mode: str = "numeric") -> str:
    """A text box for a number: what the reader types is checked, never dropped."""
    hint = f' placeholder="{escape(placeholder)}"' if placeholder else ""
    control = f'<input id="gc-{key}" name="{key}" type="text" inputmode="{mode}"{hint}>'
    return _field(key, control)


def _fieldset(legend: str, body: str, css: str) -> str:
    return f'<fieldset class="{css}"><legend>{_word(legend)}</legend>{body}</fieldset>'


def form_html() -> str:
    """The calculator's markup: labelled inputs and the regions the script fills."""
    seq_default = WORDS["seq_default"]
    main = "".join(
        [
            _select("model"),
            _select("gpu"),
            _number("vram", "24GB", "text"),
            _select("mode"),
            _select("dtype"),
            _select("kv_dtype"),
            _number("batch", "1"),
            _number("seq", _(seq_default)),
            _select("attention"),
            _select("logits"),
        ]
    )
    training = "".join(
        _select(key) for key in ("precision", "optimizer", "optimizer_impl", "checkpointing")
    ) + _number("lora_rank")
    parallel = _number("tp", "1") + _number("pp", "1") + _number("dp", "1") + _select("zero")
    config = _field(
        "config",
        '<textarea id="gc-config" name="config" rows="4" spellcheck="false"'
        ' placeholder="{&quot;model_type&quot;: …}"></textarea>',
    )
    overhead = _number("cuda_context", "512", "decimal") + _number(
        "allocator_reserve", "0.05", "decimal"
    )
    local = "".join(
        [
            _number("gpus", "rtx-3090, rtx-4090", "text"),
            _select("gguf"),
            _number("ram", "64GB", "text"),
            _number("ctx", "4096"),
            _select("ctk"),
            _select("fa"),
            _select("swa"),
            _number("ngl"),
            _number("n_cpu_moe"),
            _number("b", "2048"),
            _number("ub", "512"),
        ]
    )
    serving = "".join(
        [
            _select("engine"),
            _number("gpu_memory_utilization", "0.92", "decimal"),
            _number("max_model_len", "auto", "text"),
            _number("max_num_seqs"),
            _number("max_num_batched_tokens"),
            _number("block_size", "16"),
            _number("kv_cache_memory", "20GiB", "text"),
            _number("cudagraph_memory", "0.5GiB", "text"),
            _select("prefix_caching"),
            _select("language_model_only"),
            _number("mtp", "3"),
            _select("compile_cache"),
            _select("wsl2"),
        ]
    )
    title = _word("calculator")
    return (
        f'<section class="{MARKER}" aria-label="{title}">'
        f"<noscript><p>{_word('noscript')}</p></noscript>"
        '<form class="gc-form" autocomplete="off">'
        f'<div class="gc-view">{_select("view")}</div>'
        f'<div class="gc-main">{main}</div>'
        f'<div class="gc-config">{config}</div>'
        + _fieldset("training", training, "gc-training")
        + _fieldset("parallelism", parallel, "gc-parallel")
        + _fieldset("overhead", overhead, "gc-overhead")
        + _fieldset("local", local, "gc-local")
        + _fieldset("serving", serving, "gc-serving")
        + "</form>"
        f'<div class="gc-answer" aria-live="polite" aria-label="{_word("answer")}">'
        '<p class="gc-error" role="alert" hidden></p>'
        '<div class="gc-result"></div></div>'
        "</section>"
    )


class CalculatorDirective(SphinxDirective):
    """``{calculator}``: the reader's calculator (no arguments)."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        return [nodes.raw("", form_html(), format="html")]


def add_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object
) -> None:
    """Load the calculator's scripts, in order, on the pages that show it."""
    if MARKER in context.get("body", ""):
        for name in SCRIPTS:
            app.add_js_file(f"calculator/{name}", loading_method="defer")
        app.add_css_file("calculator/calculator.css")


def write_data(app: Sphinx, exception: Exception | None) -> None:
    """Write the generated formulas and ``data.js`` beside the static calculator files."""
    if exception is not None or app.builder.format != "html":
        return
    folder = Path(app.outdir) / "_static" / "calculator"
    folder.mkdir(parents=True, exist_ok=True)
    for script in (FORMULAS, *WEB_SCRIPTS):
        shutil.copyfile(script, folder / script.name)
    payload = {
        **calculator_data(),
        **words(),
        "serve_lengths": SERVE_LENGTHS,
        "language": app.config.language,
    }
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    (folder / "data.js").write_text(
        "/* The calculator's catalogs, tables and words; written by the docs build. */\n"
        f"var gpumemCalculatorData = {text};\n",
        encoding="utf-8",
    )


def setup_calculator(app: Sphinx) -> None:
    """Register the directive and the build steps that give it its scripts and data."""
    app.add_directive("calculator", CalculatorDirective)
    app.connect("html-page-context", add_scripts)
    app.connect("build-finished", write_data)
