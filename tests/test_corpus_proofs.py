"""Every safe fix over the whole shared corpus is proven by the trace harness (issue 14).

For each corpus file, every fix labelled safe is applied alone (one pass, as ``dockopt
fix`` would apply it first) and ``tests.trace.prove`` runs the original and the fixed build
under dash and bash in every scenario: all commands succeed, each command in turn fails. A
fix that is disproven, or that the harness cannot prove, must not be labelled safe ("a fix
that cannot be proven is not safe").

Slow: by default a fixed 1 in 20 files (``DOCKOPT_PROOF_EVERY``, see
``tests.trace.proof_sampled``; 1 proves the whole corpus); ``python scripts/fix_safety_counts.py --prove --details``
prints the same counts per rule and lists each fix that is not proven.
"""
from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from dockopt.fileio import FileError, read_source
from dockopt.fixes.fixer import apply_edits
from dockopt.linter import lint
from tests.corpus import corpus_files
from tests.invariants import Everything
from tests.trace import proof_sampled, prove, unavailable

pytestmark = [pytest.mark.slow, pytest.mark.skipif(unavailable() is not None, reason=unavailable() or "")]

PARTS = ("real", "templates", "parser-cases")
SHOWN = 20
# Safe fixes of the default sample that the harness does not prove yet, per rule: measured on
# 2026-12-05 02:59 UTC (172 sampled files, 209 safe fixes: 201 proven, 0 disproven, 8
# unprovable, all 'gap: command not found' in percona-xtradb-cluster-9.x's aarch64 file, which
# the stub world's git clone fills since (its 8 fixes proven after)). Before the day's harness
# work: 129 proven, 5 disproven, 75 unprovable. A ratchet: any not-proven safe fix fails the run
# (a fix that cannot be proven is not safe: make it unsafe, or close the harness's gap).
# 04:05 UTC: 27 DO105 fixes in two aws-codebuild files (ubuntu standard 8.0 and 3.0) count again:
# a gap fill there makes the original fail before the merged RUNs (`mkdir` of a directory the
# fill created), and such a build now proves nothing (tests/trace/prove.py, _prove_in) - they
# had passed as proven although the merged RUNs never ran. Closing that gap is issue 14's.
# 06:02 UTC: 0. The stub world now models what those builds need (mkdir of a filled directory,
# rm -r of a made one, relative commands in made directories, more fills): the sample's 209
# safe fixes are all proven (DO101 1, DO102 26, DO103 1, DO105 171, DO404 10), in 977 s.
# 06:52 UTC: 11 DO105. A build that stops before the end of the changed steps in every scenario
# proves nothing in any world, not only a filled one (e900460): they had counted as proven
# although their merged RUNs never ran. Left: a check of real output the stubs cannot give
# (adoptium's jshell file.encoding '[ = UTF-8 ]', wordpress '[ -d ]' of an extracted tree,
# home-assistant's 'exit 1' branch, sclorg). 198 proven (DO101 1, DO102 26, DO103 1, DO105 160,
# DO404 10), in 896 s under load.
# 2026-12-05 10:07 UTC: 0. Those checks of real output are forced to the value the real build
# gives them (tests/trace/guards.py), and the stub world answers more as real programs do (text
# filters, downloads, base-image variables): 208 of the 209 proven (DO101 1, DO102 26, DO103 1,
# DO105 170, DO404 10) in 1,043 s under load; the 209th (tomcat 9.0 jre8, a shell message
# captured into an xtrace line that 1356c2c stopped reading as a gap) is proven since.
KNOWN_NOT_PROVEN: dict[str, int] = {}


def _prove_file(path: Path) -> tuple[Counter[str], list[str]]:
    counts: Counter[str] = Counter()
    problems: list[str] = []
    try:
        text = read_source(path).text
    except FileError:
        return counts, problems
    for d in lint(text, str(path), Everything(), path=path).diagnostics:
        if d.fix is None or d.fix.applicability.value != "safe":
            continue
        verdict = prove(text, apply_edits(text, list(d.fix.edits)))
        counts[f"{d.code} {verdict.status}"] += 1
        if not verdict.proven:
            problems.append(f"{path}:{d.start.line} {d.code} {verdict}")
    return counts, problems


def test_sampled_safe_fixes_are_proven_or_known() -> None:
    files = [path for part in PARTS for path in corpus_files(part) if proof_sampled(path)]
    files.sort(key=lambda p: -p.stat().st_size)
    total: Counter[str] = Counter()
    problems: list[str] = []
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        for counts, found in pool.map(_prove_file, files, chunksize=8):
            total.update(counts)
            problems.extend(found)
    print("\n[proofs] " + ", ".join(f"{k} {v}" for k, v in sorted(total.items())))
    not_proven = Counter(problem.split(" ", 2)[1] for problem in problems)
    over = {code: n for code, n in not_proven.items() if n > KNOWN_NOT_PROVEN.get(code, 0)}
    assert not over, (f"safe fixes not proven, per rule, above what is known (issue 14): {over}; "
                      f"known {KNOWN_NOT_PROVEN}:\n" + "\n".join(sorted(problems)[:SHOWN]))
