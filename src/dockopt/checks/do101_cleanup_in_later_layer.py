"""DO101 cleanup-in-later-layer: a RUN removes what an earlier layer created; nothing is freed.

Reads the layer plan's waste records whose remover is a removal (rm, apt-get clean,
apk del, ...). One finding per cleanup command, naming the line that created the files and
the estimated bytes still shipped. Fix: when the cleanup RUN directly follows the RUN that
made the mess, merge them (``dockopt.fixes.merge``: safe when provably equivalent); when the
cleanup RUN holds only the cleanup but is further away, an unsafe fix moves it (the
instructions in between might use the files).
"""
from __future__ import annotations

from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.checks.cleanup_span import cleanup_span, heredoc_fix, span_fix
from dockopt.diagnostics import Applicability, Edit, Fix, Severity
from dockopt.layers import EffectKind, Layer, Waste
from dockopt.layers.plan import UNKNOWN_ORIGIN, shown_path
from dockopt.layers.simulator import covers
from dockopt.layers.sizes import human
from dockopt.fixes.merge import append_command, blocking_instruction, ends_badly, plan_merge
from dockopt.layers.consumers import cache_readers
from dockopt.model import Build, Run
from dockopt.syntax import Instruction

_WHAT = {
    "apt-lists": "the apt package lists",
    "apt-archives": "the downloaded .deb files",
    "apk-cache": "the apk cache",
    "pip-cache": "pip's cache",
    "npm-cache": "npm's cache",
    "yarn-cache": "yarn's cache",
    "package": "the packages",
    "download": "the downloaded file",
    "extracted": "the extracted files",
    "build-dir": "the build output",
    "source": "the cloned sources",
}


