"""DO101's span merge: fold every RUN from the one that made the mess to the one that cleans it up.

``RUN apt-get update`` / ``RUN apt-get install -y curl`` / ``RUN apt-get clean`` /
``RUN rm -rf /var/lib/apt/lists/*``: the cleanup frees nothing unless it runs in the RUN
that created the files, and it can only get there by taking every RUN in between along
(moving it up past them would change what they see). This module finds such spans and
builds the merge with the one merge primitive (``dockopt.fixes.merge.plan_merge``), pair by
pair on the re-parsed text, so the span's fix is exactly the composition of proven merges:
safe when every step is safe, unsafe (with every step's reason) when one is not, none when
one step cannot be joined at all. Anything but a RUN between (WORKDIR, ENV, USER, COPY...)
ends the span: no fix.
"""
from __future__ import annotations

from dataclasses import dataclass

from dockopt.diagnostics import Applicability, Edit, Fix
from dockopt.model import Build, Run, build_model
from dockopt.syntax import Instruction, parse

MAX_SPAN = 12  # RUNs merged by one fix: longer spans are left to the user (and to DO105)


@dataclass(frozen=True, slots=True)
class Span:
    runs: tuple[Instruction, ...]  # creator first, cleanup last, every RUN between


def cleanup_span(build: Build, creator: Instruction, remover: Instruction) -> Span | None:
    """The RUNs from ``creator`` to ``remover`` when nothing but RUNs (and comments) lies between."""
    if creator.name != "RUN" or remover.name != "RUN" or creator.start_line >= remover.start_line:
        return None
    between = [i for i in build.document.instructions if creator.start_line < i.start_line < remover.start_line]
    if any(i.name != "RUN" for i in between) or len(between) + 2 > MAX_SPAN:
        return None
    runs = (creator, *between, remover)
    first, last = build.run_of(creator), build.run_of(remover)
    if first is None or last is None or first.stage is not last.stage:
        return None
    return Span(runs)


def span_fix(build: Build, span: Span) -> Fix | None:
    """One edit replacing the span by the merged RUN, from pairwise merges of the re-parsed text."""
    from dockopt.fixes.merge import plan_merge

    source = build.document.source
    start, end = span.runs[0].start, span.runs[-1].end
    tail = len(source) - end  # everything after the span is never edited
    text = source
    reasons: list[str] = []
    for _ in range(len(span.runs) - 1):
        document = parse(text)
        if document.errors:
            return None
        current = build_model(document)
        merged = next((i for i in document.instructions if i.start == start), None)
        following = [i for i in document.instructions if merged is not None and i.start > merged.start]
        if merged is None or not following or following[0].name != "RUN":
            return None
        first, second = current.run_of(merged), current.run_of(following[0])
        if first is None or second is None:
            return None
        plan = plan_merge(current, first, second)
        if plan is None:
            return None
        masking = _masks_failure(second)
        if masking:
            reasons.append(masking)
        if plan.applicability is Applicability.UNSAFE:
            reasons.append(plan.reason)
        elif plan.applicability is not Applicability.SAFE:
            return None
        from dockopt.fixes.fixer import apply_edits

        text = apply_edits(text, list(plan.edits))
    if parse(text).errors:
        return None
    replacement = text[start : len(text) - tail]
    lines = ", ".join(str(i.start_line) for i in span.runs[1:])
    message = f"Merge the RUNs on lines {lines} into the RUN on line {span.runs[0].start_line}"
    if reasons:
        unique = list(dict.fromkeys(r for r in reasons if r))
        return Fix(Applicability.UNSAFE, f"{message} (unsafe: {'; '.join(unique)})", (Edit(start, end, replacement),))
    return Fix(Applicability.SAFE, message, (Edit(start, end, replacement),))


def _masks_failure(run: Run) -> str | None:
    """Why ``first && <this script>`` could succeed where the first RUN failed: a top-level
    ``;``, ``||``, ``&``, newline or ``!`` in the appended script lets a later command run
    after the ``&&`` chain failed (``false && rm x || true`` exits 0). Conservative, on top of
    the merge primitive's own proof (issue 14 groups the appended body instead)."""
    script = run.script
    if script is None or script.has_errors:
        return "the appended script does not parse"
    for command in script.commands:
        if command.depth:
            continue
        if command.connector in (";", "||", "&") or command.negated or command.background:
            return "a top-level ';', '||', '&' or newline in the appended RUN could hide a failure of the RUN before it"
    return None
