"""What the ``{gpumem}`` role can print: a whitelist of quantities computed from their arguments.

The role's text is ``<quantity> key=value …``. Each quantity is a function below; its keyword
parameters are the keys it accepts, all given as text and checked here. Nothing is evaluated.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from .. import solve
from .._generated.formulas import kv_values_gqa, kv_values_mla
from ..catalog import load_model
from ..errors import InvalidValueError, UnknownNameError
from ..estimate import gpu_count, rule_of_thumb
from ..hardware import GPU, Link, get_gpu, get_link
from ..modelspec import ModelSpec
from ..precision import bytes_per_value, get_format, weight_bytes
from ..speed import decode_ceiling, dense_peak_tflops, ridge_point
from . import table_kinds
from .accuracy import QUANTITIES as ACCURACY_QUANTITIES
from .formatting import (
    NBSP,
    format_bandwidth,
    format_count,
    format_int,
    format_percent,
    format_rate,
    format_size,
    ratio_text,
    significant,
)
from .local import QUANTITIES as LOCAL_QUANTITIES
from .options import assignments, number, workload_spec
from .options import digits as digits_option
from .selection import run_estimate
from .serving import QUANTITIES as SERVING_QUANTITIES
from .techniques import apply

__all__ = ["QUANTITIES", "compute", "parse"]


def parse(text: str) -> tuple[str, dict[str, str]]:
    """Split ``"weights params=7e9 dtype=fp16"`` into the quantity name and its arguments."""
    name, *pairs = text.split() or [""]
    if name not in QUANTITIES:
        raise UnknownNameError("quantity", name, QUANTITIES)
    return name, assignments(" ".join(pairs), "argument")


def compute(text: str, language: str, default_unit: str) -> str:
    """The text that ``{gpumem}`text``` shows on a page in ``language``."""
    name, arguments = parse(text)
    function = QUANTITIES[name]
    parameters = inspect.signature(function).parameters
    if "unit" in parameters and parameters["unit"].default is inspect.Parameter.empty:
        arguments.setdefault("unit", default_unit)
    open_ended = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    accepted = _keys(function)
    for key in arguments:
        if key not in accepted and not open_ended:
            raise UnknownNameError(f"argument of {name}", key, accepted)
    for key, parameter in parameters.items():
        if parameter.default is parameter.empty and key not in arguments and key in accepted:
            raise InvalidValueError(f"arguments of {name}", text, f"a value for {key}=")
    return function(language=language, **arguments)


def _parameters(params: str | None, model: str | None) -> int:
    if (params is None) == (model is None):
        raise InvalidValueError("arguments", f"params={params} model={model}", "params or model")
    if model is not None:
        return load_model(model).parameters
    return int(number(params, "params"))


def weights(
    *,
    language: str,
    dtype: str,
    unit: str,
    params: str | None = None,
    model: str | None = None,
    digits: str = "2",
) -> str:
    """Memory of the weights: ``weights params=7e9 dtype=fp16 unit=GB`` → ``14 GB``."""
    return format_size(weight_bytes(_parameters(params, model), dtype), unit, digits_option(digits))


def params(*, language: str, model: str, digits: str = "4") -> str:
    """Parameter count of a catalog model: ``params model=llama-3.1-405b`` → ``405.9 billion``."""
    return format_count(_parameters(None, model), language, digits_option(digits))


def count(*, language: str, n: str, digits: str = "4") -> str:
    """A count written in the page's language: ``count n=7e9`` → ``7 billion`` / ``70 亿``."""
    return format_count(number(n, "n"), language, digits_option(digits))


def bits(*, language: str, dtype: str) -> str:
    """Storage bits per value, scales included: ``bits dtype=mxfp4`` → ``4.25``."""
    return significant(float(get_format(dtype).bits), 6)


def bytes_per_param(*, language: str, dtype: str) -> str:
    """Bytes per value: ``bytes-per-param dtype=bf16`` → ``2``."""
    return significant(bytes_per_value(dtype), 6)


def gpu_memory(*, language: str, gpu: str, unit: str, digits: str = "2") -> str:
    """Memory of a catalog GPU: ``gpu-memory gpu=h100-sxm unit=GB`` → ``80 GB``."""
    return format_size(get_gpu(gpu).memory_bytes, unit, digits_option(digits))


def _kv_values(m: ModelSpec) -> int:
    """Values one token caches in one layer: the latent and its rotary part, or K and V heads."""
    if m.uses_mla:
        return int(kv_values_mla(m.kv_lora_rank, m.qk_rope_head_dim))
    return int(kv_values_gqa(m.n_kv_heads, m.head_dim, 1))


