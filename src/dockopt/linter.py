"""The engine: parse, run the selected rules, apply suppressions and severities.

``lint(text, ...)`` is the one entry point used by ``check``, ``fix`` and the tests.
Suppressions:
- ``# dockopt: ignore=DO101,DO102`` in the comment block directly above an instruction
  silences those codes for findings that start inside that instruction;
- ``# dockopt: ignore`` there silences every code;
- ``# dockopt: ignore-file`` (or ``ignore-file=DO101``) anywhere silences the whole file.
A reason may follow the codes after ``--`` (``# dockopt: ignore=DO102 -- the cache is
needed at run time``). A comment that starts like a suppression but does not parse
(``# dockopt ignore=DO102``, ``# dockopt: ignore DO102``) silences nothing and is reported:
a warning on stderr, and DO001 when DO001 is selected.

DO001 (unused or malformed suppressions) is an ordinary rule, off by default:
``--select``/``--extend-select``/config enable it, as does ``--report-unused-suppressions``.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dockopt.checks import SYNTAX_ERROR, UNUSED_SUPPRESSION, Finding, LintContext, Rule, all_rules
from dockopt.diagnostics import Diagnostic, Severity
from dockopt.syntax import Document, parse

if TYPE_CHECKING:
    from dockopt.context.build_context import BuildContext
    from dockopt.layers.downloads import DownloadSizer

_CODE_LIST = r"[A-Za-z]+[0-9]*(?:\s*,\s*[A-Za-z]+[0-9]*)*\s*,?"
_SUPPRESSION = re.compile(
    rf"^#\s*dockopt\s*:\s*(ignore-file|ignore)(?:\s*=\s*({_CODE_LIST}))?\s*(?:--.*)?$", re.IGNORECASE
)
# Comments meant as a suppression: "# dockopt" then ":" or an ignore word. Anything of this
# shape that _SUPPRESSION does not accept is reported as malformed, never silently dropped.
_LOOKS_LIKE_SUPPRESSION = re.compile(r"^#\s*dockopt\s*(?::|[=-]?\s*(?:ignore|noqa|disable)\b)", re.IGNORECASE)
SUPPRESSION_SYNTAX = "`# dockopt: ignore[=CODE,...] [-- reason]` or `# dockopt: ignore-file[=CODE,...]`"


class Selector(Protocol):
    def enabled(self, code: str, path: str | None) -> bool: ...

    def severity(self, code: str, default: Severity) -> Severity: ...


@dataclass(slots=True)
class DefaultSelector:
    """The default selection: rules marked default in the rule book, default severities."""

    codes: frozenset[str]

    def enabled(self, code: str, path: str | None) -> bool:
        return code in self.codes

    def severity(self, code: str, default: Severity) -> Severity:
        return default


@dataclass(slots=True)
class Suppression:
    codes: frozenset[str] | None  # None: every code
    line: int
    start: int
    end: int
    file_wide: bool
    first_line: int = 0  # instruction lines it covers (instruction suppressions)
    last_line: int = 0
    used: set[str] = field(default_factory=set)

    def covers(self, code: str) -> bool:
        return self.codes is None or code in self.codes


@dataclass(slots=True)
class LintResult:
    document: Document
    diagnostics: list[Diagnostic]
    warnings: list[str] = field(default_factory=list)  # one line each, for stderr


@dataclass(slots=True)
class MalformedSuppression:
    line: int
    start: int
    end: int
    text: str


def find_suppressions(document: Document, malformed: list[MalformedSuppression] | None = None) -> list[Suppression]:
    found: list[Suppression] = []
    instructions = iter(document.instructions)
    upcoming = next(instructions, None)
    index = document.index
    for node in document.nodes:
        if node is upcoming:
            upcoming = next(instructions, None)
            continue
        if getattr(node, "kind", "") not in ("comment", "directive"):
            continue
        comment = node.text.strip()
        m = _SUPPRESSION.match(comment)
        if not m:
            if malformed is not None and _LOOKS_LIKE_SUPPRESSION.match(comment):
                line = index.location(node.start).line
                malformed.append(MalformedSuppression(line, node.start, node.start + len(node.text.rstrip("\r\n")),
                                                      comment))
            continue
        kind, codes_text = m.groups()
        kind = kind.lower()
        codes = frozenset(c.strip().upper() for c in (codes_text or "").split(",") if c.strip()) or None
        line = index.location(node.start).line
        suppression = Suppression(codes, line, node.start, node.start + len(node.text.rstrip("\r\n")),
                                  file_wide=kind == "ignore-file")
        if not suppression.file_wide:
            if upcoming is None or line < upcoming.start_line - len(upcoming.comments):
                # Not in the comment block directly above an instruction: it covers nothing.
                suppression.first_line = suppression.last_line = -1
            else:
                suppression.first_line, suppression.last_line = upcoming.start_line, upcoming.end_line
        found.append(suppression)
    return found


def _to_diagnostic(
    finding: Finding, code: str, name: str, severity: Severity, document: Document, display: str
) -> Diagnostic:
    index = document.index
    related = [(text, index.location(offset)) for text, offset in finding.related]
    return Diagnostic(
        code=code,
        name=name,
        severity=severity,
        message=finding.message,
        file=display,
        start=index.location(finding.start),
        end=index.location(finding.end),
        fix=finding.fix,
        start_offset=finding.start,
        end_offset=finding.end,
        related=related,
    )


def lint(
    text: str,
    display: str,
    selector: Selector,
    *,
    path: Path | None = None,
    build_context: BuildContext | None = None,
    target: str | None = None,
    report_unused_suppressions: bool = False,
    rules: dict[str, Rule] | None = None,
    extra: Callable[[Document, Sequence[Diagnostic]], Iterable[Diagnostic]] | None = None,
    downloads: DownloadSizer | None = None,
) -> LintResult:
    """Lint one Dockerfile text. ``display`` is the path shown in reports."""
    document = parse(text)
    diagnostics: list[Diagnostic] = []
    errors = document.errors
    if not errors:
        from dockopt.syntax.validate import validate

        # What BuildKit's instruction parser refuses (COPY with one argument, unknown flags,
        # a bad --mount, ...): the build fails there too, so it is DO000 as well.
        errors = validate(document)
    if errors:
        code, name = SYNTAX_ERROR
        for error in errors:
            line = min(error.line, document.index.line_count)
            line_start, line_end = document.index.line_start(line), document.index.line_end(line)
            start = min(line_start + max(error.column, 1) - 1, line_end)
            finding = Finding(start, line_end, error.message)
            diagnostics.append(_to_diagnostic(finding, code, name, Severity.ERROR, document, display))
        return LintResult(document, diagnostics)

    ctx = LintContext(document, path, build_context, target, downloads)
    for code, rule in (rules or _rules()).items():
        if not selector.enabled(code, display):
            continue
        severity = selector.severity(code, rule.severity)
        overridden = severity != rule.severity
        for finding in rule.check(ctx):
            own = finding.severity if finding.severity is not None and not overridden else severity
            diagnostics.append(_to_diagnostic(finding, code, rule.name, own, document, display))
    if extra is not None:
        # Findings from another tool (hadolint): the hook sees dockopt's own findings so it can
        # drop what they already report; selection and severity overrides apply to them too.
        for d in extra(document, tuple(diagnostics)):
            if selector.enabled(d.code, display):
                d.severity = selector.severity(d.code, d.severity)
                diagnostics.append(d)

    malformed: list[MalformedSuppression] = []
    suppressions = find_suppressions(document, malformed)
    report_do001 = report_unused_suppressions or selector.enabled(UNUSED_SUPPRESSION[0], display)
    if suppressions:
        diagnostics = _apply_suppressions(diagnostics, suppressions)
        if report_do001:
            diagnostics.extend(_unused(suppressions, document, display))
    warnings = []
    for bad in malformed:
        message = f"malformed suppression comment, it silences nothing (expected {SUPPRESSION_SYNTAX})"
        warnings.append(f"{display}:{bad.line}: warning: {message}: {bad.text}")
        if report_do001:
            code, name = UNUSED_SUPPRESSION
            diagnostics.append(_to_diagnostic(Finding(bad.start, bad.end, message), code, name,
                                              selector.severity(code, Severity.WARNING), document, display))
    diagnostics.sort(key=Diagnostic.sort_key)
    return LintResult(document, diagnostics, warnings)


def _apply_suppressions(diagnostics: list[Diagnostic], suppressions: list[Suppression]) -> list[Diagnostic]:
    kept = []
    for diagnostic in diagnostics:
        silenced = False
        for s in suppressions:
            in_scope = s.file_wide or s.first_line <= diagnostic.start.line <= s.last_line
            if in_scope and s.covers(diagnostic.code):
                s.used.add(diagnostic.code)
                silenced = True
        if not silenced:
            kept.append(diagnostic)
    return kept


def _unused(suppressions: list[Suppression], document: Document, display: str) -> list[Diagnostic]:
    code, name = UNUSED_SUPPRESSION
    out = []
    for s in suppressions:
        if s.codes is None:
            unused = [] if s.used else ["(all)"]
        else:
            unused = sorted(s.codes - s.used)
        if s.first_line == -1:
            message = "suppression comment is not directly above an instruction; it silences nothing"
        elif unused:
            message = f"unused suppression: {', '.join(unused)}"
        else:
            continue
        out.append(_to_diagnostic(Finding(s.start, s.end, message), code, name, Severity.WARNING, document, display))
    return out


_RULES: dict[str, Rule] | None = None


def _rules() -> dict[str, Rule]:
    global _RULES
    if _RULES is None:
        _RULES = all_rules()
    return _RULES
