"""The build-cache model: which inputs make which instructions rerun.

The rules this model implements (BuildKit; the legacy builder agrees except where noted):

- An instruction's cache key is its own text (after variable expansion) plus its inputs,
  and the key of the step before it: the first miss in a stage invalidates every later
  step of that stage that builds on the filesystem (RUN, COPY, ADD, WORKDIR), and every
  stage built ``FROM`` it. Config-only instructions (ENV, LABEL, EXPOSE, CMD, ...) that
  miss change the image config, not the steps after them.
- COPY/ADD from the context: keyed by the checksums of the files the source selects
  (after ``.dockerignore``), not their mtimes. A file that no COPY/ADD (or bind mount)
  selects never invalidates anything.
- ARG: "all RUN instructions following an ARG instruction use the ARG variable implicitly
  (as an environment variable), thus can cause a cache miss" (Dockerfile reference,
  "Impact on build caching"; moby/moby#18161). So a changed ``--build-arg`` value reruns
  every later RUN of the stage that declared it, used or not; other instructions miss only
  where they expand ``$NAME``. An ARG declared before the first FROM is in no stage's
  scope until the stage re-declares it. Predefined proxy ARGs are exempt unless declared.
- ENV values are part of every later RUN's key, but they change only with the Dockerfile
  (or through an ARG, which the rule above already covers).
- ADD of a remote URL without ``--checksum``: BuildKit re-requests the URL on every build
  and keys the step by the downloaded content, so it misses whenever the remote file
  changes; with ``--checksum`` the key is the checksum. A git URL misses when its ref moves.
- ``COPY --from=<stage>`` is keyed by the content it copies (BuildKit's content-based
  checksums): we count it as rerun whenever the source stage reruns, an upper bound.
- ``RUN --mount=type=bind`` keys the RUN by the mounted files; cache, secret and ssh
  mounts do not take part in the key.
- A RUN's key is its text, never its output: ``RUN date``, ``apt-get update``, ``git clone``
  of a branch or ``curl .../latest`` stay cached (stale) until an earlier step misses, and
  then produce different bytes each time (notes, not keys).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockopt.context.build_context import BuildContext, normalize
from dockopt.context.gosyntax import BadPattern, compile_glob, contains_wildcards
from dockopt.model import Build, Stage
from dockopt.syntax import Instruction

if TYPE_CHECKING:
    from dockopt.checks.base import LintContext

CASCADING = frozenset({"RUN", "COPY", "ADD", "WORKDIR"})
PROXY_ARGS = frozenset({"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
                        "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"})
_VAR_REF = r"\$(?:\{%s(?:[:}\-+?]|\})|%s\b)"


@dataclass(frozen=True, slots=True)
class CacheKey:
    """One input of an instruction's cache key that can change without the Dockerfile changing."""

    kind: str  # "files" | "arg" | "url" | "git" | "stage" | "image"
    label: str  # "any file of the build context changes", "build arg VERSION changes"
    name: str = ""  # the source pattern, arg name, URL or stage name


@dataclass(slots=True)
class CacheStep:
    instruction: Instruction
    keys: list[CacheKey] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class StageCache:
    stage: Stage
    steps: list[CacheStep] = field(default_factory=list)


def references(text: str, name: str) -> bool:
    """Whether ``text`` expands ``$name``/``${name...}``."""
    n = re.escape(name)
    return re.search(_VAR_REF % (n, n), text) is not None


def source_covers(source: str, path: str) -> bool:
    """Whether the COPY source ``source`` selects context path ``path`` (by name; no context needed)."""
    src, target = normalize(source), normalize(path)
    if not src:
        return True
    parts = src.split("/")
    split = next((k for k, part in enumerate(parts) if contains_wildcards(part)), None)
    if split is None:
        return target == src or target.startswith(src + "/")
    base = "/".join(parts[:split])
    if base and not target.startswith(base + "/"):
        return False
    rest = target[len(base) + 1:] if base else target
    try:
        matches = compile_glob("/".join(parts[split:]))
    except BadPattern:
        return False
    pieces = rest.split("/")
    return any(matches("/".join(pieces[:k])) for k in range(1, len(pieces) + 1))


