"""Per-file invariant checks behind ``test_corpus_invariants.py`` (they run in worker processes).

``check_file(path)`` lints one file with every rule, fixes it (safe fixes, then safe and
unsafe ones) and returns what it found as plain, picklable data: a list of ``Problem``s
(each naming the invariant it breaks) and counters for the summary. Nothing here raises:
an exception inside dockopt is itself a problem (``crash``) carrying the traceback.

The invariants, per fix mode (``safe``, ``unsafe``):

- ``idempotent``: fixing the fixed text again changes nothing;
- ``reparse``: a changed text parses without errors;
- ``untouched``: a text with no applicable fix comes back byte-identical;
- ``comments``: every comment line of the original is still there, as a multiset of
  whitespace-trimmed lines (a fix may move a comment, never drop one);
- ``kept-text``: every line outside the instructions a fix edited is still there, as a
  multiset of lines with all whitespace removed (a fix may re-indent or move them; it may
  not change a byte that is not whitespace). An instruction counts as edited when its
  text no longer occurs among the fixed document's instructions;
- ``filesystem`` (safe fixes only): the simulated final filesystem is the same, see
  ``final_filesystem``, except the caches the applied fixes declare (``Fix.removes_caches``);
- ``trace-disproven`` / ``trace-unprovable`` / ``trace-error``: the trace harness
  (``tests/trace``) runs the original and the fixed build with every command stubbed, in
  every failure scenario, under dash and bash, and finds a difference / cannot prove them
  equivalent (the reason says why) / fails itself. Counted per mode; which of them fail a
  test is decided in ``test_corpus_invariants.py``. ``DOCKOPT_TRACE=0`` skips the proofs.
"""
from __future__ import annotations

import os
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dockopt.checks import all_rules
from dockopt.context.build_context import BuildContext
from dockopt.diagnostics import Severity
from dockopt.linter import LintResult, lint
from dockopt.fileio import FileError, read_source
from dockopt.fixes.fixer import FixResult, applicable, fix_text
from dockopt.layers import simulate
from dockopt.model import build_model
from dockopt.syntax import parse
from dockopt.syntax.validate import validate
from tests.trace import proof_sampled, prove

TRACE = os.environ.get("DOCKOPT_TRACE", "1") != "0"
# A safe fix the harness disproves fails the run (strict); DOCKOPT_TRACE_STRICT=0 makes it an
# expected failure instead, to see every other invariant while a fixer defect is open. Strict
# by default since three random runs of the fix fuzzer under strict tracing at twice the
# examples found nothing (2026-12-05, after the DO102 later-update defect was fixed).
STRICT_TRACE = os.environ.get("DOCKOPT_TRACE_STRICT", "1") != "0"

ALL_CODES = frozenset(all_rules())


@dataclass(frozen=True, slots=True)
class Problem:
    invariant: str  # "crash", "idempotent", "reparse", "untouched", "comments", "kept-text", "filesystem",
    # "trace-disproven", "trace-unprovable", "trace-error"
    mode: str  # "lint", "safe", "unsafe"
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path} [{self.mode}] {self.invariant}: {self.detail}"


@dataclass(slots=True)
class FileResult:
    path: str
    problems: list[Problem] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


class Everything:
    """A selector enabling every rule at its default severity (``--select ALL``)."""

    def enabled(self, code: str, path: str | None) -> bool:
        return True

    def severity(self, code: str, default: Severity) -> Severity:
        return default


def linter(path: Path) -> Callable[[str], LintResult]:
    """Lint a text as ``dockopt check --select ALL PATH`` would (same build context)."""
    context = BuildContext.for_dockerfile(path, None)
    return lambda text: lint(text, str(path), Everything(), path=path, build_context=context)


def final_filesystem(text: str) -> frozenset[str] | None:
    """The simulated final filesystem: the set of paths alive at the end of the shipped stage.

    "Alive" is the simulator's notion: every path a COPY/ADD/RUN of that stage or of the
    stages its FROM chain builds on created or rewrote, and no later instruction removed.
    Paths are as the simulator normalises them (absolute, a trailing ``/`` for a directory
    tree, globs kept as written). Only the set of paths is compared, not sizes or which
    command wrote them: a safe fix may move the command that creates a file (into an
    earlier RUN, into ``COPY --chmod``); it may not make a path appear or disappear.
    ``None`` when the text does not parse or has no stage.
    """
    document = parse(text)
    if document.errors:
        return None
    build = build_model(document)
    final = build.final_stage()
    if final is None:
        return None
    return frozenset(simulate(build, None).stage_plan(final).alive)


