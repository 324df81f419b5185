"""Charts as deterministic SVG files, readable on light and dark pages, Chinese text included.

The caller passes finished labels (already translated and formatted); this module only draws.
The same chart always gives the same bytes: element ids come from a fixed salt, the date is
left out, and text is drawn as paths so that no font is needed to view the file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import math
import os
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator

__all__ = ["BarChart", "cjk_font_path", "render_svg", "write_svg"]

#: Mid-tone colours: enough contrast on a white and on a near-black page.
PALETTE = ("#3a87c8", "#e0892b", "#2fa37a", "#c9609b", "#8b78e6", "#b3913a", "#5aa8a8")
INK = "#7a7a7a"
CJK_FONT = "Noto Sans SC"

STYLE: dict[str, object] = {
    "svg.fonttype": "path",
    "svg.hashsalt": "gpumem",
    "font.family": [CJK_FONT, "DejaVu Sans"],
    "font.size": 10,
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
    "savefig.transparent": True,
    "text.color": INK,
    "axes.labelcolor": INK,
    "axes.edgecolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}


@dataclass(frozen=True)
class BarChart:
    """Grouped bars, one group per category, with labelled horizontal reference lines.

    Parameters
    ----------
    categories
        Label of each group of bars (x axis).
    series
        ``(label, values)`` per bar colour; ``values`` has one number per category.
    lines
        ``(label, value)`` per reference line; lines within 2 % of each other share one label.
    xlabel, ylabel
        Axis titles.
    log
        Logarithmic value axis.
    """

    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]
    lines: tuple[tuple[str, float], ...] = ()
    xlabel: str = ""
    ylabel: str = ""
    log: bool = True


@cache
def cjk_font_path() -> Path:
    """Register the Noto Sans SC font shipped by ``zhplot`` and return its path.

    ``zhplot`` is located without being imported: importing it changes matplotlib's
    global settings.
    """
    spec = importlib.util.find_spec("zhplot")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("zhplot is needed for Chinese charts: pip install gpumem[plot]")
    path = Path(spec.submodule_search_locations[0], "fonts", "NotoSansSC-Regular.ttf")
    font_manager.fontManager.addfont(str(path))
    return path


def render_svg(chart: BarChart) -> bytes:
    """Draw ``chart`` and return the SVG bytes (identical for identical charts)."""
    cjk_font_path()
    with matplotlib.rc_context(STYLE):
        figure = _draw(chart)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buffer.getvalue()


def write_svg(chart: BarChart, directory: Path) -> Path:
    """Write ``chart`` to ``directory``, named after its content; reuse the file if present."""
    path = Path(directory, f"gpumem-{chart_key(chart)}.svg")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(render_svg(chart))
        partial.replace(path)  # atomic: parallel writers never see half a file
    return path


def chart_key(chart: BarChart) -> str:
    """Hash of the chart's content, matplotlib's version and this module's source."""
    digest = hashlib.sha256()
    digest.update(json.dumps(asdict(chart), ensure_ascii=False, sort_keys=True).encode())
    digest.update(matplotlib.__version__.encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


def _draw(chart: BarChart) -> Figure:
    figure = Figure(figsize=(7.5, 4.2))
    axes = figure.add_subplot()
    width = 0.8 / max(len(chart.series), 1)
    for i, (label, values) in enumerate(chart.series):
        offset = (i - (len(chart.series) - 1) / 2) * width
        positions = [x + offset for x in range(len(chart.categories))]
        axes.bar(positions, values, width * 0.92, label=label, color=PALETTE[i % len(PALETTE)])
    axes.set_xticks(range(len(chart.categories)), chart.categories)
    axes.set_xlabel(chart.xlabel)
    axes.set_ylabel(chart.ylabel)
    if chart.log:
        axes.set_yscale("log")
        axes.yaxis.set_major_locator(LogLocator(base=10))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,g}"))
    axes.grid(axis="y", color=INK, alpha=0.25, linewidth=0.6)
    axes.set_axisbelow(True)
    _draw_lines(axes, chart)
    axes.legend(loc="upper left", ncols=min(len(chart.series), 4))
    return figure


def _draw_lines(axes, chart: BarChart) -> None:
    """Dashed reference lines with their labels right of the plot, kept apart from each other."""
    grouped: dict[float, list[str]] = {}  # lines within 2 % of each other share a label
    for label, value in sorted(chart.lines, key=lambda line: line[1]):
        near = [v for v in grouped if abs(value - v) <= 0.02 * v]
        grouped.setdefault(near[0] if near else value, []).append(label)
    if not grouped:
        return
    low, high = axes.get_ylim()
    low, high = min(low, *grouped), max(high, *grouped) * 1.15
    axes.set_ylim(low, high)

    def fraction(value: float) -> float:
        if chart.log:
            return (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))
        return (value - low) / (high - low)

    previous = -1.0
    for value in sorted(grouped):
        axes.axhline(value, color=INK, linestyle=(0, (4, 3)), linewidth=0.9)
        y = max(fraction(value), previous + 0.055)
        previous = y
        axes.annotate(
            " / ".join(grouped[value]),
            xy=(1.0, fraction(value)),
            xycoords="axes fraction",
            xytext=(1.01, y),
            textcoords="axes fraction",
            va="center",
            fontsize=8.5,
        )
