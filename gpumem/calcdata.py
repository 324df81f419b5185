"""What the site's calculator needs besides the generated formulas: the catalogs and tables.

:func:`calculator_data` exports the models, GPUs, number formats, optimizers and activation
profiles from the package's own data, and the tables that say which formulas an estimate
evaluates and which components are live in each phase. The calculator's JavaScript reads
these instead of restating them; :func:`offload_tables` gives the conventions and defaults
of the llama.cpp planner (:mod:`gpumem.offload`) the same way. Counts that Python keeps as
ints are JSON integers (all below 2**53), read back as BigInt.
"""

from __future__ import annotations

from . import _data, modelspec, offload, serve, solve, workload
from .catalog import load_model, model_names
from .estimate import _SHAPES, LLAMA_NAMED, _extend, _profiles, model_inputs
from .gguf import ggml_type
from .hardware import GPU, get_gpu, gpu_names
from .modelspec import ModelSpec
from .precision import _formats, format_names, get_format
from .speed import dense_peak_tflops
from .units import UNITS
from .workload import get_optimizer, optimizer_names

#: Model fields the calculator shows or checks a workload against, besides its inputs.
MODEL_FIELDS = (
    "name",
    "family",
    "parameters",
    "active_parameters",
    "n_layers",
    "hidden_size",
    "n_heads",
    "max_context",
    "n_dense_layers",
    "sliding_window",
    "attention_chunk",
)
_PROFILE_PARTS = ("saved", "checkpoint_input", "logits", "inference")


def model_entry(spec: ModelSpec) -> dict[str, object]:
    """What the calculator knows of a model: :data:`MODEL_FIELDS` and the inputs of the
    memory model (:func:`gpumem.estimate.model_inputs`)."""
    fields = spec.as_dict()
    return {
        **{key: fields[key] for key in MODEL_FIELDS},
        "quantization": spec.extra.get("quantization"),
        "vision_parameters": spec.extra.get("vision_parameters", 0),
        # the vision tower's sizes vLLM's encoder profiling depends on (gpumem.serve)
        "vision_tower": spec.extra.get("vision_tower"),
        # the format vLLM keeps a recurrent layer's temporal state in (gpumem.serve)
        "recurrent_state_dtype": spec.extra.get("recurrent_state_dtype"),
        # the multi-token-prediction module's layers, vLLM's MTP drafter (gpumem.serve)
        "mtp_layers": spec.extra.get("mtp_layers", 0),
        "inputs": model_inputs(spec),
    }


def models() -> dict[str, dict[str, object]]:
    """Catalog models by id (see :func:`model_entry`)."""
    return {name: model_entry(load_model(name)) for name in model_names()}


def gpus() -> dict[str, dict[str, object]]:
    """GPUs by id: name, memory as the device reports it, bandwidth, whether the memory is
    unified with the CPU's (and the GPU's default share of it), and the dense FP16/BF16 peak
    (``None`` where none is published)."""
    return {
        name: {
            "name": gpu.name,
            "memory_bytes": gpu.memory_bytes,
            "memory_basis": gpu.memory_basis,
            "bandwidth_bytes_per_s": gpu.bandwidth_bytes_per_s,
            "unified_memory": gpu.unified_memory,
            "gpu_working_set_bytes": gpu.gpu_working_set_bytes,
            "dense_peak_tflops": _peak(gpu),
            "multiprocessors": gpu.multiprocessors,
            "compute_capability": gpu.compute_capability,
            "peer_link": gpu.peer_link,
        }
        for name in gpu_names()
        for gpu in [get_gpu(name)]
    }


def _peak(gpu: GPU) -> float | None:
    """:func:`gpumem.speed.dense_peak_tflops`, or ``None`` without a published peak."""
    return None if gpu.fp16_tflops is None and gpu.bf16_tflops is None else dense_peak_tflops(gpu)


def formats() -> dict[str, object]:
    """Number formats (label, kind, bits as an exact ratio) and their aliases."""
    table = {
        name: {"label": fmt.label, "kind": fmt.kind, "bits": list(fmt.bits_ratio)}
        for name in format_names()
        for fmt in [get_format(name)]
    }
    return {"formats": table, "aliases": _formats()[1]}


