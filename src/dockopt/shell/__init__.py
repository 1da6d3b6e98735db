"""Shell analysis of RUN bodies: ``parse_script(text) -> Script`` of simple commands.

The input is the exact text /bin/sh receives (continuations joined, or a heredoc body);
every span is a character offset into it. tree-sitter is imported on first parse only.
"""
from __future__ import annotations

from dockopt.shell.expand import command_argv, expand_fields, expand_word, static_args
from dockopt.shell.model import (
    ARITH,
    CMDSUB,
    LIT,
    OTHER,
    PARAM,
    Assignment,
    Command,
    Heredoc,
    Part,
    Redirect,
    Script,
    Span,
    Statement,
    Word,
    iter_commands,
)
from dockopt.shell.parse import parse_script

__all__ = [
    "ARITH",
    "CMDSUB",
    "LIT",
    "OTHER",
    "PARAM",
    "Assignment",
    "Command",
    "Heredoc",
    "Part",
    "Redirect",
    "Script",
    "Span",
    "Statement",
    "Word",
    "command_argv",
    "expand_fields",
    "expand_word",
    "iter_commands",
    "parse_script",
    "static_args",
]
