"""``--format text`` (the default): ruff-like findings for people at a terminal.

    Dockerfile:4:5: DO101 [*] warning: `rm -rf /var/lib/apt/lists/*` in a later RUN frees nothing
      |
    4 | RUN rm -rf /var/lib/apt/lists/*
      |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^
      |
      = help: Move the cleanup into the RUN that created the files

The severity follows the code (and the marker): colour is not the only carrier. The
summary counts findings by severity (``Found 4 findings: 1 error, 3 warnings.``).

Markers after the code:

* ``[*]`` — ``dockopt fix`` (as configured) applies the fix: a safe fix, or an unsafe fix
  when unsafe fixes are enabled.
* ``[-]`` — an unsafe fix exists but is hidden: it needs ``dockopt fix --unsafe-fixes``
  (or ``unsafe-fixes = true`` in the configuration, which makes it ``[*]``). (ruff prints
  nothing here; a marker tells the user a fix exists at all.)
* no marker — no fix, or only a suggestion (its ``help:`` is still shown; never applied).

``show_source=False`` prints one line per finding (no excerpt, no help), like ruff's
concise output, so ``grep`` and editors' error parsers see exactly one line each; message
continuation lines are indented so they never look like a new finding.

Excerpts expand tabs to tab stops of ``TAB_WIDTH`` and count East Asian wide characters as
two columns, so carets line up under what the terminal shows; control characters are shown
as control pictures (a Dockerfile must not be able to send escape sequences to the
terminal). CRLF files show no stray ``\\r``: ``LineIndex.line_text`` drops it.
"""
from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockopt.diagnostics import Severity
from dockopt.report._common import Finding, findings, fix_state, rule_name, sanitize_terminal
from dockopt.text import LineIndex, Location

if TYPE_CHECKING:
    from dockopt.report import FileReport
    from dockopt.rulebook import RuleDoc

__all__ = ["MAX_EXCERPT_LINES", "TAB_WIDTH", "RenderedFile", "TextOptions", "combine", "render", "render_file"]

TAB_WIDTH = 4
# Longer spans show their first MAX_EXCERPT_LINES - 1 lines and an ellipsis: a finding on a
# 40-line RUN must not push every other finding off the screen.
MAX_EXCERPT_LINES = 6

_MARKERS = {"applicable": " [*]", "hidden": " [-]"}
_RESET = "\x1b[0m"
_SEVERITY_STYLE = {Severity.ERROR: "\x1b[1;31m", Severity.WARNING: "\x1b[1;33m", Severity.INFO: "\x1b[1;34m"}
_BOLD, _CYAN, _RED, _GREEN = "\x1b[1m", "\x1b[36m", "\x1b[31m", "\x1b[1;32m"


