"""The ``gpumem-cli`` directive: the command line's ``--help``, printed from the real parser.

``gpumem-cli`` shows ``gpumem --help``; ``gpumem-cli estimate`` shows ``gpumem estimate --help``.
The text comes from :func:`gpumem.cli.build_parser` at a fixed width (``:width:``, default 100
columns), so the page cannot drift from the command and two builds give the same bytes. The
blocks are ``translatable=False``: the command's own catalog gives the page's language, as a
terminal with that locale would show it, whatever the locale of the build.
"""

from __future__ import annotations

import argparse
import functools

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx

from ..cli import _argparse_speaks, build_parser
from ..errors import UnknownNameError
from ..i18n import LANGUAGES, use_language
from .directive import GpumemDirective

WIDTH = 100


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parsers of ``parser``'s subcommands, by name, in the order ``--help`` lists them."""
    for action in parser._actions:  # argparse keeps no public list of its subparsers
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def help_text(command: str | None = None, width: int = WIDTH, language: str = "en") -> str:
    """``gpumem [COMMAND] --help`` as printed in a terminal ``width`` columns wide, in
    ``language`` (``en`` or ``zh_CN``)."""
    previous = use_language(language if language in LANGUAGES else "en")
    argparse_gettext = _argparse_speaks()
    try:
        parser = build_parser()
        if command is not None:
            commands = subcommands(parser)
            if command not in commands:
                raise UnknownNameError("command", command, commands)
            parser = commands[command]
        # The parser asks the terminal for its width; a page needs the same width everywhere.
        # argparse calls formatter_class(prog=...); a later width= overrides an earlier one.
        parser.formatter_class = functools.partial(parser.formatter_class, width=width - 2)
        return parser.format_help().rstrip() + "\n"
    finally:
        _argparse_speaks(argparse_gettext)
        use_language(previous)


class CliHelpDirective(GpumemDirective):
    """``gpumem-cli [COMMAND]`` with an optional ``:width:`` in columns."""

    optional_arguments = 1
    option_spec = {"width": directives.positive_int}

    def render(self) -> list[nodes.Node]:
        command = self.arguments[0] if self.arguments else None
        language = self.config.language or "en"
        text = help_text(command, self.options.get("width", WIDTH), language)
        block = nodes.literal_block(text, text, language="text", translatable=False)
        block["classes"].append("gpumem-cli")
        return [block]


def setup_cli_help(app: Sphinx) -> None:
    """Register ``gpumem-cli``."""
    app.add_directive("gpumem-cli", CliHelpDirective)
