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
import re
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator

from .i18n import columns

__all__ = [
    "BarChart",
    "ErrorChart",
    "LineChart",
    "ScatterChart",
    "StackedBarChart",
    "cjk_font_path",
    "render_svg",
    "write_svg",
]

#: Mid-tone colours: enough contrast on a white and on a near-black page.
PALETTE = ("#3a87c8", "#e0892b", "#2fa37a", "#c9609b", "#8b78e6", "#b3913a", "#5aa8a8")
INK = "#7a7a7a"
MINUS = "\u2212"
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
    colours
        Colour of each series (default: the palette in order).
    legend_below
        Legend under the plot (for many or long series labels).
    """

    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]
    lines: tuple[tuple[str, float], ...] = ()
    xlabel: str = ""
    ylabel: str = ""
    log: bool = True
    colours: tuple[str, ...] = ()
    legend_below: bool = False


@dataclass(frozen=True)
class StackedBarChart:
    """One bar per category, stacked from ``series`` (``(label, values, colour)``, bottom first).

    A series whose values are all zero is left out of the legend.
    """

    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...], str], ...]
    lines: tuple[tuple[str, float], ...] = ()
    xlabel: str = ""
    ylabel: str = ""
    log: bool = False


@dataclass(frozen=True)
class LineChart:
    """Lines ``(label, xs, ys)`` with optional labelled points and vertical lines.

    Parameters
    ----------
    styles
        Per series: ``"-"`` solid, ``"--"`` dashed, ``"o-"`` solid with markers.
    points
        ``(label, x, y)`` markers, labelled next to the point without overlapping.
    vlines
        ``(label, x)`` dotted vertical lines, labelled along the line.
    xticks
        ``(x, label)`` ticks replacing the automatic ones.
    """

    series: tuple[tuple[str, tuple[float, ...], tuple[float, ...]], ...]
    xlabel: str = ""
    ylabel: str = ""
    logx: bool = False
    logy: bool = False
    styles: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    points: tuple[tuple[str, float, float], ...] = ()
    vlines: tuple[tuple[str, float], ...] = ()
    xticks: tuple[tuple[float, str], ...] = ()


@dataclass(frozen=True)
class ScatterChart:
    """Labelled points ``(label, x, y, group)``; each group has its own colour and marker."""

    points: tuple[tuple[str, float, float, str], ...]
    xlabel: str = ""
    ylabel: str = ""
    logx: bool = False
    logy: bool = False


@dataclass(frozen=True)
class ErrorChart:
    """Relative error (%) against a measured value, one point per case and estimator.

    ``points`` are ``(measured, error_percent, estimator, kind)`` with ``estimator`` an index
    into ``estimators`` (drawn in the palette's colours) and ``kind`` an index into ``kinds``
    (``(label, marker)`` pairs).
    """

    points: tuple[tuple[float, float, int, int], ...]
    estimators: tuple[str, ...]
    kinds: tuple[tuple[str, str], ...]
    xlabel: str = ""
    ylabel: str = ""


Chart = BarChart | StackedBarChart | LineChart | ScatterChart | ErrorChart
MARKERS = ("o", "s", "^", "D", "v", "P", "X")


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


def render_svg(chart: Chart) -> bytes:
    """Draw ``chart`` and return the SVG bytes (identical for identical charts)."""
    cjk_font_path()
    with matplotlib.rc_context(STYLE):
        figure = DRAW[type(chart)](chart)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buffer.getvalue()


def write_svg(chart: Chart, directory: Path) -> Path:
    """Write ``chart`` to ``directory``, named after its content; reuse the file if present."""
    path = Path(directory, f"gpumem-{chart_key(chart)}.svg")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(render_svg(chart))
        partial.replace(path)  # atomic: parallel writers never see half a file
    return path


def chart_key(chart: Chart) -> str:
    """Hash of the chart's kind and content, matplotlib's version and this module's source."""
    digest = hashlib.sha256()
    digest.update(type(chart).__name__.encode())
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
        colour = chart.colours[i] if chart.colours else PALETTE[i % len(PALETTE)]
        axes.bar(positions, values, width * 0.92, label=label, color=colour)
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
    if chart.legend_below:
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=2)
    else:
        axes.legend(loc="upper left", ncols=min(len(chart.series), 4))
    return figure


def _draw_lines(axes, chart: BarChart | StackedBarChart) -> None:
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


def _plain_ticks(axis) -> None:
    """Log-axis ticks written as plain numbers (``0.1``, ``10``, ``1,000``)."""
    axis.set_major_locator(LogLocator(base=10))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,g}"))


