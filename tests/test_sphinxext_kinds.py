"""Table, chart and role kinds of the Sphinx extension, with values checked independently."""

from __future__ import annotations

import gettext
import re

import pytest

pytest.importorskip("myst_parser")
from sphinx import locale  # noqa: E402

from gpumem.errors import GpumemError, InvalidValueError, UnknownNameError  # noqa: E402
from gpumem.plotting import LineChart, ScatterChart, StackedBarChart, render_svg  # noqa: E402
from gpumem.sphinxext.chart import CHARTS  # noqa: E402
from gpumem.sphinxext.quantities import compute  # noqa: E402
from gpumem.sphinxext.selection import OPTION_SPEC, Selection  # noqa: E402
from gpumem.sphinxext.table import TABLES  # noqa: E402
from gpumem.sphinxext.translation import CATALOG, LOCALE_DIR  # noqa: E402

NBSP = "\u00a0"
H100_BANDWIDTH = 3.35e12  # bytes/s, NVIDIA's H100 SXM5 datasheet
LLAMA_2_7B = 6_738_415_616  # parameters


@pytest.fixture
def language(monkeypatch):
    """Switch the extension's labels to a language for one test, then restore them."""

    def switch(code: str) -> str:
        key = ("general", CATALOG)
        if code == "en":
            monkeypatch.delitem(locale.translators, key, raising=False)
        else:
            translation = gettext.translation(CATALOG, str(LOCALE_DIR), [code])
            monkeypatch.setitem(locale.translators, key, translation)
        return code

    return switch


def select(options: dict[str, str], default_unit: str = "GB") -> Selection:
    """The selection of options written as in a directive."""
    converted = {key: OPTION_SPEC[key](text) for key, text in options.items()}
    return Selection.from_options(converted, default_unit)


def table(kind: str, language: str = "en", **options: str):
    return TABLES[kind](select(options), language)


def test_workloads_option_parses_several_workloads() -> None:
    selection = select(
        {"workloads": "mode=inference seq=8192 | mode=training seq=4e3 checkpointing=full"}, "GB"
    )
    assert selection.workloads == (
        (("mode", "inference"), ("seq", 8192)),
        (("mode", "training"), ("seq", 4000), ("checkpointing", "full")),
    )
    assert select({"seqs": "1e3 4096"}, "GB").seqs == (1000, 4096)
    with pytest.raises(UnknownNameError, match="'sequence'"):
        select({"workloads": "sequence=5"}, "GB")
    with pytest.raises(GpumemError, match="'infer'"):
        select({"workloads": "mode=infer"}, "GB")


def test_breakdown_labels_components_and_phase(language) -> None:
    options = {"models": "llama-2-7b", "workloads": "seq=4096 | mode=training checkpointing=full"}
    title, header, rows = table("breakdown", language("en"), unit="GiB", **options)
    assert header == [
        "Component",
        "Inference, 4,096 tokens",
        "Training, batch 1 × 2,048 tokens, full checkpointing",
    ]
    cells = {row[0]: row[1:] for row in rows}
    assert cells["KV cache"] == ["2.00", ""]  # 2 × 32 layers × 4096 × 4096 × 2 B = 2 GiB
    assert cells["Weights"][0] == f"{LLAMA_2_7B * 2 / 2**30:.1f}"
    assert cells["Peak during"] == ["prefill", "optimizer step"]
    assert "Total" in cells and title == "Memory of Llama-2-7B per GPU (GiB)"
    _, header, rows = table("breakdown", language("zh_CN"), **options)
    assert header[1:] == ["推理，4096 个 token", "训练，批大小 1 × 2048 个 token，完全检查点"]
    assert rows[-1] == ["峰值出现于", "预填充", "优化器更新"]


def test_kv_cache_table() -> None:
    _, header, rows = table(
        "kv-cache", models="llama-2-7b llama-3.1-8b deepseek-v3", seqs="4096 32768", unit="GiB"
    )
    assert header[3:] == ["Per token (KiB)", "4,096 tokens (GiB)", "32,768 tokens (GiB)"]
    llama2, llama3, deepseek = rows
    assert llama2[1:4] == ["MHA", "32", f"{2 * 32 * 32 * 128 * 2 / 1024:.0f}"]  # 512 KiB
    assert llama2[5] == "—"  # beyond Llama-2's window of 4,096 tokens
    assert llama3[1:4] == ["GQA", "8", "128"]
    assert deepseek[1] == "MLA" and deepseek[3] == f"{61 * (512 + 64) * 2 / 1024:.1f}"


