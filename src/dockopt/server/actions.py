"""Code actions: each finding's fix, "fix all safe findings", "ignore this code here".

Every edit offered is produced by the fixer (:func:`dockopt.fixes.fixer.fix_text`): it
applies the fix, re-parses, re-lints and refuses a fix that leaves its finding in place, so
an action the editor shows is one the fixer itself would apply. The "ignore" action is
re-linted too and only offered when the comment really silences the finding.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from lsprotocol import types

from dockopt.diagnostics import Applicability, Diagnostic, Fix
from dockopt.fixes.fixer import fix_text
from dockopt.linter import LintResult
from dockopt.server.analysis import Analysis
from dockopt.server.lsp_diagnostics import finding_key, to_lsp

FIX_ALL_KIND = "source.fixAll.dockopt"
KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite, types.CodeActionKind.SourceFixAll,
         FIX_ALL_KIND]

_SUPPRESSION_LINE = re.compile(r"^(?P<indent>[ \t]*)#\s*dockopt\s*:\s*ignore\s*=\s*(?P<codes>[A-Za-z0-9_,\s]*?)\s*$")


def wanted(kind: str, only: Sequence[str] | None) -> bool:
    """LSP's ``only`` filter: a kind matches a requested kind or any of its sub-kinds."""
    if not only:
        return True
    return any(kind == k or kind.startswith(f"{k}.") for k in only)


# --- replacing text ---------------------------------------------------------------------

def replacement(old: str, new: str) -> tuple[int, int, str]:
    """The smallest single span of ``old`` to replace to get ``new``: (start, end, content)."""
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    # Never split a \r\n: an LSP position cannot point between the two.
    if prefix and old[prefix - 1] == "\r":
        prefix -= 1
    end = len(old) - suffix
    if suffix and old[end - 1 : end] == "\r":
        suffix -= 1
        end += 1
    return prefix, end, new[prefix : len(new) - suffix]


def workspace_edit(analysis: Analysis, new_text: str, versioned: bool) -> types.WorkspaceEdit:
    start, end, content = replacement(analysis.text, new_text)
    edit = types.TextEdit(range=analysis.positions.range(start, end), new_text=content)
    if versioned:
        document = types.OptionalVersionedTextDocumentIdentifier(uri=analysis.uri, version=analysis.version)
        return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=document, edits=[edit])])
    return types.WorkspaceEdit(changes={analysis.uri: [edit]})


# --- one finding's fix --------------------------------------------------------------------

def _fix_key(d: Diagnostic) -> tuple[object, ...]:
    # What the fixer compares to decide whether a fix cured its finding.
    assert d.fix is not None
    return (d.code, d.message, d.fix.message, tuple(e.content for e in d.fix.edits))


def fixed_by_one(analysis: Analysis, target: Diagnostic) -> str | None:
    """The text after the fixer applies ``target``'s fix alone; None when the fixer refuses it
    (it breaks the parse or does not cure its finding)."""
    assert target.fix is not None
    key, cure_key = finding_key(target), _fix_key(target)
    first = True

    def only_target(text: str) -> LintResult:
        # The fixer sees just this one fix on the first pass; afterwards it still sees the
        # same finding if it came back (so it can tell the fix did not cure it), but as
        # nothing it may apply again.
        nonlocal first
        result = analysis.lint(text)
        kept: list[Diagnostic] = []
        for d in result.diagnostics:
            if d.fix is None:
                kept.append(d)
            elif first and finding_key(d) == key:
                # A suggestion is applied here only because the user picks it explicitly.
                fix = d.fix if d.fix.applicability is not Applicability.SUGGESTION else \
                    Fix(Applicability.UNSAFE, d.fix.message, d.fix.edits)
                kept.append(dataclasses.replace(d, fix=fix))
            elif not first and _fix_key(d) == cure_key:
                kept.append(dataclasses.replace(d, fix=Fix(Applicability.SUGGESTION, d.fix.message, d.fix.edits)))
            else:
                kept.append(dataclasses.replace(d, fix=None))
        first = False
        return LintResult(result.document, kept)

    result = fix_text(analysis.text, only_target, unsafe=True)
    if len(result.applied) != 1 or not result.changed:
        return None
    return result.text


def _title(d: Diagnostic) -> tuple[str, str, bool]:
    """(title, kind, preferred) of the action for ``d``'s fix."""
    assert d.fix is not None
    applicability = d.fix.applicability
    if applicability is Applicability.SAFE:
        return f"{d.code}: {d.fix.message}", types.CodeActionKind.QuickFix, True
    if applicability is Applicability.UNSAFE:
        return (f"{d.code} (unsafe: may change the image): {d.fix.message}", types.CodeActionKind.QuickFix,
                False)
    return (f"{d.code} suggestion (not a proven fix, review it): {d.fix.message}",
            types.CodeActionKind.RefactorRewrite, False)


