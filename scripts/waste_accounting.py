"""Measure the one accounting of waste over a corpus: which waste items findings name.

    python scripts/waste_accounting.py [CORPUS_DIR] [--missed N]

Prints the share of waste items of known size (shipped stages) that a finding of the
default selection names, the documented exceptions, the unreported classes and double
counts. The corpus defaults to ../shared/corpus/real.
"""
from __future__ import annotations

import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _one(path: Path) -> list[tuple[str, str, str, int, int]]:
    from dockopt.layers.accounting import account_text, describe

    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return []
    try:
        accounting = account_text(text)
    except RecursionError:
        return []
    if accounting is None:
        return []
    out = []
    for item in accounting.items:
        state = "reported" if item.reported else (f"except:{item.exception}" if item.exception else "missed")
        out.append((str(path), state, describe(item), item.waste.size or 0, len(item.named_by)))
    return out


def main(argv: list[str]) -> int:
    corpus = Path(argv[0]) if argv and not argv[0].startswith("-") else ROOT.parent / "shared" / "corpus" / "real"
    shown = int(argv[argv.index("--missed") + 1]) if "--missed" in argv else 10
    files = sorted(p for p in corpus.rglob("*") if p.is_file())
    with ProcessPoolExecutor(2) as pool:
        rows = [row for rows in pool.map(_one, files, chunksize=16) for row in rows]
    unknown = [r for r in rows if not r[3]]
    rows = [r for r in rows if r[3]]
    states = Counter(r[1] for r in rows)
    total = len(rows)
    reported = states["reported"]
    excepted = sum(v for k, v in states.items() if k.startswith("except:"))
    size_all = sum(r[3] for r in rows)
    size_ok = sum(r[3] for r in rows if r[1] != "missed")
    print(f"{len(files)} files; {total} waste items of known size in shipped stages ({size_all / 1e9:.1f} GB)")
    print(f"named by a default finding: {reported} ({100 * reported / max(total, 1):.0f}%)")
    print(f"documented exceptions: {excepted} " + str({k: v for k, v in states.items() if k.startswith('except')}))
    print(f"accounted (named or excepted): {reported + excepted} of {total} "
          f"({100 * (reported + excepted) / max(total, 1):.0f}%), bytes {100 * size_ok / max(size_all, 1):.0f}%")
    unknown_missed = [r for r in unknown if r[1] == "missed"]
    print(f"waste items of unknown size: {len(unknown)} " + str(dict(Counter(r[1] for r in unknown)))
          + f", unreported and not excepted: {len(unknown_missed)}")
    for r in unknown_missed[:shown]:
        print("  MISSED (unknown size)", r[0], r[2])
    print(f"named by more than one finding: {sum(1 for r in rows if r[4] > 1)}")
    missed = [r for r in rows if r[1] == "missed"]
    kinds = Counter(r[2].split(" ", 1)[0] + " / " + r[2].rsplit("`", 2)[-2].split(" ")[0] for r in missed)
    print("missed classes (category / remover):", kinds.most_common(15))
    for r in missed[:shown]:
        print("  MISSED", r[0], r[2])
    for r in [r for r in rows if r[4] > 1][:shown]:
        print("  DOUBLE", r[0], r[2])
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    raise SystemExit(main(sys.argv[1:]))