class CleanupInLaterLayer(Rule):
    code = "DO101"
    name = "cleanup-in-later-layer"
    severity = Severity.WARNING

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        build = ctx.build
        shipped = {stage.index for stage in build.shipped_stages(ctx.target)}
        for stage_plan in ctx.layers.stages:
            ships = stage_plan.stage.index in shipped
            groups: dict[tuple[int, int], list[Waste]] = {}
            for waste in stage_plan.waste:
                if waste.removed.kind is not EffectKind.REMOVE or waste.created_by is waste.removed_by:
                    continue
                if waste.removed.detail == "moved":
                    continue  # mv keeps the bytes: not a cleanup
                groups.setdefault((waste.removed.start, waste.removed.end), []).append(waste)
            for wastes in groups.values():
                finding = self._finding(build, wastes, ctx.layers.layer_of(wastes[0].removed_by))
                if not ships:
                    # A builder stage's bytes never reach users: info, and no fix (a merge there
                    # saves nothing in the image).
                    finding.severity = Severity.INFO
                    finding.fix = None
                    finding.message += " (this stage does not ship: only its build cache grows)"
                yield finding

    def _finding(self, build: Build, wastes: list[Waste], layer: Layer | None) -> Finding:
        first = wastes[0]
        creators: dict[int, Instruction] = {}
        by_layer: dict[int, list[Waste]] = {}
        for w in wastes:
            creators.setdefault(w.created_by.start_line, w.created_by)
            by_layer.setdefault(w.created_by.start_line, []).append(w)
        removal = first.removed.command
        if first.removed.category == "file":  # rm, rmdir: show what it removes
            removal = f"{first.removed.command.split()[0]} {shown_path(first.removed.path)}"
        # One removal of several layers' files: each layer with its own category and size.
        parts = [f"{_what(ws)} ({_size(ws)}) came from the {creators[line].name} on line {line}"
                 for line, ws in sorted(by_layer.items()) if ws[0].created.category != UNKNOWN_ORIGIN]
        layers = "that layer" if len(by_layer) == 1 else "those layers"
        message = f"`{removal}` frees nothing: {'; '.join(parts)}; the bytes stay in {layers}"
        unknown = [w for w in wastes if w.created.category == UNKNOWN_ORIGIN]
        if unknown:
            # Which earlier RUN wrote there is not known: say so, and name the step that may have.
            guess = unknown[0]
            message = (f"`{removal}` frees nothing: whatever earlier layers put there (unknown size) stays in them; "
                       f"the RUN on line {guess.created_by.start_line} runs `{guess.created.command}`, which dockopt "
                       "does not model")
            if parts:
                message += "; " + "; ".join(parts)
        cleanup_only = bool(layer and layer.analysed and layer.effects
                            and all(e.kind is EffectKind.REMOVE for e in layer.effects))
        # Several creators: the span from the earliest one takes them all along.
        earliest = creators[min(creators)]
        if any(w.created.category == UNKNOWN_ORIGIN for w in wastes):
            # Which RUN made the files is a guess: only the merge with the RUN right before
            # (equivalent whatever made them, and the likeliest maker) is offered.
            guessed = build.run_of(earliest)
            second = build.run_of(first.removed_by)
            fix = (_merge_fix(build, guessed, second) if guessed is not None and second is not None
                   and not earliest.heredocs and blocking_instruction(build, earliest, first.removed_by) is None
                   else None)
        elif len(creators) == 1:
            fix = self._fix(build, earliest, first.removed_by, cleanup_only, wastes)
        else:
            span = cleanup_span(build, earliest, first.removed_by)
            fix = span_fix(build, span) if span is not None else None
        finding = Finding(first.removed.start, first.removed.end, message, fix)
        for line, ins in sorted(creators.items()):
            finding.related.append((f"created by this {ins.name}", ins.start))
        return finding

    def _fix(self, build: Build, creator: Instruction, remover: Instruction, cleanup_only: bool,
             wastes: list[Waste]) -> Fix | None:
        if creator.name != "RUN" or remover.name != "RUN":
            return None
        first, second = build.run_of(creator), build.run_of(remover)
        if first is None or second is None:
            return None
        if creator.heredocs:
            return heredoc_fix(build, creator, remover)
        if blocking_instruction(build, creator, remover) is None:
            return _merge_fix(build, first, second)
        # Further away, with only RUNs between: merge the whole span (cleanup_span.py).
        span = cleanup_span(build, creator, remover)
        if span is not None:
            fix = span_fix(build, span)
            if fix is not None:
                return fix
        # Otherwise move the whole cleanup RUN up, if that is all it does.
        if second.source is None or remover.flags or not cleanup_only or first.stage is not second.stage:
            return None
        body = build.document.source[remover.to_source(remover.args_start) : remover.end]
        if _used_between(build, creator, remover, wastes):
            return None  # moving the cleanup up would break an instruction that still needs the files
        if any(r.certain for w in wastes for r in cache_readers(build, first, w.created.category, until=remover)):
            return None  # an instruction in between needs the cache (layers/consumers.py)
        if "\n" in body or ends_badly(body):
            return None  # a multi-line cleanup would need its continuation style rewritten; leave it
        append = append_command(build, first, body)
        if append is None:
            return None
        delete = Edit(remover.line_start, remover.line_end, "")
        if _neutral_between(build, creator, remover, second):
            return Fix(Applicability.SAFE, f"Move this cleanup into the RUN on line {creator.start_line} (only "
                       "ENV/WORKDIR/LABEL-like instructions stand between, and the cleanup reads neither)",
                       (append, delete))
        return Fix(Applicability.UNSAFE,
                   f"Move this cleanup into the RUN on line {creator.start_line} (unsafe: the instructions "
                   "in between may still use the removed files)", (append, delete))




def _merge_fix(build: Build, first: Run, second: Run) -> Fix | None:
    """The cleanup RUN ``second`` merged into ``first``, the RUN right before it, by the merge
    primitive (None when it cannot prove or write the merge)."""
    plan = plan_merge(build, first, second)
    if plan is None:
        return None
    message = f"Merge this RUN into the RUN on line {first.instruction.start_line}"
    if plan.reason:
        message += f" (unsafe: {plan.reason})"
    return Fix(plan.applicability, message, plan.edits)


