"""The ``gpumem-table`` directive: a table computed by the package, labelled in the page's language.

Cells are ``translatable=False`` paragraphs, so no number or label enters the documents'
message catalogs.
"""

from __future__ import annotations

from collections.abc import Callable

from docutils import nodes
from sphinx.application import Sphinx

from ..errors import UnknownNameError
from . import accuracy, table_kinds
from .directive import GpumemDirective, table_node
from .selection import OPTION_SPEC, Selection, Table

TABLES: dict[str, Callable[[Selection, str], Table]] = {**table_kinds.TABLES, **accuracy.TABLES}


class TableDirective(GpumemDirective):
    """``gpumem-table <kind>`` with the options of :class:`Selection`."""

    required_arguments = 1
    option_spec = OPTION_SPEC

    def render(self) -> list[nodes.Node]:
        kind = self.arguments[0]
        if kind not in TABLES:
            raise UnknownNameError("table", kind, TABLES)
        selection = Selection.from_options(self.options, self.config.gpumem_default_unit)
        title, header, rows = TABLES[kind](selection, self.config.language or "en")
        return [table_node(title, header, rows, "gpumem-table")]


def setup_table(app: Sphinx) -> None:
    """Register ``gpumem-table``."""
    app.add_directive("gpumem-table", TableDirective)
