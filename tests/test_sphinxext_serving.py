"""The serving page's figures (gpumem/sphinxext/serving.py), checked by hand."""

import pytest

from gpumem.errors import UnknownNameError
from gpumem.sphinxext.serving import serve_figure

NBSP = "\u00a0"


def figure(**options: str) -> str:
    return serve_figure(language="en", unit="B", **options)


def test_first_full_capture_by_hand() -> None:
    # FlashAttention 3's FP32 output and log-sum-exp for 32 splits of each of Llama 3.1 8B's
    # 32 query heads (128 values + 1) at the largest FULL batch on an H100 (512 tokens)
    accumulators = 32 * 512 * 32 * (128 + 1) * 4
    assert accumulators == 258 * 2**20
    shown = serve_figure(
        language="en",
        model="llama-3.1-8b",
        gpu="h100-sxm",
        what="full-accumulators",
        unit="MiB",
    )
    assert shown == f"258{NBSP}MiB"


@pytest.mark.parametrize(
    ("model", "tp", "expected"),
    [
        # Qwen3-Next: 8,192 convolution channels (16 key heads x 128 x 2 + 32 value heads x
        # 128) x 3 past inputs in BF16, 32 value heads x 128 x 128 in BF16, halved by TP 2
        ("qwen3-next-80b-a3b", 2, (8192 * 3 * 2 + 32 * 128 * 128 * 2) // 2),
        # Qwen3.6-35B-A3B: the same channels and heads, the temporal state in FP32
        ("qwen3.6-35b-a3b", 1, 8192 * 3 * 2 + 32 * 128 * 128 * 4),
    ],
)
def test_recurrent_state_by_hand(model: str, tp: int, expected: int) -> None:
    shown = figure(model=model, gpu="h200", tp=str(tp), what="state")
    assert shown == f"{expected:,}{NBSP}B"


def test_unknown_figure_names_the_choices() -> None:
    with pytest.raises(UnknownNameError, match="full-accumulators"):
        figure(model="llama-3.1-8b", gpu="h100-sxm", what="accumulators")


def test_language_model_only_switch_names_its_choices() -> None:
    launch = {"model": "qwen3.8-27b", "gpu": "rtx-5090", "tp": "2", "what": "weights"}
    with pytest.raises(UnknownNameError, match="language_model_only"):
        figure(**launch, language_model_only="yes")
    # without the vision tower (27 blocks of 1,152 and its merger, in BF16 here) the weights
    # are smaller
    assert figure(**launch, language_model_only="on") != figure(**launch)


def test_engine_facts_from_the_engine_rows() -> None:
    from gpumem.sphinxext.serving import engine_fact

    # CacheConfig.gpu_memory_utilization: 0.92 from vLLM 0.20.0, 0.9 in 0.19.0
    assert engine_fact(language="en", key="gpu_memory_utilization") == "0.92"
    assert engine_fact(language="en", key="gpu_memory_utilization", engine="0.19.0") == "0.9"
    # FlashInfer's workspace buffer (394 MiB) and a decode wrapper's integer one (8 MiB)
    shown = engine_fact(
        language="en", key="cudagraph_estimate.flashinfer_workspace_bytes", unit="B"
    )
    assert shown == f"{(394 + 8) * 2**20:,}{NBSP}B"
    with pytest.raises(UnknownNameError, match="cudagraph_estimate.nothing"):
        engine_fact(language="en", key="cudagraph_estimate.nothing")
