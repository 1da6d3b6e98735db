"""Builder/runtime splits of a shipped stage: DO401's fix.

``propose_split(ctx, facts, steps)`` tries the recipes that match what the stage builds
(Go, Rust, C, Java, Node static site, Node server, Python wheels). A recipe that applies
gives one edit replacing the stage's text with a builder stage and a runtime stage, checked
to parse. It is an **unsafe** fix only for a recipe in ``PROVEN_RECIPES``: one the e2e suite
proves by building the split of a real Dockerfile on a real engine and running the result
(tests/e2e/cases/<case>, whose expect.toml names the recipe in ``proves_recipe``). On real
files, 5 of 8 applied splits of the other recipes did not build (issue 14), so every other
recipe's text is a **suggestion**: shown with its edit, never applied. The message says what
the user must verify (runtime libraries, CA certificates, user, file paths). When no recipe
applies, the suggestion names the lines that belong in a builder stage.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dockopt.checks.base import LintContext
from dockopt.diagnostics import Applicability, Edit, Fix
from dockopt.fixes.split.interpreted import RECIPES as INTERPRETED
from dockopt.fixes.split.layout import StageText, stage_text
from dockopt.fixes.split.native import Decline, Split
from dockopt.fixes.split.recipes import RECIPES as NATIVE
from dockopt.syntax import parse
from dockopt.toolchain.commands import Step
from dockopt.toolchain.stage import StageFacts

Recipe = Callable[[LintContext, StageFacts, StageText, list[Step]], Split]
ALL_RECIPES: dict[str, Recipe] = {**NATIVE, **INTERPRETED}
# The toolchain a step or base image points to -> recipes to try, in order.
_BY_TOOL = {
    "go": ("go",), "cargo": ("rust",), "rust": ("rust",), "maven": ("java",), "gradle": ("java",), "java": ("java",),
    "js": ("node-static", "node-server"), "node": ("node-static", "node-server"), "pip": ("python",),
    "python": ("python",), "cc": ("c",), "make": ("c",), "c": ("c",),
}
# Recipe -> the e2e case (tests/e2e/cases/<name>) that builds its split on a real engine and
# runs the result. Only these are applied by `fix --unsafe-fixes`; the engine has busybox and
# debian:bookworm-slim only, so a recipe whose runtime or builder image is neither (distroless,
# golang, python, node, maven) cannot be proven there and stays a suggestion.
PROVEN_RECIPES: dict[str, str] = {"c": "c-split", "c-static": "c-static-split"}
DEFAULT_RUNTIME = {
    "go": "gcr.io/distroless/static-debian12", "rust": "debian:bookworm-slim", "c": "debian:bookworm-slim",
    "java": "eclipse-temurin:<version>-jre", "dotnet": "mcr.microsoft.com/dotnet/aspnet", "node": "node:<version>-slim",
    "python": "python:<version>-slim", "ruby": "ruby:<version>-slim",
}


@dataclass(frozen=True, slots=True)
class Proposal:
    fix: Fix | None
    runtime_image: str | None
    recipe: str | None
    declined: tuple[str, ...] = ()


def candidate_recipes(facts: StageFacts, steps: list[Step]) -> list[str]:
    names: list[str] = []
    for key in ([facts.base_toolchain] if facts.base_toolchain else []) + [s.tool for s in steps]:
        for name in _BY_TOOL.get(key, ()):
            if name not in names:
                names.append(name)
    return names


def propose_split(ctx: LintContext, facts: StageFacts, steps: list[Step]) -> Proposal:
    build = ctx.build
    stage = facts.final
    reasons: list[str] = []
    if len(facts.stages) > 1:
        reasons.append(f"the shipped stage builds on stage '{facts.stages[0].label}'")
    elif stage is not build.stages[-1]:
        reasons.append("other stages follow the shipped stage")
    elif build.document.errors:
        reasons.append("the file has syntax errors")
    st = stage_text(build, stage)
    if not reasons:
        for name in candidate_recipes(facts, steps):
            try:
                split = ALL_RECIPES[name](ctx, facts, st, steps)
            except Decline as exc:
                reasons.append(f"{name}: {exc}")
                continue
            new_source = build.document.source[: st.start] + split.text + build.document.source[st.end :]
            if parse(new_source).errors:
                reasons.append(f"{name}: the generated stages do not parse")
                continue
            return Proposal(_split_fix(split, stage.from_instruction.start_line, st), split.runtime_image,
                            split.recipe)
    runtime = DEFAULT_RUNTIME.get(_main_tool(facts, steps) or "", None)
    return Proposal(_suggestion(ctx, facts, steps, runtime), None if runtime is None or "<" in runtime else runtime,
                    None, tuple(reasons))


def _main_tool(facts: StageFacts, steps: list[Step]) -> str | None:
    if facts.base_toolchain:
        return facts.base_toolchain
    tools = {"go": "go", "cargo": "rust", "maven": "java", "gradle": "java", "cc": "c", "make": "c", "pip": "python",
             "js": "node"}
    return next((tools[s.tool] for s in steps if s.tool in tools), None)


def _split_fix(split: Split, line: int, st: StageText) -> Fix:
    copied = ", ".join(split.artifacts)
    checks = "; that ".join(split.checks)
    what = (f"Split the stage on line {line} into a '{split.builder}' builder stage and a runtime stage on "
            f"{split.runtime_image} that copies {copied}")
    edits = (Edit(st.start, st.end, split.text),)
    if split.recipe in PROVEN_RECIPES:
        message = (f"{what} (recipe `{split.recipe}`, proven by a test build; unsafe: the image's contents "
                   f"change; check that {checks})")
        return Fix(Applicability.UNSAFE, message, edits)
    message = (f"{what} (a suggestion, never applied: the `{split.recipe}` recipe is not proven by a real build; "
               f"check that {checks})")
    return Fix(Applicability.SUGGESTION, message, edits)


def _suggestion(ctx: LintContext, facts: StageFacts, steps: list[Step], runtime: str | None) -> Fix:
    tool_lines = sorted({i.run.instruction.start_line for i in facts.kept_installs})
    build_lines = sorted({facts.run_of(s).instruction.start_line for s in steps})
    parts = []
    if tool_lines:
        parts.append(f"the tool installs (line{'s' if len(tool_lines) > 1 else ''} {_lines(tool_lines)})")
    parts.append(f"the build (line{'s' if len(build_lines) > 1 else ''} {_lines(build_lines)})")
    where = f" on {runtime}" if runtime else ""
    message = (
        f"Move {' and '.join(parts)} into a builder stage (`FROM {facts.stages[0].base} AS build`), then start the "
        f"shipped stage{where} and `COPY --from=build` only what the program needs at run time"
    )
    return Fix(Applicability.SUGGESTION, message, ())


def _lines(lines: list[int]) -> str:
    return ", ".join(map(str, lines))


__all__ = ["ALL_RECIPES", "PROVEN_RECIPES", "Proposal", "candidate_recipes", "propose_split"]