def fix_action(analysis: Analysis, d: Diagnostic, versioned: bool) -> types.CodeAction | None:
    new_text = fixed_by_one(analysis, d)
    if new_text is None:
        return None
    title, kind, preferred = _title(d)
    return types.CodeAction(title=title, kind=kind, diagnostics=[to_lsp(analysis, d)], is_preferred=preferred,
                            edit=workspace_edit(analysis, new_text, versioned))


def fix_all_action(analysis: Analysis, versioned: bool) -> types.CodeAction | None:
    """Every safe fix, to the fixer's fixpoint (``dockopt fix`` without ``--unsafe-fixes``)."""
    result = fix_text(analysis.text, analysis.lint, unsafe=False)
    if not result.changed:
        return None
    count = len(result.applied)
    return types.CodeAction(title=f"Fix all safe dockopt findings ({count} fix{'es' if count != 1 else ''})",
                            kind=FIX_ALL_KIND, edit=workspace_edit(analysis, result.text, versioned))


# --- "ignore DOxxx for this instruction" -------------------------------------------------

def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def ignored_text(analysis: Analysis, d: Diagnostic) -> str | None:
    """The text with ``d``'s code added to a ``# dockopt: ignore=`` comment directly above its
    instruction (an existing one is extended), or None when there is no instruction."""
    ins = analysis.result.document.instruction_at_line(d.start.line)
    if ins is None:
        return None
    text, index = analysis.text, analysis.result.document.index
    # An existing "ignore=" line in the comment block right above: add the code to it.
    for line in range(ins.start_line - 1, max(0, ins.start_line - 1 - len(ins.comments)), -1):
        line_text = index.line_text(line)
        m = _SUPPRESSION_LINE.match(line_text)
        if m:
            codes = [c.strip() for c in m.group("codes").split(",") if c.strip()]
            new_line = f"{m.group('indent')}# dockopt: ignore={','.join([*codes, d.code])}"
            return text[: index.line_start(line)] + new_line + text[index.line_end(line):]
    first_line = index.line_text(ins.start_line)
    indent = first_line[: len(first_line) - len(first_line.lstrip(" \t"))]
    comment = f"{indent}# dockopt: ignore={d.code}{_newline(text)}"
    return text[: ins.line_start] + comment + text[ins.line_start:]


def ignore_action(analysis: Analysis, d: Diagnostic, versioned: bool) -> types.CodeAction | None:
    if d.code == "DO000":  # a file that does not parse cannot be silenced
        return None
    new_text = ignored_text(analysis, d)
    if new_text is None:
        return None
    after = analysis.lint(new_text)
    before_count = sum(1 for x in analysis.result.diagnostics if x.code == d.code)
    after_count = sum(1 for x in after.diagnostics if x.code == d.code)
    if after.document.errors or after_count >= before_count:
        return None
    return types.CodeAction(title=f"Ignore {d.code} for this instruction", kind=types.CodeActionKind.QuickFix,
                            diagnostics=[to_lsp(analysis, d)], edit=workspace_edit(analysis, new_text, versioned))


# --- the request ---------------------------------------------------------------------------

def _in_range(d: Diagnostic, start: int, end: int) -> bool:
    return d.start_offset <= end and start <= max(d.end_offset, d.start_offset)


def code_actions(analysis: Analysis, params: types.CodeActionParams, versioned: bool) -> list[types.CodeAction]:
    only = params.context.only
    actions: list[types.CodeAction] = []
    start = analysis.positions.offset(params.range.start)
    end = analysis.positions.offset(params.range.end)
    # Findings the client names (by the data we sent), else those overlapping the range.
    named = {tuple(x.data["key"]) for x in params.context.diagnostics
             if isinstance(x.data, dict) and x.data.get("version") == analysis.version and "key" in x.data}
    targets = [d for d in analysis.result.diagnostics
               if tuple(finding_key(d)) in named or _in_range(d, start, end)]
    for d in targets:
        if d.fix is not None:
            _, kind, _ = _title(d)
            if wanted(kind, only):
                action = fix_action(analysis, d, versioned)
                if action is not None:
                    actions.append(action)
    if wanted(types.CodeActionKind.QuickFix, only):
        seen: set[tuple[str, int]] = set()
        for d in targets:
            ins = analysis.result.document.instruction_at_line(d.start.line)
            if ins is None or (d.code, ins.start_line) in seen:
                continue
            seen.add((d.code, ins.start_line))
            action = ignore_action(analysis, d, versioned)
            if action is not None:
                actions.append(action)
    if wanted(FIX_ALL_KIND, only) and (only or any(d.fix is not None for d in targets)):
        action = fix_all_action(analysis, versioned)
        if action is not None:
            actions.append(action)
    return actions
