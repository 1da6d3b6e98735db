"""DO106 download-extract-split: an archive downloaded in one layer, extracted or removed in another.

The archive's bytes stay in the layer that downloaded it, even when a later RUN extracts
and deletes it: the image carries the archive and its contents. Covers ``curl``/``wget``
downloads and ``ADD <url>``. Fix: when the RUN that extracts directly follows the RUN that
downloads, merge them (``dockopt.fixes.merge``; safe when provably equivalent). ``ADD <url>``
has no automatic fix: replacing it with ``curl`` needs curl in the image.
"""
from __future__ import annotations

from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.diagnostics import Fix, Severity
from dockopt.layers import Effect, EffectKind
from dockopt.fixes.merge import blocking_instruction, plan_merge
from dockopt.syntax import Instruction


class DownloadExtractSplit(Rule):
    code = "DO106"
    name = "download-extract-split"
    severity = Severity.WARNING

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for stage_plan in ctx.layers.stages:
            downloads: dict[str, tuple[Effect, Instruction]] = {}
            reported: set[int] = set()
            for layer in stage_plan.layers:
                ins = layer.instruction
                for effect in layer.effects:
                    if effect.kind is EffectKind.CREATE and effect.category == "download":
                        downloads[effect.path] = (effect, ins)
                    elif effect.reads and effect.reads in downloads:
                        download, where = downloads[effect.reads]
                        if where is not ins and id(ins) not in reported:
                            reported.add(id(ins))
                            yield self._finding(ctx, download, where, effect, ins)
                    elif effect.kind is EffectKind.REMOVE:
                        for path in [p for p in downloads if p == effect.path.rstrip("/")]:
                            downloads.pop(path)

    def _finding(self, ctx: LintContext, download: Effect, where: Instruction, extract: Effect,
                 ins: Instruction) -> Finding:
        message = (
            f"`{extract.command}` extracts {download.path}, downloaded by the {where.name} on line "
            f"{where.start_line}: the archive stays in that layer; download, extract and delete it in one RUN"
        )
        fix = None
        first, second = ctx.build.run_of(where), ctx.build.run_of(ins)
        if first is not None and second is not None and blocking_instruction(ctx.build, where, ins) is None:
            plan = plan_merge(ctx.build, first, second)
            if plan is not None:
                text = f"Merge this RUN into the RUN on line {where.start_line}"
                if plan.reason:
                    text += f" (unsafe: {plan.reason})"
                fix = Fix(plan.applicability, text, plan.edits)
        finding = Finding(extract.start, extract.end, message, fix)
        finding.related.append(("the download", download.start))
        return finding