class _Style:
    """ANSI styling, or none: the CLI decides (a TTY and no NO_COLOR)."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.color and text else text


@dataclass(frozen=True, slots=True)
class TextOptions:
    color: bool = False
    show_source: bool = True
    unsafe_fixes_enabled: bool = False
    quiet: bool = False


@dataclass(slots=True)
class RenderedFile:
    """One file's part of the report, rendered where the file was linted (a ``--jobs``
    worker renders in parallel, and the main process keeps no file texts): its blocks and
    the counts the summary needs."""

    path: str
    blocks: list[str] = field(default_factory=list)
    per_rule: Counter[str] = field(default_factory=Counter)
    names: dict[str, str] = field(default_factory=dict)
    fixable: int = 0
    hidden: int = 0
    per_severity: Counter[str] = field(default_factory=Counter)


def render(
    files: Sequence[FileReport],
    rules: Mapping[str, RuleDoc],
    *,
    color: bool = False,
    show_source: bool = True,
    unsafe_fixes_enabled: bool = False,
) -> str:
    options = TextOptions(color, show_source, unsafe_fixes_enabled)
    return combine([render_file(report, rules, options) for report in files], options)


def render_file(report: FileReport, rules: Mapping[str, RuleDoc], options: TextOptions) -> RenderedFile:
    style = _Style(options.color)
    part = RenderedFile(report.path)
    for finding in findings([report]):
        diag = finding.diagnostic
        state = fix_state(diag, options.unsafe_fixes_enabled)
        part.fixable += state == "applicable"
        part.hidden += state == "hidden"
        part.per_rule[diag.code] += 1
        part.per_severity[diag.severity.label] += 1
        part.names.setdefault(diag.code, rule_name(diag, rules))
        part.blocks.append(_block(finding, state, style, options.show_source))
    return part


def combine(parts: Sequence[RenderedFile], options: TextOptions) -> str:
    """The whole report from per-file parts, in path order (as :func:`findings` sorts)."""
    style = _Style(options.color)
    blocks: list[str] = []
    per_rule: Counter[str] = Counter()
    per_severity: Counter[str] = Counter()
    names: dict[str, str] = {}
    fixable = hidden = 0
    for part in sorted(parts, key=lambda p: p.path):
        blocks += part.blocks
        per_rule.update(part.per_rule)
        per_severity.update(part.per_severity)
        for code, name in part.names.items():
            names.setdefault(code, name)
        fixable += part.fixable
        hidden += part.hidden
    if not blocks:
        return "" if options.quiet else style(_GREEN, "All checks passed!") + "\n"

    findings_text = "\n\n".join(blocks) if options.show_source else "\n".join(blocks)
    if options.quiet:  # findings only: no summary, no hints (ruff's --quiet)
        return findings_text + "\n"
    out = [findings_text, ""]
    out += _summary(per_rule, names)
    out.append(found_line(per_severity))
    hidden_note = (
        f"{hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with `dockopt fix --unsafe-fixes`"
    )
    if fixable:
        tail = f" ({hidden_note})." if hidden else "."
        out.append(f"[*] {fixable} fixable with `dockopt fix`{tail}")
    elif hidden:
        out.append(f"No fixes available ({hidden_note}).")
    return "\n".join(out) + "\n"


def found_line(per_severity: Mapping[str, int]) -> str:
    """``Found 4 findings: 1 error, 2 warnings, 1 info.`` (severities with a count, worst first)."""
    total = sum(per_severity.values())
    counts = []
    for label in ("error", "warning", "info"):
        n = per_severity.get(label, 0)
        if n:
            counts.append(f"{n} {label}{'s' if n != 1 and label != 'info' else ''}")
    return f"Found {total} finding{'s' if total != 1 else ''}: {', '.join(counts)}."


def _summary(per_rule: Counter[str], names: Mapping[str, str]) -> list[str]:
    """``  3  DO101  cleanup-in-later-layer`` rows, most frequent first."""
    rows = sorted(per_rule.items(), key=lambda item: (-item[1], item[0]))
    count_width = max(len(str(n)) for _, n in rows)
    code_width = max(len(code) for code, _ in rows)
    # hadolint/ShellCheck findings often carry their code as name: not worth repeating.
    return [
        f"  {n:>{count_width}}  {code:<{code_width}}  {sanitize_terminal(names[code]) if names[code] != code else ''}"
        .rstrip()
        for code, n in rows
    ]


def _block(finding: Finding, state: str, style: _Style, show_source: bool) -> str:
    diag = finding.diagnostic
    location = f"{style(_BOLD, sanitize_terminal(finding.report.path))}:{diag.start.line}:{diag.start.column}:"
    code = style(_SEVERITY_STYLE[diag.severity], diag.code)
    severity = style(_SEVERITY_STYLE[diag.severity], diag.severity.label)
    header = f"{location} {code}{_MARKERS.get(state, '')} {severity}: {_multiline(diag.message)}"
    if not show_source:
        return header
    gutter_width, rows = _excerpt(finding.index, diag.start, diag.end, style)
    pad = " " * gutter_width
    lines = [header, style(_CYAN, f"{pad} |"), *rows, style(_CYAN, f"{pad} |")]
    if diag.fix is not None:
        lines.append(f"{style(_CYAN, f'{pad} =')} {style(_BOLD, 'help')}: {_multiline(diag.fix.message)}")
    return "\n".join(lines)


def _multiline(message: str) -> str:
    """Continuation lines indented, so each finding's first line stays the only unindented one."""
    return sanitize_terminal(message.strip("\n")).replace("\n", "\n    ")


def _excerpt(index: LineIndex, start: Location, end: Location, style: _Style) -> tuple[int, list[str]]:
    """Gutter width and the source/caret rows for the span ``start``..``end``."""
    line_count = index.line_count
    first = min(max(start.line, 1), line_count)
    last = end.line
    if last > first and end.column == 1:
        last -= 1  # the span ends with a newline: the next line is not part of it
    last = min(max(last, first), line_count)
    shown_last = last if last - first < MAX_EXCERPT_LINES else first + MAX_EXCERPT_LINES - 2
    width = len(str(shown_last))
    pad = " " * width
    rows: list[str] = []
    for number in range(first, shown_last + 1):
        raw = index.line_text(number)
        display, columns = _expand(raw)
        if number == first:
            a = start.column - 1
        else:  # continuation line: underline from its first non-blank character
            a = len(raw) - len(raw.lstrip())
        b = end.column - 1 if number == end.line else len(raw)
        a = min(max(a, 0), len(raw))
        b = min(max(b, a), len(raw))
        gutter = style(_CYAN, f"{number:>{width}} |")
        rows.append(f"{gutter} {display}".rstrip() if display.strip() else gutter)
        if b > a or number == first:
            carets = "^" * max(1, columns[b] - columns[a])
            rows.append(f"{style(_CYAN, f'{pad} |')} {' ' * columns[a]}{style(_RED, carets)}")
    if shown_last < last:
        more = last - shown_last
        rows.append(f"{style(_CYAN, f'{pad} |')} ... ({more} more line{'s' if more != 1 else ''})")
    return width, rows


def _expand(raw: str) -> tuple[str, list[int]]:
    """The line as displayed, and the display column where each character starts.

    ``columns[i]`` is the display column of ``raw[i]``; ``columns[len(raw)]`` is the width
    of the whole line, so a span ``a..b`` is underlined from ``columns[a]`` to ``columns[b]``.
    """
    parts: list[str] = []
    columns: list[int] = []
    width = 0
    for ch in raw:
        columns.append(width)
        if ch == "\t":
            step = TAB_WIDTH - width % TAB_WIDTH
            parts.append(" " * step)
            width += step
            continue
        shown = sanitize_terminal(ch)
        parts.append(shown)
        width += _char_width(shown)
    columns.append(width)
    return "".join(parts), columns


def _char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) == "Cf":
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
