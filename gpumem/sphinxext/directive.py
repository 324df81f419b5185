"""The base of the gpumem directives, and the table node they build.

A directive states its options in ``option_spec`` with converters from
:mod:`gpumem.sphinxext.options` and implements :meth:`GpumemDirective.render`. The base class
notes that the page depends on the package, reports a
:class:`~gpumem.errors.GpumemError` (raised by a converter or by ``render``) as a
``gpumem.directive`` warning at the directive, and gives the nodes their source location.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from ..errors import GpumemError, UnknownNameError
from .freshness import depend_on_package
from .selection import OPTION_SPEC, Selection

logger = logging.getLogger(__name__)


class _Invalid(NamedTuple):
    """An option whose converter refused its text: reported when the directive runs."""

    error: GpumemError


def _keeping_errors(convert: Callable[[str | None], object]) -> Callable[[str | None], object]:
    """``convert``, with a :class:`GpumemError` kept as the option's value rather than raised
    (docutils would report it as an error of the markup, without the gpumem warning type)."""

    def converted(text: str | None) -> object:
        try:
            return convert(text)
        except GpumemError as error:
            return _Invalid(error)

    return converted


class GpumemDirective(SphinxDirective):
    """A directive computed by the package: subclasses implement :meth:`render`."""

    option_spec: ClassVar[dict[str, Callable[[str | None], object]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.option_spec = {key: _keeping_errors(c) for key, c in cls.option_spec.items()}

    def render(self) -> list[nodes.Node]:
        """The directive's nodes (:attr:`options` are converted values)."""
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        depend_on_package(self.env)
        try:
            for value in self.options.values():
                if isinstance(value, _Invalid):
                    raise value.error
            result = self.render()
        except GpumemError as error:
            warn(error, self.name, self.get_location(), "directive")
            return []  # the directive renders nothing
        for node in result:
            self.set_source_info(node)
        return result


class KindDirective(GpumemDirective):
    """A directive whose argument names a kind (a table, a chart) of :attr:`kinds`, computed
    from the options of :class:`~gpumem.sphinxext.selection.Selection`."""

    required_arguments = 1
    option_spec = OPTION_SPEC
    #: What a kind is called in an error ("table", "chart").
    what: ClassVar[str]
    kinds: ClassVar[dict[str, Callable[[Selection, str], Any]]]

    def computed(self) -> Any:
        """What the kind named by the argument computes for the options, in the page's language."""
        kind = self.arguments[0]
        if kind not in self.kinds:
            raise UnknownNameError(self.what, kind, self.kinds)
        selection = Selection.from_options(self.options, self.config.gpumem_default_unit)
        return self.kinds[kind](selection, self.config.language or "en")


def warn(error: GpumemError, source: str, location: str, subtype: str) -> None:
    """A ``gpumem.<subtype>`` warning about ``error`` in ``source`` (a directive's name, a
    role's text) at ``location``."""
    hint = f" ({error.hint})" if error.hint else ""
    logger.warning(
        "%s: %s%s", source, error.message, hint, location=location, type="gpumem", subtype=subtype
    )


Cell = str | list[str]  # a list: one paragraph per item


def plain(text: str) -> list[nodes.Node]:
    """A cell's text as it is."""
    return [nodes.Text(text)] if text else []


def table_node(
    title: str,
    header: list[str],
    rows: list[list[Cell]],
    css_class: str,
    inline: Callable[[str], list[nodes.Node]] = plain,
) -> nodes.table:
    """A docutils table whose texts stay out of the message catalogs; ``inline`` turns a
    cell's text into inline nodes."""

    def entry(value: Cell) -> nodes.entry:
        items = value if isinstance(value, list) else [value]
        paragraphs = (
            nodes.paragraph(item, "", *inline(item), translatable=False) for item in items
        )
        return nodes.entry("", *paragraphs)

    def row(cells: list[Cell]) -> nodes.row:
        return nodes.row("", *(entry(c) for c in cells))

    group = nodes.tgroup(cols=len(header))
    group += [nodes.colspec(colwidth=1) for _ in header]
    group += nodes.thead("", row(list(header)))
    group += nodes.tbody("", *(row(cells) for cells in rows))
    return nodes.table(
        "", nodes.title(title, title, translatable=False), group, classes=[css_class]
    )
