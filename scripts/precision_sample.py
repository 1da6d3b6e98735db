#!/usr/bin/env python3
"""Draw a judged precision sample of dockopt's default rules over the shared corpus (issue 16).

    python scripts/precision_sample.py draw   [--per-rule 15] [--seed 16 --seed 1623]  # print the draws to judge
    python scripts/precision_sample.py report [--verdicts docs/precision_verdicts.tsv]   # write docs/precision.md
    python scripts/precision_sample.py pool --pool /tmp/pool.jsonl                       # lint once, save the findings
    python scripts/precision_sample.py report --fresh 2612=DO101,DO102                   # plus a fresh seed for some rules

``--pool FILE`` on draw/report reads the findings that ``pool`` saved instead of linting the corpus
again (the file records the commit it was made on; it is refused when the tree has moved on).

The draw, per default rule: lint every file of ../shared/corpus/real with the default selection
(no build context: the corpus has none, so context rules such as DO203/DO303/DO305 are silent),
collect the rule's findings, shuffle them with ``random.Random(f"{seed}:{code}")``, then take them
round-robin over repositories (one finding per repository per round, repositories in shuffled
order; within a repository, findings in shuffled order) until ``--per-rule`` are taken or none
are left. So the sample is spread over as many repositories as the rule fires in, and a rule with
fewer findings than ``--per-rule`` is judged in full.

Verdicts live in a TSV (file, line, rule, verdict, reason) with verdict one of ``act`` (true and
worth acting on), ``true`` (true but not worth acting on), ``false`` (a false positive). ``report``
joins the current draw with the verdicts and writes docs/precision.md; a drawn finding without a
verdict is listed as unjudged, and makes the report fail.
"""
from __future__ import annotations

import argparse
import collections
import csv
import hashlib
import json
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dockopt.checks import rule_defaults
from dockopt.fileio import FileError, read_source
from dockopt.linter import DefaultSelector, lint

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "real"
VERDICTS = ROOT / "docs" / "precision_verdicts.tsv"
FIXED = ROOT / "docs" / "precision_fixed.tsv"  # false positives found while sampling, fixed since
REPORT = ROOT / "docs" / "precision.md"
VERDICT_NAMES = {"act": "true, worth acting on", "true": "true, not worth acting on", "false": "false"}


@dataclass(frozen=True)
class Drawn:
    file: str  # relative to the corpus
    line: int
    code: str
    message: str
    excerpt: str

    @property
    def key(self) -> tuple[str, str, str]:
        return self.file, str(self.line), self.code


def findings(corpus: Path) -> dict[str, list[Drawn]]:
    codes = frozenset(code for code, on in rule_defaults().items() if on)
    found: dict[str, list[Drawn]] = collections.defaultdict(list)
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        try:
            source = read_source(path)
        except FileError:
            continue
        result = lint(source.text, str(path), DefaultSelector(codes), path=path)
        lines = source.text.splitlines()
        for d in result.diagnostics:
            first = d.start.line - 1
            excerpt = "\n".join(lines[max(0, first - 2): first + 3])
            found[d.code].append(Drawn(str(path.relative_to(corpus)), d.start.line, d.code, d.message, excerpt))
    return found


