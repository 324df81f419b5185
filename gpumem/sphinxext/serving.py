"""Serving capacity on the site: the ``serving-logs`` and ``serving-concurrency`` table kinds
and the ``serve``, ``serving-check``, ``engine-fact`` and ``log-fact`` role quantities.

Everything is computed by :mod:`gpumem.serve`: the published vLLM launches against gpumem's
prediction from the catalog model and GPU alone, and vLLM's figures for any launch. Errors are
relative, ``(predicted − logged) ÷ logged``: negative means gpumem predicts fewer tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from statistics import median

from ..catalog import load_model
from ..errors import InvalidValueError, UnknownNameError
from ..estimate import evaluate
from ..hardware import get_gpu
from ..serve import (
    COMPILE_CACHES,
    LogCheck,
    Serving,
    capacity,
    check_log,
    check_logs,
    engine_named,
    log_launch,
    serve,
)
from ..serve import engine as engine_row
from ..vllm_logs import GENERATIONS, logs
from .formatting import (
    format_int,
    format_size,
    percent,
    signed_percent,
    signed_size,
    significant,
)
from .labels import short_gpu_name
from .options import digits as digits_option
from .options import number, whole
from .selection import Selection, Table
from .translation import gettext as _

DASH = "—"
SPLITS = ("held-out", "fit", "all")
MEASURES = ("tokens", "concurrency", "exact", "cudagraph", "cudagraph-share")
#: The rows of data/serving.json, newest first, as the page names their vLLM releases.
ENGINES = {
    "vllm": "vLLM 0.20+",
    "vllm-0.17": "vLLM 0.17–0.19",
    "vllm-0.13": "vLLM 0.13–0.16",
    "vllm-0.8": "vLLM 0.8.5–0.12",
}
STATS = ("median", "worst", "count", "within", "outside", "error", "predicted")
#: The issue's target for launches predicted from scratch (``stat=within`` counts them).
TARGET = 0.03


def _split_label(split: str) -> str:
    return {"fit": _("fitted"), "held-out": _("held out")}[split]


def _log(log_id: str) -> dict:
    """The row of the published logs with id ``log_id``."""
    rows = {row["id"]: row for row in logs()}
    if log_id not in rows:
        raise UnknownNameError("log", log_id, sorted(rows))
    return rows[log_id]


def _source(log_id: str) -> str:
    """Where a log was published, short: an issue or pull request as ``vllm#17327``, a file in
    a repository as ``llm-d-planner@d3121e0`` (its full address is in the data file)."""
    url = _log(log_id)["source"]
    _owner, repo, kind, ref = url.removeprefix("https://github.com/").split("/")[:4]
    return f"{repo}#{ref}" if kind in ("issues", "pull") else f"{repo}@{ref[:7]}"


def _checks(kinds: tuple[str, ...]) -> tuple[LogCheck, ...]:
    """The launches of the log formats among ``kinds`` (default the current one), predicted
    by the engine rows among them (default every row)."""
    for kind in kinds:
        if kind not in GENERATIONS and kind not in ENGINES:
            raise UnknownNameError("log generation or engine row", kind, (*GENERATIONS, *ENGINES))
    generations = tuple(k for k in kinds if k in GENERATIONS) or ("v1-tokens",)
    engines = tuple(k for k in kinds if k in ENGINES) or tuple(ENGINES)
    return tuple(c for c in check_logs(generations) if c.engine in engines)


def _gpus(gpu: str, tp: int) -> str:
    """``"4 × A10"``, or the GPU's short name alone for one GPU."""
    name = short_gpu_name(get_gpu(gpu).name)
    return name if tp == 1 else f"{tp} × {name}"


