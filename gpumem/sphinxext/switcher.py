"""Context for the language switcher template: the site's languages and the page's own."""

from __future__ import annotations

from sphinx.application import Sphinx

from .translation import gettext as _


def add_languages(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object
) -> None:
    """Give templates ``gpumem_languages`` (code, name pairs) and ``gpumem_languages_label``."""
    context["gpumem_languages"] = list(app.config.gpumem_languages.items())
    context["gpumem_languages_label"] = _("Languages")


def setup_switcher(app: Sphinx) -> None:
    """Fill the template context of every HTML page."""
    app.connect("html-page-context", add_languages)
