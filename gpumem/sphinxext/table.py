"""The ``gpumem-table`` directive: a table computed by the package, labelled in the page's language.

Cells are ``translatable=False`` paragraphs, so no number or label enters the documents'
message catalogs. A table with no row is left out.
"""

from __future__ import annotations

from collections.abc import Callable

from docutils import nodes
from sphinx.application import Sphinx

from . import accuracy, local, serving, table_kinds
from .directive import KindDirective, table_node
from .selection import Selection, Table

TABLES: dict[str, Callable[[Selection, str], Table]] = {
    **table_kinds.TABLES,
    **accuracy.TABLES,
    **serving.TABLES,
    **local.TABLES,
}


class TableDirective(KindDirective):
    """``gpumem-table <kind>`` with the options of :class:`Selection`."""

    what = "table"
    kinds = TABLES

    def render(self) -> list[nodes.Node]:
        title, header, rows = self.computed()
        if not rows:  # nothing selected (no known miss left): no table, not an empty one
            return []
        table = table_node(title, header, rows, "gpumem-table")
        table["classes"].append(f"gpumem-{self.arguments[0]}")  # the kind, for its CSS
        return [table]


def setup_table(app: Sphinx) -> None:
    """Register ``gpumem-table``."""
    app.add_directive("gpumem-table", TableDirective)
