#!/usr/bin/env python3
"""What DO301's reordering saves: steps rerun after a one-line source edit, before and after the fix.

    python scripts/cache_measure.py Dockerfile --context DIR [--edit src/app.py]
    python scripts/cache_measure.py --corpus [DIR]     # every corpus file DO301 flags

Static, with dockopt's cache model (``dockopt.cache.model``): edit one context file, find the first
step of each stage whose cache key includes it (a COPY/ADD or bind mount selecting it), and
count that step and every later filesystem step of the stage as rerun, plus the stages that
build on it or copy from it. Counted over the stages the final stage needs: *build steps*
are RUN, COPY and ADD; *expensive steps* are RUNs that install packages or dependencies,
build or download (``dockopt.cache.model.expensive_reason``).

The fix is applied with unsafe fixes allowed (the report says how many were safe).

Corpus files come without their build context, so one is synthesised (the assumption): every
file a COPY/ADD names exists; each directory source holds a source file ``main.src``; and
each install DO301 recognises finds its ecosystem's manifests and lock files (``guess``
names of ``dockopt.cache.ecosystems``, and the files the command names). The edited file is the
``main.src`` of the first broad COPY DO301 reports.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dockopt.cache.model import FileChanged, cache_model, expensive_reason
from dockopt.checks.base import LintContext
from dockopt.context.build_context import BuildContext, normalize
from dockopt.diagnostics import Applicability, Severity
from dockopt.linter import lint
from dockopt.fixes.fixer import fix_text
from dockopt.fixes.manifest_first import find_candidates, looks_like_tree
from dockopt.fixes.reorder import expand, stage_places
from dockopt.syntax import parse

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "real"
STEPS = ("RUN", "COPY", "ADD")
SOURCE_FILE = "main.src"


@dataclass(frozen=True)
class Only:
    codes: frozenset[str]

    def enabled(self, code: str, path: str | None) -> bool:
        return code in self.codes

    def severity(self, code: str, default: Severity) -> Severity:
        return default


@dataclass(frozen=True)
class Count:
    steps: int
    rerun: int
    expensive: int
    expensive_rerun: int


def count(text: str, context: BuildContext, edited: str) -> Count:
    ctx = LintContext(parse(text), None, context)
    model = cache_model(ctx)
    rerun = model.reruns(FileChanged(edited, context))
    steps = expensive = steps_rerun = expensive_rerun = 0
    for stage in ctx.build.needed_stages():
        for ins in stage.instructions:
            if ins.name not in STEPS:
                continue
            steps += 1
            hit = id(ins) in rerun
            steps_rerun += hit
            if ins.name == "RUN" and expensive_reason(ctx, ins) is not None:
                expensive += 1
                expensive_rerun += hit
    return Count(steps, steps_rerun, expensive, expensive_rerun)


def fix(text: str, context: BuildContext) -> tuple[str, int, int]:
    """The text after DO301's fixes, with the numbers of safe and unsafe fixes applied."""
    result = fix_text(text, lambda t: lint(t, "Dockerfile", Only(frozenset({"DO301"})), build_context=context),
                      unsafe=True)
    safe = sum(1 for d in result.applied if d.fix is not None and d.fix.applicability is Applicability.SAFE)
    return result.text, safe, len(result.applied) - safe


def synthesise(text: str, root: Path) -> str | None:
    """Write a minimal context for ``text`` under ``root``; the file to edit, or None."""
    document = parse(text)
    ctx = LintContext(document, None, BuildContext.unknown())
    build = ctx.build

    def touch(path: str, content: str = "x\n") -> None:
        clean = normalize(path)
        if not clean or "*" in clean or "?" in clean or "[" in clean:
            return
        target = root / clean
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)

    for stage in build.stages:
        for place in stage_places(build, stage):
            ins = place.instruction
            if ins.name not in ("COPY", "ADD") or ins.heredocs or ins.flag("from") is not None:
                continue
            for written in ins.values[:-1]:
                value = expand(written, place)
                if value is None or "://" in value:
                    continue
                clean = normalize(value)
                if any(ch in clean for ch in "*?["):
                    touch(clean.replace("*", "x").replace("?", "x").replace("[", "").replace("]", ""))
                elif looks_like_tree(value):
                    touch(f"{clean}/{SOURCE_FILE}" if clean else SOURCE_FILE)
                else:
                    touch(clean)
    candidates = find_candidates(ctx)
    for candidate in candidates:
        project = candidate.project
        eco = candidate.install.ecosystem
        locks = [n for n in eco.optional if "lock" in n.lower() or n.endswith(".sum")]
        for name in [*eco.guess, *locks]:
            name = name.replace("*", "")
            touch(f"{project}/{name}" if project else name, "{}\n")
        for named in candidate.named:
            touch(named, "flask\n")
        if eco.name == "dotnet" and not candidate.named:
            touch(f"{project}/app.csproj" if project else "app.csproj", "<Project />\n")
    if not candidates:
        return None
    source = candidates[0].copy.source
    return f"{source}/{SOURCE_FILE}" if source else SOURCE_FILE


def measure(text: str, context: BuildContext, edited: str) -> tuple[Count, Count, int, int]:
    fixed_text, safe, unsafe = fix(text, context)
    return count(text, context, edited), count(fixed_text, context, edited), safe, unsafe


