"""DO303 context-not-ignored: ``COPY .`` takes VCS data, dependency trees or build output along.

Needs a readable context: the rule reports only what is there. For each COPY/ADD of the
context root (``.``, ``./``) it lists the directories, sent despite (or for lack of) a
``.dockerignore``, that an image almost never needs, with their bytes: ``.git``,
``node_modules``, virtualenvs, ``__pycache__`` and tool caches, and build output
(``target``, ``dist``, ``build``). Those bytes are sent to the builder on every build, change
the COPY's checksum (and so rerun everything below it) when they change, and end in a layer.

A directory is not reported when the Dockerfile may need it: its name appears in the
Dockerfile, ``node_modules``/virtualenvs when no stage installs JS/Python dependencies
(the context's may be the ones the image runs), build output when no stage builds
anything, ``.git`` when a RUN calls git (``git describe``, setuptools-scm).
Without a context directory the rule is silent: whether a ``.dockerignore`` exists is not
a fact about the Dockerfile, and guessing would be noise.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.context.build_context import BuildContext, normalize
from dockopt.diagnostics import Severity
from dockopt.cache.ecosystems import recognise
from dockopt.layers.invocations import Invocation
from dockopt.layers.sizes import human
from dockopt.toolchain.commands import build_step

_VCS = (".git", ".hg", ".svn")
_JS = ("node_modules",)
_PYTHON = (".venv", "venv")
_CACHES = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", ".nox")
_OUTPUT = ("target", "dist", "build")
MAX_LISTED = 4
_MAKEFILES = ("Makefile", "makefile", "GNUmakefile")
_GIT_READ = re.compile(r"\bgit\s+(rev-parse|describe|log|show|status|diff|tag|symbolic-ref)\b")
_THIRD_PARTY = frozenset({"vendor", "third_party", "node_modules", "external", "deps"})
_BUILD_MANIFESTS = ("package.json", "pom.xml", "build.gradle", "build.gradle.kts", "build.sbt", "Cargo.toml",
                    "go.mod", "setup.py", "pyproject.toml", "CMakeLists.txt", "Makefile", "mix.exs")


def _has_manifest(paths: set[str], directory: str) -> bool:
    """Whether ``directory`` of the context holds a build manifest (a project builds there)."""
    prefix = directory + "/"
    return any(prefix + name in paths for name in _BUILD_MANIFESTS) or any(
        p.startswith(prefix) and "/" not in p[len(prefix):] and p.endswith((".csproj", ".fsproj", ".sln"))
        for p in paths)


class ContextNotIgnored(Rule):
    code = "DO303"
    name = "context-not-ignored"
    severity = Severity.WARNING
    uses_context = True

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        context = ctx.build_context
        if not context.available:
            return
        roots = [ins for stage in ctx.build.stages for ins in stage.instructions
                 if ins.name in ("COPY", "ADD") and not ins.heredocs and ins.flag("from") is None
                 and any(normalize(v) == "" for v in ins.values[:-1])]
        if not roots:
            return
        junk = _junk(context, self._unneeded(ctx, context))
        if not junk:
            return
        total = sum(size for _, size in junk)
        listed = ", ".join(f"{path}/ ({human(size)})" for path, size in junk[:MAX_LISTED])
        if len(junk) > MAX_LISTED:
            listed += f" and {len(junk) - MAX_LISTED} more"
        assumed = "" if context.known else f" (assuming the build context is {context.root})"
        where = (f"add them to {context.ignore_file.name}" if context.ignore_file is not None
                 else "there is no .dockerignore: add one that excludes them")
        for ins in roots:
            yield Finding.at(ins, f"this {ins.name} sends {listed} into the image{assumed}: {human(total)} "
                                  f"that rebuild this layer whenever they change; {where}")

    @staticmethod
    def _unneeded(ctx: LintContext, context: BuildContext) -> set[str]:
        """The directory names this Dockerfile gives no sign of needing."""
        text = ctx.source
        names = {*_CACHES}
        invocations = [inv for run in ctx.build.runs_by_instruction.values() for inv in ctx.invocations(run)]
        installs = {i.name for i in (recognise(inv) for inv in invocations) if i is not None}
        if installs & {"npm", "yarn", "pnpm", "bun"}:
            names.update(_JS)
        if installs & {"pip", "poetry", "uv", "pipenv"}:
            names.update(_PYTHON)
        if any(build_step(inv) is not None for inv in invocations):
            names.update(_OUTPUT)
        if not any(inv.name == "git" for inv in invocations) and not _make_reads_git(invocations, context):
            names.update(_VCS)
        return {n for n in names if n not in text}


def _make_reads_git(invocations: list[Invocation], context: BuildContext) -> bool:
    """A RUN runs ``make`` and the context's Makefile calls git (grafana/loki stamps its
    binaries with ``GIT_REVISION := $(shell git rev-parse --short HEAD)``): .git is an input."""
    if not any(inv.name in ("make", "gmake") for inv in invocations):
        return False
    for entry in context.files():
        parts = entry.path.split("/")
        if _THIRD_PARTY.intersection(parts[:-1]) or not (
                entry.path in _MAKEFILES or (entry.path.endswith(".mk") and len(parts) <= 3)):
            continue  # the project's own Makefile (and its includes), not a vendored one's
        if _GIT_READ.search(context.read_text(entry.path) or ""):
            return True
    return False


def _junk(context: BuildContext, names: set[str]) -> list[tuple[str, int]]:
    """(directory, bytes sent) for each sent directory with one of ``names``, outermost only.

    Build output counts only where a build writes it: at the context root or next to a build
    manifest. A ``dist`` deeper down without one is a vendored package's shipped files
    (``wwwroot/lib/bootstrap/dist`` in an ASP.NET app, which the app serves)."""
    paths = {entry.path for entry in context.files()}
    sizes: dict[str, int] = {}
    for entry in context.files():
        parts = entry.path.split("/")
        for depth, part in enumerate(parts[:-1]):
            if part in names:
                if part in _OUTPUT and depth > 0 and not _has_manifest(paths, "/".join(parts[:depth])):
                    break
                root = "/".join(parts[:depth + 1])
                sizes[root] = sizes.get(root, 0) + entry.size
                break
    return sorted(sizes.items(), key=lambda item: (-item[1], item[0]))
