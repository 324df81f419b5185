"""The Sphinx extension: builds of a small test root in English, Chinese and gettext."""

from __future__ import annotations

import ast
import re
from functools import partial
from pathlib import Path

import pytest

pytest.importorskip("myst_parser")
from babel.messages.extract import extract_from_dir  # noqa: E402
from babel.messages.mofile import read_mo  # noqa: E402
from babel.messages.pofile import read_po  # noqa: E402
from sphinx.errors import ExtensionError  # noqa: E402

from gpumem._data import path  # noqa: E402
from gpumem.sphinxext import datatext, search  # noqa: E402
from gpumem.sphinxext.quantities import compute  # noqa: E402
from gpumem.sphinxext.translation import LOCALE_DIR  # noqa: E402


@pytest.fixture
def build(build_root):
    """Build this file's test root: ``build(builder, language="en", extra=None)``."""
    return partial(build_root, "test-gpumem")


def test_english_page(build) -> None:
    out, warnings = build("html")
    assert warnings == ""
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "take 14\u00a0GB." in page
    assert "405\u00a0billion" in page
    assert r"\approx 13.04\ \mathrm{GiB}" in page
    assert r"\text{for}" in page and r"\text{otherwise}" in page  # the weights' two cases
    assert "<th" in page and "Parameters" in page and "FP16/BF16" in page
    (svg,) = (out / "_images").glob("gpumem-*.svg")
    assert f'src="_images/{svg.name}"' in page


def test_chinese_page(build) -> None:
    out, warnings = build("html", "zh_CN")
    assert warnings == ""
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "占用 14\u00a0GB。" in page  # the role ran again on the translated paragraph
    assert "4050\u00a0亿参数" in page
    assert r"\text{若}" in page and r"\text{其他情况}" in page  # SymPy's piecewise words
    assert "参数量" in page and "权重显存（GB）" in page
    assert 'alt="柱状图：' in page


def test_charts_are_text_outside_html(build) -> None:
    out, warnings = build("text")
    assert warnings == ""
    page = " ".join((out / "index.txt").read_text(encoding="utf-8").split())
    assert "Bar chart of the memory of the weights by parameter count and precision" in page
    assert "H100 SXM5 80GB." in page and "Weights against one GPU." in page


def test_catalog_holds_no_generated_text(build) -> None:
    out, warnings = build("gettext")
    assert warnings == ""
    pot = (out / "index.pot").read_text(encoding="utf-8")
    assert "{gpumem}`weights params=7e9 dtype=fp16 unit=GB`" in pot
    assert "Weights against one GPU." in pot
    for generated in ("14 GB", "Parameters", "FP16/BF16", "Memory of the weights", "M_{W}", "alt"):
        assert generated not in pot


def test_bad_arguments_warn_with_the_bad_value(build) -> None:
    bad = """---
orphan: true
---
# Bad

{gpumem}`weights params=7e9 dtype=fp17` and {gpumem}`weight params=7e9` and {gpumem}`rm -rf`.

```{gpumem-table} weights
:dtypes: fp16/int4
```

```{gpumem-formula} weights
:example: Q=1
```
"""
    _, warnings = build("html", extra={"bad.md": bad})
    for value in ("'fp17'", "did you mean 'fp16'", "'weight'", "'rm'", "'fp16/int4'", "'Q'"):
        assert value in warnings
    assert warnings.count("bad.md:") == 5


@pytest.mark.parametrize(
    ("text", "en", "zh"),
    [
        ("weights params=7e9 dtype=fp16 unit=GiB", "13.04\u00a0GiB", "13.04\u00a0GiB"),
        ("count n=6738415616", "6.738\u00a0billion", "67.38\u00a0亿"),
        ("count n=1.5e12", "1.5\u00a0trillion", "1.5\u00a0万亿"),
        ("bits dtype=mxfp4", "4.25", "4.25"),
    ],
)
def test_role_values(text: str, en: str, zh: str) -> None:
    assert compute(text, "en", "GB") == en
    assert compute(text, "zh_CN", "GB") == zh


