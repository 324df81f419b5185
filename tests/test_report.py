"""Text and JSON views of an estimate: the pipeline stage they are for and the weights'
formats, in English and Chinese."""

from __future__ import annotations

import pytest

from gpumem import estimate, i18n
from gpumem.hardware import get_gpu
from gpumem.report import estimate_json, estimate_text, serve_text
from gpumem.serve import serve


@pytest.fixture
def language():
    previous = i18n.use_language("en")
    yield i18n.use_language
    i18n.use_language(previous)


def test_the_heaviest_pipeline_stage_is_named(language) -> None:
    # Llama 3.1 8B on 4 stages: 8 of its 32 layers, the LM head and the final norm on the last,
    # 8 x 218,112,000 + 525,336,576 + 4,096 parameters
    e = estimate("llama-3.1-8b", pp=4)
    assert (
        "heaviest pipeline stage: the last, with the LM head and the final norm; 8 of 32 "
        "layers, 2,270,236,672 parameters"
    ) in estimate_text(e)
    assert estimate_json(e)["pipeline_stage"] == {
        "heaviest": "last",
        "layers": 8,
        "parameters": 2_270_236_672,
    }
    language("zh_CN")
    assert "最重的流水线阶段：最后一个阶段" in estimate_text(e)


def test_no_stage_without_pipelining(language) -> None:
    e = estimate("llama-3.1-8b")
    assert "pipeline stage" not in estimate_text(e)
    assert estimate_json(e)["pipeline_stage"] == {}


def test_headline_says_the_weights_are_as_shipped(language) -> None:
    e = estimate("gpt-oss-20b", weights_as_shipped=True)
    assert "bf16, quantized modules as shipped (MXFP4)" in estimate_text(e).splitlines()[0]
    assert estimate_json(e)["workload"]["weights_as_shipped"] is True
    assert "as shipped" not in estimate_text(estimate("gpt-oss-20b")).splitlines()[0]


def test_serve_text_gives_the_budget_as_vllm_prints_it() -> None:
    """vLLM 0.29.0 on an L40S printed 'Free memory on device (43.97/44.39 GiB) on startup.
    Desired GPU memory utilization is (0.92, 40.84 GiB)' (samilazrak/vllm-optimization-lab's
    startup log); the line is left out where the cache's memory is given."""
    l40s = get_gpu("l40s")
    text = serve_text(serve("qwen3-14b", l40s), l40s, {})
    assert "(what CUDA reports): 44.39 GiB; desired GPU memory utilization is (0.92, 40.84" in text
    given = serve("qwen3-14b", l40s, kv_cache_memory=10 * 2**30)
    assert "desired GPU memory" not in serve_text(given, l40s, {"kv_cache_memory": 10 * 2**30})


def test_serve_text_names_the_vllm_it_follows() -> None:
    # the default row follows the newest release read, 0.33.0; a release given is named as
    # given, a row of an older generation by its id
    l40s = get_gpu("l40s")
    heads = {
        name: serve_text(serve("qwen3-8b", l40s, **given), l40s, given).splitlines()[0]
        for name, given in (
            ("default", {}),
            ("release", {"engine_id": "0.27.1"}),
            ("row", {"engine_id": "vllm-0.17"}),
        )
    }
    assert " · vLLM 0.33.0 · " in heads["default"]
    assert " · vLLM 0.27.1 · " in heads["release"]
    assert " · vLLM (vllm-0.17) · " in heads["row"]
