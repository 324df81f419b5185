"""Directive options shared by the gpumem directives, and how a directive reports a bad value."""

from __future__ import annotations

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from ..errors import GpumemError, InvalidValueError

logger = logging.getLogger(__name__)


def words(text: str | None) -> list[str]:
    """``"fp32, bf16 int4"`` → ``["fp32", "bf16", "int4"]``."""
    return (text or "").replace(",", " ").split()


def assignments(text: str | None) -> dict[str, str]:
    """``"P=7e9 b_w=2"`` → ``{"P": "7e9", "b_w": "2"}``."""
    pairs: dict[str, str] = {}
    for word in words(text):
        key, _, value = word.partition("=")
        if not key or not value or key in pairs:
            raise InvalidValueError("option", word, "key=value pairs, each key once")
        pairs[key] = value
    return pairs


def report(directive: SphinxDirective, error: GpumemError) -> list[nodes.Node]:
    """Warn about ``error`` at the directive's location; the directive then renders nothing."""
    hint = f" ({error.hint})" if error.hint else ""
    logger.warning(
        "%s: %s%s",
        directive.name,
        error.message,
        hint,
        location=directive.get_location(),
        type="gpumem",
        subtype="directive",
    )
    return []
