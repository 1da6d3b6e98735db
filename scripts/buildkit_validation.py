#!/usr/bin/env python3
"""Count what dockopt.syntax.validate (BuildKit's instruction-level checks, DO000) flags in a
tree of Dockerfiles that the line parser accepts, with the messages.

    python scripts/buildkit_validation.py ../shared/corpus/real [N shown]
    python scripts/buildkit_validation.py ../shared/corpus/parser-cases/buildkit/testfiles-negative
"""
import sys
from collections import Counter
from pathlib import Path

from dockopt.fileio import read_source, FileError
from dockopt.syntax import parse
from dockopt.syntax.validate import validate

root = Path(sys.argv[1])
files = sorted(p for p in root.rglob("*") if p.is_file() and p.name not in {"MANIFEST.tsv", "README.md", "result"})
flagged, parse_errors, total = [], 0, 0
messages = Counter()
for path in files:
    try:
        text = read_source(path).text
    except FileError:
        continue
    total += 1
    doc = parse(text)
    if doc.errors:
        parse_errors += 1
        continue
    issues = validate(doc)
    if issues:
        flagged.append((path, issues))
        for i in issues:
            messages[i.message.split('"')[0][:60]] += 1
print(f"{root}: {total} files, {parse_errors} with line-parser errors, {len(flagged)} flagged by validate()")
for path, issues in flagged[: int(sys.argv[2]) if len(sys.argv) > 2 else 50]:
    print(" ", path.relative_to(root), "|", "; ".join(f"{i.line}:{i.column} {i.message}" for i in issues))
print(messages.most_common(20))

