"""Chinese search: jieba must be there, quietly, and the search page's stemmer must exist.

Without jieba Sphinx indexes nothing of a Chinese page, silently. Sphinx 9.0.4's
``language_data.js`` for Chinese ends with ``window.Stemmer = ChineseStemmer`` but defines only
``EnglishStemmer`` (sphinx-doc/sphinx#14229), so every Chinese page throws and search never
answers; a release that defines the stemmer it names gets no shim.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import re
from pathlib import Path

import sphinx.search
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError


def _warnings_only(record: logging.LogRecord) -> bool:
    """Whether a log record is a warning or worse."""
    return record.levelno >= logging.WARNING


def require_jieba(app: Sphinx, config: Config) -> None:
    """Fail a Chinese build when jieba cannot be imported; keep its progress messages (it
    logs them at debug level, to stderr, on import) out of the build's output."""
    if not (config.language or "").startswith("zh"):
        return
    if importlib.util.find_spec("jieba") is None:
        raise ExtensionError("jieba is not installed: the Chinese search index would be empty")
    jieba_log = logging.getLogger("jieba")
    if _warnings_only not in jieba_log.filters:
        jieba_log.addFilter(_warnings_only)


def _search_language(language: str) -> type | None:
    """Sphinx's search language class for ``language`` (``zh_CN`` falls back to ``zh``)."""
    entry = sphinx.search.languages.get(language) or sphinx.search.languages.get(language[:2])
    if isinstance(entry, str):
        module, _, name = entry.rpartition(".")
        entry = getattr(importlib.import_module(module), name)
    return entry


def stemmer_shim(language: str) -> str | None:
    """JavaScript defining the stemmer that ``language_data.js`` names but lacks, or None.

    The stand-in constructs the stemmer that the file does define, when the search runs.
    """
    search_language = _search_language(language)
    rawcode = getattr(search_language, "js_stemmer_rawcode", "")
    if not rawcode:
        return None
    code = (Path(sphinx.search.__file__).parent / "minified-js" / rawcode).read_text("utf-8")
    named = f"{search_language.language_name}Stemmer"
    defined = re.search(r"\bvar\s+(\w+Stemmer)\s*=", code)
    if re.search(rf"\b{named}\s*=", code) or defined is None:
        return None
    return f"window.{named} = window.{named} || function () {{ return new {defined[1]}(); }};"


def add_stemmer_shim(app: Sphinx, config: Config) -> None:
    """Load the stand-in stemmer before ``language_data.js`` when this Sphinx needs one."""
    shim = stemmer_shim(config.language or "en")
    if shim is not None:
        app.add_js_file(None, body=shim)


def setup_search(app: Sphinx) -> None:
    """Check for jieba and add the stemmer as soon as the configuration is known."""
    app.connect("config-inited", require_jieba)
    app.connect("config-inited", add_stemmer_shim)
