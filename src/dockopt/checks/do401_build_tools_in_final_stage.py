"""DO401 build-tools-in-final-stage: the shipped image carries a toolchain it only built with.

Reads the shipped-stage facts (``dockopt.toolchain.stage``): build-tool packages installed
and kept (compilers, ``-dev`` headers, language toolchains, a JDK), or a toolchain base
image (golang, rust, gcc, maven, gradle, a JDK, the .NET SDK, the full node/python/ruby
images), together with something that uses them in the shipped stages: a build command
(go build, cargo build, mvn package, npm run build, make, gcc, pip wheel, dotnet publish)
or, for installed compilers, a dependency install that compiles (pip/npm/bundle install).

Silent when the tools are removed in the RUN that installed them (``apk del
.build-deps``, ``apt-get purge --auto-remove``), when nothing builds, and when the image is a
development or tool image: a dev container, a stage meant as a dev/test target, ONBUILD
base images, no CMD/ENTRYPOINT of its own, or a command that is a shell or the toolchain
itself (``dockopt.toolchain.stage._dev_reason``). The full node/python/ruby images only
count with an explicit build step: without one, DO402 (heavy final base) says it.

One finding per build, at the kept install (or the FROM of a toolchain base), with the
estimated bytes a builder stage would leave out and the split itself (``dockopt.fixes.split``)
as the fix: an unsafe rewrite for recognised recipes, otherwise a suggestion.
"""
from __future__ import annotations

from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.diagnostics import Severity
from dockopt.layers.sizes import human, package_size
from dockopt.model import Stage
from dockopt.toolchain.commands import Step
from dockopt.toolchain.images import go_version, image_size, parse_image
from dockopt.toolchain.packages import is_compiler, is_dev_package, is_heavy, is_toolchain
from dockopt.toolchain.stage import StageFacts, shipped_facts

# Which build steps a toolchain base image serves.
_BASE_STEPS = {
    "go": {"go"}, "rust": {"cargo"}, "c": {"make", "cc"}, "java": {"maven", "gradle"}, "dotnet": {"dotnet"},
    "node": {"js"}, "python": {"python", "cc", "make"}, "ruby": {"make", "cc"},
}
TOOLCHAIN_NAMES = {"go": "Go", "rust": "Rust", "c": "C", "java": "JDK", "dotnet": ".NET SDK",
                   "node": "full node image's build", "python": "full python image's build",
                   "ruby": "full ruby image's build"}


def stage_label(stage: Stage) -> str:
    """``'runtime'`` for a named stage, ``(line 3)`` for an unnamed one."""
    return f"'{stage.name_written}'" if stage.name_written else f"(FROM on line {stage.from_instruction.start_line})"


# Caches and build output a builder stage would keep to itself.
BUILD_LEFTOVERS = {
    "go-build-cache": "Go build cache", "go-mod-cache": "Go module cache", "cargo-registry": "Cargo registry",
    "maven-repo": "Maven repository", "gradle-cache": "Gradle cache", "build-dir": "build directory",
}
# Where each toolchain's output usually runs (used for the size estimate when no recipe applies).
DEFAULT_RUNTIME = {
    "go": "gcr.io/distroless/static-debian12", "rust": "debian:bookworm-slim", "c": "debian:bookworm-slim",
    "java": "eclipse-temurin:21-jre", "dotnet": "mcr.microsoft.com/dotnet/aspnet:8.0", "node": "node:slim",
    "python": "python:slim", "ruby": "ruby:slim",
}


