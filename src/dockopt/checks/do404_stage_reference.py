"""DO404 stage-reference: stage names and references that do not mean what they seem.

Checks, per build:
- ``COPY --from``/``RUN --mount=from=``/``FROM`` naming a stage that is defined only later
  (BuildKit then silently pulls an image of that name) or nowhere, when the name looks
  like a stage (no registry, tag or digest);
- ``--from`` by index that is not an earlier stage;
- duplicate stage names (BuildKit refuses the file);
- ``FROM ... as name`` where the ``AS`` keyword's casing differs from ``FROM``'s (BuildKit's
  FromAsCasing); safe fix: match the casing;
- stages the shipped stage never uses (BuildKit skips them; the legacy builder builds them).
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.diagnostics import Applicability, Edit, Fix, Severity
from dockopt.model import Build, Stage
from dockopt.syntax import Instruction
from dockopt.text import edit_distance

_STAGE_LIKE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$", re.IGNORECASE)


def _references(stage: Stage) -> Iterator[tuple[Instruction, str, int, int]]:
    """(instruction, referenced name, source start, source end) for each stage reference."""
    for ins in stage.instructions:
        target = ins.onbuild if ins.name == "ONBUILD" and ins.onbuild else ins
        if target is not ins:
            continue  # ONBUILD triggers run in a child build, not this one
        for flag in ins.flags:
            if flag.name == "from" and ins.name in ("COPY", "ADD") and flag.value:
                yield ins, flag.value, flag.start, flag.end
            elif flag.name == "mount" and ins.name == "RUN" and flag.value:
                for part in flag.value.split(","):
                    key, _, value = part.partition("=")
                    if key.strip().lower() == "from" and value:
                        yield ins, value.strip(), flag.start, flag.end


class StageReference(Rule):
    code = "DO404"
    name = "stage-reference"
    severity = Severity.WARNING

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        build = ctx.build
        yield from self._duplicates(build)
        yield from self._as_casing(build)
        used: set[int] = set()
        for stage in build.stages:
            for ins, ref, start, end in _references(stage):
                yield from self._check_ref(build, stage, ins, ref, start, end, used)
            for ins in stage.instructions:
                for flag in ins.flags:
                    if flag.name == "from" and flag.value is None and ins.name in ("COPY", "ADD"):
                        yield Finding(flag.start, flag.end, "`--from` needs a value (`--from=<stage>`); BuildKit "
                                      "fails with 'Missing a value on flag: --from'")
        yield from self._unused(build, ctx.target)

    def _duplicates(self, build: Build) -> Iterator[Finding]:
        seen: dict[str, Stage] = {}
        for stage in build.stages:
            if stage.name is None:
                continue
            if stage.name in seen:
                first = seen[stage.name]
                finding = Finding.at(
                    stage.from_instruction,
                    f"duplicate stage name '{stage.name_written}' (first defined on line "
                    f"{first.from_instruction.start_line}); references to it are ambiguous "
                    "(BuildKit's DuplicateStageName check)",
                )
                finding.related.append(("first definition", first.from_instruction.start))
                yield finding
            else:
                seen[stage.name] = stage

    def _as_casing(self, build: Build) -> Iterator[Finding]:
        for stage in build.stages:
            ins = stage.from_instruction
            if stage.name_written is None or len(ins.arguments) < 3:
                continue
            as_arg = ins.arguments[1]
            wanted = "AS" if ins.keyword.isupper() else "as" if ins.keyword.islower() else None
            if wanted is None or as_arg.value == wanted:
                continue  # mixed-case FROM: no casing to match
            fix = Fix(Applicability.SAFE, f"Write '{wanted}' to match '{ins.keyword}'",
                      (Edit(as_arg.start, as_arg.end, wanted),))
            yield Finding(as_arg.start, as_arg.end,
                          f"'{as_arg.value}' and '{ins.keyword}' keywords' casing do not match", fix)

    def _check_ref(
        self, build: Build, stage: Stage, ins: Instruction, ref: str, start: int, end: int, used: set[int]
    ) -> Iterator[Finding]:
        if ref.isdigit():
            index = int(ref)
            if index >= stage.index:
                yield Finding(start, end, f"--from={ref} does not name an earlier stage "
                              f"(this is stage {stage.index}); the build fails")
            return
        if "$" in ref:
            return  # resolved at build time; nothing certain to say
        target = next((s for s in build.stages if s.name == ref.lower()), None)
        if target is not None and target.index >= stage.index:
            yield Finding(start, end, f"stage '{ref}' is defined later (line "
                          f"{target.from_instruction.start_line}); here '{ref}' is pulled as an image")
            return
        if target is None and _STAGE_LIKE.match(ref) and ":" not in ref and "/" not in ref:
            # A name that is not a stage may be a named build context (`docker build
            # --build-context templates=./templates`): only a near miss of a stage name, or a
            # builder's name, is most likely a mistake.
            near = _near_stage(build, ref.lower())
            if near is not None:
                yield Finding(start, end, f"'{ref}' is not a stage of this Dockerfile (did you mean '{near}'?); "
                              f"unless a `--build-context {ref}=...` provides it, it is pulled as the image "
                              f"'{ref}:latest'")
            elif ref.lower() in _BUILDER_NAMES:
                yield Finding(start, end, f"'{ref}' is not a stage of this Dockerfile; unless a "
                              f"`--build-context {ref}=...` provides it, it is pulled as the image '{ref}:latest'")

    def _unused(self, build: Build, target: str | None) -> Iterator[Finding]:
        """Stages nothing uses — reported only where that is most likely a mistake.

        Files with several build targets (``docker build --target test``) have stages the last
        stage never uses by design, and a stage referenced through a variable
        (``FROM base-$TARGETARCH``) cannot be resolved statically. So: no report when any
        reference is dynamic, and without ``--target`` only a single extra leaf stage with a
        builder-like role is reported (the classic forgotten ``COPY --from``).
        """
        final = build.final_stage(target)
        if final is None or len(build.stages) < 2:
            return
        referenced: set[int] = set()
        for stage in build.stages:
            if "$" in stage.base:
                return  # `FROM ${PLATFORM} AS final`: which stages it builds on is chosen per build
            for _ins, ref, _s, _e in _references(stage):
                if "$" in ref:
                    return
                dep = build.stage(ref)
                if dep is not None:
                    referenced.add(dep.index)
            if stage.base_stage is not None:
                referenced.add(stage.base_stage.index)
        needed = self._needed(build, final)
        names = [s.name for s in build.stages if s.name]
        unused = [s for s in build.stages if s.index not in needed and names.count(s.name) < 2]
        # Stages built on purpose with `--target`: an image of their own (CMD, ENTRYPOINT, EXPOSE),
        # or an export stage (`FROM scratch` + `COPY --from`, for `--output`); and what they use.
        targets = [s for s in unused if _targetable(s)]
        serving = set().union(*(self._needed(build, s) for s in targets)) if targets else set()
        if target is None:
            if targets:
                return  # a file with several build targets
            leaves = [s for s in unused if s.index not in referenced]
            if len(leaves) != 1 or (leaves[0].name or "") in TARGET_NAMES:
                return
        shipped = (f"the shipped stage '{final.label}'" if final.name else
                   f"the shipped stage (the last one, line {final.from_instruction.start_line})")
        for stage in unused:
            if stage.index in serving:
                continue
            yield Finding.at(
                stage.from_instruction,
                f"stage '{stage.label}' is not used by {shipped}: BuildKit skips it "
                "(the legacy builder still builds it); a forgotten COPY --from?",
            )

    @staticmethod
    def _needed(build: Build, final: Stage) -> set[int]:
        needed: set[int] = set()
        todo = [final]
        while todo:
            stage = todo.pop()
            if stage.index in needed:
                continue
            needed.add(stage.index)
            if stage.base_stage is not None:
                todo.append(stage.base_stage)
            for _ins, ref, _s, _e in _references(stage):
                dep = build.stage(ref)
                if dep is not None and dep.index < stage.index:
                    todo.append(dep)
        return needed


# Stage names people build on purpose with --target.
TARGET_NAMES = frozenset({
    "test", "tests", "testing", "dev", "develop", "development", "debug", "lint", "ci", "release",
    "prod", "production", "final", "runtime", "devcontainer", "dev-envs", "docs", "bench", "e2e",
})


_BUILDER_NAMES = frozenset({"build", "builder", "build-env", "compile", "compiler", "deps", "dependencies"})
_IMAGE_CONFIG = frozenset({"CMD", "ENTRYPOINT", "EXPOSE", "HEALTHCHECK"})


def _targetable(stage: Stage) -> bool:
    """A stage that is an image or an export of its own, for `docker build --target`."""
    if any(ins.name in _IMAGE_CONFIG for ins in stage.instructions):
        return True
    return stage.base.lower() == "scratch" and all(
        ins.name in ("COPY", "ADD", "ARG", "LABEL") for ins in stage.instructions[1:])


def _near_stage(build: Build, ref: str) -> str | None:
    """A stage name ``ref`` is likely a slip for: one or two edits away, or one of its dash-separated
    parts (``--from=set`` for ``license-set``)."""
    for stage in build.stages:
        name = stage.name
        if name is None or name == ref:
            continue
        if ref in name.split("-") or edit_distance(ref, name) <= min(2, len(ref) // 3):
            return stage.name_written or name
    return None

