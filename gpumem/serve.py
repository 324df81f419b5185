"""Serving capacity: what vLLM reserves at startup, computed before renting the GPU.

:func:`serve` follows vLLM's V1 accounting (the files named in ``data/serving.json``): the
engine may use the device's total times ``gpu_memory_utilization``; the KV cache gets what the
weights, the peak of a dummy run and memory outside PyTorch leave of it; blocks, tokens and the
concurrency follow from the page size of the KV-cache groups. A hybrid model's recurrent
layers (Mamba-2, gated DeltaNet) hold one state per request, padded to the attention page,
whose block size vLLM raises until a page holds that state. Every formula is in
:mod:`gpumem.symbolic`. Two terms are models, not copies of vLLM: the profiled peak (gpumem's
prefill working set and a sampler term; a MoE model's fused-MoE workspace beside them follows
vLLM's kernel shapes) and the memory outside PyTorch; both, and vLLM's defaults, live in
``data/serving.json``, so a new vLLM release is a change there.
:func:`capacity` is the exact part: what vLLM derives from a known available memory.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import cache

from . import _data
from ._record import Record
from .errors import InvalidValueError, Text, UnknownNameError
from .estimate import evaluate, symbol_values
from .hardware import GPU, get_gpu
from .modelspec import ModelSpec
from .precision import bytes_per_value, get_format
from .workload import Workload

#: The dummy forward pass's working set: a DeltaNet layer's as vLLM runs it, then the largest
#: layer's.
_PREFILL = ("engine_deltanet_workspace", "engine_mlp_width", "engine_prefill_workspace")
#: The vision encoder's part of the profiling run (gpumem.symbolic.encoder).
_ENCODER = (
    "encoder_image_tokens",
    "encoder_video_tokens",
    "encoder_item_tokens",
    "encoder_items",
    "encoder_patches",
    "encoder_pixels",
    "encoder_outputs",
    "encoder_workspace",
)
#: Formulas evaluated for the budget, then for the cache.
_BUDGET = (
    "weights",
    "engine_load_extra",
    *_PREFILL,
    *_ENCODER,
    "fused_moe_workspace",
    "sampler_logits",
    "engine_sampler_run",
    "engine_v2_sampler_run",
    "engine_runner_sampler",
    "engine_stage_intermediate",
    "engine_runner_buffers",
    "engine_compile_transient",
    "engine_profile_peak",
    "mtp_parameters",
    "mtp_weights",
    "serve_budget",
)
_CACHE = ("kv_page", "kv_blocks", "blocks_per_request", "kv_tokens", "max_concurrency")


@cache
def engine(name: str = "vllm") -> dict:
    """The engine's row of ``data/serving.json``: defaults and modelled terms of one
    generation of vLLM (``vllm``: 0.20 and later; ``vllm-0.17``: 0.17 to 0.19;
    ``vllm-0.13``: 0.13 to 0.16; ``vllm-0.8``: 0.8.5 to 0.12)."""
    rows = _data.load_json(_data.path("serving.json"))["engines"]
    for row in rows:
        if row["id"] == name:
            return row
    raise UnknownNameError("engine", name, [row["id"] for row in rows])


#: The first release of each row of ``data/serving.json``, newest first.
_GENERATIONS = (((0, 20), "vllm"), ((0, 17), "vllm-0.17"), ((0, 13), "vllm-0.13"))


def engine_for(version: str | None) -> str:
    """The ``data/serving.json`` row of a vLLM release (``0.19.1``, ``0.29.1rc1.dev17+g…``):
    ``vllm`` from 0.20, ``vllm-0.17`` from 0.17, ``vllm-0.13`` from 0.13, ``vllm-0.8`` before
    (and for a launch whose version is unknown, as the threads of 2025 are)."""
    if not version:
        return "vllm-0.8"
    release = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    return next((row for first, row in _GENERATIONS if release >= first), "vllm-0.8")


#: The oldest vLLM release whose accounting a row of ``data/serving.json`` follows.
_OLDEST = (0, 8, 5)


def _release(name: str) -> tuple[int, int, int] | None:
    """The vLLM release ``name`` writes (``0.24.0``, ``0.26.1rc1.dev608+g…``) as numbers; None
    for anything else (a row id)."""
    release = re.fullmatch(r"(\d+)\.(\d+)(?:\.(\d+))?(?:(?:rc|\.dev|\+)\S*)?", str(name).strip())
    return tuple(int(part or 0) for part in release.groups()) if release else None


def engine_named(name: str) -> str:
    """The ``data/serving.json`` row named by ``name``: a row id (``vllm``, ``vllm-0.8``) or a
    vLLM release from 0.8.5 (``0.19.1``, or as vLLM prints a build: ``0.29.1rc1.dev17+g…``),
    whose generation's row it picks."""
    rows = [row["id"] for row in _data.load_json(_data.path("serving.json"))["engines"]]
    if name in rows:
        return name
    release = _release(name)
    if release and release >= _OLDEST:
        return engine_for(".".join(map(str, release)))
    raise InvalidValueError(
        "engine",
        name,
        Text(
            "{rows} or a vLLM release from {oldest}, such as 0.19.1",
            rows=", ".join(rows),
            oldest=".".join(map(str, _OLDEST)),
        ),
    )


#: What ``model_runner`` accepts: vLLM's choice, or VLLM_USE_V2_MODEL_RUNNER=0 / =1.
MODEL_RUNNERS = ("auto", "v1", "v2")


def _runner_rule(row: dict, engine_id: str) -> tuple[dict | None, tuple | None]:
    """The row's ``model_runner`` rules and the release they are read at: the release
    ``engine_id`` names, or the row's ``row_release`` for a row id; (None, None) for a row
    of releases that run the first runner only."""
    rules = row.get("model_runner")
    if rules is None:
        return None, None
    return rules, _release(engine_id) or _release(rules["row_release"])


def _at_least(row: dict, engine_id: str, first: str | None) -> bool:
    """Whether the release ``engine_id`` names (a row id: the row's ``row_release``) is
    ``first`` or later; False for no ``first`` or a row that names no release."""
    _, release = _runner_rule(row, engine_id)
    return first is not None and release is not None and release >= _release(first)


def runner_for(spec: ModelSpec, engine_id: str = "vllm", given: str = "auto") -> str:
    """The model runner vLLM runs ``spec`` with: ``"v2"`` for its second one
    (vllm/v1/worker/gpu/), ``"v1"`` for the first (gpu_model_runner.py), as the release
    (``engine_id``, a row id meaning its ``row_release``) decides by default
    (``VllmConfig.use_v2_model_runner``, the row's ``model_runner.default_v2``): listed
    architectures, every dense model, or every model, a hybrid only where its architecture is
    listed. ``given`` ``"v1"`` or ``"v2"`` is VLLM_USE_V2_MODEL_RUNNER=0 or 1."""
    if given not in MODEL_RUNNERS:
        raise InvalidValueError("model_runner", given, Text("one of {names}", names="auto, v1, v2"))
    rules, release = _runner_rule(engine(engine_named(engine_id)), engine_id)
    default = rules and [r for r in rules["default_v2"] if release >= _release(r["from"])]
    if not default:
        if given == "v2":
            raise InvalidValueError(
                "model_runner",
                given,
                Text(
                    "v1 or auto for {engine}: gpumem follows vLLM's second model runner from "
                    "0.22.0",
                    engine=engine_id,
                ),
            )
        return "v1"
    if given != "auto":
        return given
    rule = default[-1]
    listed = rules["architectures"].get(spec.family) in rule["architectures"]
    quantized = bool(rule["unquantized_only"] and spec.extra.get("quantization"))
    if rule["every_model"]:
        second = True
    elif spec.n_recurrent_layers:
        second = rule["hybrid"] == "listed" and listed
    else:
        second = (listed and not quantized) or (rule["every_dense_model"] and not spec.is_moe)
    return "v2" if second else "v1"


