"""Sphinx configuration of the gpumem site: English source, Simplified Chinese from catalogs.

Build one language per process (``nox -s docs``): translations are process-global.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.locale import _

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

project = "gpumem"
author = "gpumem contributors"
copyright = author  # translated per language below
release = version = "0.1"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx_copybutton",
    "sphinx_sitemap",
    "sphinxext.opengraph",
    "gpumem.sphinxext",
    "gpumem.sphinxext.mathml",
]

# Sources live in docs/ and this file at the repository root: sphinx-build -c . docs OUT.
# templates_path and html_static_path are relative to this file, the others to docs/.
templates_path = ["docs/_templates"]
html_static_path = ["docs/_static"]
exclude_patterns = ["locale", "_templates", "_static", "_root", "jieba.txt", "CONTRIBUTING.md"]
source_suffix = {".md": "myst-nb"}

# --- languages -------------------------------------------------------------------------------
language = "en"
locale_dirs = ["locale"]  # relative to docs/
gettext_compact = False
gettext_uuid = False
gettext_location = False  # MyST-NB reports made-up line numbers
gettext_additional_targets: list[str] = []  # keep cell outputs out of the catalogs
gpumem_languages = {"en": "English", "zh_CN": "简体中文"}
gpumem_site_url = "https://gpumem.readthedocs.io/"  # each language lives under <site>/<code>/

# --- MyST and notebooks ----------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "cache"
nb_execution_raise_on_error = True
nb_execution_timeout = 120
nitpicky = True

# --- API reference (docs/reference/api.md): numpydoc docstrings, no intersphinx offline ---------
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
napoleon_google_docstring = False
napoleon_use_rtype = False
nitpick_ignore_regex = [
    ("py:(class|exc|obj|data)", r"(collections\.abc|typing|os|fractions|numbers)\..*"),
    ("py:(class|exc|obj|data)", r"(numpy|np|sympy|sp)(\..*)?"),
    ("py:(class|exc|obj|data)", r"(int|float|str|bool|bytes|dict|list|tuple|set|object|None)"),
    ("py:(class|exc|obj|data)", r"(ValueError|LookupError|KeyError|AttributeError|Fraction)"),
]
gpumem_examples_cache = str(ROOT / "_build" / "examples_cache")  # shared by both languages

# --- HTML ------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "gpumem"
html_favicon = "docs/_static/favicon.svg"
html_css_files = ["gpumem.css"]
html_js_files = ["gpumem.js"]
html_math_renderer = "mathml"  # formulas written as MathML at build time: no script, no CDN
html_show_sourcelink = True
html_sidebars = {"**": []}  # every page is in the top bar: no empty "Section Navigation"
html_context = {"default_mode": "auto"}  # the theme's colour mode before a reader picks one
html_theme_options = {
    "navbar_end": ["language-switcher", "theme-switcher", "navbar-icon-links"],
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "show_toc_level": 2,
    "header_links_before_dropdown": 3,  # long page titles: more would wrap the top bar
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_search_options = {"dict": str(ROOT / "docs" / "jieba.txt")}  # words jieba would split

sitemap_url_scheme = "{lang}{link}"
sitemap_locales = list(gpumem_languages)
ogp_site_name = "gpumem"
ogp_enable_meta_description = True
ogp_social_cards = {"enable": False}  # its cards draw Chinese titles as boxes


def per_language(app: Sphinx, config: Config) -> None:
    """Settings that depend on the language, which ``-D language=…`` sets after this file runs."""
    language = config.language or "en"
    config.site_url = config.gpumem_site_url  # sphinx-sitemap adds <code>/ itself
    config.html_baseurl = f"{config.gpumem_site_url}{language}/"  # canonical links
    config.ogp_site_url = config.html_baseurl
    # Words the theme takes from its options, not its catalog: translated by docs/locale's
    # sphinx.po, which the theme's own templates read too.
    config.copyright = str(_(config.author))
    config.html_theme_options = {
        **config.html_theme_options,
        "header_dropdown_text": str(_("More")),
        "search_bar_text": str(_("Search the docs ...")),
    }
    if not config.nb_execution_cache_path:  # MyST-NB keys its cache on code only
        config.nb_execution_cache_path = str(ROOT / "_build" / "jupyter_cache" / language)


def setup(app: Sphinx) -> None:
    """Derive the per-language settings once the language is known."""
    app.connect("config-inited", per_language)
