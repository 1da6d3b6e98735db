#!/usr/bin/env python3
"""Per-rule finding counts over the shared corpus, and deterministic samples to hand-check.

    python scripts/corpus_counts.py                      # every rule, counts
    python scripts/corpus_counts.py --select DO101,DO102 # some rules
    python scripts/corpus_counts.py --sample 20 --code DO101   # 20 findings to read
    python scripts/corpus_counts.py --fixes              # also count fixable findings

Runs in-process (no CLI), so it measures the rules, not start-up.
"""
from __future__ import annotations

import argparse
import collections
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from dockopt.diagnostics import Diagnostic, Severity
from dockopt.linter import lint
from dockopt.fileio import FileError, read_source
from dockopt.rulebook import load_rulebook

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "real"


@dataclass(frozen=True)
class Codes:
    codes: frozenset[str]

    def enabled(self, code: str, path: str | None) -> bool:
        return code in self.codes

    def severity(self, code: str, default: Severity) -> Severity:
        return default


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--select", help="comma-separated codes (default: every rule)")
    parser.add_argument("--sample", type=int, default=0)
    parser.add_argument("--code", help="the rule to sample")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fixes", action="store_true")
    args = parser.parse_args(argv)

    codes = frozenset(args.select.upper().split(",")) if args.select else frozenset(load_rulebook())
    files = sorted(p for p in args.corpus.rglob("*") if p.is_file())
    counts: collections.Counter[str] = collections.Counter()
    files_with: collections.Counter[str] = collections.Counter()
    fixable: collections.Counter[str] = collections.Counter()
    found: dict[str, list[tuple[Path, Diagnostic, str]]] = collections.defaultdict(list)
    started = time.perf_counter()
    for path in files:
        try:
            source = read_source(path)
        except FileError:
            continue
        result = lint(source.text, str(path), Codes(codes), path=path)
        seen: set[str] = set()
        for d in result.diagnostics:
            counts[d.code] += 1
            if d.fix is not None:
                fixable[f"{d.code}:{d.fix.applicability.value}"] += 1
            if d.code not in seen:
                files_with[d.code] += 1
                seen.add(d.code)
            line_text = result.document.index.line_text(d.start.line).strip()
            found[d.code].append((path, d, line_text))
    elapsed = time.perf_counter() - started
    print(f"{len(files)} files in {elapsed:.1f}s ({len(files) / elapsed:.0f} files/s)")
    print(f"{'code':<7} {'findings':>9} {'files':>7}")
    for code in sorted(codes):
        print(f"{code:<7} {counts[code]:>9} {files_with[code]:>7}")
    if args.fixes:
        for key, n in sorted(fixable.items()):
            print(f"fixable {key}: {n}")
    if args.sample and args.code:
        pool = found.get(args.code.upper(), [])
        rng = random.Random(args.seed)
        for path, d, text in rng.sample(pool, min(args.sample, len(pool))):
            rel = path.relative_to(args.corpus) if path.is_relative_to(args.corpus) else path
            print(f"\n{rel}:{d.start.line}: {d.code} {d.message}\n    {text[:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
