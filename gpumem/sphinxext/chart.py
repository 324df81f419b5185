"""The ``gpumem-chart`` directive: an SVG chart computed by the package.

The directive stores the finished chart (labels already in the page's language) in a node;
the HTML writer draws it into ``_images`` under a name that hashes its content, or reuses the
file when it is there. The alternative text is set only there, so it never enters a catalog.
Other builders (text, LaTeX, manual pages) show that description as a paragraph instead.
"""

from __future__ import annotations

import html
import posixpath
from collections.abc import Callable
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxTranslator

from ..plotting import Chart, write_svg
from . import accuracy, chart_kinds
from .directive import KindDirective
from .selection import Selection

CHARTS: dict[str, Callable[[Selection, str], tuple[Chart, str]]] = {
    **chart_kinds.CHARTS,
    **accuracy.CHARTS,
}


class chart(nodes.General, nodes.Element):  # noqa: N801 (docutils names nodes in lower case)
    """A chart to draw: ``node["chart"]`` is a chart of :mod:`gpumem.plotting`, ``node["alt"]``
    describes it."""


class ChartDirective(KindDirective):
    """``gpumem-chart <kind>`` with the options of :class:`Selection`.

    The directive's content, if any, is the figure's caption.
    """

    what = "chart"
    kinds = CHARTS
    has_content = True

    def render(self) -> list[nodes.Node]:
        figure, alt = self.computed()
        result = nodes.figure("", chart(chart=figure, alt=alt), classes=["gpumem-chart"])
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


class ChartAsText(SphinxPostTransform):
    """Outside HTML a chart is its description, a paragraph kept out of the catalogs."""

    default_priority = 200
    formats = ("text", "latex", "man", "texinfo")

    def run(self, **kwargs: object) -> None:
        for node in list(self.document.findall(chart)):
            text = node["alt"]
            node.replace_self(nodes.paragraph(text, text, translatable=False))


def setup_chart(app: Sphinx) -> None:
    """Register ``gpumem-chart``, its node and its text form."""
    app.add_node(chart, html=(visit_chart_html, None))
    app.add_directive("gpumem-chart", ChartDirective)
    app.add_post_transform(ChartAsText)