def lines(text: str) -> list[str]:
    """Lines as the parser numbers them: BuildKit splits at LF only (``str.splitlines`` would
    also split at a lone CR, U+2028 ..., and the line numbers would drift)."""
    return text.split("\n")


def comment_lines(text: str) -> Counter[str]:
    return Counter(line.strip() for line in lines(text) if line.lstrip().startswith("#"))


def kept_lines(original: str, fixed: str) -> Counter[str]:
    """Lines of ``original`` outside the instructions the fix edited, whitespace removed."""
    before, after = parse(original), parse(fixed)
    surviving = Counter(ins.text.strip() for ins in after.instructions)
    edited_lines: set[int] = set()
    for ins in before.instructions:
        key = ins.text.strip()
        if surviving[key] > 0:
            surviving[key] -= 1
        else:
            edited_lines.update(range(ins.start_line, ins.end_line + 1))
    return Counter(
        squeezed
        for number, line in enumerate(lines(original), start=1)
        if number not in edited_lines and (squeezed := _squeeze(line))
    )


def _squeeze(line: str) -> str:
    """A line without its whitespace, nor the byte-order mark a first line may start with: the
    mark is no instruction's text, so a line identical to the first one elsewhere (a split's
    new FROM) would otherwise not count as the same line."""
    return "".join(line.removeprefix("\ufeff").split())


def _missing(expected: Counter[str], actual: Counter[str]) -> str:
    lost = expected - actual
    return "; ".join(f"{n}x {line[:80]!r}" for line, n in list(lost.items())[:3]) if lost else ""


def _first_difference(a: str, b: str) -> str:
    for number, (x, y) in enumerate(zip(a.splitlines(), b.splitlines()), start=1):
        if x != y:
            return f"line {number}: {x[:70]!r} -> {y[:70]!r}"
    return f"{len(a.splitlines())} lines -> {len(b.splitlines())} lines"


def _check_fix(result: FileResult, mode: str, text: str, base: LintResult, run: Callable[[str], LintResult],
               trace: bool = False) -> None:
    unsafe = mode == "unsafe"
    fixed = fix_text(text, run, unsafe=unsafe)

    def problem(invariant: str, detail: str) -> None:
        result.problems.append(Problem(invariant, mode, result.path, detail))

    if not any(applicable(d.fix, unsafe) for d in base.diagnostics):
        if fixed.text != text:
            problem("untouched", f"no applicable fix, yet the text changed ({_first_difference(text, fixed.text)})")
        return
    if not fixed.changed:
        result.counts[f"{mode}: fixable, nothing applied"] += 1
        if fixed.text != text:
            problem("untouched", "no fix applied, yet the text changed")
        return
    result.counts[f"{mode}: files changed"] += 1
    result.counts[f"{mode}: fixes applied"] += len(fixed.applied)
    _check_fixed_text(result, problem, text, fixed, run, unsafe, trace)


