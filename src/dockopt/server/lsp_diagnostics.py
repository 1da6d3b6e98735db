"""dockopt findings as LSP diagnostics.

Each diagnostic carries its rule code, the rule's documentation link (``codeDescription``),
the places its message talks about (``relatedInformation``: the RUN that created what a
later RUN removes) and, in ``data``, what the code-action handler needs to find the finding
again in the analysis of the same document version.
"""
from __future__ import annotations

from lsprotocol import types

from dockopt.diagnostics import Applicability, Diagnostic, Severity
from dockopt.server.analysis import Analysis

SOURCE = "dockopt"

_SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}

# Findings whose range is code that does nothing, which editors show faded:
# DO001 a suppression comment that silences nothing; DO101 a cleanup that frees nothing
# (the bytes it removes are still in an earlier layer).
UNNECESSARY = frozenset({"DO001", "DO101"})

_FIX_NOTE = {
    Applicability.SAFE: " (safe fix available)",
    Applicability.UNSAFE: " (unsafe fix available)",
    Applicability.SUGGESTION: " (suggested rewrite available)",
}


def finding_key(d: Diagnostic) -> list[object]:
    """What identifies a finding within one analysis: code, offsets, message."""
    return [d.code, d.start_offset, d.end_offset, d.message]


def to_lsp(analysis: Analysis, d: Diagnostic) -> types.Diagnostic:
    positions = analysis.positions
    index = analysis.result.document.index
    related = []
    for description, location in d.related:
        offset = index.offset(location.line, location.column)
        related.append(types.DiagnosticRelatedInformation(
            location=types.Location(uri=analysis.uri, range=positions.range(offset, offset)),
            message=description,
        ))
    note = _FIX_NOTE[d.fix.applicability] if d.fix is not None else ""
    return types.Diagnostic(
        range=positions.range(d.start_offset, d.end_offset),
        severity=_SEVERITIES[d.severity],
        code=d.code,
        code_description=types.CodeDescription(href=d.url),
        source=SOURCE,
        message=d.message + note,
        related_information=related or None,
        tags=[types.DiagnosticTag.Unnecessary] if d.code in UNNECESSARY else None,
        data={"key": finding_key(d), "version": analysis.version},
    )


def diagnostics_for(analysis: Analysis) -> list[types.Diagnostic]:
    return [to_lsp(analysis, d) for d in analysis.result.diagnostics]