def optimizers() -> dict[str, dict[str, object]]:
    """Optimizers: label, states per parameter, factored, fixed state bytes (or None)."""
    return {
        name: {
            "label": opt.label,
            "states_per_param": opt.states_per_param,
            "factored": opt.factored,
            "state_bytes": opt.state_bytes,
        }
        for name in optimizer_names()
        for opt in [get_optimizer(name)]
    }


def profiles() -> dict[str, dict[str, object]]:
    """Activation profiles by model family, under autocast (``amp``) and on a frozen LoRA
    base (``lora``), resolved."""
    out = {}
    for family, profile in _profiles().items():
        amp = _extend(profile, profile["amp"])
        lora = _extend(profile, profile["lora"]) if "lora" in profile else profile
        out[family] = {
            "plain": {k: profile[k] for k in _PROFILE_PARTS},
            "amp": {k: amp[k] for k in _PROFILE_PARTS},
            "lora": {k: lora[k] for k in _PROFILE_PARTS},
        }
    return out


def families() -> dict[str, dict[str, object]]:
    """How :func:`gpumem.modelspec.from_config` reads each ``model_type`` (its ``_Family``)."""
    return {name: family.as_dict() for name, family in modelspec._FAMILIES.items()}


def model_bounds() -> dict[str, int]:
    """The plausibility bounds of :mod:`gpumem.modelspec` on a config's values."""
    names = ("MAX_LAYERS", "MAX_WIDTH", "MAX_VOCAB", "MAX_EXPERTS", "MAX_CONTEXT", "MAX_PARAMETERS")
    return {name: getattr(modelspec, name) for name in names}


def tables() -> dict[str, object]:
    """The activation shapes of a profile (:mod:`gpumem.estimate`), the node size of
    :mod:`gpumem.solve` and the workload's choices and defaults (:mod:`gpumem.workload`); the
    order of evaluation and the phases come with the generated formulas."""
    return {
        "shapes": _SHAPES,
        "node_size": solve.NODE_SIZE,
        "modes": workload.MODES,
        "precisions": workload.PRECISIONS,
        "checkpointing": workload.CHECKPOINTING,
        "attention": workload.ATTENTION,
        "logits": workload.LOGITS,
        "optimizer_impls": workload.OPTIMIZER_IMPLS,
        "training_dtypes": workload.TRAINING_DTYPES,
        "default_seq": workload.DEFAULT_SEQ,
        "default_cuda_context": workload.DEFAULT_CUDA_CONTEXT,
        "default_allocator_reserve": workload.DEFAULT_ALLOCATOR_RESERVE,
        "workload_fields": workload.Workload._fields,
        "text_fields": workload._TEXT_FIELDS,
        "max_count": workload.MAX_COUNT,
        "all_linear": workload.ALL_LINEAR,
        "lora_targets": workload.LORA_TARGETS,
        "training_only": workload.TRAINING_ONLY,
        "qlora_dtype": workload.QLORA_DTYPE,
        "adapter_dtypes": workload.ADAPTER_DTYPES,
        "llama_named": sorted(LLAMA_NAMED),
    }


def offload_tables() -> dict[str, object]:
    """The llama.cpp planner's conventions (:mod:`gpumem.offload`): its KV-cache types with
    their ggml block (bytes, values), its defaults, the system memory assumed and the link, the
    families whose windowed layers llama.cpp keeps windowed, the bytes of a recurrent state,
    and the units a size is written in (``--ram 64GB``)."""
    return {
        "kv_types": {
            name: [kind.size, kind.block] for name in offload.KV_TYPES for kind in [ggml_type(name)]
        },
        "default_ctx": offload.DEFAULT_CTX,
        "default_batch": offload.DEFAULT_BATCH,
        "default_ubatch": offload.DEFAULT_UBATCH,
        "default_weights": offload.DEFAULT_WEIGHTS,
        "ram_channels": offload.RAM_CHANNELS,
        "ram_channel_bits": offload.RAM_CHANNEL_BITS,
        "ram_transfers": offload.RAM_TRANSFERS,
        "pcie_bytes_per_s": offload.PCIE_BYTES_PER_S,
        "max_context": modelspec.MAX_CONTEXT,
        "sliding_families": offload.SLIDING_FAMILIES,
        "chunked_families": offload.CHUNKED_FAMILIES,
        "kept_state_families": offload.KEPT_STATE_FAMILIES,
        "recurrent_state_bytes": offload.RECURRENT_STATE_BYTES,
        "size_units": UNITS,
    }