def _runner_values(row: dict, engine_id: str, runner: str, values: dict) -> bool:
    """The runner's inputs into ``values``: ``c_rb``, 1 from the row's
    ``buffers_counted_from`` (the budget counts what either runner allocates after the
    start-up snapshot), and the second runner's (``c_v2``, ``c_gs``, ``N_q``, its sampler's
    ``l_s``, ``c_sw`` from the row's ``sampler_warmup``, and a top-k/top-p buffer only in that
    second pass off FlashInfer); whether the runner estimates CUDA graphs (the first always
    where the row does; the second from the row's ``cudagraph_estimate_from``)."""
    values.update(c_v2=0, c_rb=0, c_gs=0, c_sw=0)
    rules, release = _runner_rule(row, engine_id)
    if rules is not None:
        values["c_rb"] = int(release >= _release(rules["buffers_counted_from"]))
    if runner == "v1":
        return True
    graphs = release >= _release(rules["cudagraph_estimate_from"])
    fp32 = [
        r["bytes"] for r in rules["sampler_fp32_bytes_per_logit"] if release >= _release(r["from"])
    ]
    warmup = rules.get("sampler_warmup")
    second_pass = bool(warmup) and release >= _release(warmup["from"])
    values.update(
        c_v2=1,
        c_gs=int(graphs),
        l_s=fp32[-1],
        c_sw=int(second_pass),
        # the Triton top-k/top-p buffer only in the second pass where FlashInfer does not run
        n_tk=values["n_tk"] if second_pass and not values["c_fs"] else 0,
    )
    return graphs


#: What ``compile_cache`` accepts: a first start, which compiles the model inside vLLM's memory
#: profile, or a restart that loads the compiled model from vLLM's torch.compile cache.
COMPILE_CACHES = ("cold", "warm")


def _compile_values(row: dict, runner: str, given: str | None, values: dict) -> str | None:
    """The first compile's inputs into ``values`` (``c_cc``, ``k_tc``, the row's fitted
    ``compile_transient``); the start assumed: ``given``, or ``"cold"`` (a first start: a new
    machine has no cache) for the second runner, None for the first, whose fitted terms hold
    whatever compile state their launches had."""
    if given is not None and given not in COMPILE_CACHES:
        raise InvalidValueError(
            "compile_cache", given, Text("one of {names}", names=", ".join(COMPILE_CACHES))
        )
    values.update(c_cc=0, k_tc=0)
    if runner == "v1":
        if given is not None:
            raise InvalidValueError(
                "compile_cache",
                given,
                Text(
                    "nothing with vLLM's first model runner, whose fitted terms hold whatever "
                    "compile state their launches had (--model-runner v2 for the second)"
                ),
            )
        return None
    start = given or "cold"
    fitted = row["model_runner"]["compile_transient"]["bytes_per_hidden_unit"]
    values.update(c_cc=int(start == "cold"), k_tc=fitted)
    return start


def _device_total(row: dict, device: GPU, wsl2: bool) -> int:
    """What the device reports to vLLM: under WSL2 the card's whole memory (``wsl2`` of
    ``data/serving.json``), else logged for GPUs in the row's ``device_totals``, else the
    catalog capacity less the driver's share."""
    if not isinstance(wsl2, bool):
        raise InvalidValueError("wsl2", wsl2, Text("True or False"))
    if wsl2:
        return device.memory_bytes
    for total in row.get("device_totals", ()):
        if total["gpu"] == device.id:
            return total["bytes"]
    return device.memory_bytes - row["driver_reserved_bytes"]


def _sampler_device(row: dict, device: GPU, seqs: int) -> dict[str, int | None]:
    """The sampler's device-dependent terms: rows of the Triton top-k/top-p kernel's cached
    buffer (``min(SMs, rows)`` programs, rounded up to a power of two, at most the GPU's
    streaming multiprocessors; the kernel runs from 8 rows, in releases that have it), the
    cuBLAS workspace PyTorch sizes by the GPU's compute capability (the row's
    ``cublas_workspace``) and ``c_fs``, 1 where vLLM samples top-k/top-p with FlashInfer (the
    row's ``model_runner.sampler_warmup``), with ``assumed``: the row's
    ``multiprocessors_assumed`` where the kernel runs and the catalog has no count, else None.
    A row without ``cublas_workspace`` holds them in its fitted terms."""
    if "cublas_workspace" not in row:
        return {"n_tk": 0, "M_blas": 0, "c_fs": 0, "assumed": None}
    blas = row["cublas_workspace"]
    large = device.compute_capability in blas["large_capabilities"]
    kernel = row["sampler_topk_buffer"] and seqs >= 8
    assumed = row["multiprocessors_assumed"] if kernel and not device.multiprocessors else None
    units = device.multiprocessors or row["multiprocessors_assumed"]
    rows = min(1 << (min(units, seqs) - 1).bit_length(), units) if kernel else 0
    warmup = row.get("model_runner", {}).get("sampler_warmup")
    flashinfer = bool(warmup) and (
        device.compute_capability in warmup["flashinfer_capabilities"]
        and units >= warmup["flashinfer_min_multiprocessors"]
    )
    return {
        "n_tk": rows,
        "M_blas": blas["large_bytes"] if large else blas["bytes"],
        "c_fs": int(flashinfer),
        "assumed": assumed,
    }


def _marlin_group(
    row: dict, device: GPU, spec: ModelSpec, dtype: str | None, engine_id: str
) -> int:
    """Input columns that share one of the scales vLLM's Marlin kernels keep for FP8 weights
    (the row's ``fp8_marlin``), 0 where vLLM does not run them through Marlin: the weight
    format (``dtype``'s, else the checkpoint's as shipped) among the row's ``scale_groups``,
    on the compute capabilities it lists (its ``block_capabilities_from``'s from that release,
    the row's newest for a row id)."""
    marlin = row.get("fp8_marlin")
    shipped = (spec.extra.get("quantization") or {}).get("format")
    form = get_format(dtype).name if dtype else shipped
    if marlin is None or form not in marlin["scale_groups"]:
        return 0
    capabilities = marlin["capabilities"]
    later = marlin.get("block_capabilities_from")
    release = _release(engine_id)
    if later and (release is None or release >= _release(later["release"])):
        capabilities = later["capabilities"]
    return marlin["scale_groups"][form] if device.compute_capability in capabilities else 0


#: Formulas of vLLM's CUDA-graph estimate, before and after the largest capture's working set.
_GRAPH_SIZES = (
    "cudagraph_ceiling",
    "cudagraph_max_size",
    "cudagraph_off_grid",
    "cudagraph_seqs_off_grid",
    "cudagraph_decode_sizes",
    "cudagraph_decode_sizes_rounded",
)
_GRAPHS = (
    "cudagraph_piecewise_graphs",
    "cudagraph_full_graphs",
    "cudagraph_full_accumulators",
    "cudagraph_piecewise_accumulators",
    "cudagraph_estimate",
)


def _runs_flashinfer(graphs: dict, capability: str | None, spec: ModelSpec, values: dict) -> bool:
    """Whether vLLM's attention backend is FlashInfer under the row's rule: a quantized KV
    cache (under ``flashinfer_cache_bytes_below`` bytes a value) on a GPU where FlashAttention
    does not hold it (it does only as FlashAttention 3, ``flashinfer_except_capabilities``),
    MLA aside."""
    return (
        values["b_kv"] < graphs["flashinfer_cache_bytes_below"]
        and capability not in graphs["flashinfer_except_capabilities"]
        and not spec.uses_mla
    )


def _speculative_full(row: dict, graphs: dict, engine_id: str) -> list[str]:
    """Compute capabilities where FlashInfer's FULL CUDA graphs hold decodes with draft
    tokens (``flashinfer_speculative_full_capabilities``) at the release ``engine_id`` names,
    with those ``flashinfer_speculative_full_from`` adds from a release."""
    later = graphs.get("flashinfer_speculative_full_from", [])
    added = [
        c for rule in later if _at_least(row, engine_id, rule["from"]) for c in rule["capabilities"]
    ]
    return graphs["flashinfer_speculative_full_capabilities"] + added