@pytest.mark.parametrize(
    "text",
    [
        "estimate model=llama-2-7b mode=training seq=2048 unit=GiB",
        "estimate model=llama-2-7b component=kv_cache unit=MiB",
        "gpu-memory gpu=h100-sxm unit=GB",
        "weights model=llama-2-7b dtype=int4",
    ],
)
def test_catalog_values_are_sizes(text: str) -> None:
    assert re.fullmatch(r"[\d,]+(\.\d+)?\u00a0(GiB|MiB|GB)", compute(text, "en", "GB"))


def test_chinese_build_needs_jieba(monkeypatch) -> None:
    monkeypatch.setattr(search.importlib.util, "find_spec", lambda name: None)
    config = type("Config", (), {"language": "zh_CN"})()
    with pytest.raises(ExtensionError, match="jieba"):
        search.require_jieba(None, config)


def test_label_catalog_is_complete_and_compiled() -> None:
    """Every label in the code is translated, and the shipped .mo matches the .po."""
    package = Path(__file__).parents[1] / "gpumem"
    used = {m[2] for m in extract_from_dir(package / "sphinxext", keywords={"_": None})}
    folder = LOCALE_DIR / "zh_CN" / "LC_MESSAGES"
    with (folder / "gpumem.po").open("rb") as file:
        po = {m.id: m.string for m in read_po(file) if m.id and m.string and not m.fuzzy}
    with (folder / "gpumem.mo").open("rb") as file:
        mo = {m.id: m.string for m in read_mo(file) if m.id}
    assert used <= set(po), "translate the new labels: nox -s i18n, then edit gpumem.po"
    missing = [text for text in datatext.texts() if text not in po]
    assert not missing, "translate the data files' prose in gpumem.po (nox -s i18n)"
    assert mo == po, "recompile: nox -s i18n"


def test_data_prose_is_extracted_from_the_files() -> None:
    with open(path("gpus.json"), "rb") as file:
        notes = [text for _, _, text, _ in datatext.extract(file, None, None, None)]
    assert "Volta has no BF16 and no sparsity" in notes  # a note of the V100 rows, once
    assert notes.count("Volta has no BF16 and no sparsity") == 1
    assert "nvidia-smi memory.total 81,559 MiB" in notes  # the H100 SXM5's evidence
    with open(path("measurements.json"), "rb") as file:
        texts = [text for _, _, text, _ in datatext.extract(file, None, None, None)]
    assert any(t.startswith("Decoders are AutoModelForCausalLM") for t in texts)
    assert "2.13.0+cpu" not in texts  # versions are not prose


#: The extension's layers, top first: a module imports only modules of the layers below it.
LAYERS = (
    ("__init__",),
    ("table", "chart", "formula", "sources", "cli_help", "example", "role", "calculator"),
    ("apidoc", "search", "switcher", "mathml", "config", "catalogs", "directive"),
    ("quantities",),
    ("table_kinds", "chart_kinds", "accuracy", "serving", "local"),
    ("techniques",),
    ("labels", "selection", "datatext"),
    ("options", "formatting", "translation", "freshness"),
)


def test_imports_go_down_the_layers() -> None:
    folder = Path(__file__).parents[1] / "gpumem" / "sphinxext"
    layer = {module: i for i, modules in enumerate(LAYERS) for module in modules}
    assert set(layer) == {p.stem for p in folder.glob("*.py")}, "place the new module in LAYERS"
    for name, index in layer.items():
        tree = ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))
        top = set(tree.body)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                assert node in top, f"{name}.py imports inside a function (line {node.lineno})"
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                targets = [node.module] if node.module else [a.name for a in node.names]
                for target in (t.split(".")[0] for t in targets):
                    assert layer[target] > index, f"{name}.py imports {target}.py"