def _start(check: LogCheck) -> str:
    """The model runner gpumem takes for a launch and the compile cache its log shows:
    ``second runner; cold (compiles)``. A launch under --enforce-eager compiles nothing; one
    whose log does not show the cache is predicted as a first start on the second runner."""
    runner = _("second runner") if check.model_runner == "v2" else _("first runner")
    if _log(check.log)["args"].get("enforce_eager"):
        start = _("eager: compiles nothing")
    elif check.compile_cache == "cold":
        start = _("cold (compiles)")
    elif check.compile_cache == "warm":
        start = _("warm (cached)")
    elif check.model_runner == "v2":
        start = _("not shown: taken as cold")
    else:
        start = _("not shown")
    return _("{runner}; {start}").format(runner=runner, start=start)


def _versus(logged: str, predicted: str, error: str) -> str:
    """A logged figure beside gpumem's, with the error: ``42,656 / 44,320 (+3.9 %)``."""
    return f"{logged} / {predicted} ({error})"


def serving_logs_table(selection: Selection, language: str) -> Table:
    """One row per published launch gpumem can predict (``:kinds:`` log generations, default
    the current one): logged and predicted KV-cache tokens and concurrency, the model runner
    and compile cache, and the set."""
    header = [
        _("Launch"),
        _("Model"),
        _("GPUs"),
        _("Tokens per request"),
        _("KV-cache tokens: logged / gpumem (error)"),
        _("Concurrency: logged / gpumem (error)"),
        _("Error from the printed KV memory"),
        _("Model runner; compile cache"),
        _("Set"),
    ]
    rows = []
    checks = _checks(selection.kinds)
    for c in checks:
        concurrency, exact = c.concurrency_error, c.exact_error
        logged_concurrency = DASH if concurrency is None else significant(c.logged_concurrency, 4)
        rows.append(
            [
                _source(c.log),
                load_model(c.model).name,
                _gpus(c.gpu, c.tp),
                format_int(c.max_model_len, "en"),
                _versus(
                    format_int(c.logged_tokens, "en"),
                    format_int(c.predicted_tokens, "en"),
                    signed_percent(c.token_error, 1),
                ),
                _versus(
                    logged_concurrency,
                    significant(c.predicted_concurrency, 4),
                    DASH if concurrency is None else signed_percent(concurrency, 1),
                ),
                DASH if exact is None else signed_percent(exact, 2),
                _start(c),
                _split_label(c.split),
            ]
        )
    engines = [k for k in selection.kinds if k in ENGINES]
    if not rows:  # no published launch of these releases has a catalog model and GPU yet
        rows.append([_("none yet")] + [DASH] * (len(header) - 1))
    if engines:
        title = _("Published launches of {versions} against gpumem serve").format(
            versions=", ".join(ENGINES[k] for k in engines)
        )
    elif all(c.generation == "v1-tokens" for c in checks):
        title = _("Published vLLM launches against gpumem serve")
    else:
        title = _("Published vLLM launches of the older log format against gpumem serve")
    return title, header, rows


def serving_cudagraphs_table(selection: Selection, language: str) -> Table:
    """vLLM's printed CUDA-graph estimate against gpumem's model of it, for every published
    launch that prints one and gpumem can predict; launches that differ only in what the
    estimate does not depend on (the request length, the KV-cache format) share a row."""
    header = [
        _("Launch"),
        _("Model"),
        _("GPUs"),
        _("Launches"),
        _("CUDA-graph estimate: logged / gpumem (error)"),
        _("Set"),
    ]
    groups: dict[tuple, list[LogCheck]] = {}
    for c in _checks(()):
        if c.logged_cudagraph_gib is None or c.predicted_cudagraph_bytes is None:
            continue
        key = (c.model, c.gpu, c.tp, c.pp, c.logged_cudagraph_gib, c.predicted_cudagraph_bytes)
        groups.setdefault(key + (c.split,), []).append(c)
    rows = []
    for checks in groups.values():
        c = checks[0]
        predicted = c.predicted_cudagraph_bytes / 2**30
        gpus = _gpus(c.gpu, c.tp) + (f", pp={c.pp}" if c.pp > 1 else "")
        rows.append(
            [
                _source(c.log),
                load_model(c.model).name,
                gpus,
                format_int(len(checks), "en"),
                _versus(
                    f"{c.logged_cudagraph_gib:.2f} GiB",
                    f"{predicted:.2f} GiB",
                    signed_percent(predicted / c.logged_cudagraph_gib - 1, 0),
                ),
                _split_label(c.split),
            ]
        )
    title = _("vLLM's printed CUDA-graph estimate against gpumem's model of it")
    return title, header, rows


