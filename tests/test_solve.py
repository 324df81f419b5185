"""Answers to "does it fit?": consistent with the estimates they are solved from."""

from __future__ import annotations

from gpumem import estimate
from gpumem.hardware import get_gpu
from gpumem.solve import answer, fit, gpus_needed, max_batch, max_context


def test_fit_headroom_is_memory_minus_estimate() -> None:
    result = fit("llama-2-7b", "h100-sxm", dtype="bf16")
    assert result.fits
    assert result.headroom_bytes == get_gpu("h100-sxm").memory_bytes - result.estimate.total_bytes


def test_max_context_is_the_edge() -> None:
    tokens = max_context("llama-3.1-8b", "rtx-4090", dtype="q4_k_m")
    memory = get_gpu("rtx-4090").memory_bytes
    assert estimate("llama-3.1-8b", dtype="q4_k_m", seq=tokens).total_bytes <= memory
    assert estimate("llama-3.1-8b", dtype="q4_k_m", seq=tokens + 1).total_bytes > memory


def test_max_batch_is_the_edge() -> None:
    batch = max_batch("llama-2-7b", "a100-80gb", seq=4096)
    memory = get_gpu("a100-80gb").memory_bytes
    assert estimate("llama-2-7b", batch=batch, seq=4096).total_bytes <= memory
    assert estimate("llama-2-7b", batch=batch + 1, seq=4096).total_bytes > memory


def test_nothing_fits_gives_none() -> None:
    assert max_batch("llama-3.1-405b", "rtx-3060-12gb") is None
    assert max_context("llama-3.1-405b", "rtx-3060-12gb") is None


def test_smallest_layout_for_inference_uses_tensor_parallelism() -> None:
    # Llama 2 70B in BF16 is 138 GB of weights: more than one A100 80GB (85.9 GB as reported),
    # about 69 GB each on two.
    layout = gpus_needed("llama-2-70b", "a100-80gb", dtype="bf16")
    assert layout is not None and layout.fits
    assert layout.estimate.workload.tp == 2


def test_answer_for_a_model_that_fits_reports_one_gpu() -> None:
    answers = answer("qwen2.5-7b", "rtx-4090", dtype="q4_k_m")
    assert answers.fit.fits and answers.layout == answers.fit
    assert answers.max_batch >= 1 and answers.max_context >= 2048
