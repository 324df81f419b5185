"""Charts: byte-identical SVGs, reused files, Chinese text drawn with the bundled font."""

from __future__ import annotations

import warnings

import pytest

pytest.importorskip("matplotlib")
from matplotlib import font_manager  # noqa: E402

from gpumem.plotting import BarChart, cjk_font_path, render_svg, write_svg  # noqa: E402

CHART = BarChart(
    categories=("70 亿", "700 亿"),
    series=(("FP16/BF16", (14.0, 140.0)), ("INT4", (3.5, 35.0))),
    lines=(("H100 SXM5 80GB", 85.5), ("A100 SXM4 80GB", 85.9), ("L40S", 48.0)),
    xlabel="参数量",
    ylabel="权重显存（GB）",
)


def test_svg_bytes_are_deterministic() -> None:
    svg = render_svg(CHART)
    assert svg == render_svg(CHART)
    assert b"<dc:date>" not in svg
    assert b"<text" not in svg  # text drawn as paths: no font needed to view it


def test_chinese_text_uses_the_bundled_font() -> None:
    path = cjk_font_path()
    assert path.is_file()
    found = font_manager.findfont(font_manager.FontProperties(family="Noto Sans SC"))
    assert found == str(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font" would be a warning
        render_svg(CHART)


def test_file_is_named_after_its_content_and_reused(tmp_path) -> None:
    first = write_svg(CHART, tmp_path)
    modified = first.stat().st_mtime_ns
    assert write_svg(CHART, tmp_path) == first
    assert first.stat().st_mtime_ns == modified
    english = BarChart(CHART.categories, CHART.series, CHART.lines, "Parameters", CHART.ylabel)
    assert write_svg(english, tmp_path) != first
    assert [p.suffix for p in tmp_path.iterdir()] == [".svg", ".svg"]


def test_other_chart_kinds_are_deterministic_and_draw_chinese() -> None:
    from gpumem.plotting import LineChart, ScatterChart, StackedBarChart

    charts = [
        StackedBarChart(
            ("推理，4096 个 token", "训练，批大小 1 × 4096 个 token，完全检查点"),
            (("权重", (12.6, 12.6), "#3a87c8"), ("KV 缓存", (2.0, 0.0), "#2fa37a")),
            lines=(("H100 SXM5 80GB", 79.6),),
            ylabel="每个 GPU 的显存（GiB）",
        ),
        LineChart(
            (("Llama-2-7B", (512.0, 4096.0), (0.25, 2.0)),),
            xlabel="上下文长度",
            logx=True,
            points=(("拐点", 1024.0, 0.5),),
            vlines=(("解码，BF16", 1000.0),),
        ),
        ScatterChart((("L40", 0.864, 44.4, "GDDR6"), ("L40S", 0.864, 44.4, "GDDR6")), "带宽"),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for chart in charts:
            svg = render_svg(chart)
            assert svg == render_svg(chart) and b"<text" not in svg
