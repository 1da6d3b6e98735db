#!/usr/bin/env python3
"""Fixes offered over the shared corpus, per rule and applicability (safe / unsafe / suggestion).

    python scripts/fix_safety_counts.py                  # real/, templates/, parser-cases/
    python scripts/fix_safety_counts.py --select DO101,DO102,DO103,DO105,DO106
    python scripts/fix_safety_counts.py --refusals       # also findings of those rules with no fix
    python scripts/fix_safety_counts.py --prove          # also run the trace harness on safe fixes
    python scripts/fix_safety_counts.py --merge-refusals # why adjacent RUN pairs are not merged

Every rule is enabled (``--select ALL``), so DO105 (off by default) is counted too. The counts
are of findings as linted on the original text (one pass, before any fix is applied). With
``--prove``, each safe fix is applied alone to its file and ``tests.trace.prove`` compares the
original and the fixed file (when the harness is importable): proven / disproven / unprovable
(``--details`` lists each one that is not proven, with the harness's reason).
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dockopt.diagnostics import Severity  # noqa: E402
from dockopt.fileio import FileError, read_source  # noqa: E402
from dockopt.fixes.fixer import apply_edits  # noqa: E402
from dockopt.linter import lint  # noqa: E402

CORPUS = Path(os.environ.get("DOCKOPT_CORPUS", ROOT.parent / "shared" / "corpus"))
PARTS = ("real", "templates", "parser-cases")
MERGE_RULES = ("DO101", "DO102", "DO103", "DO105", "DO106")


class Everything:
    def enabled(self, code: str, path: str | None) -> bool:
        return True

    def severity(self, code: str, default: Severity) -> Severity:
        return default


def _count(job: tuple[Path, bool]) -> collections.Counter[str]:
    path, prove = job
    counts: collections.Counter[str] = collections.Counter()
    try:
        text = read_source(path).text
    except (FileError, OSError, UnicodeError):
        return counts
    try:
        result = lint(text, str(path), Everything(), path=path)
    except Exception:  # noqa: BLE001 - counted, the invariants test reports crashes
        counts["crash"] += 1
        return counts
    for d in result.diagnostics:
        if d.fix is None:
            counts[f"{d.code}\tnone"] += 1
            continue
        kind = d.fix.applicability.value
        counts[f"{d.code}\t{kind}"] += 1
        if prove and kind == "safe":
            verdict, reason = _prove(text, apply_edits(text, list(d.fix.edits)))
            counts[f"{d.code}\tsafe-{verdict}"] += 1
            if verdict != "proven":
                counts[f"detail\t{d.code}\t{verdict}\t{path}:{d.start.line}\t{reason}"] += 1
    return counts


def _merge_refusals(path: Path) -> collections.Counter[str]:
    """Why ``join_runs`` refuses each pair of adjacent RUNs of the file (DO105's pairs)."""
    import re

    from dockopt.fixes.merge import blocking_instruction, join_refusal
    from dockopt.model import build_model
    from dockopt.syntax import parse

    counts: collections.Counter[str] = collections.Counter()
    try:
        document = parse(read_source(path).text)
        build = build_model(document)
    except Exception:  # noqa: BLE001
        return counts
    for stage in build.stages:
        for first, second in zip(stage.runs, stage.runs[1:]):
            if blocking_instruction(build, first.instruction, second.instruction) is not None:
                continue
            reason = join_refusal(build, (first, second))
            counts["merged" if reason is None else re.sub(r"\(.*?\)|'[^']*'", "(...)", reason)] += 1
    return counts


def _prove(original: str, fixed: str) -> tuple[str, str]:
    try:
        from tests.trace import prove
    except ImportError:
        return "no-harness", ""
    try:
        verdict = prove(original, fixed)
    except Exception as error:  # noqa: BLE001
        return "unprovable", f"harness error: {error!r}"[:200]
    return verdict.status, verdict.reason[:300]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--select", default="", help="comma-separated rule codes (default: all)")
    parser.add_argument("--refusals", action="store_true", help="also count findings without a fix")
    parser.add_argument("--prove", action="store_true", help="run the trace harness on each safe fix")
    parser.add_argument("--merge-refusals", action="store_true", help="why adjacent RUN pairs are not merged")
    parser.add_argument("--details", action="store_true", help="with --prove: list every safe fix not proven")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    files = sorted(p for part in PARTS for p in (CORPUS / part).rglob("*")
                   if p.is_file() and p.name not in {"MANIFEST.tsv", "README.md"})
    if args.merge_refusals:
        with ProcessPoolExecutor(args.jobs) as pool:
            reasons: collections.Counter[str] = collections.Counter()
            for counts in pool.map(_merge_refusals, files, chunksize=16):
                reasons.update(counts)
        print(f"{len(files)} files; adjacent RUN pairs by join_runs' answer:")
        for reason, count in reasons.most_common():
            print(f"{count:6d}  {reason}")
        return 0
    with ProcessPoolExecutor(args.jobs) as pool:
        total: collections.Counter[str] = collections.Counter()
        for counts in pool.map(_count, [(f, args.prove) for f in files], chunksize=16):
            total.update(counts)
    selected = {c for c in args.select.split(",") if c}
    rows: dict[str, dict[str, int]] = collections.defaultdict(dict)
    for key, value in total.items():
        if "\t" not in key:
            continue
        code, kind = key.split("\t")
        if selected and code not in selected:
            continue
        rows[code][kind] = value
    kinds = ["safe", "unsafe", "suggestion"] + (["none"] if args.refusals else [])
    if args.prove:
        kinds += sorted({k for r in rows.values() for k in r if k.startswith("safe-")})
    print(f"{len(files)} files")
    print("rule\t" + "\t".join(kinds))
    for code in sorted(rows):
        if not any(rows[code].get(k) for k in kinds):
            continue
        print(code + "\t" + "\t".join(str(rows[code].get(k, 0)) for k in kinds))
    if total.get("crash"):
        print(f"crashes: {total['crash']}")
    details = sorted(k for k in total if k.startswith("detail\t"))
    if details and args.details:
        print("\nsafe fixes not proven:")
        for key in details:
            print("  " + key.split("\t", 1)[1].replace("\t", "  "))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
