"""Workloads side by side: every combination, in order, and the best row for each goal."""

from __future__ import annotations

import pytest

from gpumem import estimate
from gpumem.compare import best, compare
from gpumem.errors import GpumemError, UnknownNameError
from gpumem.hardware import get_gpu


def test_every_combination_in_order() -> None:
    options = compare(
        "llama-3.1-8b", "rtx-4090", dtypes=["bf16", "q4_k_m"], kv_dtypes=["bf16", "fp8_e4m3"]
    )
    pairs = [(o.workload.dtype, o.workload.kv_dtype) for o in options]
    assert pairs == [
        ("bf16", "bf16"),
        ("bf16", "fp8_e4m3"),
        ("q4_k_m", "bf16"),
        ("q4_k_m", "fp8_e4m3"),
    ]
    memory = get_gpu("rtx-4090").memory_bytes
    for option in options:
        w = option.workload
        assert option.fit.estimate == estimate("llama-3.1-8b", w)
        tokens = option.max_context
        assert estimate("llama-3.1-8b", w.with_(seq=tokens)).total_bytes <= memory
        assert estimate("llama-3.1-8b", w.with_(seq=tokens + 1)).total_bytes > memory


def test_empty_lists_keep_the_workload() -> None:
    (only,) = compare("gpt2", "a10", seq=512, batch=3)
    assert (only.workload.dtype, only.workload.batch, only.workload.seq) == ("bf16", 3, 512)


def test_best_for_each_goal() -> None:
    # Llama-3.1-8B: 16.06 GB of BF16 weights fit a 24 GB card with little room for the KV
    # cache; 4.9-bit Q4_K_M weights (4.92 GB) leave far more.
    options = compare("llama-3.1-8b", "rtx-4090", dtypes=["bf16", "q4_k_m"])
    assert all(o.fit.fits for o in options)
    assert options[1].max_context > options[0].max_context
    assert best(options, "context") == 1
    assert best(options, "quality") == 0


def test_nothing_fits_has_no_best() -> None:
    options = compare("llama-2-70b", "rtx-4090", dtypes=["bf16", "fp8_e4m3"])
    assert best(options, "context") is None and best(options, "quality") is None


def test_unknown_goal() -> None:
    with pytest.raises(UnknownNameError, match="unknown goal 'speed'"):
        best([], "speed")


def test_formats_of_a_gguf_file_are_not_compared(tmp_path) -> None:
    from test_catalog import write_toy_gguf

    path = tmp_path / "toy.gguf"
    write_toy_gguf(path)
    with pytest.raises(GpumemError, match="GGUF file's tensors"):
        compare(str(path), "rtx-4090", dtypes=["bf16", "q4_k_m"])