def _log_axes(axes, logx: bool, logy: bool) -> None:
    """Logarithmic x and/or y axes, their ticks written as plain numbers."""
    if logx:
        axes.set_xscale("log")
        _plain_ticks(axes.xaxis)
    if logy:
        axes.set_yscale("log")
        _plain_ticks(axes.yaxis)


def _wrap(label: str, width: int) -> str:
    """Break a long category label into lines of about ``width`` columns, after a comma or
    space (a Chinese label also after its full-width comma)."""
    if columns(label) <= width:
        return label
    label = re.sub(r"(\d) 个 ", "\\1\u00a0个\u00a0", label)  # keep "4096 个 token" together
    label = label.replace(" × ", " ×\u00a0")
    lines, line = [], ""
    for word in re.split(r"(?<=[,，、 ])", label):
        if line and columns(line) + columns(word) > width:
            lines.append(line.rstrip())
            line = ""
        line += word
    lines.append(line.rstrip())
    return "\n".join(lines)


def _draw_stacked(chart: StackedBarChart) -> Figure:
    figure = Figure(figsize=(7.5, 4.6))
    axes = figure.add_subplot()
    positions = range(len(chart.categories))
    bottoms = [0.0] * len(chart.categories)
    for label, values, colour in chart.series:
        axes.bar(
            positions,
            values,
            0.6,
            bottom=bottoms,
            color=colour,
            label=label if any(values) else None,
            edgecolor="white",
            linewidth=0.4,
        )
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    width = max(12, 84 // max(len(chart.categories), 1))
    labels = [_wrap(c, width) for c in chart.categories]
    axes.set_xticks(positions, labels, fontsize=8.5)
    axes.set_xlabel(chart.xlabel)
    axes.set_ylabel(chart.ylabel)
    if chart.log:
        axes.set_yscale("log")
        _plain_ticks(axes.yaxis)
    axes.grid(axis="y", color=INK, alpha=0.25, linewidth=0.6)
    axes.set_axisbelow(True)
    _draw_lines(axes, chart)
    rows = max(label.count("\n") + 1 for label in labels)
    axes.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.08 - 0.045 * rows), ncols=4, fontsize=8.5
    )
    return figure


def _place_labels(figure: Figure, axes, labels: list[tuple[str, float, float]]) -> None:
    """Label points, each at the first of a few offsets where it overlaps nothing placed."""
    offsets = (
        (6, 4, "left", "bottom"),
        (6, -4, "left", "top"),
        (-6, 4, "right", "bottom"),
        (-6, -4, "right", "top"),
        (0, 8, "center", "bottom"),
        (0, -8, "center", "top"),
        (10, 12, "left", "bottom"),
        (-10, -12, "right", "top"),
        (12, -14, "left", "top"),
        (-12, 14, "right", "bottom"),
    )
    if not isinstance(figure.canvas, FigureCanvasAgg):
        FigureCanvasAgg(figure)
    axes.get_xlim(), axes.get_ylim()  # apply pending autoscaling before measuring
    renderer = figure.canvas.get_renderer()
    frame = axes.get_window_extent(renderer)
    taken = []
    for _, x, y in labels:  # the markers themselves
        px, py = axes.transData.transform((x, y))
        taken.append((px - 4, py - 4, px + 4, py + 4))
    for text, x, y in sorted(labels, key=lambda item: (item[2], item[1])):
        for i, (dx, dy, ha, va) in enumerate(offsets):
            note = axes.annotate(
                text,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=7.5,
            )
            box = note.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 + 30 and box.y1 <= frame.y1 + 8
            clear = not any(
                box.x0 < x1 and x0 < box.x1 and box.y0 < y1 and y0 < box.y1
                for x0, y0, x1, y1 in taken
            )
            if (inside and clear) or i == len(offsets) - 1:
                taken.append((box.x0 - 1, box.y0 - 1, box.x1 + 1, box.y1 + 1))
                break
            note.remove()


def _draw_line_chart(chart: LineChart) -> Figure:
    figure = Figure(figsize=(7.5, 4.4))
    axes = figure.add_subplot()
    for i, (label, xs, ys) in enumerate(chart.series):
        style = chart.styles[i] if chart.styles else "-"
        colour = chart.colours[i] if chart.colours else PALETTE[i % len(PALETTE)]
        marker = "o" if "o" in style else None
        linestyle = (0, (5, 3)) if "--" in style else "-"
        axes.plot(
            xs,
            ys,
            color=colour,
            linestyle=linestyle,
            marker=marker,
            markersize=4,
            linewidth=1.6,
            label=label,
        )
    _log_axes(axes, chart.logx, chart.logy)
    if chart.xticks:
        axes.set_xticks([x for x, _ in chart.xticks], [t for _, t in chart.xticks])
        axes.xaxis.set_minor_locator(NullLocator())
    axes.set_xlabel(chart.xlabel)
    axes.set_ylabel(chart.ylabel)
    axes.grid(color=INK, alpha=0.2, linewidth=0.6)
    axes.set_axisbelow(True)
    for label, x in chart.vlines:
        axes.axvline(x, color=INK, linestyle=(0, (1, 2)), linewidth=1.0)
        axes.annotate(
            label,
            (x, 0.97),
            xycoords=("data", "axes fraction"),
            xytext=(-3, 0),
            textcoords="offset points",
            rotation=90,
            ha="right",
            va="top",
            fontsize=7.5,
        )
    for _, x, y in chart.points:
        axes.plot([x], [y], marker="o", markersize=5, color=INK, linestyle="none")
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8.5)
    labelled = [point for point in chart.points if point[0]]
    if labelled:
        _place_labels(figure, axes, labelled)
    return figure