def _check_fixed_text(result: FileResult, problem: Callable[[str, str], None], text: str, fixed: FixResult,
                      run: Callable[[str], LintResult], unsafe: bool, trace: bool) -> None:
    codes = ",".join(sorted({d.code for d in fixed.applied}))
    document = parse(fixed.text)
    errors = document.errors
    if errors:
        problem("reparse", f"[{codes}] fixed text does not parse: line {errors[0].line}: {errors[0].message}")
    elif not validate(parse(text)) and (refused := validate(document)):
        # BuildKit's instruction parser must accept what it accepted before (issue 17, item 4).
        problem("reparse", f"[{codes}] BuildKit would refuse the fixed text: line {refused[0].line}: "
                           f"{refused[0].message}")
    again = fix_text(fixed.text, run, unsafe=unsafe)
    if again.text != fixed.text:
        again_codes = ",".join(sorted({d.code for d in again.applied}))
        problem("idempotent", f"[{codes}] a second fix applied {again_codes}: "
                f"{_first_difference(fixed.text, again.text)}")
    lost = _missing(comment_lines(text), comment_lines(fixed.text))
    if lost:
        problem("comments", f"[{codes}] comment lines lost: {lost}")
    lost = _missing(kept_lines(text, fixed.text), Counter(_squeeze(line) for line in lines(fixed.text)))
    if lost:
        problem("kept-text", f"[{codes}] lines outside the edited instructions changed: {lost}")
    if trace and TRACE and proof_sampled(result.path):
        _check_trace(result, problem, "unsafe" if unsafe else "safe", text, fixed, codes)
    if not unsafe:
        before, after = final_filesystem(text), final_filesystem(fixed.text)
        if before != after:
            # A safe fix may remove the package-manager caches it declares (Fix.removes_caches).
            declared = {c.rstrip("/") for d in fixed.applied if d.fix is not None for c in d.fix.removes_caches}
            gone = sorted(p for p in (before or frozenset()) - (after or frozenset())
                          if not any(p.rstrip("/") == c or p.startswith(c + "/") for c in declared))[:3]
            new = sorted((after or frozenset()) - (before or frozenset()))[:3]
            if gone or new or before is None or after is None:
                problem("filesystem", f"[{codes}] simulated final filesystem differs: gone {gone}, new {new}")


def _check_trace(result: FileResult, problem: Callable[[str, str], None], mode: str, text: str, fixed: FixResult,
                 codes: str) -> None:
    """Prove the fixed text with the trace harness; count files and fixes by verdict."""
    try:
        verdict = prove(text, fixed.text)
    except Exception:  # noqa: BLE001 - a harness bug is reported as such, not as a dockopt crash
        problem("trace-error", f"[{codes}] {traceback.format_exc(limit=-4)}")
        return
    result.counts[f"{mode}: trace {verdict.status} (files)"] += 1
    result.counts[f"{mode}: trace {verdict.status} (fixes)"] += len(fixed.applied)
    if verdict.status == "unprovable":
        result.counts[f"{mode}: trace unprovable: {verdict.category}"] += 1
    if verdict.status != "proven":
        problem(f"trace-{verdict.status}", f"[{codes}] {verdict.reason}")


def check_file(path: Path) -> FileResult:
    """Every invariant on one corpus file; never raises."""
    try:
        text = read_source(path).text
    except FileError:
        result = FileResult(str(path))
        result.counts["unreadable (reported as an error, exit 2)"] += 1
        return result
    return check_text(text, str(path), lambda: linter(path))


def text_linter() -> Callable[[str], LintResult]:
    """Lint a text with every rule and no build context (a generated file has none)."""
    return lambda text: lint(text, "Dockerfile", Everything())


def _memoised(run: Callable[[str], LintResult]) -> Callable[[str], LintResult]:
    """``run`` remembering its result per text: both fix modes start by linting the original
    text, which ``base`` already is, and the idempotence check re-lints the fixed text the
    fixer's last pass linted. Linting is deterministic and the fixer only reads the results."""
    results: dict[str, LintResult] = {}

    def cached(text: str) -> LintResult:
        found = results.get(text)
        if found is None:
            found = results[text] = run(text)
        return found

    return cached


def check_text(text: str, display: str, make_linter: Callable[[], Callable[[str], LintResult]] = text_linter,
               trace_modes: tuple[str, ...] = ("safe", "unsafe")) -> FileResult:
    """Every invariant on one text; never raises. ``make_linter`` is called inside the guard.
    ``trace_modes``: the fix modes whose result the trace harness proves."""
    result = FileResult(display)
    mode = "lint"
    try:
        run = _memoised(make_linter())
        base = run(text)
        result.counts["files"] += 1
        result.counts["findings"] += len(base.diagnostics)
        if base.document.errors:
            result.counts["syntax errors (never fixed)"] += 1
        for mode in ("safe", "unsafe"):
            _check_fix(result, mode, text, base, run, trace=mode in trace_modes)
    except Exception:  # noqa: BLE001 - the invariant under test: dockopt never raises
        result.problems.append(Problem("crash", mode, display, traceback.format_exc(limit=-6)))
    return result
