"""How close gpumem comes to measured memory: the ``accuracy`` table and chart kinds, the
``accuracy-summary`` table and the ``accuracy`` role quantity.

Everything is read from :mod:`gpumem.validation` (the committed measurements and the
comparison of each with the estimate and the rule of thumb), so the page follows the data.
Errors are relative, ``(estimate − measured) ÷ measured``: negative means the estimate is short.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

from ..errors import InvalidValueError, UnknownNameError
from ..plotting import DRAW, INK, PALETTE
from ..units import to_unit
from .formatting import format_int, join_names, significant
from .labels import amount, mode_label, model_spec, separator
from .selection import Selection
from .translation import gettext as _

__all__ = [
    "KINDS",
    "ErrorChart",
    "Entry",
    "accuracy",
    "accuracy_chart",
    "accuracy_summary_table",
    "accuracy_table",
    "entries",
    "scenario_label",
    "signed_percent",
    "statistic",
]

#: Kinds of measured scenario, in the order tables list them.
KINDS = ("weights", "prefill", "generate", "train")
DASH = "—"
MINUS = "\u2212"
STATS = ("median", "worst", "best", "rule_median", "rule_worst", "rule_best")
COUNTS = ("count", "failed", "exact")


@dataclass(frozen=True)
class Entry:
    """One measured record: its model, scenario and, when it ran, the comparison."""

    model: str
    scenario: dict
    comparison: object | None  # a gpumem.validation.Comparison, None when the run failed

    @property
    def kind(self) -> str:
        return str(self.scenario["mode"])


@cache
def _all_entries() -> tuple[Entry, ...]:
    from ..validation import compare, measurements

    return tuple(
        Entry(r["model"], r["scenario"], compare(r) if r.get("peak_bytes") else None)
        for r in measurements()["records"]
    )


def _check(name: str, values: Iterable[str], accepted: Iterable[str]) -> None:
    accepted = tuple(accepted)
    for value in values:
        if value not in accepted:
            raise UnknownNameError(name, value, accepted)


def entries(models: Iterable[str] = (), kinds: Iterable[str] = ()) -> list[Entry]:
    """Measured records of ``models`` (default: all, in the data's order) and ``kinds``,
    grouped by model and ordered by kind within each model."""
    everything = _all_entries()
    measured = list(dict.fromkeys(e.model for e in everything))
    models, kinds = tuple(models) or tuple(measured), tuple(kinds) or KINDS
    _check("measured model", models, measured)
    _check("scenario kind", kinds, KINDS)
    chosen = [e for e in everything if e.model in models and e.kind in kinds]
    return sorted(chosen, key=lambda e: (models.index(e.model), KINDS.index(e.kind)))


def _selected(selection: Selection) -> list[Entry]:
    return entries(selection.models, selection.kinds)


def scenario_label(scenario: dict, language: str) -> str:
    """A measured scenario in words, e.g. ``"Training, BF16, batch 4 × 2,048 tokens, full
    checkpointing, fused AdamW"``."""
    from ..precision import get_format

    kind = scenario["mode"]
    dtype = get_format(scenario["dtype"]).label
    if kind == "weights":
        return separator(language).join([_("Weights only"), dtype])
    heads = {"prefill": _("Prefill"), "generate": _("Generation"), "train": mode_label("training")}
    parts = [heads[kind]]
    if scenario.get("amp"):
        amp = get_format(scenario["amp"]).label
        parts.append(_("{weights} weights, {format} autocast").format(weights=dtype, format=amp))
    else:
        parts.append(dtype)
    parts.append(
        _("batch {batch} × {seq} tokens").format(
            batch=format_int(int(scenario["batch"]), language),
            seq=format_int(int(scenario["seq"]), language),
        )
    )
    if kind == "generate":
        parts.append(
            _("{n} new tokens").format(n=format_int(int(scenario["new_tokens"]), language))
        )
    if scenario.get("grad_checkpointing"):
        parts.append(_("full checkpointing"))
    optimizer = {"foreach": _("foreach AdamW"), "fused": _("fused AdamW")}
    if scenario.get("optimizer"):
        parts.append(optimizer.get(scenario["optimizer"], scenario["optimizer"]))
    return separator(language).join(parts)


def kind_label(kind: str) -> str:
    """``"train"`` → ``"Training step"`` / ``"训练步"``."""
    return {
        "weights": _("Weights only"),
        "prefill": _("Prefill"),
        "generate": _("Generation"),
        "train": _("Training step"),
    }[kind]


def signed_percent(fraction: float, decimals: int) -> str:
    """``-0.0045`` → ``"−0.45%"``, ``0.0002`` → ``"+0.02%"``; ``"0%"`` only when exact (a
    tiny error keeps its sign: ``"−0.00%"``)."""
    if fraction == 0:
        return "0%"
    text = f"{abs(100 * fraction):.{decimals}f}"
    return f"{MINUS if fraction < 0 else '+'}{text}%"


def percent(fraction: float, digits: int = 2) -> str:
    """An absolute error to ``digits`` significant digits: ``0.00202`` → ``"0.2%"``; below
    0.01 % (but not zero) ``"<0.01%"``."""
    if 0 < abs(fraction) < 1e-4:
        return "<0.01%"
    return significant(100 * fraction, digits) + "%"


def accuracy_table(selection: Selection, language: str) -> tuple[str, list[str], list[list[str]]]:
    """One row per measured scenario: measured peak, gpumem and its error, the rule of thumb
    and its error. The model is named on the first row of its group."""
    unit = selection.unit
    header = [
        _("Model"),
        _("Scenario"),
        _("Measured ({unit})").format(unit=unit),
        _("gpumem ({unit})").format(unit=unit),
        _("Error"),
        _("Rule of thumb ({unit})").format(unit=unit),
        _("Error of the rule"),
    ]
    rows, previous = [], None
    for entry in _selected(selection):
        name = model_spec(entry.model).name if entry.model != previous else ""
        previous = entry.model
        label = scenario_label(entry.scenario, language)
        c = entry.comparison
        if c is None:
            rows.append([name, label, _("did not run"), DASH, DASH, DASH, DASH])
            continue
        rule = DASH if c.rule_bytes is None else amount(c.rule_bytes, unit)
        rule_error = DASH if c.rule_error is None else signed_percent(c.rule_error, 1)
        rows.append(
            [
                name,
                label,
                amount(c.measured_bytes, unit),
                amount(c.estimate_bytes, unit),
                signed_percent(c.error, 2),
                rule,
                rule_error,
            ]
        )
    title = _("Measured peak against gpumem and the rule of thumb ({unit})").format(unit=unit)
    return title, header, rows


def _figures(chosen: list[Entry]) -> dict[str, float | int | None]:
    ran = [e.comparison for e in chosen if e.comparison is not None]
    errors = [abs(c.error) for c in ran]
    rules = [abs(c.rule_error) for c in ran if c.rule_error is not None]
    figures: dict[str, float | int | None] = {
        "count": len(ran),
        "failed": len(chosen) - len(ran),
        "exact": sum(c.estimate_bytes == c.measured_bytes for c in ran),
    }
    for prefix, values in (("", errors), ("rule_", rules)):
        figures[prefix + "median"] = statistics.median(values) if values else None
        figures[prefix + "worst"] = max(values) if values else None
        figures[prefix + "best"] = min(values) if values else None
    return figures


def accuracy_summary_table(
    selection: Selection, language: str
) -> tuple[str, list[str], list[list[str]]]:
    """Per kind of scenario and for all: scenarios compared, median and worst absolute error
    of gpumem and of the rule of thumb."""
    chosen = _selected(selection)
    header = [
        _("Kind of scenario"),
        _("Scenarios compared"),
        _("gpumem: median |error|"),
        _("gpumem: worst |error|"),
        _("Rule of thumb: median |error|"),
        _("Rule of thumb: worst |error|"),
    ]

    def row(label: str, group: list[Entry]) -> list[str]:
        f = _figures(group)
        cells = [f[key] for key in ("median", "worst", "rule_median", "rule_worst")]
        return [label, format_int(int(f["count"]), language)] + [
            DASH if value is None else percent(float(value)) for value in cells
        ]

    kinds = [k for k in KINDS if any(e.kind == k for e in chosen)]
    rows = [row(kind_label(k), [e for e in chosen if e.kind == k]) for k in kinds]
    if len(kinds) > 1:
        rows.append(row(_("All"), chosen))
    return _("Absolute relative error of the estimates"), header, rows


def statistic(stat: str, models: Iterable[str] = (), kinds: Iterable[str] = ()) -> float | int:
    """One figure of the comparison (see :data:`STATS` and :data:`COUNTS`)."""
    _check("statistic", [stat], STATS + COUNTS)
    value = _figures(entries(models, kinds))[stat]
    if value is None:
        raise InvalidValueError("stat", stat, "a statistic the selected scenarios have")
    return value


def accuracy(
    *,
    language: str,
    stat: str,
    kind: str | None = None,
    model: str | None = None,
    digits: str = "2",
) -> str:
    """A figure of the comparison with measurements: ``accuracy stat=median`` → ``0.2%``.

    ``stat`` is ``median``, ``worst`` or ``best`` (absolute error of gpumem), the same with
    ``rule_`` in front (of the rule of thumb), ``count`` (scenarios compared), ``failed``
    (scenarios that did not run) or ``exact`` (estimates equal to the byte); ``kind`` and
    ``model`` narrow the scenarios; ``digits`` are significant digits.
    """
    from .quantities import number

    value = statistic(stat, [model] if model else [], [kind] if kind else [])
    if stat in COUNTS:
        return format_int(int(value), language)
    places = number(digits, "digits")
    if not isinstance(places, int) or not 1 <= places <= 6:
        raise InvalidValueError("digits", digits, "a whole number from 1 to 6")
    return percent(float(value), places)


# The chart ------------------------------------------------------------------------------------

#: Marker per kind of scenario, and colour per estimator (gpumem, rule of thumb).
MARKERS = {"weights": "D", "prefill": "o", "generate": "s", "train": "^"}
COLOURS = (PALETTE[0], PALETTE[1])
#: Changes with this module, so a changed drawing gets a new file name (see ``chart_key``).
REVISION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
TICKS = (-100, -50, -20, -10, -5, -2, -1, -0.5, 0, 0.5, 1, 2, 5, 10, 20, 50, 100)


@dataclass(frozen=True)
class ErrorChart:
    """Relative error (%) against the measured peak, one point per scenario and estimator.

    ``points`` are ``(measured, error_percent, estimator, kind)`` with ``estimator`` an index
    into ``estimators`` and ``kind`` an index into ``kinds`` (``(label, marker)`` pairs).
    """

    points: tuple[tuple[float, float, int, int], ...]
    estimators: tuple[str, ...]
    kinds: tuple[tuple[str, str], ...]
    xlabel: str = ""
    ylabel: str = ""
    revision: str = REVISION


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
                    color=COLOURS[estimator],
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
    low = max([t for t in TICKS if t <= min(-1.0, *ys)], default=TICKS[0])
    high = min([t for t in TICKS if t >= max(1.0, *ys)], default=TICKS[-1])
    axes.set_ylim(low * 1.3, high * 1.3)
    axes.yaxis.set_major_locator(FixedLocator([t for t in TICKS if low <= t <= high]))
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
        for label, colour in zip(chart.estimators, COLOURS, strict=False)
    ] + [
        Line2D([], [], marker=marker, linestyle="none", color=INK, label=label)
        for label, marker in chart.kinds
    ]
    axes.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=3, fontsize=8.5
    )
    return figure