#: What :func:`gpumem.serve.serve` reads of the engine's row (``data/serving.json``).
SERVING_FIELDS = (
    "gpu_memory_utilization",
    "block_size",
    "block_alignment",
    "batch_defaults",
    "sampler_fp32_bytes_per_logit",
    "sampler_hidden_states",
    "sampler_topk_buffer",
    "cublas_workspace",
    "multiprocessors_assumed",
    "fused_moe_workspace",
    "fused_moe_chunk_tokens",
    "loaded_weights",
    "lm_head_unquantized_formats",
    "fp8_marlin",
    "driver_reserved_bytes",
    "cudagraph_estimate",
    "kv_tokens_from_concurrency",
    "recurrent_cache",
    "non_torch_bytes",
    "non_torch_bytes_tensor_parallel",
    "device_totals",
    "model_runner",
)


def _engine_fields(row: dict) -> dict[str, object]:
    """What :func:`gpumem.serve.serve` reads of one engine row, without sources."""
    fields = {key: row[key] for key in SERVING_FIELDS if key in row}
    fields["device_totals"] = [
        {"gpu": t["gpu"], "bytes": t["bytes"]} for t in fields.get("device_totals", ())
    ]
    nested = ("cublas_workspace", "cudagraph_estimate", "recurrent_cache", "fp8_marlin")
    for name in (*nested, "non_torch_bytes_tensor_parallel"):
        if name in fields:
            fields[name] = {
                key: value
                for key, value in fields[name].items()
                if not key.endswith(("source", "derivation", "accuracy"))
            }
    if "model_runner" in fields:  # the runner's rules, without their sources
        runner = {
            k: v for k, v in fields["model_runner"].items() if not k.endswith(("source", "about"))
        }
        runner["default_v2"] = [
            {k: v for k, v in rule.items() if k != "source"} for rule in runner["default_v2"]
        ]
        fields["model_runner"] = runner
    return fields


def serving() -> dict[str, object]:
    """vLLM's defaults and the modelled terms of :mod:`gpumem.serve`, one entry per engine row
    (``data/serving.json``, the default first), which of each row's numbers are floats (JSON
    writes 10.0 as it writes 10) and the oldest vLLM release a row follows."""
    ids = [row["id"] for row in _data.load_json(_data.path("serving.json"))["engines"]]
    rows = {name: _engine_fields(serve.engine(name)) for name in ids}
    floats = {
        name: [key for key, value in fields.items() if isinstance(value, float)]
        for name, fields in rows.items()
    }
    profile = serve._encoder_profile()
    encoder = {
        "default_limit_per_prompt": profile["default_limit_per_prompt"],
        "families": {
            family: {key: limits[key] for key in ("image_max_pixels", "video_max_pixels")}
            for family, limits in profile["families"].items()
        },
    }
    return {
        "engines": rows,
        "floats": floats,
        "oldest": ".".join(map(str, serve._OLDEST)),
        "encoder_profile": encoder,
        "mtp_drafter": {
            "whole_projection_families": serve._mtp_drafter()["whole_projection_families"]
        },
    }


def calculator_data() -> dict[str, object]:
    """Everything the calculator reads, as plain JSON-ready data."""
    return {
        "models": models(),
        "gpus": gpus(),
        **formats(),
        "optimizers": optimizers(),
        "profiles": profiles(),
        "families": families(),
        "shipped": {
            "formats": modelspec.SHIPPED_FORMATS,
            "modelopt": modelspec.MODELOPT_FORMATS,
            "mixed": modelspec.MIXED_FORMATS,
            "experts": modelspec._EXPERTS,
            "keys": modelspec.SHIPPED_KEYS,
            "nvfp4_group": modelspec.NVFP4_GROUP,
            "parts": modelspec.MODULE_PARTS,
            "unquantized": modelspec.UNQUANTIZED,
            "nothing_counted": modelspec.NOTHING_COUNTED,
            "vllm_prefixes": modelspec.VLLM_PREFIXES,
        },
        "siglip_defaults": modelspec._SIGLIP,
        "qwen_vision_defaults": modelspec._QWEN_VISION,
        "ssm_dtypes": modelspec.SSM_DTYPES,
        "model_bounds": model_bounds(),
        "tables": tables(),
        "offload": offload_tables(),
        "serving": serving(),
    }