def _launch(model: str, gpu: str, settings: dict[str, object]) -> Serving:
    return serve(model, gpu, **settings)  # type: ignore[arg-type]


def serving_concurrency_table(selection: Selection, language: str) -> Table:
    """Requests of each length (``:seqs:``) one model (``:models:``) holds at once on each GPU
    (``:gpus:``), with vLLM's defaults and the workload's ``tp`` and ``kv_dtype``."""
    model = selection.one_model
    gpus = selection.gpu_ids()
    fields = dict(selection.workload)
    unknown = set(fields) - {"tp", "kv_dtype"}
    if unknown:
        raise InvalidValueError("workloads", " ".join(sorted(unknown)), "tp and kv_dtype only")
    launches = [_launch(model, gpu, fields) for gpu in gpus]
    header = [_("Tokens per request")] + [_gpus(gpu, int(fields.get("tp", 1))) for gpu in gpus]
    rows = [
        [format_int(length, "en")]
        + [significant(launch.concurrency(length), 3) for launch in launches]
        for length in selection.seqs
    ]
    title = _("Requests of {model} held at once, by request length").format(
        model=load_model(model).name
    )
    return title, header, rows


TABLES: dict[str, Callable[[Selection, str], Table]] = {
    "serving-logs": serving_logs_table,
    "serving-cudagraphs": serving_cudagraphs_table,
    "serving-concurrency": serving_concurrency_table,
}


# Role quantities -------------------------------------------------------------------------------


#: What ``serving-check`` selects launches by: a value its log row gives.
_FILTERS: dict[str, Callable[[str], str]] = {
    "platform": lambda log: str(_log(log).get("platform")),
    "dtype": lambda log: str(_log(log).get("catalog_dtype")),
    "source": lambda log: _source(log).split("@")[0].split("#")[0],
}


def _having(checks: list[LogCheck], wanted: dict[str, str | None]) -> list[LogCheck]:
    """The launches of ``checks`` whose rows give each value of ``wanted`` (None: any)."""
    for name, value in wanted.items():
        if value is None:
            continue
        present = sorted({_FILTERS[name](c.log) for c in checks})
        if value not in present:
            raise UnknownNameError(name, value, present)
        checks = [c for c in checks if _FILTERS[name](c.log) == value]
    return checks


def _relaunched(check: LogCheck, compile_cache: str | None, share: float | None) -> LogCheck:
    """``check``'s launch predicted as if its log showed ``compile_cache`` (``cold`` or
    ``warm``; refused for a launch on the first runner, whose fitted terms hold whatever
    compile state their launches had) and its command gave ``--gpu-memory-utilization share``
    (None: as the log has it)."""
    row = _log(check.log)
    if compile_cache is not None:
        if compile_cache not in COMPILE_CACHES:
            raise UnknownNameError("compile_cache", compile_cache, COMPILE_CACHES)
        if check.model_runner != "v2":
            raise InvalidValueError("compile_cache", compile_cache, "launches on the second runner")
        row = {**row, "compile_cache": compile_cache}
    if share is not None:
        row = {**row, "args": {**row["args"], "gpu_memory_utilization": share}}
    return check_log(row)


