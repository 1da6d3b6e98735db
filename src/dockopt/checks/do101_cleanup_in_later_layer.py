"""DO101 cleanup-in-later-layer: a RUN removes what an earlier layer created; nothing is freed.

Reads the layer plan's waste records whose remover is a removal (rm, apt-get clean,
apk del, ...). One finding per cleanup command, naming the line that created the files and
the estimated bytes still shipped. Fix: when the cleanup RUN directly follows the RUN that
made the mess, merge them (``dockopt.merge``: safe when provably equivalent); when the
cleanup RUN holds only the cleanup but is further away, an unsafe fix moves it (the
instructions in between might use the files).
"""
from __future__ import annotations

from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.diagnostics import Applicability, Edit, Fix, Severity
from dockopt.layers import EffectKind, Waste
from dockopt.layers.sizes import human
from dockopt.merge import blocking_instruction, plan_merge
from dockopt.model import Build
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
        for stage_plan in ctx.layers.stages:
            groups: dict[tuple[int, int], list[Waste]] = {}
            for waste in stage_plan.waste:
                if waste.removed.kind is not EffectKind.REMOVE or waste.created_by is waste.removed_by:
                    continue
                if waste.removed.detail == "moved":
                    continue  # mv keeps the bytes: not a cleanup
                groups.setdefault((waste.removed.start, waste.removed.end), []).append(waste)
            for wastes in groups.values():
                yield self._finding(build, wastes)

    def _finding(self, build: Build, wastes: list[Waste]) -> Finding:
        first = wastes[0]
        creators: dict[int, Instruction] = {}
        for w in wastes:
            creators.setdefault(w.created_by.start_line, w.created_by)
        sizes = [w.size for w in wastes]
        total = sum(s for s in sizes if s) if any(sizes) else None
        what = _WHAT.get(first.created.category, first.created.path.rstrip("/") or "/")
        where = ", ".join(f"{ins.name} on line {line}" for line, ins in sorted(creators.items()))
        removal = first.removed.command
        if first.removed.category == "file":  # rm, rmdir: show what it removes
            removal = f"{first.removed.command.split()[0]} {first.removed.path}"
        message = (
            f"`{removal}` frees nothing: {what} ({human(total)}) came from the {where}; "
            "the bytes stay in that layer"
        )
        fix = self._fix(build, first.created_by, first.removed_by) if len(creators) == 1 else None
        finding = Finding(first.removed.start, first.removed.end, message, fix)
        for line, ins in sorted(creators.items()):
            finding.related.append((f"created by this {ins.name}", ins.start))
        return finding

    def _fix(self, build: Build, creator: Instruction, remover: Instruction) -> Fix | None:
        if creator.name != "RUN" or remover.name != "RUN":
            return None
        first, second = build.run_of(creator), build.run_of(remover)
        if first is None or second is None:
            return None
        if blocking_instruction(build, creator, remover) is None:
            plan = plan_merge(build, first, second)
            if plan is None:
                return None
            message = f"Merge this RUN into the RUN on line {creator.start_line}"
            if plan.reason:
                message += f" (unsafe: {plan.reason})"
            return Fix(plan.applicability, message, plan.edits)
        # Further away: move the whole cleanup RUN up, if that is all it does.
        plan = plan_merge(build, first, second) if first.stage is second.stage else None
        if plan is None or second.source is None:
            return None
        body = build.document.source[remover.to_source(remover.args_start) : remover.end]
        move = _append_and_delete(build, creator, remover, plan.edits[0].content, body)
        return Fix(Applicability.UNSAFE,
                   f"Move this cleanup into the RUN on line {creator.start_line} (unsafe: the instructions "
                   "in between may still use the removed files)", move)


def _append_and_delete(build: Build, creator: Instruction, remover: Instruction, joined: str, body: str) -> tuple[Edit, ...]:
    """Append the cleanup to the creating RUN (in its style) and delete the cleanup RUN's lines."""
    source = build.document.source
    head_end = creator.end
    while head_end > creator.start and source[head_end - 1] in " \t;":
        head_end -= 1
    # ``joined`` was built for an adjacent merge and may carry comment lines from between; keep
    # only its continuation prefix and the body.
    prefix = joined[: joined.rfind(body)] if body and joined.endswith(body) else joined
    lines = prefix.splitlines(keepends=True)
    prefix = "".join(line for line in lines if not line.lstrip().startswith("#"))
    # Comments above the cleanup RUN stay where they are: a fix never drops a comment.
    return (Edit(head_end, creator.end, prefix + body), Edit(remover.line_start, remover.line_end, ""))
