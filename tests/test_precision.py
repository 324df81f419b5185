"""Number formats, checked against their definitions."""

from fractions import Fraction

import pytest

from gpumem.errors import GpumemError, UnknownNameError
from gpumem.precision import bytes_per_value, format_names, get_format, weight_bytes


@pytest.mark.parametrize(
    ("name", "bits"),
    [
        ("fp32", 32),
        ("fp16", 16),
        ("bf16", 16),
        ("fp8_e4m3", 8),
        ("int8", 8),
        ("int4", 4),
        ("fp4", 4),
        # OCP MX: 32 elements share an 8-bit scale -> 4 + 8/32 = 4.25 bits
        ("mxfp4", Fraction(17, 4)),
        ("mxfp8", Fraction(33, 4)),
        # NVFP4: 16 elements share an FP8 scale -> 4 + 8/16
        ("nvfp4", Fraction(9, 2)),
        # DeepSeek-V3's FP8: one FP32 scale per 128 x 128 block -> 8 + 32/16384 = 8.001953125
        ("fp8_block128", Fraction(8) + Fraction(32, 128 * 128)),
        # QLoRA NF4 with double quantisation: 4 + 8/64 + 32/(64*256) = 4.126953125
        ("nf4", Fraction(4) + Fraction(8, 64) + Fraction(32, 64 * 256)),
    ],
)
def test_bits_per_value(name: str, bits: Fraction) -> None:
    assert get_format(name).bits == bits


def test_gguf_q4_k_m_is_not_its_block_size() -> None:
    # llama-quantize: 4.58 GiB for Llama-3-8B (8,030,261,248 parameters) -> about 4.9 bits.
    bits = float(get_format("q4_k_m").bits)
    assert bits == pytest.approx(4.58 * 2**30 * 8 / 8_030_261_248)
    assert 4.85 < bits < 4.95


def test_weight_bytes_7b_fp16_is_14_gb() -> None:
    assert weight_bytes(7_000_000_000, "fp16") == 14_000_000_000
    assert weight_bytes(7_000_000_000, "fp4") == 3_500_000_000
    assert weight_bytes(3, "int4") == 2  # rounded up to whole bytes
    # NF4: 4.126953125 bits, exactly; 1,000,001 x 4.126953125 / 8 = 515,869.6… bytes
    assert weight_bytes(1_000_001, "nf4") == 515_870


def test_bytes_per_value() -> None:
    assert bytes_per_value("bf16") == 2
    assert bytes_per_value("mxfp4") == 4.25 / 8


def test_aliases_and_case() -> None:
    assert get_format("BFloat16").name == "bf16"
    assert get_format("FP16").name == "fp16"


def test_unknown_format_lists_the_accepted_ones() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_format("fp9")
    assert isinstance(info.value, GpumemError) and isinstance(info.value, ValueError)
    assert "fp9" in str(info.value)
    assert "fp32" in info.value.hint and "q4_k_m" in info.value.hint


def test_every_format_has_a_source() -> None:
    assert all(get_format(n).source for n in format_names())
