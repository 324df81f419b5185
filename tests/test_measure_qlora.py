"""QLoRA's NF4 base in the measurement harness: bytes stored as bitsandbytes stores them, and
fake-tensor runs equal to real ones on the CPU."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")
pytest.importorskip("bitsandbytes")

import test_measure  # noqa: E402

from gpumem.measure.build import build_model, fake_mode  # noqa: E402
from gpumem.measure.qlora import quantize, stored_bytes  # noqa: E402
from gpumem.measure.run import measure  # noqa: E402
from gpumem.measure.scenarios import Scenario, qlora_grid  # noqa: E402

# test_measure's tiny Llama: hidden 64, MLP 128, 4 query heads and 2 KV heads of 16, an
# untied 256-token vocabulary.
TINY = test_measure.TINY["llama"]

# The grid's kinds at the tiny model's size: each target set, with and without checkpointing.
QLORA = [
    replace(sc, batch=2, seq=64, lora_rank=4)
    for sc in qlora_grid(True, 256)
    if sc.batch == 1 and sc.lora_rank == 8
]


def _quantized(fake: bool) -> dict:
    torch.manual_seed(0)
    with fake_mode(fake):
        return stored_bytes(quantize(build_model(TINY, "bf16")))


def _measure(sc: Scenario, fake: bool) -> dict:
    torch.manual_seed(0)
    with fake_mode(fake):
        return measure(quantize(build_model(TINY, "bf16")), sc)


def test_stored_bytes_by_hand() -> None:
    """Each of a layer's seven weight matrices as bitsandbytes' quantize_4bit stores it: two
    4-bit values a byte, one 8-bit absmax per 64 values, one FP32 absmax per 256 of those, and
    the NF4 code (16 FP32), the 8-bit code (256 FP32) and the FP32 offset; the embeddings, LM
    head and norms stay BF16, as do the rotary inverse frequencies (8 FP32, twice)."""
    matrices = [64 * 64, 64 * 32, 64 * 32, 64 * 64, 64 * 128, 64 * 128, 128 * 64]
    nf4 = sum(n // 2 + n // 64 + 4 * math.ceil(n / 64 / 256) + 4 * (16 + 256 + 1) for n in matrices)
    bf16 = 2 * (2 * 256 * 64 + 2 * 2 * 64 + 64)
    rotary = 2 * 8 * 4
    assert _quantized(True)["total"] == 2 * nf4 + bf16 + rotary


def test_stored_bytes_fake_equal_real() -> None:
    assert _quantized(True) == _quantized(False)


@pytest.mark.parametrize("sc", QLORA, ids=Scenario.label)
def test_qlora_fake_equals_real(sc: Scenario) -> None:
    fake, real = _measure(sc, True), _measure(sc, False)
    assert fake == real
    assert fake["peak_breakdown"]["parameters"] > _quantized(True)["total"] - 2 * 8 * 4
