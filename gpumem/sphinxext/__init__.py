"""Sphinx extension: values, formulas, tables and charts computed by gpumem at build time.

Add ``"gpumem.sphinxext"`` to ``extensions``. Each module below registers one thing.
"""

from __future__ import annotations

from sphinx.application import Sphinx

from .apidoc import setup_apidoc
from .calculator import setup_calculator
from .chart import setup_chart
from .cli_help import setup_cli_help
from .config import setup_config
from .example import setup_example
from .formula import setup_formula
from .role import setup_role
from .search import setup_search
from .sources import setup_sources
from .switcher import setup_switcher
from .table import setup_table
from .translation import setup_translation


def setup(app: Sphinx) -> dict[str, object]:
    """Register the extension's parts."""
    for setup_part in (
        setup_config,
        setup_translation,
        setup_search,
        setup_switcher,
        setup_role,
        setup_formula,
        setup_table,
        setup_chart,
        setup_cli_help,
        setup_sources,
        setup_example,
        setup_apidoc,
        setup_calculator,
    ):
        setup_part(app)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