# Instructions that neither read files nor change what a literal absolute `rm` does.
_NEUTRAL = frozenset({"ENV", "WORKDIR", "LABEL", "EXPOSE", "STOPSIGNAL", "HEALTHCHECK", "CMD", "ENTRYPOINT",
                      "MAINTAINER"})
# Variables that change how a shell finds or runs a command.
_SHELL_VARIABLES = ("PATH", "IFS", "ENV", "BASH_ENV", "LD_", "SHELLOPTS", "CDPATH", "HOME")


def _neutral_between(build: Build, creator: Instruction, remover: Instruction, cleanup: Run) -> bool:
    """Whether moving the cleanup RUN above the instructions between is provably the same
    build: the cleanup is literal `rm -f`/`rm -rf` of absolute paths (no variables, no globs
    outside the last component), every instruction between is ENV (of no shell-relevant
    variable), WORKDIR outside the removed paths, or metadata (LABEL, EXPOSE, CMD, ...)."""
    script = cleanup.script
    if script is None or script.has_errors:
        return False
    commands = list(script.commands)
    if len(commands) != 1 or commands[0].name_value != "rm" or commands[0].redirects or commands[0].assignments:
        return False
    paths = [a.value for a in commands[0].args if a.value is not None and not a.value.startswith("-")]
    flags = [a.value for a in commands[0].args if a.value is not None and a.value.startswith("-")]
    if len(paths) + len(flags) != len(commands[0].args) or not any("f" in f for f in flags):
        return False  # a variable word, or an rm that could fail on a missing path
    if not paths or any(not p.startswith("/") or "$" in p or "*" in p.rstrip("*").rstrip("/") for p in paths):
        return False
    between = [i for i in build.document.instructions if creator.start_line < i.start_line < remover.start_line]
    for ins in between:
        if ins.name not in _NEUTRAL:
            return False
        if ins.name == "ENV" and any(v.split("=", 1)[0].startswith(_SHELL_VARIABLES) for v in ins.values):
            return False
        if ins.name == "WORKDIR":
            target = ins.values[0] if ins.values else ""
            if not target.startswith("/") or "$" in target or any(covers(p, target) or covers(target, p) for p in paths):
                return False
    return True


def _what(wastes: list[Waste]) -> str:
    categories = list(dict.fromkeys(w.created.category for w in wastes))
    names = [_WHAT.get(c) for c in categories]
    if all(names):
        return " and ".join(dict.fromkeys(n for n in names if n))
    paths = list(dict.fromkeys(shown_path(w.created.path).rstrip("/") or "/" for w in wastes))
    return ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def _size(wastes: list[Waste]) -> str:
    sizes = [w.size for w in wastes]
    if all(s is None for s in sizes):
        return human(None)
    known = human(sum(s for s in sizes if s))
    return known if all(s is not None for s in sizes) else f"{known} and more of unknown size"


# Commands that read what a category of files holds: apt installs need the lists, etc.
_CONSUMERS = {
    "apt-lists": ("apt-get", "apt ", "aptitude"),
    "apt-archives": ("apt-get", "apt ", "dpkg"),
    "apk-cache": ("apk ",),
    "pip-cache": ("pip",),
    "npm-cache": ("npm ",),
}


def _used_between(build: Build, creator: Instruction, remover: Instruction, wastes: list[Waste]) -> bool:
    """Whether an instruction between the two may use the files the cleanup removes.

    Conservative: any mention of a removed path's last component, or any command that
    consumes that kind of file (apt installs read the lists), counts as a use.
    """
    between = [i for i in build.document.instructions if creator.start_line < i.start_line < remover.start_line]
    for waste in wastes:
        name = waste.created.path.rstrip("/").rsplit("/", 1)[-1]
        consumers = _CONSUMERS.get(waste.created.category, ())
        for ins in between:
            text = ins.logical
            if (name and name in text) or any(c in text for c in consumers):
                return True
    return False
