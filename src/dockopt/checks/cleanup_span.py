"""DO101's span merge: fold every RUN from the one that made the mess to the one that cleans it up.

``RUN apt-get update`` / ``RUN apt-get install -y curl`` / ``RUN apt-get clean`` /
``RUN rm -rf /var/lib/apt/lists/*``: the cleanup frees nothing unless it runs in the RUN
that created the files, and it can only get there by taking every RUN in between along
(moving it up past them would change what they see). This module finds such spans;
the merge itself is the one merge primitive's (``dockopt.fixes.merge.join_runs``), which
proves the whole span equivalent (or says why not) in one place. Anything but a RUN between (WORKDIR, ENV, USER, COPY...)
ends the span: no fix.
"""
from __future__ import annotations

from dataclasses import dataclass

from dockopt.diagnostics import Applicability, Fix
from dockopt.model import Build
from dockopt.syntax import Instruction

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
    """The span joined into its first RUN by the merge primitive (``join_runs``), or None
    when the primitive cannot prove or write the join."""
    from dockopt.fixes.merge import join_runs

    runs = [build.run_of(i) for i in span.runs]
    if any(run is None for run in runs):
        return None
    plan = join_runs(build, runs)  # type: ignore[arg-type]
    if plan is None:
        return None
    lines = ", ".join(str(i.start_line) for i in span.runs[1:])
    message = f"Merge the RUNs on lines {lines} into the RUN on line {span.runs[0].start_line}"
    if plan.applicability is Applicability.UNSAFE:
        message += f" (unsafe: {plan.reason})"
    return Fix(plan.applicability, message, plan.edits)


# Commands a cleanup-only RUN may consist of, to be moved into a heredoc body: literal
# removals of known tools that succeed whenever the tool is there (rm -f/-rf never fails on
# a missing path; apt-get clean, apk cache clean, ... only clean).
_CLEANUP_TOOLS = frozenset({"rm", "apt-get", "apt", "apk", "yum", "dnf", "pip", "pip3", "npm", "yarn", "go"})


def heredoc_fix(build: Build, creator: Instruction, remover: Instruction) -> Fix | None:
    """A heredoc RUN directly followed by a one-command cleanup RUN: the cleanup goes inside
    the heredoc body (``append_to_run`` places it so that it runs exactly when the body
    succeeded) and the cleanup RUN goes."""
    from dockopt.diagnostics import Edit
    from dockopt.fixes.merge import append_to_run, blocking_instruction

    first, second = build.run_of(creator), build.run_of(remover)
    if (first is None or second is None or not creator.heredocs or remover.heredocs or remover.is_json
            or remover.flags or blocking_instruction(build, creator, remover) is not None):
        return None
    script, source = second.script, second.source
    if script is None or source is None or script.has_errors:
        return None
    commands = list(script.commands)
    if len(commands) != 1:
        return None
    command = commands[0]
    rm_force = command.name_value == "rm" and any((a.value or "").startswith("-") and "f" in (a.value or "")
                                                   for a in command.args)
    if command.name_value not in _CLEANUP_TOOLS or (command.name_value == "rm" and not rm_force):
        return None
    if command.redirects or command.assignments or command.depth or command.negated:
        return None
    text = source.text.strip()
    if "\n" in text:
        return None
    plan = append_to_run(build, first, text)
    if plan is None:
        return None
    delete = Edit(remover.line_start, remover.line_end, "")
    message = f"Move this cleanup into the heredoc of the RUN on line {creator.start_line}"
    if plan.applicability is Applicability.UNSAFE:
        message += f" (unsafe: {plan.reason})"
    return Fix(plan.applicability, message, (*plan.edits, delete))