def serving_check(
    *,
    language: str,
    stat: str,
    split: str = "held-out",
    measure: str = "tokens",
    generation: str = "v1-tokens",
    digits: str = "2",
    log: str = "",
    platform: str | None = None,
    dtype: str | None = None,
    source: str | None = None,
    compile_cache: str | None = None,
    gpu_memory_utilization: str | None = None,
) -> str:
    """A figure of the launches against gpumem: ``serving-check stat=median`` → ``4.2%``.

    ``stat`` is ``median`` or ``worst`` absolute error, ``count`` (launches compared),
    ``within`` (launches within :data:`TARGET`), ``outside`` (the others), ``error`` (the
    signed error of the launch ``log``, one decimal: ``−4.0%``; in GiB for ``cudagraph``) or
    ``predicted`` (gpumem's own figure for that launch);
    ``split`` ``held-out`` (default), ``fit`` or ``all``; ``measure`` ``tokens`` or
    ``concurrency`` (predicted from scratch), ``exact`` (tokens from the KV-cache memory the
    log printed, single-GPU launches), ``cudagraph`` (the CUDA-graph estimate, in GiB) or
    ``cudagraph-share`` (the same, relative); ``generation`` a log format or ``all``.
    ``platform`` (``wsl2``), ``dtype`` (the catalog's weight format) and ``source`` (where the
    log was published, as the tables name it without its commit or number: ``llm-d-planner``)
    keep the launches whose rows give that value; ``compile_cache`` (``cold`` or
    ``warm``) checks launches on the second runner as if their logs showed that start;
    ``gpu_memory_utilization`` checks them as if launched with that share of the GPU.
    """
    for name, value, accepted in (
        ("stat", stat, STATS),
        ("split", split, SPLITS),
        ("measure", measure, MEASURES),
    ):
        if value not in accepted:
            raise UnknownNameError(name, value, accepted)
    generations = GENERATIONS if generation == "all" else (generation,)
    chosen = [c for c in _checks(generations) if split in ("all", c.split)]
    chosen = _having(chosen, {"platform": platform, "dtype": dtype, "source": source})
    if measure == "exact":  # with tensor parallelism a thread shows one worker's memory
        chosen = [c for c in chosen if c.tp * c.pp == 1]
    if stat in ("error", "predicted"):
        named = {c.log: c for c in chosen}
        if log not in named:
            raise UnknownNameError("log", log, sorted(named))
        chosen = [named[log]]
    if compile_cache is not None or gpu_memory_utilization is not None:
        share = (
            None
            if gpu_memory_utilization is None
            else number(gpu_memory_utilization, "gpu_memory_utilization")
        )
        chosen = [_relaunched(c, compile_cache, share) for c in chosen]
    places = digits_option(digits)
    if stat == "predicted":
        return _predicted(chosen[0], measure, language, places)
    error = _ERRORS[measure]
    if stat == "error":
        value = error(chosen[0])
        if value is None:
            raise InvalidValueError("log", log, f"a launch whose log gives the {measure} measure")
        if measure == "cudagraph":
            return signed_size(value * 2**30, "GiB", places)
        return signed_percent(value, 1)
    errors = [abs(e) for e in map(error, chosen) if e is not None]
    if stat == "count":
        return format_int(len(errors), language)
    if stat in ("within", "outside"):
        within = sum(error <= TARGET for error in errors)
        return format_int(within if stat == "within" else len(errors) - within, language)
    if not errors:
        raise InvalidValueError("split", split, "a set with launches to compare")
    value = median(errors) if stat == "median" else max(errors)
    if measure == "cudagraph":
        return format_size(value * 2**30, "GiB", places)
    return percent(value, digits_option(digits, high=6, low=1))


#: Each measure's error of a launch, None where its log lacks the figure.
_ERRORS: dict[str, Callable[[LogCheck], float | None]] = {
    "tokens": lambda c: c.token_error,
    "concurrency": lambda c: c.concurrency_error,
    "exact": lambda c: c.exact_error,
    "cudagraph": lambda c: c.cudagraph_error_gib,
    "cudagraph-share": lambda c: (
        None if c.cudagraph_error_gib is None else c.cudagraph_error_gib / c.logged_cudagraph_gib
    ),
}


