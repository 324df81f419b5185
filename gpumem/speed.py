"""How fast a GPU can go: the roofline and the ceiling of decoding speed.

Decoding one token reads every active weight and the whole KV cache once, so memory bandwidth
bounds the tokens per second; a kernel reaches the GPU's dense peak only above the ridge point.
Every figure is a formula of :mod:`gpumem.symbolic`, evaluated by its generated code.
"""

from __future__ import annotations

from ._generated import formulas as fx
from .errors import InvalidValueError, Text, UnknownNameError
from .estimate import estimate, formula_values
from .hardware import GPU, get_gpu
from .modelspec import ModelSpec
from .precision import bytes_per_value
from .workload import Workload

#: Formats with a dense tensor-core peak in the GPU catalog.
PEAK_DTYPES = ("fp16", "bf16")


def _gpu(gpu: GPU | str) -> GPU:
    return gpu if isinstance(gpu, GPU) else get_gpu(gpu)


def dense_peak_tflops(gpu: GPU | str, dtype: str | None = None) -> float:
    """Dense FP16/BF16 tensor peak in TFLOPS: the larger of the two, or the one ``dtype`` names.

    Raises
    ------
    GpumemError
        For a ``dtype`` other than fp16 or bf16, or a GPU with no published peak for it.
    """
    device = _gpu(gpu)
    peaks = {"fp16": device.fp16_tflops, "bf16": device.bf16_tflops}
    if dtype is not None and dtype not in peaks:
        raise UnknownNameError("dtype", str(dtype), PEAK_DTYPES)
    values = [v for k, v in peaks.items() if v is not None and dtype in (None, k)]
    if not values:
        raise InvalidValueError(
            "gpu",
            device.id,
            Text("a GPU with a published {dtype} peak", dtype=dtype or "FP16/BF16"),
        )
    return max(values)


def ridge_point(gpu: GPU | str, dtype: str | None = None) -> float:
    """FLOP per byte above which a kernel is compute-bound on ``gpu``."""
    device = _gpu(gpu)
    return fx.ridge_point(
        BW=device.bandwidth_bytes_per_s, T_pk=dense_peak_tflops(device, dtype) * 1e12
    )


def attainable_flops(gpu: GPU | str, intensity: float, dtype: str | None = None) -> float:
    """FLOP per second a kernel of ``intensity`` FLOP per byte can reach (the roofline)."""
    device = _gpu(gpu)
    return fx.attainable_throughput(
        BW=device.bandwidth_bytes_per_s,
        T_pk=dense_peak_tflops(device, dtype) * 1e12,
        I_a=intensity,
    )


def decode_intensity(dtype: str, batch: int = 1) -> float:
    """FLOP per byte of weights read when decoding ``batch`` sequences with ``dtype`` weights."""
    return fx.decode_intensity(B=batch, b_w=bytes_per_value(dtype))


def decode_ceiling(
    model: ModelSpec | str, gpu: GPU | str, workload: Workload | None = None, **settings: object
) -> float:
    """Ceiling of decoding speed per sequence (tokens/s) of an inference workload: bandwidth
    ÷ (active weights + KV cache), the bytes read at each step.

    Raises
    ------
    GpumemError
        For a training workload, or a GPU whose memory bandwidth is not known (one given only
        by its memory size).
    """
    device = _gpu(gpu)
    if device.bandwidth_bytes_per_s <= 0:
        raise InvalidValueError(
            "gpu", device.id, Text("a GPU whose memory bandwidth is known, for a decoding speed")
        )
    result = estimate(model, workload, **settings)
    if result.workload.training:
        raise InvalidValueError("mode", result.workload.mode, Text("inference for decoding"))
    values = formula_values(result.model, result.workload)
    return fx.decode_tokens_per_second(
        P_a=values["P_a"],
        b_w=values["b_w"],
        BW=device.bandwidth_bytes_per_s,
        kv_cache=values["kv_cache"],
    )
