"""DO102 package-cache-left: a package manager's cache stays in a shipped layer.

Reads the layer plan: caches (apt lists and archives, apk, yum/dnf/zypper, pip, uv, npm,
yarn, pnpm, go, cargo, maven, gradle, composer, gem) created by a RUN of a shipped stage
and still present at the end of the stage, or re-created by a later RUN (``RUN apt-get
update && apt-get install curl`` three times ships three copies of the lists: one finding
per RUN). A cache removed by a *later* layer is DO101's finding, not this one; caches under
``RUN --mount=type=cache`` never reach a layer. A project install (``yarn install``,
``npm ci``, ``composer install``) run in a bind-mounted directory keeps only its cache: that is
cache warming on purpose, not reported. Nor is a pip/uv cache on a base image dockopt cannot
name (``FROM ${BASE}`` without a default): that image's ENV may turn the cache off.

Fixes add the flag or the same-RUN cleanup (``fixes/cache_cleanup.py``). They declare the
cache they remove (``Fix.removes_caches``) and are safe when nothing later reads it (later
RUNs of the stage and of stages built FROM it: ``layers/consumers.py``), the cleanup's tool
is still there and its Go knows the flag; unsafe, saying what might break, when a later
command might need it; absent when one certainly does.
"""
from __future__ import annotations

from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.diagnostics import Fix, Severity
from dockopt.layers import CACHE_CATEGORIES, Effect, EffectKind
from dockopt.layers.plan import BASE_ENV_UNKNOWN, WARMED
from dockopt.layers.sizes import human
from dockopt.fixes.cache_cleanup import FLAG_AFTER as _FLAG_AFTER
from dockopt.fixes.cache_cleanup import cache_fix
from dockopt.model import Run
from dockopt.syntax import Instruction

# category -> (what it is, command appended to the RUN)
_CLEANUP: dict[str, tuple[str, str | None]] = {
    "apt-lists": ("apt package lists", "rm -rf /var/lib/apt/lists/*"),
    "apt-archives": ("downloaded .deb files", "apt-get clean"),
    "apk-cache": ("apk cache", "rm -rf /var/cache/apk/*"),
    "yum-cache": ("yum cache", "yum clean all"),
    "dnf-cache": ("dnf cache", "dnf clean all"),
    "zypper-cache": ("zypper cache", "zypper clean --all"),
    "pip-cache": ("pip cache", None),
    "uv-cache": ("uv cache", "uv cache clean"),
    "npm-cache": ("npm cache", "npm cache clean --force"),
    "yarn-cache": ("yarn cache", "yarn cache clean"),
    "pnpm-store": ("pnpm store", "pnpm store prune"),
    "go-build-cache": ("Go build cache", "go clean -cache"),
    "go-mod-cache": ("Go module cache", "go clean -modcache"),
    "composer-cache": ("Composer cache", "composer clear-cache"),
}


_NOT_LEFT = frozenset({WARMED, BASE_ENV_UNKNOWN})


def cache_name(category: str) -> str:
    """How messages name a cache category ("apt package lists")."""
    return _CLEANUP.get(category, (category.replace("-", " "), None))[0]


class PackageCacheLeft(Rule):
    code = "DO102"
    name = "package-cache-left"
    severity = Severity.WARNING

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        build = ctx.build
        shipped = {stage.index for stage in build.shipped_stages(ctx.target)}
        # Caches left at the end of a stage, and caches a later RUN re-creates: the earlier
        # layer's copy ships all the same (the later one only shadows it). One finding per RUN
        # and cache, over all shipped stages (a stage built FROM another may re-create the
        # cache its parent left: the shadowing is what the message says).
        found: dict[tuple[int, str], tuple[Effect, Instruction, Instruction | None]] = {}
        for stage_plan in ctx.layers.stages:
            if stage_plan.stage.index not in shipped:
                continue  # builder stages do not ship: their caches cost build time only
            for w in stage_plan.waste:
                if w.removed.kind is EffectKind.CREATE and w.created_by is not w.removed_by:
                    found[(w.created_by.start, w.created.category)] = (w.created, w.created_by, w.removed_by)
        for stage_plan in ctx.layers.stages:
            if stage_plan.stage.index in shipped:
                for effect, ins in stage_plan.left:
                    found.setdefault((ins.start, effect.category), (effect, ins, None))
        for effect, ins, shadowed_by in sorted(found.values(), key=lambda c: c[0].start):
            if effect.category not in CACHE_CATEGORIES or ins.name != "RUN" or effect.detail in _NOT_LEFT:
                continue  # the cache is what the RUN is for, or the base image may turn it off (layers/plan.py)
            run = build.run_of(ins)
            if run is None:
                continue
            yield self._finding(ctx, run, effect, shadowed_by)

    def _finding(self, ctx: LintContext, run: Run, effect: Effect, shadowed_by: Instruction | None) -> Finding:
        what, cleanup = cache_name(effect.category), _CLEANUP.get(effect.category, ("", None))[1]
        tool = effect.command.split()[0] if effect.command else ""
        if effect.category in ("yum-cache", "dnf-cache") and tool in ("yum", "dnf", "microdnf", "tdnf"):
            cleanup = f"{tool} clean all"  # each of these cleans its own cache
        fix = self._fix(ctx, run, effect, cleanup)
        hint = f"; add `{cleanup}` to this RUN" if cleanup else ""
        if effect.category in _FLAG_AFTER:
            hint = f"; use `{_FLAG_AFTER[effect.category][1].strip()}`"
        where = f"the RUN on line {run.instruction.start_line}"
        if shadowed_by is not None:
            where += (f" (the {shadowed_by.name} on line {shadowed_by.start_line} makes a new copy; "
                      "this layer's copy ships all the same)")
        message = f"`{effect.command}` leaves the {what} ({human(effect.size)}) in {where}{hint}"
        return Finding(effect.start, effect.end, message, fix)

    def _fix(self, ctx: LintContext, run: Run, effect: Effect, cleanup: str | None) -> Fix | None:
        # Fix construction and its safety (consumers, tool presence, Go version): fixes/cache_cleanup.py.
        return cache_fix(ctx, run, effect, cleanup)