MODEL_FACTS: dict[str, Callable[[ModelSpec], int]] = {
    "layers": lambda m: m.n_layers,
    "heads": lambda m: m.n_heads,
    "kv-heads": lambda m: m.n_kv_heads,
    "head-dim": lambda m: m.head_dim,
    "hidden": lambda m: m.hidden_size,
    "vocabulary": lambda m: m.vocab_size,
    "context": lambda m: m.max_context,
    "sliding-window": lambda m: m.sliding_window,
    "sliding-layers": lambda m: m.n_sliding_layers,
    "experts": lambda m: m.n_experts,
    "experts-active": lambda m: m.n_experts_active,
    "kv-values": _kv_values,
}
"""What ``model-fact field=`` reads from a catalog model's configuration."""


def model_fact(*, language: str, model: str, field: str) -> str:
    """A count from a model's config: ``model-fact model=llama-2-7b field=layers`` → ``32``."""
    if field not in MODEL_FACTS:
        raise UnknownNameError("field of model-fact", field, MODEL_FACTS)
    value = MODEL_FACTS[field](load_model(model))
    if value == 0:
        raise InvalidValueError("model", model, f"a model whose {field} is not 0")
    return format_int(value, language)


GPU_FACTS: dict[str, Callable[[GPU, str], str]] = {
    "year": lambda g, _language: str(g.year),
    "marketed": lambda g, _language: f"{significant(g.memory_marketed, 6)}{NBSP}{g.memory_unit}",
    "bus-width": lambda g, language: format_int(g.bus_width_bits, language),
}
"""What ``gpu-fact field=`` reads from the GPU catalog."""


def gpu_fact(*, language: str, gpu: str, field: str) -> str:
    """A catalog fact of a GPU: ``gpu-fact gpu=v100-32gb field=year`` → ``2018``."""
    if field not in GPU_FACTS:
        raise UnknownNameError("field of gpu-fact", field, GPU_FACTS)
    return GPU_FACTS[field](get_gpu(gpu), language)


def estimate(
    *,
    language: str,
    model: str,
    unit: str,
    digits: str = "2",
    component: str | None = None,
    **options: str,
) -> str:
    """Total (or one ``component``) of :func:`gpumem.estimate`.

    ``estimate model=llama-2-7b mode=training seq=2048 unit=GiB``; the other keys are the
    fields of :class:`gpumem.workload.Workload`, numbers where they parse as numbers.
    """
    result = run_estimate(model, tuple(_workload("estimate", options).items()))
    if component is None:
        n_bytes = result.total_bytes
    elif component in result.components:
        n_bytes = result.components[component]
    else:
        raise UnknownNameError("component", component, result.components)
    return format_size(n_bytes, unit, digits_option(digits))


def _workload(quantity: str, fields: dict[str, str]) -> dict[str, int | float | str]:
    """Workload fields given as text, checked against :class:`gpumem.workload.Workload`."""
    return dict(workload_spec(fields, f"argument of {quantity}"))


def _bandwidth(bytes_per_s: float, unit: str | None, language: str, quantity: str) -> str:
    """Bytes per second in the page's way: TB/s or GB/s, or ``unit``; no comma in Chinese."""
    if unit is not None and unit not in ("KB", "MB", "GB", "TB"):
        raise UnknownNameError(f"unit of {quantity}", unit, ("KB", "MB", "GB", "TB"))
    text = format_bandwidth(bytes_per_s, unit)
    return text.replace(",", "") if language.startswith("zh") else text


def gpu_bandwidth(*, language: str, gpu: str, unit: str | None = None) -> str:
    """Memory bandwidth: ``gpu-bandwidth gpu=h100-sxm`` → ``3.35 TB/s`` (``unit=GB``: 3,350)."""
    return _bandwidth(get_gpu(gpu).bandwidth_bytes_per_s, unit, language, "gpu-bandwidth")


LINK_FACTS: dict[str, Callable[[Link], float | None]] = {
    "bandwidth": lambda link: link.bandwidth_bytes_per_s,
    "transfer-rate": lambda link: link.transfer_rate_gt_per_s,
    "lanes": lambda link: link.lanes,
}
"""What ``link-fact field=`` reads from the link catalog (``data/links.json``)."""


def link_fact(*, language: str, link: str, field: str, unit: str | None = None) -> str:
    """A figure of a host or GPU-to-GPU link: ``link-fact link=pcie-5.0 field=bandwidth`` →
    ``128 GB/s`` (both directions; ``unit=`` as for ``gpu-bandwidth``), ``field=transfer-rate``
    → ``32 GT/s`` (per lane), ``field=lanes`` → ``16``."""
    if field not in LINK_FACTS:
        raise UnknownNameError("field of link-fact", field, LINK_FACTS)
    value = LINK_FACTS[field](get_link(link))
    if value is None:
        raise InvalidValueError("link", link, f"a link whose source gives its {field}")
    if field == "bandwidth":
        return _bandwidth(value, unit, language, "link-fact")
    if field == "transfer-rate":
        return f"{significant(value, 6)}{NBSP}GT/s"
    return format_int(int(value), language)