def _pct(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def corpus(root: Path, verbose: bool) -> int:
    rows: list[tuple[str, Count, Count, int, int]] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if "COPY" not in text.upper() or not lint(text, str(path), Only(frozenset({"DO301"}))).diagnostics:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            edited = synthesise(text, Path(tmp))
            if edited is None:
                continue
            context = BuildContext.for_dockerfile(Path(tmp) / "Dockerfile", Path(tmp))
            before, after, safe, unsafe = measure(text, context, edited)
        rows.append((str(path.relative_to(root)), before, after, safe, unsafe))
    if not rows:
        print("no file flagged")
        return 0
    if verbose:
        print(f"{'file':<70} {'steps':>5} {'before':>6} {'after':>6} {'exp':>4} {'before':>6} {'after':>6} fixes")
        for name, b, a, safe, unsafe in rows:
            print(f"{name[:70]:<70} {b.steps:>5} {b.rerun:>6} {a.rerun:>6} {b.expensive:>4} {b.expensive_rerun:>6} "
                  f"{a.expensive_rerun:>6} {safe}s/{unsafe}u")
    summarise(rows)
    return 0


def summarise(rows: list[tuple[str, Count, Count, int, int]]) -> None:
    n = len(rows)
    fixed = [r for r in rows if r[3] + r[4]]
    steps_before = sum(_pct(b.rerun, b.steps) for _, b, _, _, _ in rows) / n
    steps_after = sum(_pct(a.rerun, a.steps) for _, _, a, _, _ in rows) / n
    with_expensive = [(b, a) for _, b, a, _, _ in rows if b.expensive]
    print(f"{n} Dockerfiles flagged by DO301; fixed: {len(fixed)} "
          f"({sum(r[3] for r in rows)} safe, {sum(r[4] for r in rows)} unsafe fixes applied)")
    print(f"build steps (RUN/COPY/ADD) rerun after a one-line source edit: "
          f"{steps_before:.1%} before, {steps_after:.1%} after (mean per file)")
    if with_expensive:
        exp_before = sum(_pct(b.expensive_rerun, b.expensive) for b, _ in with_expensive) / len(with_expensive)
        exp_after = sum(_pct(a.expensive_rerun, a.expensive) for _, a in with_expensive) / len(with_expensive)
        print(f"expensive steps rerun: {exp_before:.1%} before, {exp_after:.1%} after "
              f"(mean over the {len(with_expensive)} files with one)")
    if steps_before:
        print(f"relative reduction of rerun build steps: {1 - steps_after / steps_before:.1%}")
    if fixed:
        fb = sum(_pct(b.rerun, b.steps) for _, b, _, _, _ in fixed) / len(fixed)
        fa = sum(_pct(a.rerun, a.steps) for _, _, a, _, _ in fixed) / len(fixed)
        eb = sum(_pct(b.expensive_rerun, b.expensive) for _, b, _, _, _ in fixed if b.expensive) / len(fixed)
        ea = sum(_pct(a.expensive_rerun, a.expensive) for _, b, a, _, _ in fixed if b.expensive) / len(fixed)
        print(f"over the {len(fixed)} fixed files: build steps rerun {fb:.1%} -> {fa:.1%} "
              f"({1 - fa / fb:.1%} fewer), expensive steps {eb:.1%} -> {ea:.1%}")


def _source_file(text: str, context: BuildContext) -> str | None:
    """A file the first reported broad COPY takes that is none of the install's manifests."""
    ctx = LintContext(parse(text), None, context)
    for candidate in find_candidates(ctx):
        eco = candidate.install.ecosystem
        names = (*eco.required, *eco.optional)
        manifests = set(candidate.named) | {f"{candidate.project}/{n}".lstrip("/") for n in names}
        for path in context.select(candidate.copy.source or ".").paths:
            if path not in manifests and not path.endswith(("Dockerfile", ".dockerignore")):
                return path
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dockerfile", nargs="?", type=Path)
    parser.add_argument("--context", type=Path, help="the build context (default: synthesised)")
    parser.add_argument("--edit", help="the context file edited (default: a source file the broad COPY takes)")
    parser.add_argument("--corpus", nargs="?", const=DEFAULT_CORPUS, type=Path)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.corpus is not None:
        return corpus(args.corpus, args.verbose)
    if args.dockerfile is None:
        parser.error("give a Dockerfile or --corpus")
    text = args.dockerfile.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        root = args.context or Path(tmp)
        edited = args.edit or (synthesise(text, root) if args.context is None else None)
        if edited is None:
            edited = _source_file(text, BuildContext.for_dockerfile(args.dockerfile, root))
            if edited is None:
                print("DO301 finds no broad COPY with a source file to edit; give --edit")
                return 1
        context = BuildContext.for_dockerfile(args.dockerfile if args.context else Path(tmp) / "Dockerfile", root)
        before, after, safe, unsafe = measure(text, context, edited)
    print(f"edited {edited}; fixes applied: {safe} safe, {unsafe} unsafe")
    print(f"build steps rerun: {before.rerun}/{before.steps} before, {after.rerun}/{after.steps} after")
    print(f"expensive steps rerun: {before.expensive_rerun}/{before.expensive} before, "
          f"{after.expensive_rerun}/{after.expensive} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
