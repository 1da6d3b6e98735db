"""One accounting of waste: which finding names each byte the simulator calls waste.

The simulator records ``Waste`` items: bytes an earlier layer stores that a later layer
removes, shadows (re-creates the same cache) or copies up (chmod, sed -i). Each item of a
shipped stage should be named by exactly one finding of the default selection, or be an
explicit exception listed in ``EXCEPTIONS`` with the reason it is not worth a finding.

A finding *names* a waste item when it is the rule's own finding for that kind of waste:
DO101 (or DO201 for a secret) on the command that removes the bytes, DO104 on the command
that rewrites them, DO102 on the command that created a cache a later layer re-creates.
``dockopt layers`` shows the share, and tests/test_waste_accounting.py holds it over the
shared corpus.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from dockopt.layers.plan import EffectKind, LayerPlan, Waste

if TYPE_CHECKING:
    from dockopt.checks.base import LintContext

# Rules whose findings are about bytes a layer ships in vain.
WASTE_RULES = frozenset({"DO101", "DO102", "DO104", "DO201"})

# Waste the default selection deliberately does not report, and why (documented in
# docs/rules/DO101.md's "What is not reported").
EXCEPTIONS: dict[str, str] = {
    "tiny": "a directory, link or user-database entry (a few KB at most; useradd cannot avoid it)",
    "moved": "mv of an earlier layer's file: the bytes are kept, not cleaned up (a copy, not a cleanup)",
    "overwritten": "a file written again by a later instruction (a new version, not a cleanup)",
    "warmed": "a cache a project install in a bind mount fills on purpose: it is all the RUN keeps",
    "base-env-unknown": "a pip/uv cache on a base image dockopt cannot name, whose ENV may turn it off",
}


class _Named(Protocol):
    """What the accounting reads of a finding (a Diagnostic or a Finding with its code)."""

    code: str
    message: str
    start_offset: int
    end_offset: int


@dataclass(slots=True)
class WasteAccount:
    waste: Waste
    stage: str
    named_by: list[str] = field(default_factory=list)  # "DO101:12" (code and line of the finding)
    exception: str | None = None

    @property
    def reported(self) -> bool:
        return bool(self.named_by)


@dataclass(slots=True)
class Accounting:
    items: list[WasteAccount]

    @property
    def known(self) -> list[WasteAccount]:
        """Items of known, non-zero size: the ones the share is about."""
        return [a for a in self.items if a.waste.size]

    @property
    def reported(self) -> list[WasteAccount]:
        return [a for a in self.known if a.reported]

    @property
    def excepted(self) -> list[WasteAccount]:
        return [a for a in self.known if not a.reported and a.exception]

    @property
    def missed(self) -> list[WasteAccount]:
        return [a for a in self.known if not a.reported and not a.exception]

    @property
    def doubled(self) -> list[WasteAccount]:
        return [a for a in self.known if len(a.named_by) > 1]

    def share(self) -> tuple[int, int]:
        """(reported or excepted, all) counted over waste items of known size."""
        known = self.known
        return len(known) - len(self.missed), len(known)

    def bytes_share(self) -> tuple[int, int]:
        known = self.known
        return sum(a.waste.size or 0 for a in known if a not in self.missed), sum(a.waste.size or 0 for a in known)


def exception_of(waste: Waste) -> str | None:
    if waste.created.category in ("dir", "link", "user-db") or waste.removed.category == "user-db":
        return "tiny"
    if waste.removed.detail == "moved":
        return "moved"
    if waste.created.detail in ("warmed", "base-env-unknown"):
        return waste.created.detail  # layers/plan.py WARMED, BASE_ENV_UNKNOWN
    if waste.removed.kind is EffectKind.CREATE and waste.created.category not in _SHADOW_REPORTED:
        return "overwritten"
    return None


def _shadow_reported() -> frozenset[str]:
    from dockopt.layers.plan import CACHE_CATEGORIES

    return CACHE_CATEGORIES


_SHADOW_REPORTED = _shadow_reported()


# Which rules name a kind of waste, and on which command their finding lies.
_NAMERS = {
    EffectKind.REMOVE: (frozenset({"DO101", "DO201"}), "removed"),
    EffectKind.REWRITE: (frozenset({"DO104"}), "removed"),
    EffectKind.CREATE: (frozenset({"DO102"}), "created"),
}


def account(plan: LayerPlan, shipped: Iterable[int], findings: Sequence[_Named], line_of: _LineOf) -> Accounting:
    """Match every waste item of the shipped stages (by index) with the findings naming it."""
    relevant = [f for f in findings if f.code in WASTE_RULES]
    shipped_set = set(shipped)
    items: list[WasteAccount] = []
    for stage_plan in plan.stages:
        if stage_plan.stage.index not in shipped_set:
            continue
        for waste in stage_plan.waste:
            if waste.created_by is waste.removed_by:
                continue  # created and removed by one RUN: never reached a layer
            codes, effect = _NAMERS[waste.removed.kind]
            start, end = (waste.created.start, waste.created.end) if effect == "created" else (
                waste.removed.start, waste.removed.end)
            item = WasteAccount(waste, stage_plan.stage.label)
            for f in relevant:
                if (f.code in codes and start <= f.start_offset < max(end, start + 1)
                        and _about(f, waste)):
                    item.named_by.append(f"{f.code}:{line_of(f.start_offset)}")
            if not item.named_by:
                item.exception = exception_of(waste)
            items.append(item)
    return Accounting(items)


def _about(finding: _Named, waste: Waste) -> bool:
    """Whether a DO102 finding is about this cache: one command can leave two (``go build``
    leaves the build and the module cache, one finding each)."""
    if finding.code != "DO102":
        return True
    from dockopt.checks.do102_package_cache_left import cache_name

    return f"the {cache_name(waste.created.category)} " in getattr(finding, "message", "")


class _LineOf(Protocol):
    def __call__(self, offset: int) -> int: ...


def account_text(text: str, path: object = None, build_context: object = None, target: str | None = None,
                 *, context: LintContext | None = None) -> Accounting | None:
    """Lint ``text`` with the default selection and account its waste (None: does not parse).

    ``context``: the caller's view of this same text, build context and target, whose layer
    plan is then accounted instead of simulating the text once more (``dockopt layers``)."""
    from dockopt.checks import rule_defaults
    from dockopt.checks.base import LintContext
    from dockopt.linter import DefaultSelector, lint

    defaults = frozenset(code for code, on in rule_defaults().items() if on)
    result = lint(text, "Dockerfile", DefaultSelector(defaults), path=path,  # type: ignore[arg-type]
                  build_context=build_context, target=target)  # type: ignore[arg-type]
    if result.document.errors:
        return None
    ctx = context if context is not None else \
        LintContext(result.document, None, build_context, target)  # type: ignore[arg-type]
    shipped = [stage.index for stage in ctx.build.shipped_stages(target)]
    index = result.document.index
    return account(ctx.layers, shipped, result.diagnostics,  # type: ignore[arg-type]
                   lambda offset: index.location(offset).line)


def describe(item: WasteAccount) -> str:
    w = item.waste
    return (f"{w.created.category} {w.created.path} ({w.size} B) created by line {w.created_by.start_line} "
            f"`{w.created.command}`, {w.removed.kind.value} by line {w.removed_by.start_line} `{w.removed.command}`")