def _predicted(check: LogCheck, measure: str, language: str, places: int) -> str:
    """gpumem's own figure for the launch of ``check`` in ``measure``: its KV-cache tokens,
    concurrency, tokens from the printed memory, or CUDA-graph estimate."""
    if measure == "tokens":
        return format_int(check.predicted_tokens, language)
    if measure == "concurrency":
        return significant(check.predicted_concurrency, 4)
    if measure == "exact":
        return format_int(check.exact_tokens, language)
    if check.predicted_cudagraph_bytes is None:
        raise InvalidValueError("log", check.log, "a launch gpumem estimates CUDA graphs for")
    return format_size(check.predicted_cudagraph_bytes, "GiB", places)


#: What the ``serve`` quantity can print: a field of :class:`gpumem.serve.Serving`.
_SIZES = {
    "available": "available_kv_bytes",
    "weights": "weights_bytes",
    "budget": "budget_bytes",
    "peak": "profile_peak_bytes",
    "page": "page_bytes",
    "cudagraphs": "cudagraph_bytes",
    "cudagraph-estimate": "cudagraph_estimate_bytes",
    "drafter": "drafter_weights_bytes",
    "compile": "compile_transient_bytes",
    "buffers": "runner_buffers_bytes",
    "non-torch": "non_torch_bytes",
}
#: Sizes the ``serve`` quantity takes from the launch's formulas: a recurrent layer's state
#: for one request on one GPU, what the first FULL CUDA-graph capture holds (and, on the
#: second runner, the largest piecewise batch's attention accumulators), and a token's
#: bytes of a gated DeltaNet layer's working set in vLLM's dummy runs and in the chunked rule.
_FORMULA_SIZES = {
    "state": "recurrent_page",
    "full-accumulators": "cudagraph_full_accumulators",
    "piecewise-accumulators": "cudagraph_piecewise_accumulators",
    "moe-workspace": "fused_moe_workspace",
    "deltanet-token": "engine_deltanet_workspace",
    "deltanet-chunked-token": "deltanet_workspace",
}
_COUNTS = {
    "tokens": "kv_tokens",
    "longest": "longest_request",
    "blocks": "blocks",
    "block": "block_size",
}
#: Counts the ``serve`` quantity takes from the launch's formulas: the CUDA graphs vLLM
#: captures, FULL and piecewise.
_FORMULA_COUNTS = {
    "full-graphs": "cudagraph_full_graphs",
    "piecewise-graphs": "cudagraph_piecewise_graphs",
}
#: The ``serve`` quantity's switches: ``prefix_caching`` (vLLM's --enable-prefix-caching or its
#: negation) and ``language_model_only`` (vLLM's --language-model-only).
SWITCH = {"on": True, "off": False}


