"""Text and JSON views of an estimate: the pipeline stage they are for and the weights'
formats, in English and Chinese."""

from __future__ import annotations

import pytest

from gpumem import estimate, i18n
from gpumem.report import estimate_json, estimate_text


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