def _cudagraph_estimate(
    row: dict, device: GPU, spec: ModelSpec, values: dict, engine_id: str
) -> dict:
    """What vLLM estimates its CUDA graphs to take (``profile_cudagraph_memory``; the row's
    ``cudagraph_estimate``): the formulas' values, ``cudagraph_estimate`` None for a row
    without one. The first piecewise capture holds
    the forward pass's working set at the largest batch (``engine_prefill_workspace`` there); the
    first FULL capture FlashAttention 3's split accumulators where the row's GPUs run it (for
    MLA as wide as the latent), or FlashInfer's workspaces where the launch runs FlashInfer.
    From the row's ``max_num_seqs_size_from`` max_num_seqs is one of the sizes."""
    graphs = row.get("cudagraph_estimate")
    if graphs is None:
        return {**values, "cudagraph_estimate": None}
    capability = device.compute_capability
    large = capability in graphs["large_capabilities"]
    splits = capability in graphs["fa3_capabilities"]
    flashinfer = _runs_flashinfer(graphs, capability, spec, values)
    full_drafts = capability in _speculative_full(row, graphs, engine_id)
    values = evaluate(
        _GRAPH_SIZES,
        {
            **values,
            "T_gm": graphs["ceiling_large"] if large else graphs["ceiling"],
            "n_sp": graphs["fa3_splits"] if splits else 0,
            "M_fi": graphs["flashinfer_workspace_bytes"] if flashinfer else 0,
            # the second runner's own figure where it estimates (c_gs, from 0.29)
            "beta_g": graphs[
                "bytes_per_layer_second_runner" if values["c_gs"] else "bytes_per_layer"
            ],
            "M_g0": graphs["first_capture_extra_bytes"],
            "c_sq": int(_at_least(row, engine_id, graphs.get("max_num_seqs_size_from"))),
            "c_ud": int(_at_least(row, engine_id, graphs.get("uniform_decode_sizes_from"))),
            # FlashInfer's FULL graphs hold one-token decodes only but where its trtllm-gen
            # kernels run: with draft tokens to verify vLLM falls back to piecewise graphs
            "c_fg": int(not (flashinfer and values["n_sd"] and not full_drafts)),
        },
    )
    values = evaluate(("cudagraph_capture_tokens",), values)
    largest = values["cudagraph_capture_tokens"]
    working = evaluate(_PREFILL, {**values, "B": 1, "s": largest})
    values["M_Pg"] = working["engine_prefill_workspace"]
    values = evaluate(_GRAPHS, values)
    values["cudagraph_estimate"] = int(values["cudagraph_estimate"])
    return values


def _non_torch(row: dict, tp: int, device: GPU, runner: str) -> tuple[int, str | None]:
    """Memory outside PyTorch that grows while vLLM profiles, and the link taken for a GPU
    whose ``peer_link`` the catalog lacks (else None): on one GPU the second runner's figure
    where the row has one (``model_runner.non_torch``); with tensor parallelism the row's
    figure for how the GPUs reach each other (``non_torch_bytes_tensor_parallel``: NVLink
    turns on buffers that PCIe does not), its ``unknown`` link's where that is not known,
    and NVLink's on the compute capabilities where vLLM turns on FlashInfer's all-reduce
    fusion over PCIe too."""
    figures = row.get("non_torch_bytes_tensor_parallel")
    if tp == 1 or figures is None:
        second = row.get("model_runner", {}).get("non_torch") if runner == "v2" else None
        return (second["bytes"] if tp == 1 and second else row["non_torch_bytes"]), None
    link = device.peer_link
    if link == "pcie" and device.compute_capability in figures["pcie_except_capabilities"]:
        link = "nvlink"
    assumed = None if link else figures["unknown"]
    return figures[link or assumed], assumed


def _recurrent_cache(
    row: dict,
    spec: ModelSpec,
    values: dict,
    prefix_caching: bool | None,
    engine_id: str,
    capability: str | None = None,
) -> str | None:
    """vLLM's recurrent state (the row's ``recurrent_cache``) into ``values``: its temporal
    part ``e_t`` in ``b_r`` bytes a value (the config's ``mamba_ssm_dtype`` where the release
    reads it, a family's default, else the model's dtype) and ``c_pa``, 1 in
    ``mamba_cache_mode`` 'align'. Prefix caching is on when asked for, or by default from the
    row's ``prefix_caching_default_from`` (the row's newest release for a row id); vLLM
    then keeps a second block a request per recurrent group ('align'), unless the release has
    no such mode, where it disables prefix caching for these layers; Mamba-2 families cache
    every block ('all') up to the row's ``align_for_every_family_from``, and keep a prefill
    checkpoint block (``c_ck``) from its ``prefill_checkpoint``'s release; gated DeltaNet
    layers do too where FlashInfer runs their prefill (the row's
    ``flashinfer_gdn_checkpoint``, by the GPU's ``capability``; :func:`capacity` names no GPU),
    and their blocks then align to its checkpoint grid (``a_b``). Returns the mode, None for a
    model without recurrent layers."""
    if prefix_caching is not None and not isinstance(prefix_caching, bool):
        raise InvalidValueError("enable_prefix_caching", prefix_caching, Text("True or False"))
    cache_row = row["recurrent_cache"]
    if prefix_caching is None:
        first, release = cache_row["prefix_caching_default_from"], _release(engine_id)
        prefix_caching = first is not None and (release is None or release >= _release(first))
    values.update(e_t=0, b_r=values["b_a"], c_pa=0, c_ck=0)
    if not spec.n_recurrent_layers:
        return None
    # up to 0.27 'all' for these families; from 0.28.0 'align' for every hybrid
    release = _release(engine_id) or _runner_rule(row, engine_id)[1]
    align_all = cache_row.get("align_for_every_family_from")
    all_mode = not (align_all and release and release >= _release(align_all))
    if prefix_caching and all_mode and spec.family in cache_row["all_mode_families"]:
        raise InvalidValueError(
            "enable_prefix_caching",
            prefix_caching,
            Text(
                "False for {model}: with prefix caching (vLLM's default for hybrid models "
                "from 0.26.0) vLLM keeps a block of a Mamba-2 model's state for every block "
                "of tokens ('all' mode), which gpumem does not follow",
                model=spec.name,
            ),
        )
    own = spec.extra.get("recurrent_state_dtype") if cache_row["state_dtype_from_config"] else None
    state = own or cache_row["family_state_dtypes"].get(spec.family)
    values["e_t"] = int(spec.extra.get("recurrent_temporal_state", 0))
    values["b_r"] = int(bytes_per_value(state)) if state else values["b_a"]
    values["c_pa"] = int(bool(prefix_caching and cache_row["align_mode"]))
    checkpoint = cache_row.get("prefill_checkpoint")
    values["c_ck"] = int(
        bool(checkpoint)
        and spec.family in checkpoint["families"]
        and bool(release)
        and release >= _release(checkpoint["from"])
    )
    gdn = cache_row.get("flashinfer_gdn_checkpoint")
    if (
        values["c_pa"]
        and gdn
        and spec.family in gdn["families"]
        and capability in gdn["capabilities"]
        and release
        and release >= _release(gdn["from"])
    ):
        values["c_ck"] = 1
        values["a_b"] = math.lcm(values["a_b"], gdn["alignment"])
    return "align" if values["c_pa"] else "none"


#: Encoder inputs of a model whose encoder vLLM does not profile (or gpumem does not count).
_NO_ENCODER = {
    "X_i": 0,
    "X_v": 0,
    "p_v": 1,
    "m_v": 1,
    "t_pv": 1,
    "C_v": 0,
    "d_e": 0,
    "f_v": 0,
    "n_hv": 1,
    "n_li": 0,
    "n_lv": 0,
}