def gpu_tflops(*, language: str, gpu: str, dtype: str | None = None) -> str:
    """Dense FP16/BF16 tensor peak: ``gpu-tflops gpu=h100-sxm`` → ``989.4``."""
    return significant(dense_peak_tflops(gpu, dtype), 4)


def ridge(*, language: str, gpu: str, dtype: str | None = None) -> str:
    """FLOP per byte at which a kernel turns compute-bound: ``ridge gpu=h100-sxm`` → ``295``."""
    return significant(ridge_point(gpu, dtype), 3)


def decode(*, language: str, model: str, gpu: str, **options: str) -> str:
    """Ceiling of decoding tokens/s per sequence: ``decode model=llama-2-7b gpu=h100-sxm``."""
    return format_rate(decode_ceiling(model, gpu, **_workload("decode", options)), language)


def max_context(*, language: str, model: str, gpu: str, **options: str) -> str:
    """Longest context in tokens on one GPU: ``max-context model=llama-3.1-8b gpu=rtx-4090``."""
    fields = _workload("max-context", options)
    fields.pop("seq", None)
    tokens = solve.max_context(model, gpu, **fields)
    if tokens is None:
        raise InvalidValueError("model", model, f"a model that fits on {gpu} with 1 token")
    return format_int(tokens, language)


def kv_per_token(
    *, language: str, model: str, unit: str = "KiB", digits: str = "2", **options: str
) -> str:
    """KV cache of one token: ``kv-per-token model=llama-2-7b`` → ``512 KiB``."""
    fields = _workload("kv-per-token", options)
    return format_size(
        table_kinds.kv_per_token(model, tuple(fields.items())), unit, digits_option(digits)
    )


def rule(
    *, language: str, model: str, mode: str, unit: str, dtype: str = "bf16", digits: str = "2"
) -> str:
    """The rule of thumb: ``rule model=llama-2-7b mode=training`` → ``26.95 GB``."""
    n_bytes = rule_of_thumb(_parameters(None, model), dtype, mode)
    return format_size(n_bytes, unit, digits_option(digits))


def ratio(*, language: str, model: str, **options: str) -> str:
    """Estimate ÷ rule of thumb: ``ratio model=llama-2-7b mode=training`` → ``×5.3``."""
    result = run_estimate(model, tuple(_workload("ratio", options).items()))
    work = result.workload
    return ratio_text(
        result.total_bytes / rule_of_thumb(result.model.parameters, work.dtype, work.mode)
    )


def saving(*, language: str, model: str, variant: str, **options: str) -> str:
    """Share of the memory per GPU a technique saves: ``saving model=llama-2-7b variant=int4 …``."""
    spec = tuple(_workload("saving", options).items())
    base = run_estimate(model, spec).total_bytes
    _label, other, changed = apply(variant, model, spec)
    return format_percent((base - run_estimate(other, changed).total_bytes) / base, language)


def gpus_needed(*, language: str, model: str, gpu: str, **options: str) -> str:
    """GPUs needed: ``gpus-needed model=llama-3.1-405b gpu=h100-sxm dtype=fp8`` → ``8``."""
    result = solve.gpus_needed(model, gpu, **_workload("gpus-needed", options))
    if result is None:
        raise InvalidValueError("model", model, f"a layout of at most 4,096 {gpu}")
    return format_int(gpu_count(result.estimate.workload), language)


def _keys(function: Callable[..., object]) -> list[str]:
    """Names of the keyword arguments ``function`` accepts, ``language`` left out."""
    parameters = inspect.signature(function).parameters.values()
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in parameters if p.kind in named and p.name != "language"]


QUANTITIES: dict[str, Callable[..., str]] = {
    "weights": weights,
    "params": params,
    "count": count,
    "bits": bits,
    "bytes-per-param": bytes_per_param,
    "gpu-memory": gpu_memory,
    "model-fact": model_fact,
    "gpu-fact": gpu_fact,
    "estimate": estimate,
    "gpu-bandwidth": gpu_bandwidth,
    "link-fact": link_fact,
    "gpu-tflops": gpu_tflops,
    "ridge": ridge,
    "decode": decode,
    "max-context": max_context,
    "kv-per-token": kv_per_token,
    "rule": rule,
    "ratio": ratio,
    "saving": saving,
    "gpus-needed": gpus_needed,
    **ACCURACY_QUANTITIES,
    **SERVING_QUANTITIES,
    **LOCAL_QUANTITIES,
}
