"""Chinese search needs jieba: without it Sphinx indexes nothing of a Chinese page, silently."""

from __future__ import annotations

import importlib.util

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError


def require_jieba(app: Sphinx, config: Config) -> None:
    """Fail a Chinese build when jieba cannot be imported."""
    if (config.language or "").startswith("zh") and importlib.util.find_spec("jieba") is None:
        raise ExtensionError("jieba is not installed: the Chinese search index would be empty")


def setup_search(app: Sphinx) -> None:
    """Check for jieba as soon as the configuration is known."""
    app.connect("config-inited", require_jieba)
