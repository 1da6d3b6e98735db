"""DO105 mergeable-runs: consecutive RUNs in a stage that could be one layer.

Off by default: keeping a slow step in its own RUN so that it stays cached is legitimate.
The fix joins the RUNs with ``&&`` in the file's continuation style; it is safe only when
``dockopt.fixes.merge`` proves the merged script equivalent, otherwise unsafe with the reason.
"""
from __future__ import annotations

from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.diagnostics import Fix, Severity
from dockopt.fixes.merge import blocking_instruction, plan_merge


class MergeableRuns(Rule):
    code = "DO105"
    name = "mergeable-runs"
    severity = Severity.INFO
    default = False

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        build = ctx.build
        for stage in build.stages:
            for first, second in zip(stage.runs, stage.runs[1:]):
                a, b = first.instruction, second.instruction
                if blocking_instruction(build, a, b) is not None:
                    continue
                plan = plan_merge(build, first, second)
                fix = None
                if plan is not None:
                    message = f"Merge into the RUN on line {a.start_line}"
                    if plan.reason:
                        message += f" (unsafe: {plan.reason})"
                    fix = Fix(plan.applicability, message, plan.edits)
                finding = Finding.at(
                    b, f"RUN can be merged with the RUN on line {a.start_line}: one layer instead of two", fix
                )
                finding.related.append(("previous RUN", a.start))
                yield finding