def describe_sources(sources: list[str], context: BuildContext) -> str:
    """"any file of the build context" / "a file under src/" / "`package.json` or `yarn.lock`"."""
    clean = [normalize(s) for s in sources]
    if any(not s for s in clean):
        if context.available and not context.truncated:
            count = len(context.files())
            return f"any of the {count:,} files of the build context"
        return "any file of the build context"
    if len(clean) == 1 and (sources[0].endswith("/") or _is_dir(clean[0], context)):
        return f"a file under {clean[0]}/"
    shown = ", ".join(f"`{s}`" for s in sources[:3]) + (f" (+{len(sources) - 3})" if len(sources) > 3 else "")
    if any(contains_wildcards(s) for s in sources):
        return f"a file matching {shown}"
    return shown if len(sources) == 1 else f"one of {shown}"


def _is_dir(path: str, context: BuildContext) -> bool:
    entry = context.entry(path) if context.available else None
    return bool(entry and entry.is_dir)


_VOLATILE_COMMANDS = {
    "date": "the current date", "uuidgen": "a random UUID", "mktemp": "a random name",
}
_UNPINNED_URL = re.compile(r"(/latest\b|/latest/|/master\b|/main\b|/HEAD\b|nightly|snapshot)", re.I)


def run_notes(ctx: LintContext, ins: Instruction) -> list[str]:
    """Why a RUN's output may differ between two runs of the same text (it stays cached until then)."""
    run = ctx.build.run_of(ins)
    if run is None:
        return []
    notes: list[str] = []
    invocations = ctx.invocations(run)
    text = run.source.text if run.source is not None else ""
    if "$RANDOM" in text or "${RANDOM" in text:
        notes.append("uses $RANDOM: different output each time it runs")
    for inv in invocations:
        what = _VOLATILE_COMMANDS.get(inv.name)
        if what is not None:
            notes.append(f"`{inv.name}` writes {what}: different output each time it runs")
        elif inv.name == "git" and inv.argv[:1] == ["clone"] and not inv.has("--branch", "-b"):
            notes.append("`git clone` of the default branch: stays cached while the remote moves")
        elif inv.name in ("curl", "wget") and any(a and _UNPINNED_URL.search(a) for a in inv.argv):
            notes.append(f"`{inv.name}` of a moving URL: stays cached while the remote file changes")
    names = [i.name for i in invocations]
    if "apt-get" in names and any(i.name == "apt-get" and i.argv[:1] == ["update"] for i in invocations) and not any(
        i.name == "apt-get" and "install" in i.argv for i in invocations
    ):
        notes.append("`apt-get update` alone: the lists stay cached (stale) until an earlier step changes")
    return list(dict.fromkeys(notes))


def _copy_keys(ins: Instruction, context: BuildContext, build: Build) -> list[CacheKey]:
    values = ins.values
    if ins.heredocs or len(values) < 2:
        return []
    source_stage = ins.flag("from")
    if source_stage is not None and source_stage.value:
        ref = source_stage.value
        stage = build.stage(ref)
        if stage is not None:
            return [CacheKey("stage", f"stage '{stage.label}' reruns", stage.label)]
        return [CacheKey("image", f"image {ref} is updated", ref)]
    keys: list[CacheKey] = []
    local: list[str] = []
    for src in values[:-1]:
        if "://" in src or src.startswith("git@"):
            if ins.name != "ADD":
                continue
            if ins.flag("checksum") is not None:
                continue  # keyed by the checksum: changes only with the Dockerfile
            if src.endswith(".git") or ".git#" in src or src.startswith("git@"):
                keys.append(CacheKey("git", f"the git ref of {src} moves", src))
            else:
                keys.append(CacheKey("url", f"the remote file {src} changes (fetched again every build)", src))
        else:
            local.append(src)
    if local:
        keys.append(CacheKey("files", f"{describe_sources(local, context)} changes", " ".join(local)))
    return keys