def test_fit_and_max_context_cells() -> None:
    _, header, rows = table(
        "fit", models="llama-2-7b llama-3.1-70b", dtypes="bf16 int4", gpus="h100-sxm", unit="GiB"
    )
    assert header == ["Model", "Format", "H100 SXM5 80GB"]
    assert rows[0][2].startswith("✓ +") and rows[2][2].startswith("✗ −")
    # 70B in BF16 needs at least its weights: 141 GB, far above the 79.6 GiB of an H100
    missing = float(rows[2][2].split("−")[1])
    assert missing > (70_553_706_496 * 2 - 85_520_809_984) / 2**30
    _, _, rows = table("max-context", models="llama-2-7b llama-3.1-405b", gpus="h100-sxm")
    assert rows[0][2] == "4,096 (whole window)"
    assert rows[1][2] == "—"


def test_decode_is_bandwidth_over_bytes_read() -> None:
    _, _, rows = table("decode", models="llama-2-7b", gpus="h100-sxm", workloads="seq=1")
    kv_one_token = 2 * 32 * 32 * 128 * 2
    expected = H100_BANDWIDTH / (LLAMA_2_7B * 2 + kv_one_token)
    assert rows[0][2] == f"{expected:.0f}"  # ≈ 3.35 TB/s ÷ 13.48 GB ≈ 249
    assert compute("decode model=llama-2-7b gpu=h100-sxm seq=1", "en", "GB") == rows[0][2]


def test_gpus_table_and_ridge_point() -> None:
    _, header, rows = table("gpus", gpus="h100-sxm gaudi2")
    h100, gaudi = (dict(zip(header, row, strict=True)) for row in rows)
    assert h100["Bandwidth"] == f"3.35{NBSP}TB/s"
    assert h100["FLOP per byte"] == f"{989.4e12 / H100_BANDWIDTH:.0f}"
    assert h100["Memory (marketed)"] == f"80{NBSP}GB"
    assert gaudi["Memory reported (GiB)"] == "—"


def test_rule_of_thumb_table() -> None:
    _, _, rows = table("rule-of-thumb", models="llama-2-7b", workloads="mode=training")
    assert rows[0][3] == "×2"
    assert rows[0][4] == f"{LLAMA_2_7B * 2 * 2 / 1e9:.1f}"  # 26.95 → "27.0"
    assert re.fullmatch(r"×\d\.\d", rows[0][6])


def test_savings_table_and_its_errors(language) -> None:
    _, header, rows = table(
        "savings",
        language("en"),
        models="llama-2-7b",
        workloads="mode=inference seq=4096",
        variants="int4 fp8-kv model:llama-3.2-1b",
        unit="GiB",
    )
    assert header[0] == "Technique" and rows[0][0].startswith("Baseline: Inference")
    assert [row[0] for row in rows[1:]] == ["INT4 weights", "FP8 KV cache", "Llama-3.2-1B"]
    assert rows[2][2] == "1.05"  # FP8 halves the 2 GiB KV cache: 1 GiB, plus its 5 % reserve
    with pytest.raises(InvalidValueError, match="training"):
        table("savings", models="llama-2-7b", variants="lora")
    with pytest.raises(InvalidValueError, match="eager"):
        table("savings", models="llama-2-7b", variants="flash")
    with pytest.raises(UnknownNameError, match="'int3'"):
        table("savings", models="llama-2-7b", variants="int3")


@pytest.mark.parametrize(
    ("text", "en", "zh"),
    [
        ("gpu-bandwidth gpu=h100-sxm", f"3.35{NBSP}TB/s", f"3.35{NBSP}TB/s"),
        ("gpu-bandwidth gpu=h100-sxm unit=GB", f"3,350{NBSP}GB/s", f"3350{NBSP}GB/s"),
        ("gpu-tflops gpu=h100-sxm", "989.4", "989.4"),
        ("ridge gpu=h100-sxm", "295", "295"),
        ("kv-per-token model=llama-2-7b", f"512{NBSP}KiB", f"512{NBSP}KiB"),
        ("rule model=llama-2-7b mode=training", f"26.95{NBSP}GB", f"26.95{NBSP}GB"),
        ("max-context model=llama-2-7b gpu=h100-sxm", "4,096", "4096"),
        ("gpus-needed model=llama-3.1-405b gpu=h100-sxm dtype=fp8", "8", "8"),
    ],
)
def test_role_quantities(text: str, en: str, zh: str) -> None:
    assert compute(text, "en", "GB") == en
    assert compute(text, "zh_CN", "GB") == zh