class BuildToolsInFinalStage(Rule):
    code = "DO401"
    name = "build-tools-in-final-stage"
    severity = Severity.WARNING

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        facts = shipped_facts(ctx)
        if facts is None or facts.dev_reason is not None:
            return
        evidence = evidence_of(facts)
        if evidence is None:
            return
        steps, installs_used, base_used = evidence
        from dockopt.fixes.split import propose_split

        proposal = propose_split(ctx, facts, steps)
        saved, parts = savings(ctx, facts, installs_used, base_used, proposal.runtime_image)
        tools = ", ".join(sorted({t for i in installs_used for t in i.tools}))
        what: list[str] = []
        if base_used:
            toolchain = TOOLCHAIN_NAMES.get(facts.base_toolchain or "", facts.base_toolchain)
            what.append(f"the {toolchain} toolchain of its base image {facts.stages[0].base}")
        if tools:
            lines = sorted({i.run.instruction.start_line for i in installs_used})
            what.append(f"{tools} (line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))})")
        used = "; ".join(f"`{s.text}` on line {facts.run_of(s).instruction.start_line}" for s in steps[:3])
        if len(steps) > 3:
            used += f" and {len(steps) - 3} more"
        breakdown = f" ({', '.join(parts)})" if parts else ""
        message = (
            f"the shipped stage {stage_label(facts.final)} keeps {' and '.join(what)}, needed only to build "
            f"({used}); building in a separate stage and copying the result would leave out "
            f"{human(saved)}{breakdown}"
        )
        if installs_used:
            inv = installs_used[0].invocation
            finding = Finding(inv.start, inv.end, message, proposal.fix)
        else:
            finding = Finding.at(facts.stages[0].from_instruction, message, proposal.fix)
        for step in steps[:5]:
            finding.related.append((f"build step `{step.text}`", step.invocation.start))
        yield finding


def evidence_of(facts: StageFacts) -> tuple[list[Step], list, bool] | None:  # type: ignore[type-arg]
    """(the steps that use the tools, the kept installs they use, whether the base image counts)."""
    kept = [i for i in facts.kept_installs if any(is_heavy(t) for t in i.tools)]
    # Tools installed after the last build step serve the running container, not the build
    # (TGI's final stage installs build-essential/g++ again after everything is built).
    lines = [facts.run_of(s).instruction.start_line for s in [*facts.builds, *facts.compiling_installs]]
    kept = [i for i in kept if lines and i.run.instruction.start_line <= max(lines)]
    if not any(is_toolchain(t) for i in kept for t in i.tools):
        kept = []  # headers alone (the compiler was removed): the split would save little
    base = facts.base_toolchain
    steps: list[Step] = []
    base_used = False
    if base is not None:
        for step in facts.builds:
            if step.tool in _BASE_STEPS.get(base, set()):
                steps.append(step)
                base_used = True
    if kept:
        steps += [s for s in facts.builds if s not in steps]
        compilers = any(is_compiler(t) or is_dev_package(t) for i in kept for t in i.tools)
        if compilers:
            steps += facts.compiling_installs
    if not steps:
        return None
    installs_used = kept if any(s in facts.builds or s in facts.compiling_installs for s in steps) else []
    order = {id(s): facts.run_of(s).instruction.start_line for s in steps}
    steps.sort(key=lambda s: (order[id(s)], s.invocation.start))
    return steps, installs_used, base_used


def _caches_go_lacks(version: tuple[int, int] | None) -> frozenset[str]:
    """The Go caches a release does not have: modules came with Go 1.11, the build cache with 1.10."""
    if version is None:
        return frozenset()
    return frozenset(c for c, since in (("go-mod-cache", (1, 11)), ("go-build-cache", (1, 10))) if version < since)


def savings(ctx: LintContext, facts: StageFacts, installs: list, base_used: bool,  # type: ignore[type-arg]
            runtime_image: str | None) -> tuple[int | None, list[str]]:
    """Estimated bytes a split drops, and the parts it is made of (for the message)."""
    total = 0
    parts: list[str] = []
    known = False
    seen: set[str] = set()
    for install in installs:
        for tool in install.tools:
            size = package_size(tool)
            if tool in seen:
                continue
            seen.add(tool)
            if size:
                total += size
                known = True
                parts.append(f"{tool} {human(size)}")
    if base_used or runtime_image:
        base = parse_image(facts.stages[0].base_resolved)
        runtime = parse_image(runtime_image) if runtime_image else None
        full, light = image_size(base), image_size(runtime)
        if full is not None and light is not None and full > light:
            total += full - light
            known = True
            parts.append(f"{facts.stages[0].base} -> {runtime_image}: {human(full - light)}")
    shipped = {s.index for s in facts.stages}
    absent = _caches_go_lacks(go_version(parse_image(facts.stages[0].base_resolved)))
    for plan in ctx.layers.stages:
        if plan.stage.index not in shipped:
            continue
        for effect, _ins in plan.left:
            name = BUILD_LEFTOVERS.get(effect.category)
            if effect.category in absent:
                continue
            if name and effect.size and name not in seen:
                seen.add(name)
                total += effect.size
                known = True
                parts.append(f"{name} {human(effect.size)}")
    return (total if known else None), parts[:5]
