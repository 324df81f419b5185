"""The roofline and the ceiling of decoding speed, against hand-computed figures."""

from __future__ import annotations

import pytest

from gpumem import GpumemError
from gpumem.hardware import get_gpu
from gpumem.speed import (
    attainable_flops,
    decode_ceiling,
    decode_intensity,
    dense_peak_tflops,
    ridge_point,
)


def test_h100_ridge_point_and_roofline() -> None:
    # H100 SXM: 989.4 dense BF16 TFLOPS over 3.35 TB/s.
    assert dense_peak_tflops("h100-sxm") == 989.4
    assert ridge_point("h100-sxm") == pytest.approx(989.4 / 3.35)
    assert attainable_flops("h100-sxm", 10.0) == pytest.approx(33.5e12)
    assert attainable_flops("h100-sxm", 1000.0) == pytest.approx(989.4e12)


def test_decode_intensity() -> None:
    # 2 FLOP per weight and token: 1 FLOP/B for BF16 weights, 4 for INT4, 8 x more at batch 8.
    assert decode_intensity("bf16") == 1
    assert decode_intensity("int4") == 4
    assert decode_intensity("bf16", batch=8) == 8


def test_decode_ceiling_llama_2_7b_on_h100() -> None:
    # Each step reads 6,738,415,616 x 2 bytes of weights and the KV cache of one token,
    # 2 x 32 layers x 32 heads x 128 x 2 bytes, at 3.35 TB/s.
    read = 6_738_415_616 * 2 + 2 * 32 * 32 * 128 * 2
    assert decode_ceiling("llama-2-7b", "h100-sxm", seq=1) == pytest.approx(3.35e12 / read)


def test_decode_ceiling_needs_a_known_bandwidth() -> None:
    # a GPU known only by its memory (gpumem fit --vram) has bandwidth 0: no ceiling, rather
    # than 0 tokens/s
    unknown = get_gpu("rtx-4090").with_(id="24GB", bandwidth_bytes_per_s=0)
    with pytest.raises(GpumemError, match="24GB.*bandwidth"):
        decode_ceiling("llama-2-7b", unknown, seq=1)


def test_errors() -> None:
    with pytest.raises(GpumemError):
        dense_peak_tflops("h100-sxm", "fp8")
    with pytest.raises(GpumemError):
        decode_ceiling("llama-2-7b", "h100-sxm", mode="training")
