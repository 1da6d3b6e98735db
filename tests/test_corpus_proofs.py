"""Every safe fix over the whole shared corpus is proven by the trace harness (issue 14).

For each corpus file, every fix labelled safe is applied alone (one pass, as ``dockopt
fix`` would apply it first) and ``tests.trace.prove`` runs the original and the fixed build
under dash and bash in every scenario: all commands succeed, each command in turn fails. A
fix that is disproven, or that the harness cannot prove, must not be labelled safe ("a fix
that cannot be proven is not safe").

Slow (a few minutes on two cores); ``python scripts/fix_safety_counts.py --prove --details``
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
from tests.trace import prove, unavailable

pytestmark = [pytest.mark.slow, pytest.mark.skipif(unavailable() is not None, reason=unavailable() or "")]

PARTS = ("real", "templates", "parser-cases")
SHOWN = 20


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


def test_every_safe_fix_on_the_corpus_is_proven() -> None:
    files = [path for part in PARTS for path in corpus_files(part)]
    files.sort(key=lambda p: -p.stat().st_size)
    total: Counter[str] = Counter()
    problems: list[str] = []
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        for counts, found in pool.map(_prove_file, files, chunksize=8):
            total.update(counts)
            problems.extend(found)
    print("\n[proofs] " + ", ".join(f"{k} {v}" for k, v in sorted(total.items())))
    assert not problems, f"{len(problems)} safe fixes not proven:\n" + "\n".join(sorted(problems)[:SHOWN])
