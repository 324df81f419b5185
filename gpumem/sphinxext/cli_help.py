"""The ``gpumem-cli`` directive: the command line's ``--help``, printed from the real parser.

``gpumem-cli`` shows ``gpumem --help``; ``gpumem-cli estimate`` shows ``gpumem estimate --help``.
The text comes from :func:`gpumem.cli.help_text` at a fixed width (``:width:``, default 100
columns), so the page cannot drift from the command and two builds give the same bytes. The
blocks are ``translatable=False``: the command's own catalog gives the page's language, as a
terminal with that locale would show it, whatever the locale of the build.
"""

from __future__ import annotations

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx

from ..cli import help_text
from ..i18n import LANGUAGES
from .directive import GpumemDirective

WIDTH = 100


class CliHelpDirective(GpumemDirective):
    """``gpumem-cli [COMMAND]`` with an optional ``:width:`` in columns."""

    optional_arguments = 1
    option_spec = {"width": directives.positive_int}

    def render(self) -> list[nodes.Node]:
        command = self.arguments[0] if self.arguments else None
        language = self.config.language if self.config.language in LANGUAGES else "en"
        text = help_text(command, language, self.options.get("width", WIDTH))
        block = nodes.literal_block(text, text, language="text", translatable=False)
        block["classes"].append("gpumem-cli")
        return [block]


def setup_cli_help(app: Sphinx) -> None:
    """Register ``gpumem-cli``."""
    app.add_directive("gpumem-cli", CliHelpDirective)