def test_role_ratio_and_saving() -> None:
    assert re.fullmatch(r"×\d+(\.\d)?", compute("ratio model=llama-2-7b mode=training", "en", "GB"))
    saving = compute("saving model=llama-2-7b variant=int4 seq=4096", "en", "GB")
    assert re.fullmatch(r"\d+(\.\d)?%", saving) and 50 < float(saving[:-1]) < 75


CHART_OPTIONS = {
    "breakdown": {"models": "llama-2-7b", "workloads": "seq=4096 | mode=training"},
    "kv-cache": {"models": "llama-2-7b llama-3.1-8b", "dtypes": "bf16 fp8"},
    "activations": {"models": "llama-2-7b", "workloads": "mode=training"},
    "gpus": {"gpus": "h100-sxm l40 l40s rtx-4090"},
    "memory-wall": {},
    "roofline": {"gpus": "h100-sxm rtx-4090", "dtypes": "bf16 int4"},
    "rule-of-thumb": {"models": "llama-3.2-1b llama-2-7b", "workloads": "mode=inference"},
}


@pytest.mark.parametrize("kind", sorted(CHART_OPTIONS))
def test_chart_kinds_render(kind: str) -> None:
    figure, alt = CHARTS[kind](select(CHART_OPTIONS[kind], "GB"), "en")
    assert alt.endswith(".") and render_svg(figure).startswith(b"<?xml")


def test_chart_values() -> None:
    figure, _ = CHARTS["kv-cache"](select(CHART_OPTIONS["kv-cache"], "GiB"), "en")
    assert isinstance(figure, LineChart)
    label, xs, ys = figure.series[0]
    assert label == "Llama-2-7B, BF16" and xs[-1] == 4096 and ys[-1] == 2.0
    assert figure.series[1][2][-1] == 1.0  # the same model with an FP8 cache
    figure, _ = CHARTS["breakdown"](select(CHART_OPTIONS["breakdown"], "GB"), "en")
    assert isinstance(figure, StackedBarChart) and figure.series[0][0] == "Weights"
    figure, _ = CHARTS["gpus"](select(CHART_OPTIONS["gpus"], "GB"), "en")
    assert isinstance(figure, ScatterChart) and len(figure.points) == 4
    figure, _ = CHARTS["roofline"](select(CHART_OPTIONS["roofline"], "GB"), "en")
    assert [x for _, x in figure.vlines] == [1.0, 4.0]  # 2 FLOP per parameter ÷ bytes


PAGE = """# Kinds

```{gpumem-table} breakdown
:models: llama-2-7b
:workloads: mode=inference seq=4096 | mode=training seq=4096 checkpointing=full
:unit: GiB
```

```{gpumem-table} savings
:models: llama-2-7b
:workloads: mode=training
:variants: lora qlora zero3
```

```{gpumem-chart} breakdown
:models: llama-2-7b
:workloads: mode=inference seq=4096 | mode=training

Where the memory goes.
```

Decoding reaches {gpumem}`decode model=llama-2-7b gpu=h100-sxm` tokens per second.
"""

BAD = """---
orphan: true
---
# Bad

```{gpumem-table} savings
:models: llama-2-7b
:variants: lora
```
"""


def test_build_in_chinese_without_warnings(build_root) -> None:
    out, warnings = build_root("test-gpumem", "html", "zh_CN", {"index.md": PAGE, "bad.md": BAD})
    assert warnings.count("WARNING") == 1 and "bad.md" in warnings and "'lora'" in warnings
    page = (out / "index.html").read_text(encoding="utf-8")
    for text in ("组成部分", "推理，4096 个 token", "LoRA，秩 16", "峰值出现于", 'alt="堆叠柱状图'):
        assert text in page
    assert len(list((out / "_images").glob("gpumem-*.svg"))) == 1
