"""The fixer's loop (``dockopt.fixes.fixer.fix_text``) with stand-in rules: what it refuses, and why."""
from __future__ import annotations

from dockopt.diagnostics import Applicability, Diagnostic, Edit, Fix, Location, Severity
from dockopt.linter import LintResult
from dockopt.fixes.fixer import MAX_PASSES, fix_text
from dockopt.syntax import parse
from tests.lintkit import fixed
from tests.trace import prove, unavailable

NO_SANDBOX = unavailable()


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


def test_two_fixes_of_one_instruction_wait_for_separate_passes() -> None:
    """Each fix was planned on the text as it is: two that edit one instruction, even far
    apart within it, are never composed unchecked in one pass (the second sees the first's
    result on the next pass)."""
    passes: list[int] = []

    def both_ends(text: str) -> LintResult:
        run = text.index("RUN ")
        end = text.index("\n", text.index(" b", run))
        found = []
        if "RUN x a" not in text:
            found.append(_finding(text, run + len("RUN "), "x "))
        if not text[:end].endswith(" y"):
            found.append(_finding(text, end, " y"))
        passes.append(len(found))
        return LintResult(parse(text), found)

    result = fix_text("FROM b\nRUN a \\\n  b\n", both_ends)
    assert result.text == "FROM b\nRUN x a \\\n  b y\n" and len(result.applied) == 2
    assert passes[:2] == [2, 1]  # one fix per pass, not both at once


def test_chained_merges_are_not_composed_in_one_pass() -> None:
    """DO105 merges RUN 1 into RUN 2 and RUN 2 into RUN 3: each join is right alone, but
    applied together `set -e` of the first script reached the third (percona-xtrabackup-2.3
    in the corpus: a failing `apt-get install ...; rm` then failed the build)."""
    text = ("FROM debian\n"
            "RUN set -e; apt-get update; apt-get install -y wget && rm -rf /var/lib/apt/lists/*\n"
            "RUN wget https://example.org/p.deb && dpkg -i p.deb\n"
            "RUN apt-get update && apt-get install -y qpress ; rm -rf /var/lib/apt/lists/*\n")
    result = fixed(text, "DO105")
    assert [d.code for d in result.applied] == ["DO105", "DO105"]
    assert "set -e; ( set -e;" in result.text and "); set +e;" in result.text, result.text
    if NO_SANDBOX is None:
        verdict = prove(text, result.text)
        assert verdict.proven, str(verdict)


def test_a_chain_of_merges_reaches_its_fixpoint_in_one_run() -> None:
    """Seven mergeable RUNs: each pass merges disjoint pairs, and the findings of the next pass
    name the same line numbers as earlier ones did (a merge removes lines), which must not be
    taken for fixes that did not cure their finding (grafana/loki's jsonparser Dockerfile: a
    second `dockopt fix` merged more)."""
    text = "FROM golang:1.6\n" + "".join(f"RUN go get example.org/m{i}\n" for i in range(7))
    once = fixed(text, "DO105")
    assert once.text.count("RUN ") == 1 and not once.rejected, once.text
    assert fixed(once.text, "DO105").text == once.text