def _mtp_drafter() -> dict:
    """``data/serving.json``'s ``mtp_drafter``: how vLLM builds an MTP module's projection."""
    return _data.load_json(_data.path("serving.json"))["mtp_drafter"]


def _encoder_profile() -> dict:
    """``data/serving.json``'s ``encoder_profile``: vLLM's encoder profiling run."""
    return _data.load_json(_data.path("serving.json"))["encoder_profile"]


def _encoder(
    spec: ModelSpec,
    limit_mm_per_prompt: Mapping[str, int] | None,
    language_model_only: bool,
    max_model_len: int,
) -> dict[str, int]:
    """The symbol values of vLLM's encoder profiling (``data/serving.json``'s
    ``encoder_profile``): the vision tower's sizes and its processor's largest image and
    video, and the items a prompt may hold, ``limit_mm_per_prompt`` (per modality, vLLM's
    default for any not given) or none with ``language_model_only``. A model without a vision
    tower whose working set gpumem counts (Qwen3.5's) takes no encoder, and refuses both."""
    if not isinstance(language_model_only, bool):
        raise InvalidValueError("language_model_only", language_model_only, Text("True or False"))
    profile = _encoder_profile()
    processor = profile["families"].get(spec.family)
    tower = spec.extra.get("vision_tower")
    given = dict(limit_mm_per_prompt or {})
    if not (processor and tower):
        for name, value in (
            ("limit_mm_per_prompt", limit_mm_per_prompt),
            ("language_model_only", language_model_only or None),
        ):
            if value is not None:
                raise InvalidValueError(
                    name,
                    value,
                    Text(
                        "a vision-language model of the Qwen3.5 generation, whose vision "
                        "encoder gpumem profiles; {model} is not one",
                        model=spec.name,
                    ),
                )
        return {**_NO_ENCODER, "s_mx": max_model_len}
    modalities = profile["modalities"]
    for modality, count in given.items():
        if modality not in modalities:
            raise InvalidValueError(
                "limit_mm_per_prompt",
                modality,
                Text(
                    "a modality of {model}: {modalities}",
                    model=spec.name,
                    modalities=", ".join(modalities),
                ),
            )
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise InvalidValueError(
                f"limit_mm_per_prompt[{modality}]", count, Text("a whole number, at least 0")
            )
    default = profile["default_limit_per_prompt"]
    limits = {m: 0 if language_model_only else given.get(m, default) for m in modalities}
    return {
        "X_i": processor["image_max_pixels"],
        "X_v": processor["video_max_pixels"],
        "p_v": tower["patch_size"],
        "m_v": tower["spatial_merge_size"],
        "t_pv": tower["temporal_patch_size"],
        "C_v": tower["in_channels"],
        "d_e": tower["hidden_size"],
        "f_v": tower["intermediate_size"],
        "n_hv": tower["num_heads"],
        "n_li": limits["image"],
        "n_lv": limits["video"],
        "s_mx": max_model_len,
    }


def _language_model(spec: ModelSpec) -> ModelSpec:
    """``spec`` as vLLM loads it when no modality is enabled: without its vision tower, which
    ``SupportsMultiModal._mark_tower_model`` (vllm/model_executor/models/interfaces.py) then
    leaves unbuilt."""
    vision = spec.extra.get("vision_parameters", 0)
    if not vision:
        return spec
    extra = {k: v for k, v in spec.extra.items() if k != "vision_linear_parameters"}
    extra.pop("vision_parameters")
    active = (spec.active_parameters or spec.parameters) - vision
    return spec.with_(parameters=spec.parameters - vision, active_parameters=active, extra=extra)


class Serving(Record):
    """What vLLM prints at startup for one launch, and what follows from it.

    Byte counts are per GPU. ``budget_bytes``, ``weights_bytes``, ``profile_peak_bytes`` and
    ``non_torch_bytes`` are ``None`` when the available memory was given (:func:`capacity`).
    """

    model: ModelSpec
    available_kv_bytes: int  # "Available KV cache memory"
    page_bytes: int  # one block of one layer
    block_size: int  # tokens per attention block (raised for hybrid models)
    layers_per_group: int
    groups: int
    sliding_groups: int
    recurrent_groups: int  # groups of recurrent layers: one block (a state) per request
    #: vLLM's mamba_cache_mode: "none" (one block a request per recurrent group) or "align"
    #: (prefix caching: two); None for a model without recurrent layers
    mamba_cache_mode: str | None
    blocks: int
    kv_tokens: int  # "GPU KV cache size: N tokens"
    max_model_len: int
    max_concurrency: float  # "Maximum concurrency for max_model_len tokens per request"
    longest_request: int  # the longest request the cache holds (vLLM's auto max_model_len)
    budget_bytes: int | None = None
    weights_bytes: int | None = None  # "Model loading took"
    profile_peak_bytes: int | None = None
    non_torch_bytes: int | None = None
    #: vLLM's "Estimated CUDA graph memory" (releases from 0.18 print it; modelled); None for
    #: older releases and when the cache was given (kv_cache_memory: vLLM estimates none)
    cudagraph_estimate_bytes: int | None = None
    #: CUDA-graph memory taken from the budget: the estimate from vLLM 0.20, a given value;
    #: None when the cache was given (kv_cache_memory)
    cudagraph_bytes: int | None = None
    #: streaming multiprocessors taken for a GPU whose count the catalog lacks (the engine
    #: row's ``multiprocessors_assumed``), where the sampler's buffer needs one; else None
    assumed_multiprocessors: int | None = None
    #: how the GPUs were taken to reach each other ("nvlink" or "pcie", the engine row's
    #: ``unknown`` link) where tensor parallelism needs it and the catalog lacks the GPU's
    #: ``peer_link``; else None
    assumed_link: str | None = None
    #: dummy items vLLM profiles the vision encoder with, and the tokens of each (0 for a
    #: model without an encoder gpumem profiles, or none enabled)
    encoder_items: int = 0
    encoder_item_tokens: int = 0
    #: draft tokens a step (vLLM's num_speculative_tokens; 0 without speculative decoding)
    num_speculative_tokens: int = 0
    #: one GPU's share of the MTP drafter's weights, within ``weights_bytes`` (0 without one;
    #: None when the available memory was given)
    drafter_weights_bytes: int | None = None
    #: vLLM's model runner assumed: "v1" (gpu_model_runner.py) or "v2" (vllm/v1/worker/gpu/);
    #: None when the available memory was given (capacity)
    model_runner: str | None = None
    #: the model runner's buffers the budget counts (vLLM 0.27.1 and later): the second
    #: runner's sampling buffers, the first runner's input embeddings, an MTP drafter's hidden
    #: states (and on the first runner its input embeddings)
    runner_buffers_bytes: int = 0
    #: the start the figures are for, on the second runner: "cold" (a first start, which
    #: compiles the model inside vLLM's memory profile) or "warm" (the compile cache is
    #: loaded); None for the first runner
    compile_cache: str | None = None
    #: what the first compile adds to the profiled peak (fitted; 0 on a warm start)
    compile_transient_bytes: int = 0
    #: the KV-cache tokens of the other start (warm for a cold one and back); None for the
    #: first runner and when the available memory was given
    other_start_kv_tokens: int | None = None
    values: dict = None  # symbol values, for concurrency at other lengths
    _hidden = ("values",)

    @property
    def fits(self) -> bool:
        """Whether one request of ``max_model_len`` tokens fits (vLLM refuses to start if not)."""
        return self.longest_request >= self.max_model_len

    def concurrency(self, length: int) -> float:
        """Requests of ``length`` tokens the cache holds at once."""
        values = evaluate(("blocks_per_request", "max_concurrency"), {**self.values, "s": length})
        return values["max_concurrency"]

    def kv_cache_memory(self, requests: int, length: int | None = None) -> int:
        """KV-cache bytes that hold ``requests`` requests of ``length`` tokens (default:
        ``max_model_len``): the ``--kv-cache-memory`` to pass for that concurrency."""
        values = {**self.values, "s": length or self.max_model_len, "N_r": requests}
        needed = evaluate(("blocks_per_request", "kv_memory_for_requests"), values)
        return int(needed["kv_memory_for_requests"])