def serve_figure(
    *,
    language: str,
    model: str,
    gpu: str,
    what: str,
    unit: str,
    tp: str = "1",
    pp: str = "1",
    kv_dtype: str | None = None,
    max_model_len: str | None = None,
    gpu_memory_utilization: str | None = None,
    length: str | None = None,
    engine: str | None = None,
    dtype: str | None = None,
    prefix_caching: str | None = None,
    language_model_only: str | None = None,
    max_num_seqs: str | None = None,
    max_num_batched_tokens: str | None = None,
    mtp: str | None = None,
    compile_cache: str | None = None,
    digits: str = "2",
) -> str:
    """A figure vLLM prints for a launch: ``serve model=llama-3.1-8b gpu=h100-sxm what=tokens``.

    ``what`` is ``tokens`` (KV-cache size), ``longest`` (the longest request that fits),
    ``blocks``, ``block`` (tokens a block holds), ``full-graphs`` and ``piecewise-graphs``
    (the CUDA graphs vLLM captures), ``concurrency`` (at ``length``, default
    ``max_model_len``), or a size in ``unit``: ``available`` (KV-cache memory), ``weights``,
    ``budget`` (the share the engine may use), ``peak`` (the profiled peak), ``non-torch``
    (the memory outside PyTorch vLLM counts beside the weights), ``page``,
    ``cudagraph-estimate`` (gpumem's model of vLLM's CUDA-graph estimate), ``cudagraphs``
    (what comes out of the budget), ``state`` (a recurrent layer's state for one request),
    ``full-accumulators`` (what the first FULL capture holds), ``piecewise-accumulators``
    (what the second runner's largest piecewise warm-up leaves), ``moe-workspace`` (the
    fused-MoE kernel's workspace, routed experts' intermediates in it), ``buffers`` (what the model
    runner makes before the profile and the budget counts), ``deltanet-token`` or
    ``deltanet-chunked-token`` (a token of a gated DeltaNet layer's working set in vLLM's
    dummy runs, or in the chunked delta rule), ``compile`` (what a first start's torch.compile
    adds to the profiled peak on the second runner); ``engine`` a row of
    ``data/serving.json`` or a vLLM release (default: the current row); ``dtype`` the weight
    format; ``tp`` and ``pp`` the GPUs and pipeline stages (figures are the stage's that sizes
    the cache); ``prefix_caching`` ``on`` or ``off`` (default: vLLM's); ``mtp`` the draft tokens
    of the model's MTP module (vLLM's --speculative-config with method mtp; ``drafter``: its
    weights on one GPU); ``compile_cache`` ``cold`` (a first start, the default on the second
    runner) or ``warm`` (a restart that loads the compiled model).
    """
    settings: dict[str, object] = {
        "tp": whole(tp, "tp"),
        "pp": whole(pp, "pp"),
        "kv_dtype": kv_dtype,
    }
    if max_model_len is not None:
        settings["max_model_len"] = whole(max_model_len, "max_model_len")
    if gpu_memory_utilization is not None:
        settings["gpu_memory_utilization"] = number(
            gpu_memory_utilization, "gpu_memory_utilization"
        )
    if engine is not None:
        settings["engine_id"] = engine
    if dtype is not None:
        settings["dtype"] = dtype
    if compile_cache is not None:
        settings["compile_cache"] = compile_cache
    for name, given in (
        ("max_num_seqs", max_num_seqs),
        ("max_num_batched_tokens", max_num_batched_tokens),
    ):
        if given is not None:
            settings[name] = whole(given, name)
    if mtp is not None:
        settings["speculative_config"] = {
            "method": "mtp",
            "num_speculative_tokens": whole(mtp, "mtp"),
        }
    for name, switch, argument in (
        ("prefix_caching", prefix_caching, "enable_prefix_caching"),
        ("language_model_only", language_model_only, "language_model_only"),
    ):
        if switch is not None:
            if switch not in SWITCH:
                raise UnknownNameError(name, switch, tuple(SWITCH))
            settings[argument] = SWITCH[switch]
    result = _launch(model, gpu, settings)
    if what in _COUNTS:
        return format_int(getattr(result, _COUNTS[what]), language)
    if what in _FORMULA_COUNTS:
        name = _FORMULA_COUNTS[what]
        return format_int(int(evaluate((name,), result.values)[name]), language)
    if what in _SIZES:
        return format_size(getattr(result, _SIZES[what]), unit, digits_option(digits))
    if what in _FORMULA_SIZES:
        name = _FORMULA_SIZES[what]
        return format_size(evaluate((name,), result.values)[name], unit, digits_option(digits))
    if what == "concurrency":
        size = result.max_model_len if length is None else whole(length, "length")
        return significant(result.concurrency(size), digits_option(digits, high=6, low=1) + 1)
    accepted = (*_COUNTS, *_FORMULA_COUNTS, *_SIZES, *_FORMULA_SIZES, "concurrency")
    raise UnknownNameError("what", what, accepted)


def engine_fact(
    *, language: str, key: str, unit: str | None = None, engine: str = "vllm", digits: str = "2"
) -> str:
    """A number of an engine's row of ``data/serving.json``:
    ``engine-fact key=non_torch_bytes unit=GiB``; a dotted ``key`` reads inside an object
    (``cudagraph_estimate.bytes_per_layer``); without ``unit`` the number as it stands (a share,
    a count) or a release as the row names it (``model_runner.row_release``); ``engine`` a row
    or a vLLM release (default: the current row)."""
    value: object = engine_row(engine_named(engine))
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise UnknownNameError("key", key, sorted(value) if isinstance(value, dict) else ())
        value = value[part]
    if isinstance(value, str) and unit is None:  # a release the row follows: "0.33.0"
        return value
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise InvalidValueError("key", key, "a number or a release of the engine's row")
    if unit is None:
        return significant(value, 6)
    return format_size(value, unit, digits_option(digits))


