"""DO301 source-copy-before-deps: the sources are copied before an install that needs only the manifests.

The build cache keys a COPY by the checksums of what it copies and invalidates every later
step of the stage on a miss (:mod:`dockopt.cache.model`), so ``COPY . .`` before ``npm ci`` reruns
the install on every source edit. Reported on the broad COPY (``.``, ``./``, ``src/``: one
context directory that holds the install's project), naming the install and the manifests
(:mod:`dockopt.fixes.manifest_first`, :mod:`dockopt.cache.ecosystems`).

More generally (issue 16), any other COPY/ADD of the context above the first install of its
stage whose files the install does not read (``COPY requirements.txt .`` / ``COPY app.py .`` /
``RUN pip install -r requirements.txt``) is reported on that COPY, with a fix that moves it
below the install (:mod:`dockopt.fixes.unread_copy`: what "does not read" rests on, and when
the move is safe).

Decisions:
- Every stage counts, builder stages included: they do not ship, but their installs are
  exactly the build time this rule is about.
- Silent when the install needs the sources: ``pip install .``, ``-e .`` or a local path in a
  requirements file, workspaces, ``replace`` to a local directory, multi-module builds,
  a gemspec Gemfile (as far as the context shows: without it, we assume the manifests
  suffice and the fix says so).
- Installs that need the sources but have a manifest-only form (``poetry install`` ->
  ``--no-root``, ``uv sync`` -> ``--no-install-project``, an optimised composer autoloader,
  ``cargo fetch``) are reported with that form and no automatic fix: changing the command
  is for the author.
- Without the context, a bundler install in a Dockerfile that names a ``.gemspec`` is taken
  for a gem's Gemfile (``gemspec``), which needs the sources.
- Unknown ecosystems: nothing.
"""
from __future__ import annotations

from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.diagnostics import Severity
from dockopt.layers.sizes import human
from dockopt.fixes.manifest_first import Candidate, analyse, find_candidates, plan_fix
from dockopt.fixes.unread_copy import UnreadCopy, find_unread_copies, plan_move

MAX_NAMED = 4
# What to copy, for ecosystems whose manifests cannot be named without the context.
_DESCRIBED = {"dotnet": "the .sln, project files and NuGet configuration",
              "gradle": "build.gradle(.kts), settings.gradle(.kts), gradle.properties and gradle/"}


class SourceCopyBeforeDeps(Rule):
    code = "DO301"
    name = "source-copy-before-deps"
    severity = Severity.WARNING
    uses_context = True

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        reported: set[int] = set()
        for candidate in find_candidates(ctx):
            reported.add(id(candidate.copy.instruction))
            install = candidate.install
            if install.needs_sources and not install.manifest_variant:
                continue
            plan = analyse(ctx, candidate)
            if plan.blockers:
                continue
            if install.name == "bundler" and not plan.known and ".gemspec" in ctx.source:
                continue  # a gem's own Gemfile reads its gemspec (and the version file it requires)
            fix = plan_fix(ctx, candidate) if not install.needs_sources else None
            finding = Finding.at(candidate.copy.instruction, self._message(ctx, candidate), fix)
            finding.related.append((f"the install `{install.text}`", install.invocation.start))
            yield finding
        for unread in find_unread_copies(ctx, reported):
            finding = Finding.at(unread.place.instruction, self._unread_message(unread), plan_move(ctx, unread))
            finding.related.append((f"the install `{unread.install.text}`", unread.install.invocation.start))
            yield finding

    def _unread_message(self, unread: UnreadCopy) -> str:
        ins = unread.place.instruction
        line = unread.run_place.instruction.start_line
        it = "them" if len(unread.footprint.sources) > 1 else "it"
        message = (f"this {ins.name} copies {unread.footprint.shown()} before `{unread.install.text}` on line "
                   f"{line}, which does not read {it}, so every edit of {it} reruns the install; move this {ins.name} "
                   "below the install")
        if unread.blocked:
            message += f" (with what uses it: {unread.blocked})"
        return message

    def _message(self, ctx: LintContext, candidate: Candidate) -> str:
        plan = candidate.plan
        assert plan is not None
        install, copy = candidate.install, candidate.copy
        ins = copy.instruction
        line = candidate.run_place.instruction.start_line
        what = "the whole build context" if not copy.source else f"{copy.source}/"
        context = ctx.build_context
        if plan.known and context.available and not context.truncated:
            selection = context.select(copy.source or ".")
            what += f" ({len(selection.paths):,} files, {human(selection.size_bytes)})"
        names = [*plan.files, *(d + "/" for d in plan.dirs)]
        more = f" and {len(names) - MAX_NAMED} more" if len(names) > MAX_NAMED else ""
        listed = ", ".join(names[:MAX_NAMED]) + more
        listed = listed or _DESCRIBED.get(install.name, "the manifests")
        message = (f"this {ins.name} copies {what} before `{install.text}` on line {line}, "
                   f"so every source edit reruns the install; copy {listed} first")
        if candidate.manifests_in_place:
            message = (f"this {ins.name} copies {what} before `{install.text}` on line {line}, which does not read "
                       f"it, so every source edit reruns the install; the manifests are copied already: move "
                       f"this {ins.name} below the install")
        if install.needs_sources and install.manifest_variant:
            message += f", run `{install.manifest_variant}`, then copy the sources"
        elif plan.missing and plan.known:
            message += f" ({', '.join(plan.missing[:2])} not found in the build context)"
        return message