#: The keys of vLLM's ``--speculative-config`` gpumem follows, and its one method: the
#: checkpoint's own multi-token-prediction module as the drafter.
_SPECULATIVE_KEYS = ("method", "num_speculative_tokens")
_SPECULATIVE_METHODS = ("mtp",)


def _speculative(spec: ModelSpec, config: Mapping | None, pp: int) -> dict[str, int]:
    """The symbols of vLLM's ``--speculative-config`` ``config`` (None: no speculative
    decoding): ``n_sd`` draft tokens a step and ``L_m`` MTP layers loaded as the drafter.
    Only method ``mtp`` is followed, on a model whose config has MTP layers
    (``mtp_num_hidden_layers``, ``num_nextn_predict_layers``); without
    ``num_speculative_tokens`` vLLM drafts as many tokens as the module has layers."""
    if config is None:
        return {"n_sd": 0, "L_m": 0}
    if not isinstance(config, Mapping):
        raise InvalidValueError(
            "speculative_config",
            config,
            Text('a mapping such as {{"method": "mtp", "num_speculative_tokens": 3}}'),
        )
    for key in config:
        if key not in _SPECULATIVE_KEYS:
            raise InvalidValueError(
                "speculative_config",
                key,
                Text("one of the keys {keys}", keys=", ".join(_SPECULATIVE_KEYS)),
            )
    method = config.get("method")
    if method not in _SPECULATIVE_METHODS:
        raise InvalidValueError(
            "speculative_config.method",
            method,
            Text(
                "{methods}: the checkpoint's multi-token-prediction module as the drafter "
                "(gpumem does not follow other drafters)",
                methods=", ".join(_SPECULATIVE_METHODS),
            ),
        )
    layers = spec.extra.get("mtp_layers", 0)
    if not layers:
        raise InvalidValueError(
            "speculative_config.method",
            method,
            Text(
                "a method {model} has a drafter for: its config has no multi-token-prediction "
                "layers (mtp_num_hidden_layers, num_nextn_predict_layers)",
                model=spec.name,
            ),
        )
    if pp != 1:
        raise InvalidValueError(
            "pp",
            pp,
            Text("1 with speculative decoding (gpumem does not follow a drafter over stages)"),
        )
    tokens = config.get("num_speculative_tokens", layers)
    return {"n_sd": _positive("speculative_config.num_speculative_tokens", tokens), "L_m": layers}


#: Kinds of layer that vLLM keeps in separate KV-cache groups (MLA counts as full).
_GROUPED = ("full", "sliding", "chunked", "recurrent")


