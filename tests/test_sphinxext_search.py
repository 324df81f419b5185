"""Chinese search: the stemmer that Sphinx's language_data.js names must exist in the page."""

from __future__ import annotations

from pathlib import Path

import pytest

sphinx_search = pytest.importorskip("sphinx.search")

from gpumem.sphinxext.search import stemmer_shim  # noqa: E402


def test_english_needs_no_shim() -> None:
    assert stemmer_shim("en") is None


def test_chinese_gets_the_stemmer_its_language_data_names_when_missing() -> None:
    code = (Path(sphinx_search.__file__).parent / "minified-js" / "english-stemmer.js").read_text()
    shim = stemmer_shim("zh_CN")
    if "ChineseStemmer" in code:  # a Sphinx that defines it (sphinx-doc/sphinx#14229 fixed)
        assert shim is None
    else:  # Sphinx 9.0.4: window.Stemmer = ChineseStemmer, and only EnglishStemmer defined
        assert shim == (
            "window.ChineseStemmer = window.ChineseStemmer"
            " || function () { return new EnglishStemmer(); };"
        )