def _arg_keys(ins: Instruction, scope: dict[str, str], declared: list[str]) -> list[CacheKey]:
    """Build args that key this instruction: all in scope for a RUN, the expanded ones otherwise."""
    keys = []
    text = ins.logical
    for name in declared:
        if scope.get(name) != "arg":
            continue  # shadowed by an ENV of the same name: the build-arg value no longer reaches the step
        if ins.name == "RUN" or references(text, name):
            keys.append(CacheKey("arg", f"build arg {name} changes", name))
    return keys


def _bind_keys(ins: Instruction, build: Build, context: BuildContext) -> list[CacheKey]:
    run = build.run_of(ins)
    keys: list[CacheKey] = []
    for mount in run.mounts if run is not None else []:
        if mount.get("type", "bind") != "bind":
            continue
        origin = mount.get("from")
        if origin:
            stage = build.stage(origin)
            keys.append(CacheKey("stage", f"stage '{stage.label}' reruns", stage.label) if stage is not None
                        else CacheKey("image", f"image {origin} is updated", origin))
        else:
            source = mount.get("source") or mount.get("src") or "."
            keys.append(CacheKey("files", f"{describe_sources([source], context)} changes (bind mount)", source))
    return keys


def stage_cache(ctx: LintContext, stage: Stage) -> StageCache:
    """The cache keys of each instruction of one stage (its own inputs, not the ones it inherits)."""
    build, context = ctx.build, ctx.build_context
    result = StageCache(stage)
    scope: dict[str, str] = {}  # name -> "arg" | "env", as the stage declares them
    declared: list[str] = []
    for ins in stage.instructions:
        step = CacheStep(ins)
        if ins.name in ("COPY", "ADD"):
            step.keys += _copy_keys(ins, context, build)
        if ins.name == "RUN":
            step.keys += _bind_keys(ins, build, context)
            step.notes += run_notes(ctx, ins)
        step.keys += _arg_keys(ins, scope, declared)
        result.steps.append(step)
        if ins.name == "ARG":
            for word in ins.values:
                name = word.split("=", 1)[0]
                scope[name] = "arg"
                if name not in declared:
                    declared.append(name)
        elif ins.name == "ENV":
            values = ins.values
            for i in range(0, len(values) - 2, 3):
                if not references(values[i + 1], values[i]):
                    scope[values[i]] = "env"
    return result


@dataclass(slots=True)
class CacheModel:
    build: Build
    stages: list[StageCache]

    def step(self, ins: Instruction) -> CacheStep | None:
        for stage in self.stages:
            for step in stage.steps:
                if step.instruction is ins:
                    return step
        return None

    def reruns(self, changed: CacheKeyMatcher) -> set[int]:
        """ids of the instructions that rerun when the inputs ``changed`` accepts change."""
        rerun: set[int] = set()
        stage_reran: dict[str, bool] = {}
        for stage_cache in self.stages:
            stage = stage_cache.stage
            dirty = stage.base_stage is not None and stage_reran.get(stage.base_stage.label, False)
            for step in stage_cache.steps:
                ins = step.instruction
                hit = any(changed(key) or (key.kind == "stage" and stage_reran.get(key.name, False))
                          for key in step.keys)
                if hit or (dirty and ins.name in CASCADING):
                    rerun.add(id(ins))
                    if ins.name in CASCADING:
                        dirty = True
            stage_reran[stage.label] = dirty
        return rerun

    def rebuilt_when(self, ins: Instruction) -> list[str]:
        """Own inputs of ``ins``, then the nearest earlier step whose rerun would rerun it."""
        for stage_cache in self.stages:
            base = stage_cache.stage.base_stage
            can_miss = base is not None  # a stage built FROM another reruns with it
            latest: CacheStep | None = None  # the nearest earlier filesystem step that can miss
            for step in stage_cache.steps:
                name = step.instruction.name
                if step.instruction is ins:
                    out = [k.label for k in step.keys]
                    if name in CASCADING and latest is not None:
                        out.append(f"line {latest.instruction.start_line} reruns")
                    elif name in CASCADING and base is not None:
                        out.append(f"stage '{base.label}' reruns")
                    return list(dict.fromkeys(out))
                if name in CASCADING:
                    can_miss = can_miss or bool(step.keys)
                    if can_miss:
                        latest = step
        return []

