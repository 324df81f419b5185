"""The ``gpumem-table`` directive: a table computed by the package, labelled in the page's language.

Cells are ``translatable=False`` paragraphs, so no number or label enters the documents'
message catalogs.
"""

from __future__ import annotations

from collections.abc import Callable

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from ..errors import GpumemError, UnknownNameError
from ..units import to_unit
from .accuracy import TABLE_KINDS as ACCURACY_TABLES
from .formatting import format_amount, format_count, significant
from .freshness import depend_on_package
from .options import report
from .selection import OPTION_SPEC, Selection, dtype_label
from .table_kinds import KINDS, Table
from .translation import gettext as _


def weights_table(selection: Selection, language: str) -> Table:
    """Memory of the weights: one row per parameter count, one column per precision."""
    from ..precision import weight_bytes

    header = [_("Parameters"), *(dtype_label(group) for group in selection.dtypes)]
    rows = [
        [format_count(params, language)]
        + [
            format_amount(to_unit(weight_bytes(params, group[0]), selection.unit))
            for group in selection.dtypes
        ]
        for params in selection.params
    ]
    return _("Memory of the weights ({unit})").format(unit=selection.unit), header, rows


def formats_table(selection: Selection, language: str) -> Table:
    """Storage cost of each precision: kind, bits and bytes per value."""
    from ..precision import get_format

    kinds = {
        "float": _("floating point"),
        "int": _("integer"),
        "block-scaled": _("block-scaled"),
        "gguf": _("GGUF mix"),
    }
    header = [_("Format"), _("Kind"), _("Bits per value"), _("Bytes per value")]
    rows = []
    for group in selection.dtypes:
        fmt = get_format(group[0])
        rows.append(
            [
                dtype_label(group),
                kinds[fmt.kind],
                significant(float(fmt.bits), 4),
                significant(float(fmt.bytes_per_param), 4),
            ]
        )
    return _("Storage cost of number formats"), header, rows


TABLES: dict[str, Callable[[Selection, str], Table]] = {
    "weights": weights_table,
    "formats": formats_table,
    **KINDS,
    **ACCURACY_TABLES,
}


def table_node(title: str, header: list[str], rows: list[list[str]]) -> nodes.table:
    """A docutils table whose texts stay out of the message catalogs."""

    def row(cells: list[str]) -> nodes.row:
        return nodes.row(
            "", *(nodes.entry("", nodes.paragraph(c, c, translatable=False)) for c in cells)
        )

    group = nodes.tgroup(cols=len(header))
    group += [nodes.colspec(colwidth=1) for _ in header]
    group += nodes.thead("", row(header))
    group += nodes.tbody("", *(row(cells) for cells in rows))
    return nodes.table(
        "", nodes.title(title, title, translatable=False), group, classes=["gpumem-table"]
    )


class TableDirective(SphinxDirective):
    """``gpumem-table <kind>`` with the options of :class:`Selection`."""

    required_arguments = 1
    option_spec = OPTION_SPEC

    def run(self) -> list[nodes.Node]:
        depend_on_package(self.env)
        kind = self.arguments[0]
        try:
            if kind not in TABLES:
                raise UnknownNameError("table", kind, TABLES)
            selection = Selection.from_options(self.options, self.config.gpumem_default_unit)
            title, header, rows = TABLES[kind](selection, self.config.language or "en")
        except GpumemError as error:
            return report(self, error)
        node = table_node(title, header, rows)
        self.set_source_info(node)
        return [node]


def setup_table(app: Sphinx) -> None:
    """Register ``gpumem-table``."""
    app.add_directive("gpumem-table", TableDirective)
