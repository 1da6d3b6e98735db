"""DO302 volatile-before-expensive: a value that changes every build sits above slow steps.

Two inputs change on (nearly) every CI build without the Dockerfile changing:
- a build arg named like a build date, commit or build number (``BUILD_DATE``, ``GIT_COMMIT``,
  ``VCS_REF``, ``SOURCE_COMMIT``, ``BUILD_NUMBER``, ``CACHEBUST``, ...). BuildKit puts every
  ARG in scope into the environment of every later RUN of the stage, so its new value reruns
  them all, used or not (:mod:`dockopt.cache.model`);
- ``ADD`` of a moving URL (``latest``, ``master``, a git branch) without ``--checksum``:
  fetched again every build, and every later step reruns when it changed.
Reported when at least one expensive RUN below it (package or dependency install, download:
:func:`dockopt.cache.model.expensive_reason`) does not mention the value: those are the steps that
rerun for nothing. Builds (``cargo build``, ``make``, ``go build``) are not counted: they often
read the commit or date from the environment (a ``build.rs`` reading ``GIT_SHA``), which is
then exactly why the ARG sits above them. ``RUN date`` is not reported: a RUN's cache key is its text,
so it stays cached like any other step (``dockopt layers`` notes that its output differs
whenever it does rerun).

Severity warning: on CI, where these values are set, the stage's cache is lost on every build.

Fix (unsafe): move the ARG, with its comments and the ENV/LABEL lines right below it that
only forward it, down to just above the first instruction that uses it (or below the last
expensive step when nothing names it). Never safe: the RUNs it moves past lose the variable
from their environment, and a build script may read it from there without naming it.
No fix when an instruction it would move past names it, for ARGs declaring several
names, or when the ARG is not in a stage.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.diagnostics import Applicability, Edit, Fix, Severity
from dockopt.fixes.reorder import Place, block, stage_places
from dockopt.syntax import Instruction

# dockopt.cache.model (four dataclasses, ~3 ms of start-up) is imported by the methods below, which
# run only for a volatile ARG or a moving ADD URL: most Dockerfiles have neither.

VOLATILE_ARG = re.compile(
    r"^(?:[A-Z0-9]+_)*(BUILD_?DATE|BUILD_?TIME(STAMP)?|BUILD_NUMBER|BUILD_ID|BUILD_REVISION|GIT_COMMIT(_SHA)?|GIT_SHA|"
    r"GIT_HASH|GIT_REV(ISION)?|COMMIT(_SHA|_HASH|_ID)?|SOURCE_COMMIT|SOURCE_DATE_EPOCH|VCS_REF|VCS_REVISION|REVISION|"
    r"CACHE_?BUST(ER)?|CACHE_DATE|CI_COMMIT_SHA|CI_PIPELINE_ID|GITHUB_SHA|GITHUB_RUN_ID|TIMESTAMP)$",
    re.I,
)
# A path segment or git ref naming a moving target, or a git URL without a ref (its default branch).
_MOVING_URL = re.compile(r"([/#=](latest|master|main|HEAD|nightly|snapshots?)([/.?#_-]|$)|\.git$)", re.I)
MAX_LISTED = 3


class VolatileBeforeExpensive(Rule):
    code = "DO302"
    name = "volatile-before-expensive"
    severity = Severity.WARNING

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for stage in ctx.build.stages:
            places = stage_places(ctx.build, stage)
            for index, place in enumerate(places):
                ins = place.instruction
                if ins.name == "ARG":
                    names = [w.split("=", 1)[0] for w in ins.values]
                    volatile = [n for n in names if VOLATILE_ARG.match(n)]
                    if volatile:
                        yield from self._arg(ctx, places, index, volatile, len(names) == 1)
                elif ins.name == "ADD" and ins.flag("checksum") is None:
                    urls = [v.strip("'\"") for v in ins.values[:-1]]
                    url = next((v for v in urls if "://" in v and _MOVING_URL.search(v)), None)
                    if url is not None:
                        yield from self._add(ctx, places, index, url)

    def _arg(self, ctx: LintContext, places: list[Place], index: int, names: list[str],
             single: bool) -> Iterator[Finding]:
        from dockopt.cache.model import expensive_reason, references  # lazily: see the imports above

        ins = places[index].instruction
        group = _group(places, index, names)
        watched = set(names) | {n for g in group[1:] if g.name == "ENV" for n in g.values[0::3]}
        wasted = []
        for place in places[index + len(group):]:
            if any(references(place.instruction.logical, n) for n in watched):
                break  # from here on the value is used: those steps need it
            why = expensive_reason(ctx, place.instruction, builds=False) if place.instruction.name == "RUN" else None
            if why is not None:
                wasted.append((place.instruction, why))
        if not wasted or _busts_next_step(ctx, places, index, group, names, wasted[0][0]):
            return
        listed = ", ".join(f"{why} (line {i.start_line})" for i, why in wasted[:MAX_LISTED])
        if len(wasted) > MAX_LISTED:
            listed += f" and {len(wasted) - MAX_LISTED} more"
        label = ", ".join(names)
        message = (f"build arg {label} changes every build and is in the environment of every later RUN, "
                   f"so {listed} rerun each time; declare it below them, just above where it is used")
        fix = self._move(ctx, places, index, group, watched) if single else None
        yield Finding.at(ins, message, fix)

    def _add(self, ctx: LintContext, places: list[Place], index: int, url: str) -> Iterator[Finding]:
        from dockopt.cache.model import expensive_reason  # lazily: see the imports above

        ins = places[index].instruction
        wasted = [(p.instruction, why) for p in places[index + 1:] if p.instruction.name == "RUN"
                  and (why := expensive_reason(ctx, p.instruction, builds=False)) is not None]
        if not wasted:
            return
        listed = ", ".join(f"{why} (line {i.start_line})" for i, why in wasted[:MAX_LISTED])
        yield Finding.at(ins, f"`{url}` is fetched again on every build and can change, and then {listed} "
                              "rerun; pin a version and add --checksum, or move this ADD below them")

    def _move(self, ctx: LintContext, places: list[Place], index: int, group: list[Instruction],
              watched: set[str]) -> Fix | None:
        """Move the ARG and the ENV/LABEL lines right below it that forward it, with their comments."""
        from dockopt.cache.model import expensive_reason, references  # lazily: see the imports above

        position = index + len(group)
        target: Instruction | None = None
        last_expensive: int | None = None
        for k in range(position, len(places)):
            ins = places[k].instruction
            if any(references(ins.logical, n) for n in watched):
                target = ins
                break
            if ins.name == "RUN" and expensive_reason(ctx, ins, builds=False) is not None:
                last_expensive = k
        if target is None:
            if last_expensive is None:
                return None
            target = places[last_expensive + 1].instruction if last_expensive + 1 < len(places) else None
        document = ctx.document
        source = document.source
        start, end = block(document, group[0])[0], group[-1].line_end
        moved = source[start:end] if source[start:end].endswith("\n") else source[start:end] + "\n"
        if target is None:
            at = places[-1].instruction.line_end
            insert = ("" if source[:at].endswith("\n") else "\n") + moved
        else:
            at, insert = block(document, target)[0], moved
        passed = [p.instruction.start_line for p in places[position:] if p.instruction.start < at]
        if not passed:
            return None
        name = group[0].values[0].split("=", 1)[0]
        message = (f"Move the ARG {name} below line {passed[-1]} (unsafe: the RUNs it moves past no longer have "
                   f"${name} in their environment, and a build script may read it from there)")
        return Fix(Applicability.UNSAFE, message, (Edit(start, end, ""), Edit(at, at, insert)))


_CACHE_BUST_NAME = re.compile(r"CACHE_?BUST|CACHE_?DATE|BUST|INVALIDATE|REFRESH|FORCE_?REBUILD", re.I)
_CACHE_BUST_COMMENT = re.compile(r"(?i)cache.?bust|bust|invalidat|refresh|force|fresh|re-?clone|re-?fetch|re-?download|"
                                 r"no.?cache|always (run|pull|fetch|clone|update)")


def _busts_next_step(ctx: LintContext, places: list[Place], index: int, group: list[Instruction],
                     names: list[str], first_wasted: Instruction) -> bool:
    """A cache-busting ARG placed on purpose: directly above (comments aside) the expensive step it
    exists to rerun (``ARG CACHEBUST=1`` over the ``git clone`` it refreshes), and named so or
    explained by its comment. Everything below it reruns too, which is what busting means."""
    from dockopt.fixes.reorder import comment_start

    after = index + len(group)
    if after >= len(places) or places[after].instruction is not first_wasted:
        return False
    ins = places[index].instruction
    comments = ctx.source[comment_start(ctx.document, ins):ins.line_start]
    return any(_CACHE_BUST_NAME.search(n) for n in names) or bool(_CACHE_BUST_COMMENT.search(comments))


def _group(places: list[Place], index: int, names: list[str]) -> list[Instruction]:
    """The ARG and the ENV/LABEL instructions directly below it that forward its value."""
    from dockopt.cache.model import references  # lazily: see the imports above

    group = [places[index].instruction]
    for place in places[index + 1:]:
        ins = place.instruction
        if ins.name not in ("ENV", "LABEL") or not any(references(ins.logical, n) for n in names):
            break
        group.append(ins)
    return group