def _draw_scatter(chart: ScatterChart) -> Figure:
    figure = Figure(figsize=(7.5, 5.0))
    axes = figure.add_subplot()
    groups = list(dict.fromkeys(group for *_, group in chart.points))
    for i, group in enumerate(groups):
        xs = [x for _, x, _, g in chart.points if g == group]
        ys = [y for _, _, y, g in chart.points if g == group]
        axes.scatter(
            xs,
            ys,
            s=30,
            color=PALETTE[i % len(PALETTE)],
            marker=MARKERS[i % len(MARKERS)],
            label=group,
            zorder=3,
        )
    _log_axes(axes, chart.logx, chart.logy)
    axes.set_xlabel(chart.xlabel)
    axes.set_ylabel(chart.ylabel)
    axes.grid(color=INK, alpha=0.2, linewidth=0.6)
    axes.set_axisbelow(True)
    axes.margins(0.12)
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8.5)
    merged: dict[tuple[float, float], list[str]] = {}
    for label, x, y, _ in chart.points:
        merged.setdefault((x, y), []).append(label)
    _place_labels(figure, axes, [(" / ".join(n), x, y) for (x, y), n in merged.items()])
    return figure


#: Ticks of the error axis (%), symmetric-logarithmic.
ERROR_TICKS = (-100, -50, -20, -10, -5, -2, -1, -0.5, 0, 0.5, 1, 2, 5, 10, 20, 50, 100)


def _draw_error_chart(chart: ErrorChart) -> Figure:
    figure = Figure(figsize=(7.5, 5.4))
    axes = figure.add_subplot()
    axes.axhline(0, color=INK, linewidth=0.9, zorder=1)
    for estimator in range(len(chart.estimators)):
        for kind, (_label, marker) in enumerate(chart.kinds):
            xs = [x for x, _, e, k in chart.points if e == estimator and k == kind]
            ys = [y for _, y, e, k in chart.points if e == estimator and k == kind]
            if xs:
                axes.scatter(
                    xs,
                    ys,
                    s=26,
                    marker=marker,
                    color=PALETTE[estimator],
                    alpha=0.85,
                    linewidths=0,
                    zorder=3,
                )
    axes.set_xscale("log")
    axes.xaxis.set_major_locator(LogLocator(base=10))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,g}"))
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_yscale("symlog", linthresh=1, linscale=1.0)
    ys = [y for _, y, _, _ in chart.points] or [0.0]
    low = max([t for t in ERROR_TICKS if t <= min(-1.0, *ys)], default=ERROR_TICKS[0])
    high = min([t for t in ERROR_TICKS if t >= max(1.0, *ys)], default=ERROR_TICKS[-1])
    axes.set_ylim(low * 1.3, high * 1.3)
    axes.yaxis.set_major_locator(FixedLocator([t for t in ERROR_TICKS if low <= t <= high]))
    axes.yaxis.set_minor_locator(FixedLocator([]))
    axes.yaxis.set_major_formatter(
        FuncFormatter(lambda v, _: f"{'+' if v > 0 else MINUS if v < 0 else ''}{abs(v):g}%")
    )
    axes.set_xlabel(chart.xlabel)
    axes.set_ylabel(chart.ylabel)
    axes.grid(color=INK, alpha=0.2, linewidth=0.6)
    axes.set_axisbelow(True)
    handles = [
        Line2D([], [], marker="o", linestyle="none", color=colour, label=label)
        for label, colour in zip(chart.estimators, PALETTE, strict=False)
    ] + [
        Line2D([], [], marker=marker, linestyle="none", color=INK, label=label)
        for label, marker in chart.kinds
    ]
    axes.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=3, fontsize=8.5
    )
    return figure


DRAW = {
    BarChart: _draw,
    StackedBarChart: _draw_stacked,
    LineChart: _draw_line_chart,
    ScatterChart: _draw_scatter,
    ErrorChart: _draw_error_chart,
}