class CacheKeyMatcher:
    """A predicate over cache keys: which inputs changed."""

    def __call__(self, key: CacheKey) -> bool:  # pragma: no cover - interface
        raise NotImplementedError


class FileChanged(CacheKeyMatcher):
    """One context file changed (``path``, context-relative)."""

    def __init__(self, path: str, context: BuildContext) -> None:
        self.path = normalize(path)
        self.context = context

    def __call__(self, key: CacheKey) -> bool:
        if key.kind != "files" or self.context.is_ignored(self.path):
            return False
        sources = key.name.split(" ")
        if self.context.available:
            return any(self.path in self.context.select(s).paths for s in sources)
        return any(source_covers(s, self.path) for s in sources)


class ArgChanged(CacheKeyMatcher):
    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, key: CacheKey) -> bool:
        return key.kind == "arg" and key.name == self.name


def cache_model(ctx: LintContext) -> CacheModel:
    return CacheModel(ctx.build, [stage_cache(ctx, stage) for stage in ctx.build.stages])


def annotate_layers(ctx: LintContext) -> None:
    """Fill ``Layer.rebuilt_when`` (and the output notes) of the context's layer plan."""
    model = cache_model(ctx)
    for stage_plan in ctx.layers.stages:
        for layer in stage_plan.layers:
            layer.rebuilt_when = model.rebuilt_when(layer.instruction)
            step = model.step(layer.instruction)
            if step is not None:
                layer.notes.extend(n for n in step.notes if n not in layer.notes)


_PACKAGE_INSTALLS = {
    "apt-get": ("install", "upgrade", "dist-upgrade", "build-dep"), "apt": ("install", "upgrade"),
    "apk": ("add", "upgrade"), "yum": ("install", "groupinstall", "update"), "dnf": ("install", "update"),
    "microdnf": ("install",), "tdnf": ("install",), "zypper": ("install", "in"), "gem": ("install",),
    "conda": ("install", "create"), "mamba": ("install", "create"), "cpanm": (), "R": (), "Rscript": (),
}
_DOWNLOADERS = frozenset({"curl", "wget", "git"})


def expensive_reason(ctx: LintContext, ins: Instruction, builds: bool = True) -> str | None:
    """What makes a RUN slow to rerun (package installs, dependency installs, builds, downloads).
    ``builds=False`` leaves builds out (they often read version variables from the environment)."""
    from dockopt.cache.ecosystems import recognise
    from dockopt.toolchain.commands import build_step, compiling_install

    run = ctx.build.run_of(ins)
    if run is None:
        return None
    for inv in ctx.invocations(run):
        subs = _PACKAGE_INSTALLS.get(inv.name)
        if subs is not None and (not subs or any(a in subs for a in inv.argv[:3])):
            return f"`{' '.join(a or '…' for a in [inv.name, *inv.argv][:3])}`"
        if recognise(inv) is not None or compiling_install(inv) is not None or (builds and build_step(inv) is not None):
            text = " ".join(inv.text.split())
            return f"`{text if len(text) <= 40 else text[:37] + '...'}`"
        if inv.name in _DOWNLOADERS and (inv.name != "git" or inv.argv[:1] == ["clone"]):
            return f"`{inv.name}` download"
    return None
