"""The fixer's loop (``dockopt.fixes.fixer.fix_text``) with stand-in rules: what it refuses, and why."""
from __future__ import annotations

from dockopt.diagnostics import Applicability, Diagnostic, Edit, Fix, Location, Severity
from dockopt.linter import LintResult
from dockopt.fixes.fixer import MAX_PASSES, fix_text
from dockopt.syntax import parse


def _finding(text: str, at: int, content: str, message: str = "m") -> Diagnostic:
    fix = Fix(Applicability.SAFE, "insert", (Edit(at, at, content),))
    return Diagnostic("DO999", "stand-in", Severity.ERROR, message, "Dockerfile", Location(1, 1), Location(1, 2),
                      fix, start_offset=at, end_offset=at + 1)


def test_a_fix_that_does_not_cure_its_finding_is_applied_once_at_most() -> None:
    calls: list[str] = []

    def stubborn(text: str) -> LintResult:  # always the same finding, always the same insertion
        calls.append(text)
        return LintResult(parse(text), [_finding(text, len("FROM a"), " x")])

    result = fix_text("FROM a\n", stubborn)
    assert result.text == "FROM a\n"  # the pass that did not cure it was thrown away
    assert not result.applied and [d.code for d in result.rejected] == ["DO999"]
    assert len(calls) < MAX_PASSES


def test_a_fix_that_cures_one_of_two_identical_findings_makes_progress() -> None:
    def two_until_fixed(text: str) -> LintResult:
        found = [_finding(text, i + len("RUN a"), " -q") for i in range(len(text)) if text.startswith("RUN a\n", i)]
        return LintResult(parse(text), found)

    result = fix_text("FROM b\nRUN a\nRUN a\n", two_until_fixed)
    assert result.text == "FROM b\nRUN a -q\nRUN a -q\n" and len(result.applied) == 2
