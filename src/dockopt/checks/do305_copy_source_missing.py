"""DO305 copy-source-missing: a COPY/ADD source the build context lacks or ``.dockerignore`` excludes.

Needs a readable context. BuildKit fails the build on a plain source that is not sent
(missing, or excluded by the ignore file: it is simply not in the context it receives) and
copies nothing, silently, for a wildcard that matches nothing (AllowEmptyWildcard); both
are reported, with what excludes the file when it exists. ``COPY --from``, heredocs, URLs
and sources with variables dockopt cannot resolve are skipped.

When the context is only assumed (the Dockerfile's directory, no ``--context``), a missing
source is more likely a wrong assumption (``docker build -f docker/Dockerfile .``) than a
broken build, so the rule speaks only if some other named (non-root) source of the file does
exist there, and says what it assumed.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.context.build_context import Selection, normalize
from dockopt.diagnostics import Severity
from dockopt.fixes.reorder import expand, stage_places
from dockopt.syntax import Instruction


@dataclass(frozen=True, slots=True)
class _Source:
    instruction: Instruction
    written: str
    selection: Selection


class CopySourceMissing(Rule):
    code = "DO305"
    name = "copy-source-missing"
    severity = Severity.ERROR
    uses_context = True

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        context = ctx.build_context
        if not context.available or context.truncated:
            return
        sources = list(self._sources(ctx))
        if not context.known and not any(s.selection.matched and normalize(s.written) for s in sources):
            return  # nothing named confirms the assumed context
        assumed = "" if context.known else f" (assuming the build context is {context.root})"
        ignore = context.ignore_file.name if context.ignore_file is not None else ".dockerignore"
        for source in sources:
            selection = source.selection
            if selection.matched or not selection.complete:
                continue
            ins = source.instruction
            if selection.ignored_matches:
                what = (f"`{source.written}` is excluded by {ignore}{assumed}: "
                        + ("the wildcard matches nothing that is sent, so nothing is copied" if selection.wildcard
                           else "the build fails (it is not in the context BuildKit receives)"))
            elif selection.wildcard:
                what = f"`{source.written}` matches nothing in the build context{assumed}: nothing is copied"
            else:
                what = f"`{source.written}` does not exist in the build context{assumed}: the build fails"
            yield Finding.at(ins, what)

    @staticmethod
    def _sources(ctx: LintContext) -> Iterator[_Source]:
        context = ctx.build_context
        for stage in ctx.build.stages:
            for place in stage_places(ctx.build, stage):
                ins = place.instruction
                if ins.name not in ("COPY", "ADD") or ins.heredocs or ins.flag("from") is not None:
                    continue
                for written in ins.values[:-1]:
                    value = expand(written, place)
                    if value is None or "://" in value or value.startswith("git@"):
                        continue
                    yield _Source(ins, written, context.select(value))