def _groups(model: ModelSpec, pp: int, drafter: int = 0) -> dict[str, int]:
    """vLLM's KV-cache groups (``kv_cache_utils.get_kv_cache_groups``): one group of every
    layer when all layers attend alike; otherwise groups of ``g`` layers for each kind (full,
    sliding window, chunked, recurrent), ``g`` the smallest kind's count (the largest's if it
    is under 1.5 times the smallest), ``ceil(count / g)`` groups per kind. The ``drafter``'s
    MTP layers attend as the model's full (or latent) layers do and join them: vLLM collects
    the KV-cache specs of every attention layer it built, the drafter's too
    (``get_kv_cache_spec``)."""
    types = model.layer_types
    counts = {
        kind: types[kind] + (types["latent"] + drafter if kind == "full" else 0)
        for kind in _GROUPED
    }
    present = {kind: count for kind, count in counts.items() if count}
    small, large = min(present.values()), max(present.values())
    if len(present) == 1:
        size = large
    else:
        size = large if large < 1.5 * small else small
    groups = {kind: -(-count // size) for kind, count in present.items()}
    return {
        "L_g": -(-size // pp),
        "n_G": sum(groups.values()),
        "n_gw": groups.get("sliding", 0),
        "n_gc": groups.get("chunked", 0),
        "n_gr": groups.get("recurrent", 0),
    }


def _pipeline_stages(model: ModelSpec, values: dict, pp: int) -> list[dict]:
    """``values`` for each of ``pp`` pipeline stages, in rank order: vLLM's split of the
    layers (``distributed/utils.py get_pp_indices``: ``L // pp`` a stage, the remainder one
    more each on the stages before the last; ``VLLM_PP_LAYER_PARTITION`` not followed), the
    token embedding on the first and the LM head on the last. Where every layer attends alike,
    a stage's block holds a page for each of its own layers."""
    if pp == 1:
        return [values]
    layers = values["L"]
    split = [layers // pp] * pp
    for rank in range(2, layers % pp + 2):
        split[-rank] += 1
    uniform = values["n_G"] == 1 and _groups(model, 1)["L_g"] == layers
    names = ("P_q", "P_q2", "stage_first_parameters", "stage_last_parameters")
    stages = []
    for rank, count in enumerate(split):
        stage = {**values, "L_s": count, "c_pf": int(rank == 0), "c_pl": int(rank == pp - 1)}
        stage = evaluate((*names, "engine_stage_parameters"), stage)
        stage["P_s"] = stage["engine_stage_parameters"]
        stage["L_g"] = count if uniform else values["L_g"]
        stages.append(stage)
    return stages


def _positive(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidValueError(name, value, Text("a positive integer"))
    return value


def _given(value: int | None, default: int) -> int:
    return default if value is None else value


def _settings(
    row: dict,
    model: ModelSpec,
    total: int,
    gpu_name: str,
    max_model_len: int | str | None,
    max_num_seqs: int | None,
    max_num_batched_tokens: int | None,
) -> dict[str, int]:
    """Launch settings with vLLM's defaults filled in."""
    batch = next(
        d
        for d in row["batch_defaults"]
        if total >= d["min_device_bytes"]
        and not (d["unless_name_contains"] and d["unless_name_contains"] in gpu_name.lower())
    )
    if max_model_len not in (None, "auto"):
        _positive("max_model_len", max_model_len)
        if max_model_len > model.max_context:
            raise InvalidValueError(
                "max_model_len",
                max_model_len,
                Text(
                    "at most the context window of {model}, {tokens:,} tokens",
                    model=model.name,
                    tokens=model.max_context,
                ),
            )
    return {
        "max_model_len": model.max_context if max_model_len in (None, "auto") else max_model_len,
        "max_num_seqs": _positive("max_num_seqs", _given(max_num_seqs, batch["max_num_seqs"])),
        "max_num_batched_tokens": _positive(
            "max_num_batched_tokens",
            _given(max_num_batched_tokens, batch["max_num_batched_tokens"]),
        ),
    }


def _longest_request(values: dict) -> int:
    """The longest request whose blocks fit the cache: vLLM's binary search for the auto
    ``max_model_len`` (``kv_cache_utils._estimate_max_model_len_from_groups``)."""

    def fits(length: int) -> bool:
        needed = evaluate(("blocks_per_request",), {**values, "s": length})
        return needed["blocks_per_request"] <= values["kv_blocks"]

    low, high = 0, values["s"]
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(middle) else (low, middle - 1)
    return low


def _cache(model: ModelSpec, values: dict, max_model_len: int, auto: bool) -> dict:
    """Blocks, tokens, concurrency and the longest request, from ``kv_available``."""
    values = evaluate(_CACHE, {**values, "s": model.max_context})
    longest = _longest_request(values)
    # vLLM's auto length is the longest request that fits; when none does, it cannot start
    length = min(longest, model.max_context) if auto and longest else max_model_len
    values = evaluate(_CACHE, {**values, "s": length})
    return {
        "model": model,
        "available_kv_bytes": int(values["kv_available"]),
        "page_bytes": int(values["kv_page"]),
        "block_size": values["s_b"],
        "layers_per_group": values["L_g"],
        "groups": values["n_G"],
        "sliding_groups": values["n_gw"],
        "recurrent_groups": values["n_gr"],
        "blocks": max(int(values["kv_blocks"]), 0),
        "kv_tokens": max(int(values["kv_tokens"]), 0),
        "max_model_len": length,
        "max_concurrency": max(values["max_concurrency"], 0.0),
        "longest_request": longest,
        "values": values,
    }


def _symbols(
    model: ModelSpec,
    tp: int,
    pp: int,
    dtype: str | None,
    kv_dtype: str | None,
    speculative_config: Mapping | None = None,
) -> dict:
    """Model symbols under a one-token inference workload (the lengths are set later). vLLM
    loads a checkpoint as it ships (gpt-oss's MXFP4 experts, DeepSeek-V3's FP8 blocks) unless
    another weight format is asked for."""
    work = Workload(seq=1, tp=tp, pp=pp, attention="flash", cuda_context=0, allocator_reserve=0)
    if dtype:
        work = work.with_(dtype=dtype)
    elif model.extra.get("quantization"):
        work = work.with_(weights_as_shipped=True)
    work = work.with_(kv_dtype=kv_dtype) if kv_dtype else work
    if not model.causal:
        raise InvalidValueError("model", model.name, Text("a decoder (a model with a KV cache)"))
    if model.n_recurrent_layers == model.n_layers - model.n_mlp_layers:
        raise InvalidValueError(
            "model",
            model.name,
            Text("a model with attention layers (a purely recurrent model has no KV cache)"),
        )
    values = symbol_values(model, work)
    values.update(_speculative(model, speculative_config, pp))
    values.update(_groups(model, pp, values["L_m"]))
    values.update(c_pf=1, c_pl=1)  # one pipeline stage: the first and the last
    # a ModelOpt MIXED_PRECISION checkpoint (the only kind whose spec lists what it left
    # 'unresolved') quantizes the modules its quantized_layers name, and names none of the
    # MTP module (NVIDIA's Qwen3.6-35B-A3B build ships it unquantized)
    values["c_mq"] = int("unresolved" not in (model.extra.get("quantization") or {}))
    # DeepSeek's MTP projection is whole on every GPU (data/serving.json's mtp_drafter)
    values["c_ep"] = int(model.family in _mtp_drafter()["whole_projection_families"])
    return values


def _block_size(model: ModelSpec, values: dict, given: int | None, default: int) -> int:
    """Tokens per attention block. For a hybrid model vLLM raises the block size until an
    attention page holds a recurrent layer's state and pads the state to that page
    (``HybridAttentionMambaModelConfig``); a smaller block it would override is refused."""
    if not model.n_recurrent_layers:
        return _positive("block_size", _given(given, default))
    needed = int(evaluate(("recurrent_page", "hybrid_block_size"), values)["hybrid_block_size"])
    if given is None:
        return max(default, needed)
    if _positive("block_size", given) < needed:
        raise InvalidValueError(
            "block_size",
            given,
            Text(
                "at least {tokens} for {model}: an attention page must hold a recurrent "
                "layer's state",
                tokens=needed,
                model=model.name,
            ),
        )
    return given


def capacity(
    model: ModelSpec | str,
    available_kv_bytes: int,
    *,
    tp: int = 1,
    pp: int = 1,
    dtype: str | None = None,
    kv_dtype: str | None = None,
    max_model_len: int | str | None = None,
    max_num_batched_tokens: int = 2048,
    block_size: int | None = None,
    engine_id: str = "vllm",
    enable_prefix_caching: bool | None = None,
    speculative_config: Mapping | None = None,
) -> Serving:
    """What vLLM derives from ``available_kv_bytes`` per GPU: blocks, the printed token count
    and concurrency, and the longest request (vLLM's own arithmetic, nothing modelled), as
    the release or generation ``engine_id`` prints them (``enable_prefix_caching`` and
    ``speculative_config`` as in :func:`serve`)."""
    from .catalog import load_model

    spec = model if isinstance(model, ModelSpec) else load_model(model)
    row = engine(engine_named(engine_id))
    settings = _settings(row, spec, 0, "", max_model_len, 1, max_num_batched_tokens)
    values = _symbols(spec, tp, pp, dtype, kv_dtype, speculative_config)
    values["a_b"] = row["block_alignment"]
    mode = _recurrent_cache(row, spec, values, enable_prefix_caching, engine_id)
    values.update(
        kv_available=available_kv_bytes,
        s_b=_block_size(spec, values, block_size, row["block_size"]),
        T_b=settings["max_num_batched_tokens"],
        c_kt=row["kv_tokens_from_concurrency"],
    )
    return Serving(
        **_cache(spec, values, settings["max_model_len"], max_model_len == "auto"),
        mamba_cache_mode=mode,
        num_speculative_tokens=values["n_sd"],
    )


def serve(
    model: ModelSpec | str,
    gpu: GPU | str,
    *,
    tp: int = 1,
    pp: int = 1,
    dtype: str | None = None,
    kv_dtype: str | None = None,
    gpu_memory_utilization: float | None = None,
    max_model_len: int | str | None = None,
    max_num_seqs: int | None = None,
    max_num_batched_tokens: int | None = None,
    block_size: int | None = None,
    kv_cache_memory: int | None = None,
    cudagraph_memory: int | None = None,
    engine_id: str = "vllm",
    enable_prefix_caching: bool | None = None,
    limit_mm_per_prompt: Mapping[str, int] | None = None,
    language_model_only: bool = False,
    speculative_config: Mapping | None = None,
    model_runner: str = "auto",
    compile_cache: str | None = None,
    wsl2: bool = False,
) -> Serving:
    """The figures vLLM prints when it starts ``model`` on ``gpu`` (per GPU, tp x pp GPUs).

    Parameters
    ----------
    model, gpu
        Catalog names (or a :class:`ModelSpec` / :class:`GPU`).
    gpu_memory_utilization
        Share of the device the engine may use (vLLM's default 0.92 from 0.20, 0.9 before).
    max_model_len
        Tokens per request; default the model's context window; ``"auto"``: the longest that
        fits, as vLLM's ``--max-model-len -1``.
    max_num_seqs, max_num_batched_tokens, block_size
        vLLM's defaults for the device when not given.
    kv_cache_memory
        Bytes for the KV cache per GPU, as vLLM's ``--kv-cache-memory`` (skips the budget).
    cudagraph_memory
        Bytes of CUDA graphs per GPU set aside before the cache is sized, in place of gpumem's
        model of vLLM's estimate (the "Estimated CUDA graph memory" line of the log). vLLM 0.20
        and later subtract their estimate (the default: the model); earlier versions capture
        the graphs afterwards, above the budget (the default: 0).
    engine_id
        The generation of vLLM whose accounting to follow: ``vllm`` (0.20 and later, the
        default), ``vllm-0.17`` (0.17 to 0.19), ``vllm-0.13`` (0.13 to 0.16) or ``vllm-0.8``
        (0.8.5 to 0.12), rows of ``data/serving.json``, or a vLLM release (``0.19.1``,
        ``0.29.1rc1.dev17+g…``), which picks its generation's row.
    enable_prefix_caching
        vLLM's ``--enable-prefix-caching`` / ``--no-enable-prefix-caching``; it sizes the cache
        of a hybrid model only: with it, a request holds two blocks of each recurrent group
        (``mamba_cache_mode`` 'align', vLLM 0.17 and later). Default: vLLM's, on for hybrid
        models from 0.26.0 (and for the row ``vllm``), off before.
    limit_mm_per_prompt
        vLLM's ``--limit-mm-per-prompt`` as counts per modality (``{"image": 16}``; vLLM's
        default, 999, for a modality not given): vLLM profiles a vision-language model's
        encoder with as many of its largest items as its budget and these limits allow.
    language_model_only
        vLLM's ``--language-model-only``: no modality, so no encoder profiling.
    speculative_config
        vLLM's ``--speculative-config`` as a mapping: ``{"method": "mtp",
        "num_speculative_tokens": 3}`` loads the checkpoint's multi-token-prediction module
        as the drafter (its weights, its attention layers in the KV cache, its dummy run),
        widens each recurrent state by the draft tokens and keeps as many more blocks a
        request in each recurrent group. Other methods, and a model without MTP layers, are
        refused.
    model_runner
        ``"auto"``: the model runner the release runs the model with (``runner_for``;
        for the row ``vllm``, its newest release read, 0.29.0: the second for every model);
        ``"v1"`` or ``"v2"``: as vLLM's VLLM_USE_V2_MODEL_RUNNER=0 or 1 (the second from
        0.22.0). The second runner samples without an FP32 copy from 0.27.1, keeps sampling
        buffers the budget counts from 0.27.1 and estimates no CUDA graphs before 0.29.0.
    compile_cache
        The start, on the second runner: ``"cold"`` (the default: a first start, as on a new
        machine, whose torch.compile runs inside vLLM's memory profile and adds its fitted
        transient to the peak) or ``"warm"`` (a restart that loads the compiled model from
        vLLM's cache, or a launch that does not compile, ``--enforce-eager``). Refused for the
        first runner, whose fitted terms hold whatever compile state their launches had.
    wsl2
        vLLM under WSL2 on Windows, where CUDA reports the card's whole memory (nvidia-smi's
        total) rather than Linux's total less the driver's share: a larger budget.

    Raises
    ------
    GpumemError
        For an unknown model or GPU, or a setting out of range.
    """
    from .catalog import load_model

    spec = model if isinstance(model, ModelSpec) else load_model(model)
    device = gpu if isinstance(gpu, GPU) else get_gpu(gpu)
    row = engine(engine_named(engine_id))
    util = (
        row["gpu_memory_utilization"] if gpu_memory_utilization is None else gpu_memory_utilization
    )
    if not isinstance(util, (int, float)) or isinstance(util, bool) or not 0 < util <= 1:
        raise InvalidValueError("gpu_memory_utilization", util, Text("a number in (0, 1]"))
    total = _device_total(row, device, wsl2)
    settings = _settings(
        row,
        spec,
        total,
        device.name,
        max_model_len,
        max_num_seqs,
        max_num_batched_tokens,
    )
    encoder = _encoder(spec, limit_mm_per_prompt, language_model_only, settings["max_model_len"])
    # with no modality vLLM builds no vision tower; gpumem counts this for the towers it profiles
    off = encoder["d_e"] and not (encoder["n_li"] or encoder["n_lv"])
    loaded = _language_model(spec) if off else spec
    values = _symbols(loaded, tp, pp, dtype, kv_dtype, speculative_config)
    values["a_b"] = row["block_alignment"]
    values.update(encoder)
    # the runner keeps an encoder cache and input embeddings where the model takes some modality
    values["c_mm"] = int(bool(encoder["d_e"] and (encoder["n_li"] or encoder["n_lv"])))
    capability = device.compute_capability
    mode = _recurrent_cache(row, spec, values, enable_prefix_caching, engine_id, capability)
    blocks = _block_size(spec, values, block_size, row["block_size"])
    # the dummy run: one forward pass over the batch's tokens, then the sampler
    tokens, seqs = settings["max_num_batched_tokens"], settings["max_num_seqs"]
    values.update(B=1, s=tokens, T_b=tokens, N_s=min(seqs, tokens), s_b=blocks)
    values.update(M_gpu=total, u=util, l_s=row["sampler_fp32_bytes_per_logit"])
    values.update(c_h=row["sampler_hidden_states"], c_moe=row["fused_moe_workspace"])
    values["T_mc"] = row["fused_moe_chunk_tokens"]
    values.update(c_al=row["loaded_weights"], s_p=spec.max_context)

    # the LM head in the model's dtype where the format's method leaves it unquantized
    head = bool(dtype) and get_format(dtype).name in row["lm_head_unquantized_formats"]
    values.update(c_hu=int(head), g_m=_marlin_group(row, device, loaded, dtype, engine_id))
    values.update(c_kt=row["kv_tokens_from_concurrency"])
    sampler = _sampler_device(row, device, values["N_s"])
    assumed = sampler.pop("assumed")
    values.update(sampler)
    runner = runner_for(spec, engine_id, model_runner)
    estimated = _runner_values(row, engine_id, runner, values)
    start = _compile_values(row, runner, compile_cache, values)
    assumed = assumed if values["n_tk"] else None  # only where a top-k/top-p buffer is sized
    values["N_q"] = seqs
    if cudagraph_memory is not None and (
        not isinstance(cudagraph_memory, int)
        or isinstance(cudagraph_memory, bool)
        or cudagraph_memory < 0
    ):
        raise InvalidValueError(
            "cudagraph_memory", cudagraph_memory, Text("a number of bytes, at least 0")
        )
    if kv_cache_memory is not None:
        _positive("kv_cache_memory", kv_cache_memory)
        if cudagraph_memory is not None:
            raise InvalidValueError(
                "cudagraph_memory",
                cudagraph_memory,
                Text(
                    "nothing with kv_cache_memory, which vLLM takes as the cache without a "
                    "budget or a CUDA-graph estimate"
                ),
            )
    non_torch, link = _non_torch(row, tp, device, runner)
    values["M_nt"] = non_torch

    def budget(stage: dict) -> dict:
        stage = _cudagraph_estimate(row, device, spec, stage, engine_id)
        if not estimated:  # the second runner's profile_cudagraph_memory returns 0
            stage["cudagraph_estimate"] = 0
        if cudagraph_memory is None:
            subtracted = row.get("cudagraph_estimate", {}).get("subtracted")
            stage["M_cg"] = stage["cudagraph_estimate"] if subtracted else 0
        else:
            stage["M_cg"] = cudagraph_memory
        stage = evaluate(_BUDGET, stage)
        if kv_cache_memory is None:
            stage = evaluate(("kv_available",), stage)
        else:  # vLLM then only runs the profile pass: no budget, no CUDA-graph estimate
            stage["kv_available"] = kv_cache_memory
        return evaluate(("kv_page", "kv_blocks"), stage)

    # every worker keeps the fewest blocks over the pipeline stages
    values = min(map(budget, _pipeline_stages(spec, values, pp)), key=lambda v: v["kv_blocks"])
    estimate, graphs = values["cudagraph_estimate"], values["M_cg"]
    if kv_cache_memory is not None:
        estimate = graphs = other = None
    else:
        other = start and _other_start(spec, values, settings["max_model_len"], max_model_len)
    return Serving(
        **_cache(spec, values, settings["max_model_len"], max_model_len == "auto"),
        mamba_cache_mode=mode,
        budget_bytes=int(values["serve_budget"]),
        weights_bytes=int(values["weights"] + values["engine_load_extra"] + values["mtp_weights"]),
        drafter_weights_bytes=int(values["mtp_weights"]),
        num_speculative_tokens=values["n_sd"],
        profile_peak_bytes=int(values["engine_profile_peak"]),
        non_torch_bytes=values["M_nt"],
        cudagraph_estimate_bytes=estimate,
        cudagraph_bytes=graphs,
        assumed_multiprocessors=assumed,
        assumed_link=link,
        encoder_items=int(values["encoder_items"]),
        encoder_item_tokens=int(values["encoder_item_tokens"]) if values["encoder_items"] else 0,
        model_runner=runner,
        runner_buffers_bytes=int(values["engine_runner_buffers"]),
        compile_cache=start,
        compile_transient_bytes=int(values["engine_compile_transient"]),
        other_start_kv_tokens=other,
    )


def _other_start(spec: ModelSpec, values: dict, length: int, given: int | str | None) -> int:
    """The KV-cache tokens of the other start: ``values`` with ``c_cc`` flipped."""
    flipped = {**values, "c_cc": 1 - values["c_cc"]}
    names = ("engine_compile_transient", "engine_profile_peak", "kv_available")
    return _cache(spec, evaluate(names, flipped), length, given == "auto")["kv_tokens"]


class LogCheck(Record):
    """One published vLLM launch (``data/vllm_startup_logs.json``) against :func:`serve`,
    predicted from the catalog model and GPU and the launch's arguments alone."""

    log: str  # the row's id
    split: str  # "fit" (used to fit a modelled term) or "held-out"
    generation: str  # the log format, vllm_logs.GENERATIONS
    engine: str  # the row of data/serving.json that predicts it (engine_for its version)
    model: str  # catalog id
    gpu: str  # catalog id
    tp: int
    pp: int
    max_model_len: int
    logged_tokens: int
    predicted_tokens: int
    logged_concurrency: float | None
    predicted_concurrency: float
    exact_tokens: int | None = None  # from the KV-cache memory the log printed (capacity)
    #: "Estimated CUDA graph memory" as printed (GiB, two decimals), where the log has it
    logged_cudagraph_gib: float | None = None
    predicted_cudagraph_bytes: int | None = None  # gpumem's model of that estimate
    model_runner: str = "v1"  # the model runner assumed for the launch (runner_for)
    #: the torch.compile cache the log shows ("warm", "cold"), None where it does not say
    compile_cache: str | None = None

    @property
    def cudagraph_error_gib(self) -> float | None:
        """Predicted − printed CUDA-graph estimate in GiB; None when either is missing."""
        if self.logged_cudagraph_gib is None or self.predicted_cudagraph_bytes is None:
            return None
        return self.predicted_cudagraph_bytes / 2**30 - self.logged_cudagraph_gib

    @property
    def token_error(self) -> float:
        """(predicted − logged) ÷ logged KV-cache tokens."""
        return self.predicted_tokens / self.logged_tokens - 1

    @property
    def concurrency_error(self) -> float | None:
        """(predicted − logged) ÷ logged maximum concurrency; None when not logged."""
        if not self.logged_concurrency:
            return None
        return self.predicted_concurrency / self.logged_concurrency - 1

    @property
    def exact_error(self) -> float | None:
        """(tokens from the printed KV-cache memory − logged) ÷ logged; None when the log
        prints no memory. With tensor or pipeline parallelism vLLM keeps the smallest count
        over its workers, and a log shows one worker's memory."""
        if self.exact_tokens is None:
            return None
        return self.exact_tokens / self.logged_tokens - 1


def _logged_tokens(logged: dict) -> int | None:
    """The tokens the cache holds, as printed: V1 prints them; older logs print blocks of 16."""
    if logged.get("kv_cache_tokens"):
        return logged["kv_cache_tokens"]
    if logged.get("gpu_blocks"):
        return logged["gpu_blocks"] * engine()["block_size"]
    return logged.get("max_tokens_in_kv_cache")


#: vLLM's ``--kv-cache-dtype`` values (``CacheDType``, vllm/config/cache.py, 0.19 to 0.29) that
#: gpumem follows, as its formats: "fp8" is e4m3 on CUDA; "auto" the model's dtype.
_KV_CACHE_DTYPES = {
    "auto": None,
    "fp8": "fp8_e4m3",
    "fp8_e4m3": "fp8_e4m3",
    "fp8_e5m2": "fp8_e5m2",
    "bfloat16": "bf16",
    "float16": "fp16",
}


def _kv_cache_dtype(spelling: str | None) -> str | None:
    """The cache format of vLLM's ``--kv-cache-dtype`` ``spelling`` (None: the model's)."""
    if spelling is None:
        return None
    if spelling not in _KV_CACHE_DTYPES:
        raise InvalidValueError(
            "kv_cache_dtype", spelling, Text("one of {names}", names=", ".join(_KV_CACHE_DTYPES))
        )
    return _KV_CACHE_DTYPES[spelling]


def _launch_start(row: dict, release: str) -> str | None:
    """The start of a launch on the second runner: ``warm`` under --enforce-eager (nothing
    compiles), else its ``compile_cache``, None where its log shows neither (serve's default,
    a first start); None on the first runner."""
    from .catalog import load_model

    if runner_for(load_model(row["catalog_model"]), release) == "v1":
        return None
    return "warm" if row["args"].get("enforce_eager") else row.get("compile_cache")


def log_launch(row: dict) -> dict[str, object]:
    """The launch of a published log's ``row`` as :func:`capacity` (and :func:`serve`) take it:
    its parallelism, cache format, request length, prefix caching, speculative decoding,
    weight format and the release (or row) whose accounting it follows."""
    args = row["args"]
    version = row.get("vllm_version")
    return {
        "tp": row["tensor_parallel_size"],
        "pp": row.get("pipeline_parallel_size", 1),
        "kv_dtype": _kv_cache_dtype(args.get("kv_cache_dtype")),
        "max_model_len": args["max_model_len"],
        "enable_prefix_caching": args.get("enable_prefix_caching"),
        "speculative_config": args.get("speculative_config"),
        "dtype": row.get("catalog_dtype"),
        # the release itself where a row follows it: some defaults change within a generation
        "engine_id": version if (_release(version or "") or ()) >= _OLDEST else engine_for(version),
    }


def check_log(row: dict) -> LogCheck:
    """``row`` of the published logs predicted by :func:`serve` from its catalog entries."""
    args, logged = row["args"], row["logged"]
    launch = log_launch(row)
    release = str(launch["engine_id"])
    result = serve(
        row["catalog_model"],
        row["catalog_gpu"],
        gpu_memory_utilization=args.get("gpu_memory_utilization"),
        max_num_seqs=args.get("max_num_seqs"),
        max_num_batched_tokens=args.get("max_num_batched_tokens"),
        # --enforce-eager captures no graph, so vLLM estimates none
        cudagraph_memory=0 if args.get("enforce_eager") else None,
        # vLLM reads the limits of the model's own modalities only (an 'audio 0' of a model
        # without audio changes nothing)
        limit_mm_per_prompt={
            modality: count
            for modality, count in (args.get("limit_mm_per_prompt") or {}).items()
            if modality in _encoder_profile()["modalities"]
        }
        or None,
        language_model_only=bool(args.get("language_model_only")),
        compile_cache=_launch_start(row, release),
        wsl2=row.get("platform") == "wsl2",
        **launch,
    )
    printed = logged.get("available_kv_gib")
    exact = None
    if printed and printed > 0:
        exact = capacity(row["catalog_model"], int(printed * 2**30), **launch).kv_tokens
    return LogCheck(
        log=row["id"],
        split=row["split"],
        generation=row["generation"],
        engine=engine_for(row.get("vllm_version")),
        model=row["catalog_model"],
        gpu=row["catalog_gpu"],
        tp=launch["tp"],
        pp=launch["pp"],
        max_model_len=result.max_model_len,
        logged_tokens=_logged_tokens(logged),
        predicted_tokens=result.kv_tokens,
        logged_concurrency=logged.get("max_concurrency"),
        predicted_concurrency=result.max_concurrency,
        exact_tokens=exact,
        logged_cudagraph_gib=logged.get("cudagraph_estimate_gib"),
        predicted_cudagraph_bytes=result.cudagraph_estimate_bytes,
        model_runner=result.model_runner,
        compile_cache=row.get("compile_cache"),
    )


def check_logs(generations: tuple[str, ...] = ("v1-tokens",)) -> tuple[LogCheck, ...]:
    """Every published launch of ``generations`` that gpumem can predict from scratch: its
    model and GPU are in the catalog, and the log prints the KV-cache size."""
    from .vllm_logs import logs

    return tuple(
        check_log(row)
        for row in logs()
        if row["generation"] in generations
        and row.get("catalog_model")
        and row.get("catalog_gpu")
        and _logged_tokens(row["logged"])
    )
