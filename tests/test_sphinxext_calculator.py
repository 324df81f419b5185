"""The calculator directive: its form, its scripts on that page only, and the data a build
writes (generated formulas, catalogs, words in the page's language)."""

from __future__ import annotations

import gzip
import json
import re
from functools import partial

import pytest

pytest.importorskip("myst_parser")

from gpumem import jsgen  # noqa: E402
from gpumem.sphinxext.calculator import WORDS  # noqa: E402

PAGE = {"calc.md": "---\norphan: true\n---\n# Calculator\n\n```{calculator}\n```\n"}


@pytest.fixture
def build(build_root):
    return partial(build_root, "test-gpumem", extra=PAGE)


def _data(out) -> dict:
    text = (out / "_static" / "calculator" / "data.js").read_text(encoding="utf-8")
    prefix = "var gpumemCalculatorData = "
    body = text[text.index(prefix) + len(prefix) :].rstrip().rstrip(";")
    return json.loads(body)


def test_form_scripts_and_data(build) -> None:
    out, warnings = build("html")
    assert warnings == ""
    page = (out / "calc.html").read_text(encoding="utf-8")
    assert 'class="gpumem-calculator"' in page
    # Every input has a label, and the scripts come in order on this page only.
    for key in ("model", "gpu", "mode", "dtype", "batch", "seq", "tp", "lora_rank"):
        assert f'<label for="gc-{key}">' in page and f'id="gc-{key}"' in page
    names = ("formulas", "engine", "config", "offload", "data", "ui")
    scripts = [page.index(f"calculator/{name}.js") for name in names]
    assert scripts == sorted(scripts)
    assert "calculator/ui.js" not in (out / "index.html").read_text(encoding="utf-8")
    static = out / "_static" / "calculator"
    assert (static / "formulas.js").read_text(encoding="utf-8") == jsgen.TARGET.read_text(
        encoding="utf-8"
    )
    data = _data(out)
    assert data["models"]["llama-3.1-8b"]["parameters"] == 8_030_261_248  # published count
    assert data["gpus"]["h100-sxm"]["memory_bytes"] == 81_559 * 2**20  # nvidia-smi total
    assert data["formats"]["bf16"]["bits"] == [16, 1]
    assert data["words"]["copy"] == "Copy"
    # The local question: its fields, and the planner's conventions from the package.
    for key in ("view", "gpus", "gguf", "ram", "ctx", "ctk", "ngl", "n_cpu_moe"):
        assert f'<label for="gc-{key}">' in page
    # The serving question's switches: prefix caching, text only.
    for key in ("engine", "prefix_caching", "language_model_only"):
        assert f'<label for="gc-{key}">' in page
    assert data["offload"]["kv_types"]["q8_0"] == [34, 32]  # ggml's block_q8_0: 32 values
    assert data["gpus"]["m4-pro-64gb"]["unified_memory"] is True
    # What a reader downloads for the calculator stays small: 150 KB at most, compressed.
    compressed = sum(len(gzip.compress(p.read_bytes(), 9)) for p in static.iterdir())
    assert compressed <= 150_000, compressed


def test_chinese_words(build) -> None:
    out, warnings = build("html", language="zh_CN")
    assert warnings == ""
    page = (out / "calc.html").read_text(encoding="utf-8")
    assert '<label for="gc-dtype">权重格式</label>' in page
    assert '<label for="gc-language_model_only">仅文本（--language-model-only' in page
    data = _data(out)
    assert data["language"] == "zh_CN"
    # No word of the calculator is left in English (placeholders, acronyms such as GPU and the
    # unit GiB aside).
    english = [
        k
        for k, v in data["words"].items()
        if v == WORDS[k] and any(c.islower() for c in re.sub(r"\{[^}]*\}|GiB", "", v))
    ]
    assert english == [], english
    assert data["components"]["kv_cache"] == "KV 缓存"
