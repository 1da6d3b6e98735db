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

Two kinds of missing source are left alone, because the build the project runs has them
(measured on the corpus repositories with their real contexts, docs/precision.md):
- the optional-file idiom ``COPY cwallet.ss[o] ./``: a one-character class around a literal
  character makes the wildcard match the file when it exists and nothing otherwise (jupyter's
  Oracle recipe);
- a file the project produces before ``docker build``: under a build output directory
  (``bin/``, ``target/``, ``dist/``, ``out/``, ``gopath/``: ``COPY target/universal/stage``
  after ``sbt stage``), git-ignored by a ``.gitignore`` the context holds, or named by a build
  script, CI file or README in the context (``build.ps1`` downloads ``go.zip`` and then runs
  ``docker build``; a README says ``go build testMain.go && docker build .``).

Above the context, up to the repository root (the directory holding ``.git``), a file a
``.gitignore`` lists (omnibus-gitlab's ``docker/RELEASE``, written by CI) or the repository's CI
configuration names by its path from the root is also taken as made before the build.

In a Windows stage the context is matched without regard to case, as the builder reads it.

Not in the default selection (``--select DO305`` / ``extend-select``): measured with the corpus
repositories' real checkouts, a fresh draw of 15 findings held 8 false (docs/precision.md).
"""
from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.context.build_context import BuildContext, Selection, normalize
from dockopt.diagnostics import Severity
from dockopt.fixes.reorder import expand, stage_places
from dockopt.layers.base_images import family_of
from dockopt.syntax import Instruction


@dataclass(frozen=True, slots=True)
class _Source:
    instruction: Instruction
    written: str
    value: str
    selection: Selection
    windows: bool = False


class CopySourceMissing(Rule):
    code = "DO305"
    name = "copy-source-missing"
    severity = Severity.ERROR
    # Off by default (issue 16): on the corpus repositories' real checkouts about half of its
    # findings are files a pipeline makes outside anything the repository shows (release jobs'
    # RPMs, a test suite's archives) or contexts dockopt cannot know; see rules/DO305.toml.
    default = False
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
        produced = _ProducedOutside(context)
        for source in sources:
            selection = source.selection
            if selection.matched or not selection.complete:
                continue
            if _OPTIONAL_FILE.search(source.written) or (not selection.ignored_matches and produced(source.value)):
                continue
            if source.windows and context.exists_ignoring_case(source.value):
                continue  # a Windows builder reads the context case-insensitively (web.config = Web.config)
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
            windows = family_of(stage.base_resolved or stage.base) == "windows"
            for place in stage_places(ctx.build, stage):
                ins = place.instruction
                if ins.name not in ("COPY", "ADD") or ins.heredocs or ins.flag("from") is not None:
                    continue
                for written in ins.values[:-1]:
                    value = expand(written, place)
                    if value is None or "://" in value or value.startswith("git@"):
                        continue
                    yield _Source(ins, written, value, context.select(value), windows)


# `name[x]`: a class holding one literal character, the documented way to COPY a file only
# when it exists (a wildcard may match nothing; a plain name must exist).
_OPTIONAL_FILE = re.compile(r"\[[^\]\[*?!^\\-]\]|^[^*?\[]*\.\w+\*$")  # also `environment.yml*`
_OUTPUT_DIRS = frozenset({"bin", "target", "dist", "out", "gopath", "_output", "artifacts"})
_BUILD_SCRIPT = re.compile(r"(^|/)(Makefile|GNUmakefile|[^/]*\.(sh|ps1|bat|cmd|mk)|cloudbuild[^/]*\.ya?ml"
                           r"|\.gitlab-ci\.yml|Jenkinsfile|\.github/workflows/[^/]+\.ya?ml|README[^/]*)$")
MAX_SCRIPTS_READ = 50
MAX_LEVELS_UP = 8  # directories above the context searched for the repository root
_CI_FILES = (".gitlab-ci.yml", "Jenkinsfile", ".travis.yml", "azure-pipelines.yml", "cloudbuild.yaml")
_CI_FOLDERS = (".github/workflows", ".gitlab/ci", "gitlab-ci-config", ".circleci")


class _ProducedOutside:
    """Whether a missing source is something the project makes before ``docker build``."""

    def __init__(self, context: BuildContext) -> None:
        self.context = context
        self._scripts: str | None = None
        self._gitignore: list[str] | None = None
        self._above: tuple[list[tuple[str, list[str]]], str] | None = None

    def __call__(self, value: str) -> bool:
        path = normalize(value)
        if not path:
            return False
        parts = path.split("/")
        if _OUTPUT_DIRS.intersection(parts[:-1]) or (len(parts) > 1 and parts[0] in _OUTPUT_DIRS):
            return True
        if any(fnmatch.fnmatch(part, pattern) or fnmatch.fnmatch(path, pattern)
               for pattern in self._ignored_by_git() for part in parts):
            return True
        if self._ignored_by_repository(path) or self._named_by_ci(path):
            return True
        name = posixpath.basename(path)
        return len(name) >= 4 and re.search(
            rf"(?<![\w.-]){re.escape(name)}(?![\w-])", self._script_text()) is not None

    def _ignored_by_repository(self, path: str) -> bool:
        """Git-ignored by a ``.gitignore`` of a directory above the context, up to the repository
        root: omnibus-gitlab's root ``.gitignore`` lists ``docker/RELEASE``, the file its CI
        writes before building with ``docker/`` as the context. Git never has such a file; the
        machine that builds does."""
        for prefix, patterns in self._repository()[0]:
            full = posixpath.join(prefix, path)
            for pattern in patterns:
                anchored = "/" in pattern
                if anchored and (fnmatch.fnmatch(full, pattern) or full.startswith(pattern + "/")):
                    return True
                if not anchored and any(fnmatch.fnmatch(part, pattern) for part in full.split("/")):
                    return True
        return False

    def _named_by_ci(self, path: str) -> bool:
        """The repository's CI configuration names the file by its path from the repository
        root (a job writing ``docker/RELEASE``); a bare name (``script``, ``null``) is not enough
        in a whole repository's CI text."""
        ignores, ci_text = self._repository()
        if not ignores or not ci_text:
            return False
        full = posixpath.join(ignores[-1][0], path)  # relative to the repository root
        return "/" in full and re.search(rf"(?<![\w.-]){re.escape(full)}(?![\w-])", ci_text) is not None

    def _repository(self) -> tuple[list[tuple[str, list[str]]], str]:
        """(.gitignore patterns of each directory above the context with the context's path
        relative to it, up to the repository root (the directory holding ``.git``); the text
        of the repository's CI configuration); nothing when the context is not in a git
        checkout."""
        if self._above is not None:
            return self._above
        ignores: list[tuple[str, list[str]]] = []
        scripts: list[str] = []
        root = self.context.root
        if root is not None and self.context.known:
            chain = [root.resolve(), *root.resolve().parents][:MAX_LEVELS_UP + 1]
            top = next((i for i, d in enumerate(chain) if (d / ".git").exists()), None)
            if top is not None and top > 0:
                for directory in chain[1:top + 1]:
                    prefix = str(root.resolve().relative_to(directory))
                    ignores.append((prefix, _gitignore_patterns(_read_small(directory / ".gitignore"))))
                repository = chain[top]
                # The CI configuration of the repository: a job there that writes the file before
                # `docker build` is evidence; other scripts above the context (a test suite's
                # `.bats` naming files its failing cases expect to be missing) are not.
                scripts += [_read_small(repository / name) for name in _CI_FILES]
                for folder in _CI_FOLDERS:
                    if (repository / folder).is_dir():
                        scripts += [_read_small(f) for f in sorted((repository / folder).glob("*.y*ml"))
                                    [:MAX_SCRIPTS_READ]]
        self._above = (ignores, "\n".join(scripts))
        return self._above

    def _script_text(self) -> str:
        if self._scripts is None:
            scripts = [e.path for e in self.context.files() if _BUILD_SCRIPT.search(e.path)][:MAX_SCRIPTS_READ]
            self._scripts = "\n".join(self.context.read_text(p) or "" for p in scripts)
        return self._scripts

    def _ignored_by_git(self) -> list[str]:
        if self._gitignore is None:
            self._gitignore = _gitignore_patterns(self.context.read_text(".gitignore") or "")
        return self._gitignore


def _gitignore_patterns(text: str) -> list[str]:
    return [line.strip().strip("/") for line in text.splitlines()
            if line.strip() and not line.startswith(("#", "!")) and line.strip().strip("/")]


def _read_small(path: object, limit: int = 1 << 20) -> str:
    try:
        with open(path, "rb") as handle:  # type: ignore[arg-type]
            return handle.read(limit).decode("utf-8", "replace")
    except OSError:
        return ""
