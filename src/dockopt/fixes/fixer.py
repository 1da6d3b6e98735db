"""The fixer: apply fixes as text edits, re-parse, repeat to a fixpoint.

Each pass lints the current text, takes the applicable fixes (safe ones, and unsafe ones
with ``--unsafe-fixes``; suggestions never), keeps a non-overlapping subset chosen
deterministically (by start offset, then rule code), applies them back to front and
re-parses. Two fixes that edit the same instruction never go in one pass, even when their
edits are apart: each was proven on the text as it is, not on the other's result (two DO105
merges sharing their middle RUN would compose into a join neither checked). A pass whose
result no longer parses, or still reports a fixed finding with the same fix at the same place
(a fix that does not cure its finding would be applied on every pass), is thrown away and its
fixes are not tried again. The loop stops when nothing changes or after ``MAX_PASSES``.
"""
from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field

from dockopt.diagnostics import Applicability, Diagnostic, Edit, Fix
from dockopt.linter import LintResult
from dockopt.syntax import Document, parse

MAX_PASSES = 10


@dataclass(slots=True)
class FixResult:
    text: str
    applied: list[Diagnostic] = field(default_factory=list)
    remaining: list[Diagnostic] = field(default_factory=list)
    rejected: list[Diagnostic] = field(default_factory=list)  # fixes that would break the parse

    @property
    def changed(self) -> bool:
        return bool(self.applied)


def applicable(fix: Fix | None, unsafe: bool) -> bool:
    if fix is None:
        return False
    if fix.applicability is Applicability.SAFE:
        return True
    return unsafe and fix.applicability is Applicability.UNSAFE


def _newline_style(text: str) -> str:
    return "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"


def _normalise_newlines(content: str, newline: str) -> str:
    if newline == "\n":
        return content
    return content.replace("\r\n", "\n").replace("\n", "\r\n")


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits (sorted or not) to ``text``."""
    out = []
    pos = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        out.append(text[pos : edit.start])
        out.append(edit.content)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


def select_fixes(diagnostics: list[Diagnostic], unsafe: bool, skip: set[tuple[str, int]],
                 document: Document) -> list[Diagnostic]:
    """A deterministic set of fixes to apply in one pass: no two overlap or touch, and no two
    edit the same instruction of ``document`` (see the module docstring)."""
    candidates = [
        d for d in diagnostics
        if applicable(d.fix, unsafe) and (d.code, d.start_offset) not in skip
    ]
    candidates.sort(key=lambda d: (d.fix.start, d.fix.end, d.code))  # type: ignore[union-attr]
    starts = [ins.line_start for ins in document.instructions]
    chosen: list[Diagnostic] = []
    taken: list[tuple[int, int]] = []
    edited: set[int] = set()
    for d in candidates:
        assert d.fix is not None
        spans = [(e.start, e.end) for e in d.fix.edits]
        instructions = {i for span in spans for i in _instructions_touched(document, starts, span)}
        if instructions & edited or any(_conflicts(span, other) for span in spans for other in taken):
            continue
        chosen.append(d)
        taken.extend(spans)
        edited |= instructions
    return chosen


def _instructions_touched(document: Document, starts: list[int], span: tuple[int, int]) -> range:
    """Indices of the instructions whose lines ``span`` (source offsets) edits or inserts into."""
    start, end = span
    last = bisect.bisect_left(starts, max(end, start + 1))  # the ones starting before ``end``
    first = bisect.bisect_right(starts, start) - 1  # the one starting at or before ``start``
    if first < 0 or document.instructions[first].line_end <= start:
        first += 1  # ``start`` lies after that instruction's lines (a blank or comment line)
    return range(first, last)


def _conflicts(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Edits that overlap or even touch conflict: an insertion at the end of a range another
    fix replaces would land on the wrong side of it. The later one waits for the next pass,
    which sees the text the first produced."""
    (s, e), (s0, e0) = a, b
    return s <= e0 and s0 <= e


def fix_text(text: str, run_lint: Callable[[str], LintResult], unsafe: bool = False) -> FixResult:
    """Fix ``text`` to a fixpoint. ``run_lint`` lints a text with the caller's settings."""
    result = FixResult(text)
    newline = _newline_style(text)
    skip: set[tuple[str, int]] = set()
    current = run_lint(text)
    if current.document.errors:
        result.remaining = current.diagnostics  # never touch a file that does not parse
        return result
    for _ in range(MAX_PASSES):
        chosen = select_fixes(current.diagnostics, unsafe, skip, current.document)
        if not chosen:
            break
        edits = [
            Edit(e.start, e.end, _normalise_newlines(e.content, newline))
            for d in chosen
            for e in d.fix.edits  # type: ignore[union-attr]
        ]
        candidate = apply_edits(result.text, edits)
        if candidate == result.text:
            break
        if parse(candidate).errors:
            # Refuse the whole pass, then retry without these fixes.
            result.rejected.extend(chosen)
            skip.update((d.code, d.start_offset) for d in chosen)
            continue
        after = run_lint(candidate)
        stuck = _not_cured(chosen, after.diagnostics)
        if stuck:
            # A fix whose finding comes back unchanged would be applied again on every pass
            # (a flag inserted ten times): that is a rule bug, so refuse the pass and go on
            # without those fixes.
            result.rejected.extend(stuck)
            skip.update((d.code, d.start_offset) for d in stuck)
            continue
        result.applied.extend(chosen)
        result.text = candidate
        skip.clear()
        current = after
    result.remaining = current.diagnostics
    return result


def _not_cured(chosen: list[Diagnostic], after: list[Diagnostic]) -> list[Diagnostic]:
    """The chosen fixes whose finding is still there after the pass: the same rule with the same
    fix at the place the finding's start moved to.

    Places, not messages, identify a finding: messages name line numbers, which another fix of
    the pass shifts (a merge removes lines), so a new finding could carry an old one's words."""
    edits = sorted((e for d in chosen for e in d.fix.edits),  # type: ignore[union-attr]
                   key=lambda e: (e.start, e.end))
    remaining = {(d.code, d.start_offset, _fix_contents(d)) for d in after if d.fix is not None}
    return [d for d in chosen
            if any((d.code, place, _fix_contents(d)) in remaining for place in _moved(d.start_offset, edits))]


def _fix_contents(d: Diagnostic) -> tuple[str, ...]:
    assert d.fix is not None
    return tuple(e.content for e in d.fix.edits)


def _moved(offset: int, edits: list[Edit]) -> tuple[int, ...]:
    """Where ``offset`` is after ``edits``: nowhere when an edit rewrote it, two places when
    text was inserted right at it (before or after the insertion)."""
    shift = inserted_here = 0
    for e in edits:
        if e.start < offset < e.end:
            return ()
        if e.end < offset or e.end == offset and e.start < offset:
            shift += len(e.content) - (e.end - e.start)
        elif e.start == e.end == offset:
            inserted_here += len(e.content)
    return (offset + shift, offset + shift + inserted_here)