DRAW[ErrorChart] = _draw_error_chart  # drawn by gpumem.plotting.render_svg like its own charts


def accuracy_chart(selection: Selection, language: str) -> tuple[ErrorChart, str]:
    """Error of gpumem and of the rule of thumb against the measured peak, per scenario."""
    unit = selection.unit
    chosen = [e for e in _selected(selection) if e.comparison is not None]
    kinds = [k for k in KINDS if any(e.kind == k for e in chosen)]
    points = []
    for estimator in (0, 1):
        for entry in chosen:
            c = entry.comparison
            error = c.error if estimator == 0 else c.rule_error
            if error is not None:
                x = to_unit(c.measured_bytes, unit)
                points.append((x, round(100 * error, 6), estimator, kinds.index(entry.kind)))
    figure = ErrorChart(
        points=tuple(points),
        estimators=("gpumem", _("Rule of thumb (×1.2 inference, ×2 training)")),
        kinds=tuple((kind_label(k), MARKERS[k]) for k in kinds),
        xlabel=_("Measured peak ({unit})").format(unit=unit),
        ylabel=_("Error of the estimate"),
    )
    models = list(dict.fromkeys(model_spec(e.model).name for e in chosen))
    alt = _(
        "Scatter chart of the relative error of gpumem and of the rule of thumb against the "
        "measured peak, for {count} scenarios of {models}."
    ).format(count=len(chosen), models=join_names(models, language))
    return figure, alt


TABLE_KINDS: dict[str, Callable[[Selection, str], tuple[str, list[str], list[list[str]]]]] = {
    "accuracy": accuracy_table,
    "accuracy-summary": accuracy_summary_table,
}
CHART_KINDS: dict[str, Callable[[Selection, str], tuple[ErrorChart, str]]] = {
    "accuracy": accuracy_chart,
}
