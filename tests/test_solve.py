"""Answers to "does it fit?": each is the edge of what the estimates allow."""

from __future__ import annotations

import pytest

from gpumem import GpumemError, estimate
from gpumem.hardware import get_gpu
from gpumem.solve import answer, fit, gpus_needed, max_batch, max_context


def test_fit_of_a_model_larger_than_the_gpu() -> None:
    # Llama 2 70B in BF16: 2 x 68,976,648,192 = 138 GB of weights against 85.9 GB on an A100.
    result = fit("llama-2-70b", "a100-80gb", dtype="bf16")
    assert not result.fits and result.headroom_bytes < -(138 - 86) * 10**9
    assert fit("llama-2-7b", "a100-80gb", dtype="bf16").fits  # 13.5 GB of weights


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


def test_max_batch_has_no_hidden_cap() -> None:
    # GPT-2 with one token per sequence: about 140 kB per sequence on a 256 GB MI325X,
    # far more than the 2**20 sequences a search bounded there would stop at.
    batch = max_batch("gpt2", "mi325x", seq=1)
    memory = get_gpu("mi325x").memory_bytes
    assert batch > 2**20
    assert estimate("gpt2", batch=batch, seq=1).total_bytes <= memory
    assert estimate("gpt2", batch=batch + 1, seq=1).total_bytes > memory
    assert answer("gpt2", "mi325x", seq=1).max_batch == batch
    assert max_batch("gpt2", "mi325x", seq=1, limit=1000) == 1000


def test_nothing_fits_gives_none() -> None:
    assert max_batch("llama-3.1-405b", "rtx-3060-12gb") is None
    assert max_context("llama-3.1-405b", "rtx-3060-12gb") is None


def test_smallest_layout_for_inference_uses_tensor_parallelism() -> None:
    # Llama 2 70B in BF16 is 138 GB of weights: more than one A100 80GB (85.9 GB as reported),
    # about 69 GB each on two.
    layout = gpus_needed("llama-2-70b", "a100-80gb", dtype="bf16")
    assert layout is not None and layout.fits
    assert layout.estimate.workload.tp == 2
    assert gpus_needed("llama-2-70b", "a100-80gb", dtype="bf16", max_gpus=1) is None


def test_answer_for_a_model_that_fits_reports_one_gpu() -> None:
    answers = answer("qwen2.5-7b", "rtx-4090", dtype="q4_k_m")
    assert answers.fit.fits and answers.layout == answers.fit
    assert answers.max_batch >= 1 and answers.max_context >= 2048


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: fit("gpt2", None), "gpu None"),
        (lambda: answer("gpt2", None), "gpu None"),
        (lambda: fit(None, "h100-sxm"), "model None"),
        *(
            (lambda v=v: max_batch("gpt2", "h100-sxm", limit=v), "limit")
            for v in (None, "10", 0, -5)
        ),
        *(
            (lambda v=v: gpus_needed("gpt2", "h100-sxm", max_gpus=v), "max_gpus")
            for v in (0, -1, None)
        ),
    ],
)
def test_bad_arguments_are_gpumem_errors(call, words) -> None:
    with pytest.raises(GpumemError) as info:
        call()
    assert words in str(info.value)


def test_a_gguf_file_is_answered_as_llamacpp_runs_it(tmp_path) -> None:
    """The API answers a GGUF file as ``gpumem fit`` does: every layer and the output layer on
    the GPU (-ngl 3 for 2 layers), the context (-c) and cache type (-ctk/-ctv) from the
    workload, one sequence."""
    from test_catalog import write_toy_gguf

    from gpumem.offload import Placement

    path = tmp_path / "toy.gguf"
    write_toy_gguf(path)
    placed = fit(str(path), "rtx-4090", seq=2048, kv_dtype="q8_0")
    assert isinstance(placed, Placement) and placed.fits
    assert (placed.ngl, placed.n_cpu_moe, placed.ctx, placed.kv_dtype) == (3, 0, 2048, "q8_0")
    gpu, cpu = placed.devices
    # per layer: attention q, k, v, o in Q8_0 (64x64, 32x64, 32x64, 64x64 values: 34 bytes per
    # 32), MLP in F16 (3 x 96 x 64 x 2), two F32 norms of 64; then the output norm and the
    # Q8_0 LM head (128 x 64); the input embedding stays on the CPU (Q4_0, 128 x 64: 18 / 32)
    layer = (4096 + 2048 + 2048 + 4096) // 32 * 34 + 3 * 96 * 64 * 2 + 2 * 64 * 4
    assert gpu.weights_bytes == 2 * layer + 64 * 4 + 128 * 64 // 32 * 34
    assert cpu.weights_bytes == 128 * 64 // 32 * 18
    # K and V of 2 KV heads of 16 per layer, 2,048 cells, Q8_0 (34 bytes per 32 values)
    assert gpu.kv_bytes == 2 * 2 * 32 * 2048 * 34 // 32
    assert max_context(str(path), "rtx-4090") == 4096  # the trained context; it all fits
    assert answer(str(path), "rtx-4090") == fit(str(path), "rtx-4090")
    needed = gpus_needed(str(path), "rtx-4090")
    assert isinstance(needed, Placement) and len(needed.split) == 1
    with pytest.raises(GpumemError, match="one sequence"):
        max_batch(str(path), "rtx-4090")
    with pytest.raises(GpumemError, match="GGUF file"):
        fit(str(path), "rtx-4090", dtype="bf16")
