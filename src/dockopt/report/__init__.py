"""Reporters: turn per-file diagnostics into one of the output formats.

``render`` is the single entry point the CLI uses; each format lives in its own module so
that the machine formats (whose shapes are contracts with CI systems) can be read and
tested on their own. All formats order findings by file, line, column and code, and all
cope with codes that have no rule-book entry (hadolint's ``DL3009``, ShellCheck's
``SC2086``): they fall back to the diagnostic's own name and ``rule_url``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockopt.diagnostics import Diagnostic

if TYPE_CHECKING:
    from dockopt.rulebook import RuleDoc

__all__ = ["FORMATS", "FileReport", "render"]

FORMATS = ("text", "json", "github", "sarif", "gitlab", "checkstyle")


@dataclass
class FileReport:
    """The findings of one file, with the text they point into."""

    path: str  # as given/displayed (relative to the working directory when possible)
    text: str  # decoded file text: excerpts and offset -> line/column mapping
    diagnostics: list[Diagnostic] = field(default_factory=list)


def render(
    fmt: str,
    files: Sequence[FileReport],
    rules: Mapping[str, RuleDoc] | None = None,
    *,
    color: bool = False,
    show_source: bool = True,
    unsafe_fixes_enabled: bool = False,
    errors: Sequence[tuple[str | None, str]] = (),
) -> str:
    """Render ``files`` in format ``fmt`` (one of ``FORMATS``).

    ``color`` and ``show_source`` only affect the text format; ``unsafe_fixes_enabled``
    decides whether unsafe fixes count as fixable (text) — the machine formats always
    carry every fix with its applicability. Machine formats return well-formed output even
    when there are no findings (``[]``, an empty SARIF run, an empty ``<checkstyle>``);
    ``github`` returns an empty string.

    ``errors`` are the files that could not be checked, as (path or None, one-line message):
    SARIF reports them as ``toolExecutionNotifications`` (and ``executionSuccessful: false``),
    ``github`` as ``::error`` annotations; the other formats leave them to stderr.

    ``rules`` defaults to the rule book, read only by the format that needs more than a
    rule's name (SARIF's rule descriptors): the other formats take names from the
    diagnostics, which carry the rule class's name (tests/test_rulebook.py checks it equals
    the rule book's), so ``dockopt check`` does not parse rules/*.toml to print findings.
    """
    if rules is None:
        if fmt == "sarif":
            from dockopt.rulebook import load_rulebook

            rules = load_rulebook()
        else:
            rules = {}
    # Imports are local so that `dockopt check` only loads the reporter it uses.
    if fmt == "text":
        from dockopt.report import text

        return text.render(files, rules, color=color, show_source=show_source,
                           unsafe_fixes_enabled=unsafe_fixes_enabled)
    if fmt == "json":
        from dockopt.report import json_format

        return json_format.render(files)
    if fmt == "github":
        from dockopt.report import github

        return github.render(files, rules, errors)
    if fmt == "sarif":
        from dockopt.report import sarif

        return sarif.render(files, rules, errors)
    if fmt == "gitlab":
        from dockopt.report import gitlab

        return gitlab.render(files, rules)
    if fmt == "checkstyle":
        from dockopt.report import checkstyle

        return checkstyle.render(files, rules)
    raise ValueError(f"unknown output format {fmt!r} (expected one of {', '.join(FORMATS)})")
