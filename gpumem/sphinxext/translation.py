"""The extension's own words (table headers, axis titles, units) in the page's language.

They come from the ``gpumem`` message catalog shipped in ``gpumem/locale``, never from the
documents' catalogs, so they do not appear in the documents' ``.pot`` files.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.locale import get_translation

CATALOG = "gpumem"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_ = get_translation(CATALOG)


def gettext(message: str) -> str:
    """``message`` translated into the build's language, as a plain string."""
    return str(_(message))


def setup_translation(app: Sphinx) -> None:
    """Register the ``gpumem`` catalog for the build's language."""
    app.add_message_catalog(CATALOG, str(LOCALE_DIR))
