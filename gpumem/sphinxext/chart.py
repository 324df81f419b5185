"""The ``gpumem-chart`` directive: an SVG chart computed by the package.

The directive stores the finished chart (labels already in the page's language) in a node;
the HTML writer draws it into ``_images`` under a name that hashes its content, or reuses the
file when it is there. The alternative text is set only there, so it never enters a catalog.
"""

from __future__ import annotations

import html
import posixpath
from collections.abc import Callable
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective, SphinxTranslator

from ..errors import GpumemError, UnknownNameError
from ..plotting import BarChart, Chart, write_svg
from ..units import to_unit
from .accuracy import CHART_KINDS as ACCURACY_CHARTS
from .accuracy import ErrorChart
from .chart_kinds import KINDS
from .formatting import format_count, join_names
from .freshness import depend_on_package
from .options import report
from .selection import OPTION_SPEC, Selection, dtype_label
from .translation import gettext as _

DEFAULT_GPUS = "rtx-4090 l40s a100-80gb h100-sxm h200 b200"


class chart(nodes.General, nodes.Element):  # noqa: N801 (docutils names nodes in lower case)
    """A chart to draw: ``node["chart"]`` is a chart of :mod:`gpumem.plotting`, ``node["alt"]``
    describes it."""


def weights_chart(selection: Selection, language: str) -> tuple[BarChart, str]:
    """Memory of the weights per parameter count and precision, against the memory of GPUs."""
    from ..hardware import get_gpu
    from ..precision import weight_bytes

    gpus = [get_gpu(name) for name in selection.gpus or DEFAULT_GPUS.split()]
    figure = BarChart(
        categories=tuple(format_count(p, language) for p in selection.params),
        series=tuple(
            (
                dtype_label(group),
                tuple(to_unit(weight_bytes(p, group[0]), selection.unit) for p in selection.params),
            )
            for group in selection.dtypes
        ),
        lines=tuple((gpu.name, to_unit(gpu.memory_bytes, selection.unit)) for gpu in gpus),
        xlabel=_("Parameters"),
        ylabel=_("Memory of the weights ({unit})").format(unit=selection.unit),
    )
    alt = _(
        "Bar chart of the memory of the weights by parameter count and precision, "
        "with dashed lines at the memory of {gpus}."
    ).format(gpus=join_names([g.name for g in gpus], language))
    return figure, alt


CHARTS: dict[str, Callable[[Selection, str], tuple[Chart | ErrorChart, str]]] = {
    "weights": weights_chart,
    **KINDS,
    **ACCURACY_CHARTS,
}


class ChartDirective(SphinxDirective):
    """``gpumem-chart <kind>`` with the options of :class:`Selection`.

    The directive's content, if any, is the figure's caption.
    """

    required_arguments = 1
    option_spec = OPTION_SPEC
    has_content = True

    def run(self) -> list[nodes.Node]:
        depend_on_package(self.env)
        kind = self.arguments[0]
        try:
            if kind not in CHARTS:
                raise UnknownNameError("chart", kind, CHARTS)
            selection = Selection.from_options(self.options, self.config.gpumem_default_unit)
            figure, alt = CHARTS[kind](selection, self.config.language or "en")
        except GpumemError as error:
            return report(self, error)
        result = nodes.figure("", chart(chart=figure, alt=alt), classes=["gpumem-chart"])
        self.set_source_info(result)
        if self.content:
            text = " ".join(self.content)
            inline, messages = self.state.inline_text(text, self.lineno)
            caption = nodes.caption(text, "", *inline)
            self.set_source_info(caption)
            result += caption
            result += messages
        return [result]


def visit_chart_html(translator: SphinxTranslator, node: chart) -> None:
    """Draw (or reuse) the SVG and link it."""
    builder = translator.builder
    path = write_svg(node["chart"], Path(builder.outdir, builder.imagedir))
    source = posixpath.join(builder.imgpath, path.name)
    translator.body.append(
        f'<img src="{html.escape(source)}" alt="{html.escape(node["alt"])}" class="dark-light" />'
    )
    raise nodes.SkipNode


def skip(translator: SphinxTranslator, node: chart) -> None:
    """Charts exist in HTML only."""
    raise nodes.SkipNode


def setup_chart(app: Sphinx) -> None:
    """Register ``gpumem-chart`` and its node."""
    others = {name: (skip, None) for name in ("latex", "text", "man", "texinfo")}
    app.add_node(chart, html=(visit_chart_html, None), **others)
    app.add_directive("gpumem-chart", ChartDirective)
