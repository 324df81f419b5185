"""The API reference: autodoc output kept out of the catalogs, and its references resolved.

Docstrings are written in English and change with the code; autodoc turns them into ``desc``
nodes (a signature plus its content). A transform marks every text element inside them
``translatable=False`` before the i18n transform runs, so the gettext builder extracts none of
them and a translated page shows them in English. The prose around them on the page is
translated as usual.

Docstrings name classes the way their module sees them (``:class:`Workload``` in
``gpumem.estimate``); such a name that resolves nowhere else is looked up as the one
documented object whose dotted name ends in it.
"""

from __future__ import annotations

from docutils import nodes
from docutils.nodes import Element
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.transforms import SphinxTransform

from .._record import Factory, Record


class UntranslatedDescriptions(SphinxTransform):
    """Mark the text of object descriptions ``translatable=False``."""

    default_priority = 10  # before sphinx.transforms.i18n.Locale (20)

    def apply(self, **kwargs: object) -> None:
        for desc in self.document.findall(addnodes.desc):
            for node in desc.findall(nodes.TextElement):
                # Inlines are extracted only when marked (the field lists of docstrings mark
                # theirs); marking an unmarked one would make Sphinx unwrap it.
                if not isinstance(node, nodes.Inline) or "translatable" in node:
                    node["translatable"] = False


class PlainProperties:
    """Keep napoleon away from property docstrings.

    Napoleon reads the first line of a property's docstring as ``type: description``, which
    turns ``Memory left over (negative: missing).`` into a type; the type comes from the
    annotation anyway. The docstring is saved before napoleon runs (priority 500) and put back
    after it.
    """

    def __init__(self) -> None:
        self.saved: dict[int, list[str]] = {}

    def save(
        self, app: Sphinx, what: str, name: str, obj: object, options: object, lines: list[str]
    ) -> None:
        if what == "property":
            self.saved[id(lines)] = list(lines)

    def restore(
        self, app: Sphinx, what: str, name: str, obj: object, options: object, lines: list[str]
    ) -> None:
        if id(lines) in self.saved:
            lines[:] = self.saved.pop(id(lines))


def record_signature(
    app: Sphinx,
    what: str,
    name: str,
    obj: object,
    options: object,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str, str | None] | None:
    """The signature of a record class (``gpumem._record.Record``), from its fields.

    Records build ``__init__`` at run time without annotations, with a private marker as the
    default of fields made by a factory; show the fields' annotations, and a factory as the
    call that makes the default (``extra: dict[str, object] = dict()``).
    """
    if what not in {"class", "exception"} or not isinstance(obj, type):
        return None
    init = obj.__dict__.get("__init__")
    if not issubclass(obj, Record) or getattr(init, "__code__", None) is None:
        return None
    if init.__code__.co_filename != "<string>":  # a hand-written __init__ has a signature
        return None
    annotations: dict[str, str] = {}
    defaults: dict[str, object] = {}
    for cls in reversed(obj.__mro__):
        annotations.update(cls.__dict__.get("__annotations__", {}))
        defaults.update({k: v for k, v in vars(cls).items() if k in obj._fields})
    params = []
    for field in obj._fields:
        text = field
        if field in annotations:
            text += f": {annotations[field]}"
        if field in defaults:
            default = defaults[field]
            if isinstance(default, Factory):  # a call, made afresh for each record
                shown = f"{getattr(default.make, '__name__', 'factory')}()"
            else:
                shown = repr(default)
            text += f" = {shown}" if field in annotations else f"={shown}"
        params.append(text)
    text = f"({', '.join(params)})"
    return text, return_annotation


def resolve_short_name(
    app: Sphinx, env: BuildEnvironment, node: addnodes.pending_xref, contnode: Element
) -> Element | None:
    """Resolve ``Workload`` to ``gpumem.workload.Workload`` when exactly one object matches."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or node.get("refspecific") or not target.isidentifier():
        return None
    matches = [
        full
        for full in env.get_domain("py").objects
        if full.startswith("gpumem.") and full.endswith(f".{target}")
    ]
    if len(matches) != 1:
        return None
    retry = node.deepcopy()
    retry["reftarget"] = matches[0]
    domain = env.get_domain("py")
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], matches[0], retry, contnode
    )


def setup_apidoc(app: Sphinx) -> None:
    """Register the transform and the two event handlers."""
    app.add_transform(UntranslatedDescriptions)
    app.connect("missing-reference", resolve_short_name)
    app.connect("builder-inited", connect_to_autodoc)


def connect_to_autodoc(app: Sphinx) -> None:
    """Hook into autodoc if the project loads it (known once every extension is set up);
    before napoleon (priority 500) reads the docstring."""
    if "autodoc-process-signature" in app.events.events:
        app.connect("autodoc-process-signature", record_signature)
    if "autodoc-process-docstring" in app.events.events:
        plain = PlainProperties()
        app.connect("autodoc-process-docstring", plain.save, priority=400)
        app.connect("autodoc-process-docstring", plain.restore, priority=600)
