#!/usr/bin/env python3
"""Where a lint run's time goes: CPU seconds per phase and per rule, in-process, over a corpus.

Usage (from the project root)::

    .venv/bin/python bench/components.py [--corpus DIR] [--limit N]

Each file goes through the phases ``dockopt.linter.lint`` runs, timed separately: the
Dockerfile parse, the build model, the shell parse of every RUN (tree-sitter-bash and the
conversion to dockopt's command model), the command invocations, the layer simulation,
then each rule on a context that already holds all of those (so a rule's time is its own).
CPU time (``time.process_time``), not wall time: on a shared machine other processes then
matter less. Start-up (imports) is not included; ``python -X importtime`` shows that part.
"""
from __future__ import annotations

import argparse
import gc
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = PROJECT.parent / "shared" / "corpus" / "real"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(PROJECT / "src"))

    from dockopt.checks import LintContext, all_rules
    from dockopt.context.build_context import BuildContext
    from dockopt.fileio import FileError, read_source
    from dockopt.layers import simulate
    from dockopt.layers.invocations import invocations
    from dockopt.model import build_model
    from dockopt.syntax import parse

    files = sorted(p for p in args.corpus.rglob("*") if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md"))
    files = files[: args.limit] if args.limit else files
    rules = all_rules()
    seconds: dict[str, float] = defaultdict(float)
    clock = time.process_time

    def timed(phase: str, start: float) -> float:
        now = clock()
        seconds[phase] += now - start
        return now

    contexts: dict[Path, BuildContext] = {}
    gc.collect()
    for path in files:
        try:
            text = read_source(path).text
        except FileError:
            continue
        start = clock()
        document = parse(text)
        start = timed("parse (syntax)", start)
        if document.errors:
            continue
        build = build_model(document)
        start = timed("build model", start)
        runs = [run for stage in build.stages for ins in stage.instructions if (run := build.run_of(ins))]
        for run in runs:
            _ = run.script
        start = timed("shell parse (tree-sitter + model)", start)
        for run in runs:
            list(invocations(run))
        start = timed("invocations", start)
        # One context per directory, as the CLI's runner keeps them (its listing is then
        # charged to the first rule that reads it, once per directory).
        context = contexts.get(path.parent) or contexts.setdefault(path.parent, BuildContext.for_dockerfile(path, None))
        ctx = LintContext(document, path, context, None)
        ctx.__dict__["build"] = build  # the cached_property's slot: reuse the timed model
        ctx.__dict__["layers"] = simulate(build, context)
        start = timed("layer simulation", start)
        for code, rule in rules.items():
            for _finding in rule.check(ctx):
                pass
            start = timed(code, start)

    total = sum(seconds.values())
    print(f"{len(files)} files, {total:.2f} CPU s in lint phases ({1000 * total / max(len(files), 1):.2f} ms/file)")
    for phase, value in sorted(seconds.items(), key=lambda item: -item[1]):
        print(f"{phase:36s} {value:7.2f} s {100 * value / total:5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
