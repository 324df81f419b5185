"""Formulas as MathML written at build time: no script, nothing fetched, readable from disk.

Select it with ``html_math_renderer = "mathml"`` after listing ``"gpumem.sphinxext.mathml"`` in
``extensions``. A formula that the converter cannot express is a build warning (an error
under ``-W``), never raw TeX on a page.
"""

from __future__ import annotations

import re

from docutils import nodes
from latex2mathml.converter import convert
from sphinx.application import Sphinx
from sphinx.locale import get_translation
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number
from sphinx.writers.html5 import HTML5Translator

logger = logging.getLogger(__name__)
#: Sphinx's own words (its catalog translates them), not the extension's.
sphinx_words = get_translation("sphinx")

#: amsmath's ``aligned`` is ``split`` outside an equation; the converter knows only the latter.
_ALIGNED = re.compile(r"\\(begin|end)\{aligned\}")
#: A one-letter ``\mathrm`` (a unit: B) comes out as a variable, in italics; ``\text`` does not.
_UPRIGHT_LETTER = re.compile(r"\\mathrm\{([A-Za-z])\}")
#: Signs that the converter passed TeX through instead of translating it.
_UNCONVERTED = re.compile(r"<mi>&</mi>|<merror|\\[A-Za-z]")


def to_mathml(tex: str, display: bool) -> str:
    """MathML of ``tex``; several lines (``\\\\``) of a display become an aligned table."""
    tex = _UPRIGHT_LETTER.sub(r"\\text{\1}", _ALIGNED.sub(r"\\\1{split}", tex.strip()))
    if display and r"\\" in tex and r"\begin{" not in tex:
        tex = r"\begin{split}" + tex + r"\end{split}"
    return convert(tex, display="block" if display else "inline")


def _write(translator: HTML5Translator, node: nodes.Element, mathml: list[str]) -> None:
    """Append ``mathml`` unless it still holds TeX, which is reported at the node instead."""
    for markup in mathml:
        if _UNCONVERTED.search(markup):
            logger.warning("formula not convertible to MathML: %s", node.astext(), location=node)
        translator.body.append(markup)


def visit_math(translator: HTML5Translator, node: nodes.math) -> None:
    """An inline formula: ``<span class="math"><math>…</math></span>``."""
    translator.body.append(translator.starttag(node, "span", "", CLASS="math notranslate"))
    _write(translator, node, [to_mathml(node.astext(), display=False)])
    translator.body.append("</span>")
    raise nodes.SkipNode


def visit_math_block(translator: HTML5Translator, node: nodes.math_block) -> None:
    """A display formula, one ``<math display="block">`` per paragraph, with its number.

    The block scrolls sideways when the formula is wider than the page, so it takes the
    keyboard's focus too (``tabindex="0"``): a reader without a mouse can scroll it."""
    translator.body.append(translator.starttag(node, "div", CLASS="math notranslate", tabindex="0"))
    if node["number"]:
        number = get_node_equation_number(translator, node)
        translator.body.append(f'<span class="eqno">({number})')
        translator.add_permalink_ref(node, sphinx_words("Link to this equation"))
        translator.body.append("</span>")
    parts = [part for part in node.astext().split("\n\n") if part.strip()]
    _write(translator, node, [to_mathml(part, display=True) for part in parts])
    translator.body.append("</div>\n")
    raise nodes.SkipNode


def setup(app: Sphinx) -> dict[str, object]:
    """Register the ``mathml`` HTML math renderer."""
    app.add_html_math_renderer("mathml", (visit_math, None), (visit_math_block, None))
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