#: The figure ``log-fact`` derives from a log's printed token count.
BLOCKS = "blocks"


def _block_bytes(log: str) -> int:
    """One KV-cache block's bytes on one GPU for the launch of ``log``: a page for every layer
    of a group."""
    row = _log(log)
    one = capacity(row["catalog_model"], 2**30, **log_launch(row))
    return one.page_bytes * one.layers_per_group


def _printed_blocks(log: str) -> int:
    """The blocks whose count vLLM printed as the launch's KV-cache tokens (its arithmetic on
    blocks, as gpumem follows it for the launch: from 0.20.1 the requests the blocks hold
    times max_model_len); refused where no block count prints those tokens."""
    row = _log(log)
    launch, block = log_launch(row), _block_bytes(log)
    printed = int(_logged(log, "kv_cache_tokens"))

    def tokens(blocks: int) -> int:
        return capacity(row["catalog_model"], blocks * block, **launch).kv_tokens

    low, high = 0, 1
    while tokens(high) < printed:
        low, high = high, 2 * high
    while high - low > 1:  # the fewest blocks that print at least the logged tokens
        middle = (low + high) // 2
        low, high = (middle, high) if tokens(middle) < printed else (low, middle)
    if tokens(high) != printed:
        raise InvalidValueError("log", log, "a launch whose printed tokens are a count of blocks")
    return high


def _logged(log: str, key: str) -> float:
    """The number ``key`` of ``logged`` in the published launch ``log``'s row, or the
    :data:`BLOCKS` its printed token count implies."""
    if key == BLOCKS:
        return _printed_blocks(log)
    logged = _log(log)["logged"]
    value = logged.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        numbers = (k for k, v in logged.items() if isinstance(v, (int, float)))
        raise UnknownNameError("key", key, sorted(numbers) + [BLOCKS])
    return value


def log_fact(
    *,
    language: str,
    log: str,
    key: str,
    unit: str | None = None,
    digits: str = "2",
    minus_log: str | None = None,
    minus_key: str | None = None,
) -> str:
    """A figure a published launch's log printed, from ``logged`` of its row in
    ``data/vllm_startup_logs.json``: ``log-fact log=ID key=available_kv_gib`` → ``3.04 GiB``;
    a key in GiB (``…_gib``) is shown in ``unit`` (default GiB), a count as it stands.
    ``key=blocks`` gives the KV-cache blocks the printed token count implies (with ``unit``,
    their memory on one GPU). With ``minus_log`` (another launch) or ``minus_key`` (another
    figure of the same kind), the difference: ``key`` of ``log`` less ``minus_key`` (default
    ``key``) of ``minus_log`` (default ``log``)."""
    value = _logged(log, key)
    if minus_log is not None or minus_key is not None:
        other = minus_key or key
        if other.endswith("_gib") != key.endswith("_gib") or (other == BLOCKS) != (key == BLOCKS):
            raise InvalidValueError("minus_key", other, f"a figure of the same kind as {key}")
        if key == BLOCKS and unit and _block_bytes(minus_log or log) != _block_bytes(log):
            raise InvalidValueError("minus_log", minus_log, "a launch with blocks of one size")
        value -= _logged(minus_log or log, other)
    if key == BLOCKS and unit:
        return format_size(value * _block_bytes(log), unit, digits_option(digits))
    if key.endswith("_gib"):
        return format_size(value * 2**30, unit or "GiB", digits_option(digits))
    if isinstance(value, int):
        return format_int(value, language)
    return significant(value, 6)


QUANTITIES: dict[str, Callable[..., str]] = {
    "serve": serve_figure,
    "serving-check": serving_check,
    "engine-fact": engine_fact,
    "log-fact": log_fact,
}