def _revision() -> str:
    """The last commit that changed the code plus a digest of its uncommitted changes, so a saved
    pool is not reused across code changes (a docs-only commit keeps it)."""
    head = subprocess.run(["git", "log", "-1", "--format=%H", "--", "src"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()
    diff = subprocess.run(["git", "diff", "HEAD", "--", "src"], cwd=ROOT, capture_output=True, text=True).stdout
    return f"{head}+{hashlib.sha256(diff.encode()).hexdigest()[:12]}" if diff else head


def save_pool(found: dict[str, list[Drawn]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(json.dumps({"revision": _revision()}) + "\n")
        for items in found.values():
            for item in items:
                handle.write(json.dumps(item.__dict__) + "\n")


def load_pool(path: Path) -> dict[str, list[Drawn]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    saved = json.loads(lines[0])["revision"]
    if saved != _revision():
        raise SystemExit(f"{path} was made on {saved}, the tree is {_revision()}: run 'pool' again")
    found: dict[str, list[Drawn]] = collections.defaultdict(list)
    for line in lines[1:]:
        item = Drawn(**json.loads(line))
        found[item.code].append(item)
    return found


def draw(found: dict[str, list[Drawn]], per_rule: int, seed: int) -> dict[str, list[Drawn]]:
    sample: dict[str, list[Drawn]] = {}
    for code, pool in sorted(found.items()):
        rng = random.Random(f"{seed}:{code}")
        shuffled = list(pool)
        rng.shuffle(shuffled)
        by_repo: dict[str, list[Drawn]] = collections.defaultdict(list)
        for item in shuffled:
            by_repo[item.file.split("/", 1)[0]].append(item)
        repos = list(by_repo)
        rng.shuffle(repos)
        taken: list[Drawn] = []
        while len(taken) < per_rule and any(by_repo.values()):
            for repo in repos:
                if by_repo[repo] and len(taken) < per_rule:
                    taken.append(by_repo[repo].pop(0))
        sample[code] = taken
    return sample


def read_verdicts(path: Path) -> dict[tuple[str, str, str], tuple[str, str]]:
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle, delimiter="\t")
        return {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows if r and not r[0].startswith("#") and len(r) >= 5}


def report(samples: dict[int, dict[str, list[Drawn]]], totals: dict[str, int],
           verdicts: dict[tuple[str, str, str], tuple[str, str]], per_rule: int, files: int,
           fresh: frozenset[int] = frozenset()) -> tuple[str, int]:
    seeds = " ".join(f"--fresh {seed}={','.join(sorted(sample))}" if seed in fresh else f"--seed {seed}"
                     for seed, sample in samples.items())
    out = ["# Precision of the default rules on the shared corpus (issue 16)", "",
           f"Drawn by `python scripts/precision_sample.py report --per-rule {per_rule} {seeds}` over the "
           f"{files} files of `../shared/corpus/real` (no build context), judged by reading each file; the "
           "script rebuilds this page from the draws and `docs/precision_verdicts.tsv`, and "
           "`python scripts/precision_sample.py draw --seed N` prints a draw with the excerpts to judge.", "",
           "Verdicts: **act** = true and worth acting on; **true** = true but not worth acting on; "
           "**false** = a false positive. Precision = (act + true) / judged.", ""]
    notes = ROOT / "docs" / "precision_notes.md"
    if notes.exists():
        out += [notes.read_text(encoding="utf-8").rstrip(), ""]
    unjudged = 0
    detail: list[str] = []
    for seed, sample in samples.items():
        title = f"## Seed {seed}" + (" (fresh draw, " + ", ".join(sorted(sample)) + " only)" if seed in fresh else "")
        out += [title, "",
                "| rule | findings in corpus | judged | act | true | false | precision | worth acting on |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        detail += ["", f"## Seed {seed}: every judged finding", ""]
        for code, items in sorted(sample.items()):
            counts: collections.Counter[str] = collections.Counter()
            for item in items:
                verdict = verdicts.get(item.key)
                counts[verdict[0] if verdict else "unjudged"] += 1
            unjudged += counts["unjudged"]
            judged = counts["act"] + counts["true"] + counts["false"]
            precision = f"{100 * (counts['act'] + counts['true']) / judged:.0f}%" if judged else "-"
            acting = f"{100 * counts['act'] / judged:.0f}%" if judged else "-"
            note = " (all)" if len(items) < per_rule else ""
            out.append(f"| {code} | {totals[code]} | {judged}{note} | {counts['act']} | {counts['true']} | "
                       f"{counts['false']} | {precision} | {acting} |")
            detail += ["", f"### {code} (seed {seed})", "", "| file | line | verdict | reason |",
                       "| --- | ---: | --- | --- |"]
            for item in items:
                verdict, reason = verdicts.get(item.key, ("unjudged", ""))
                detail.append(f"| `{item.file}` | {item.line} | {verdict} | {reason.replace('|', '/')} |")
        out.append("")
    fixed = _rows(FIXED)
    if fixed:
        detail += ["", "## False positives found while sampling, fixed since", "",
                   "Earlier draws (same script, earlier commits) held these; each class was fixed with a test "
                   "that fails before the fix, so they are not in the draws above.", "",
                   "| file | line | rule | what was wrong |", "| --- | ---: | --- | --- |"]
        detail += [f"| `{r[0]}` | {r[1]} | {r[2]} | {r[3].replace('|', '/')} |" for r in fixed]
    # The context rules are measured by scripts/context_precision.py with real repositories;
    # their section is written by hand and kept at the end of the page.
    context_section = ROOT / "docs" / "precision_context.md"
    if context_section.exists():
        detail += ["", context_section.read_text(encoding="utf-8").rstrip()]
    return "\n".join(out + detail) + "\n", unjudged


def _rows(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return [r for r in csv.reader(handle, delimiter="\t") if r and not r[0].startswith("#") and len(r) >= 4]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("draw", "report", "pool"))
    parser.add_argument("--pool", type=Path, help="findings saved by 'pool' (read by draw/report)")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--per-rule", type=int, default=15)
    parser.add_argument("--seed", type=int, action="append", help="repeatable (default: 16 and 1623)")
    parser.add_argument("--fresh", action="append", default=[], metavar="SEED=DO101,DO102",
                        help="a fresh seed drawn for some rules only (after fixing them); repeatable")
    parser.add_argument("--verdicts", type=Path, default=VERDICTS)
    parser.add_argument("--output", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    if args.command == "pool":
        if not args.pool:
            parser.error("pool needs --pool FILE")
        save_pool(findings(args.corpus), args.pool)
        return 0
    found = load_pool(args.pool) if args.pool else findings(args.corpus)
    seeds = args.seed or [16, 1623]
    samples = {seed: draw(found, args.per_rule, seed) for seed in seeds}
    for fresh in args.fresh:
        seed_text, _, codes = fresh.partition("=")
        wanted = set(codes.split(","))
        samples[int(seed_text)] = {c: items for c, items in draw(found, args.per_rule, int(seed_text)).items()
                                   if c in wanted}
    verdicts = read_verdicts(args.verdicts)
    if args.command == "draw":
        for code, items in ((c, i) for sample in samples.values() for c, i in sample.items()):
            for item in items:
                known = verdicts.get(item.key)
                mark = f"[{known[0]}] " if known else ""
                print(f"=== {mark}{item.file}:{item.line} {item.code}\n{item.message}\n---\n{item.excerpt}\n")
        return 0
    files = sum(1 for p in args.corpus.rglob("*") if p.is_file())
    fresh_seeds = frozenset(int(f.partition("=")[0]) for f in args.fresh)
    text, unjudged = report(samples, {c: len(v) for c, v in found.items()}, verdicts, args.per_rule, files,
                            fresh_seeds)
    args.output.write_text(text, encoding="utf-8")
    print(text.split("\n## ")[0])
    if unjudged:
        print(f"{unjudged} drawn findings have no verdict in {args.verdicts}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
