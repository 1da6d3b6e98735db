"""Syntax: the lossless, BuildKit-faithful Dockerfile parser.

``parse(text)`` -> ``Document`` whose ``str()`` is ``text``. See ``parser.py`` for how it
mirrors BuildKit and ``nodes.py`` for the tree.
"""
from __future__ import annotations

from dockopt.syntax.nodes import (
    Argument,
    Directive,
    Document,
    Flag,
    Heredoc,
    Instruction,
    Segment,
    SyntaxIssue,
    Trivia,
)
from dockopt.syntax.parser import parse

__all__ = [
    "Argument",
    "Directive",
    "Document",
    "Flag",
    "Heredoc",
    "Instruction",
    "Segment",
    "SyntaxIssue",
    "Trivia",
    "parse",
]
