"""DO103 apt-update-separate: ``apt-get update`` in a different RUN from the install it serves.

The update step is cached on its own text, so a later change to the install line reuses
lists from whenever the update first ran (stale lists, "404 Not Found" for superseded
packages), and the lists take a layer of their own. Fix: merge the two RUNs when they are
adjacent and the merge is provably equivalent (``dockopt.fixes.merge``).
"""
from __future__ import annotations

from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.diagnostics import Fix, Severity
from dockopt.layers.invocations import Invocation
from dockopt.fixes.merge import blocking_instruction, plan_merge
from dockopt.model import Run

APT = frozenset({"apt-get", "apt", "aptitude"})
INSTALLS = frozenset({"install", "upgrade", "dist-upgrade", "full-upgrade", "build-dep"})
# Install helpers that run `apt-get update`, install and `rm -rf /var/lib/apt/lists/*` themselves
# (gitpod's workspace images, bitnami's minideb): lists an earlier update left are gone after them.
UPDATING_HELPERS = frozenset({"install-packages", "install_packages"})


def _sub(inv: Invocation) -> str | None:
    return inv.subcommand


class AptUpdateSeparate(Rule):
    code = "DO103"
    name = "apt-update-separate"
    severity = Severity.WARNING

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        build = ctx.build
        for stage in build.stages:
            pending: tuple[Run, Invocation] | None = None
            for run in stage.runs:
                if any(inv.name in UPDATING_HELPERS for inv in ctx.invocations(run)):
                    pending = None  # the helper updates, installs and removes the lists itself
                    continue
                commands = [inv for inv in ctx.invocations(run) if inv.name in APT]
                subs = [_sub(inv) for inv in commands]
                installs = [inv for inv, sub in zip(commands, subs) if sub in INSTALLS]
                updates = [inv for inv, sub in zip(commands, subs) if sub == "update"]
                if installs and pending is not None and not updates:
                    yield self._finding(ctx, pending, run, installs[0])
                    pending = None
                if updates and not installs:
                    pending = (run, updates[-1])
                elif installs:
                    pending = None

    def _finding(self, ctx: LintContext, pending: tuple[Run, Invocation], run: Run, install: Invocation) -> Finding:
        update_run, update = pending
        build = ctx.build
        a, b = update_run.instruction, run.instruction
        fix = None
        if blocking_instruction(build, a, b) is None:
            plan = plan_merge(build, update_run, run)
            if plan is not None:
                message = f"Merge the install RUN (line {b.start_line}) into this RUN"
                if plan.reason:
                    message += f" (unsafe: {plan.reason})"
                fix = Fix(plan.applicability, message, plan.edits)
        message = (
            f"`{update.name} update` is in a different RUN from the install on line {b.start_line}: "
            "the cached update step serves stale lists to later installs"
        )
        finding = Finding(update.start, update.end, message, fix)
        finding.related.append(("the install", install.start))
        return finding
