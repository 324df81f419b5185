"""The ``{gpumem}`` role: a value computed by the package, e.g. ``{gpumem}`count n=7e9```.

The role is pure: it computes from its text alone, so inside a translated paragraph it runs
again on the translated text and prints the number the way the page's language writes it.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxRole

from ..errors import GpumemError
from .directive import warn
from .freshness import depend_on_package
from .quantities import compute


class ValueRole(SphinxRole):
    """Replace ``quantity key=value …`` with the computed value."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        depend_on_package(self.env)
        try:
            text = compute(self.text, self.config.language or "en", self.config.gpumem_default_unit)
        except GpumemError as error:
            warn(error, f"{{gpumem}}`{self.text}`", self.get_location(), "role")
            return [nodes.literal(self.rawtext, self.text)], []
        return [nodes.Text(text)], []


def setup_role(app: Sphinx) -> None:
    """Register ``{gpumem}``."""
    app.add_role("gpumem", ValueRole())
