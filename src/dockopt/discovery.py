"""Which files ``dockopt check``/``fix`` look at (ruff's rules, for Dockerfiles).

A file named on the command line is always checked, unless ``--force-exclude`` and an
exclude pattern or ignore file says otherwise (pre-commit passes every staged file by name).
Directories are walked for Dockerfiles by name: ``Dockerfile``, ``Dockerfile.*``,
``*.Dockerfile``, ``*.dockerfile``, ``Containerfile``, ``Containerfile.*``, except:

- names whose last extension marks documentation, a template or a backup
  (``Dockerfile.md``, ``Dockerfile.j2``, ``Dockerfile.orig``; ``SKIPPED_EXTENSIONS``):
  not Dockerfiles a builder reads, though they can be checked by naming them;
- ``exclude`` patterns (default ``DEFAULT_EXCLUDE``: VCS, dependency, virtualenv and cache
  directories) and ``extend-exclude``, from the command line or the configuration;
- with ``respect-gitignore`` (the default): what ``.gitignore`` files (inside a git work
  tree: the root's and every nested one), ``.git/info/exclude`` and ``.ignore`` files ignore,
  as git itself decides (the last matching pattern wins, ``!`` re-includes, a deeper file
  overrides a shallower one, an ignored directory is not entered).

Symlinked directories are not followed (no loops, no escaping the tree).
"""
from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dockopt.config import Config

# ruff's default excludes, less `build`, `dist` and `_build` (the corpus holds 50 real
# Dockerfiles under build/ directories, Go's standard layout `build/package/`; build
# output is normally in .gitignore anyway), plus `vendor` (vendored dependencies).
DEFAULT_EXCLUDE: tuple[str, ...] = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".mypy_cache", ".nox", ".pants.d",
    ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox", ".venv", "__pycache__", "__pypackages__",
    "buck-out", "node_modules", "site-packages", "vendor", "venv",
)
# Kept for callers that imported it: the directory names of DEFAULT_EXCLUDE.
SKIP_DIRS = frozenset(DEFAULT_EXCLUDE)

_PATTERNS = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.dockerfile", "Containerfile", "Containerfile.*")
# `Dockerfile.<ext>` / `Containerfile.<ext>` names that are not Dockerfiles a builder reads:
# documentation, templates rendered into a Dockerfile, editor and merge backups, scripts.
SKIPPED_EXTENSIONS = frozenset({
    # documentation
    "md", "markdown", "rst", "txt", "adoc", "html",
    # templates
    "j2", "jinja", "jinja2", "tmpl", "tpl", "template", "tmp", "in", "erb", "mustache", "hbs", "gotmpl", "njk",
    "ejs", "liquid", "tera", "m4",
    # backups, merges, patches
    "orig", "bak", "backup", "old", "rej", "swp", "swo", "save", "patch", "diff",
    # other files that borrow the name
    "dockerignore", "dockopt-tmp", "sh", "ps1", "py", "yml", "yaml", "json", "toml", "lock", "log",
})


def is_dockerfile_name(name: str) -> bool:
    """A name the builders read as a Dockerfile (``-f`` aside), and no documentation,
    template or backup: what a directory walk checks."""
    if not any(fnmatch.fnmatchcase(name, pattern) for pattern in _PATTERNS):
        return False
    if name.endswith("~"):
        return False
    stem, dot, extension = name.rpartition(".")
    return not (dot and stem and extension.lower() in SKIPPED_EXTENSIONS)


# The same set as one regular expression over a path (pre-commit's `files:` in
# .pre-commit-hooks.yaml; tests/test_precommit.py checks the two agree on many names).
_SKIPPED = "|".join(sorted(SKIPPED_EXTENSIONS))
HOOK_FILES_REGEX = (
    r"(^|/)(?![^/]*~$)(?![^/]+\.(?i:" + _SKIPPED + r")$)"
    r"(Dockerfile|Containerfile|Dockerfile\.[^/]*|Containerfile\.[^/]*|[^/]*\.[Dd]ockerfile)$"
)


@dataclass(frozen=True, slots=True)
class DiscoveryOptions:
    """The command line's say in discovery; ``None`` means "not given" (config, then default)."""

    exclude: Sequence[str] | None = None
    extend_exclude: Sequence[str] = ()
    force_exclude: bool | None = None
    respect_gitignore: bool | None = None
    no_config: bool = False
    config_file: Path | None = None


@dataclass(frozen=True, slots=True)
class ExcludeSettings:
    """What excludes files under one configuration: the command line's settings, else the
    configuration's, else the defaults. Patterns come with the directory they are relative
    to (the configuration's; the working directory for the command line's and the defaults)."""

    exclude: list[tuple[str, Path]]
    extend_exclude: list[tuple[str, Path]]
    force_exclude: bool
    respect_gitignore: bool

    @classmethod
    def resolve(cls, cli: DiscoveryOptions, config: Config, cwd: Path) -> ExcludeSettings:
        if cli.exclude is not None:
            base = [(p, cwd) for p in cli.exclude]
        elif config.exclude is not None:
            base = [(p, config.root) for p in config.exclude]
        else:
            base = [(p, cwd) for p in DEFAULT_EXCLUDE]
        extra = [(p, config.root) for p in (config.extend_exclude or ())]
        extra += [(p, cwd) for p in cli.extend_exclude]
        force = cli.force_exclude if cli.force_exclude is not None else bool(config.force_exclude)
        respect = cli.respect_gitignore if cli.respect_gitignore is not None else (
            config.respect_gitignore if config.respect_gitignore is not None else True)
        return cls(base, extra, force, respect)


class _Excluder:
    """Exclude patterns per configuration (relative to its directory; the command line's
    relative to the working directory), compiled once."""

    def __init__(self, options: DiscoveryOptions) -> None:
        self.options = options
        self._by_config: dict[Path | None, tuple[list[tuple[re.Pattern[str], bool, Path]], bool, bool]] = {}
        self._cwd = Path(os.getcwd())

    def settings(self, directory: Path) -> tuple[list[tuple[re.Pattern[str], bool, Path]], bool, bool]:
        """(compiled excludes, force-exclude, respect-gitignore) for files in ``directory``."""
        from dockopt.config import resolve_config
        from dockopt.selection import compile_glob

        config: Config = resolve_config(directory / "Dockerfile", self.options.config_file, self.options.no_config)
        key = config.source
        found = self._by_config.get(key)
        if found is None:
            settings = ExcludeSettings.resolve(self.options, config, self._cwd)
            compiled: list[tuple[re.Pattern[str], bool, Path]] = []
            for pattern, root in settings.exclude + settings.extend_exclude:
                regex, basename_only = compile_glob(pattern.rstrip("/") if pattern.rstrip("/") else pattern)
                compiled.append((regex, basename_only, root))
            found = self._by_config[key] = (compiled, settings.force_exclude, settings.respect_gitignore)
        return found

    def excluded(self, path: Path) -> bool:
        """Whether an exclude pattern matches ``path`` (a file or directory) or one of its
        parent directories below the pattern's root (the configuration's directory, or the
        working directory for the command line's and the defaults)."""
        compiled, _force, _respect = self.settings(path.parent)
        absolute = Path(os.path.abspath(path))
        for regex, basename_only, root in compiled:
            try:
                relative = absolute.relative_to(root).as_posix()
            except ValueError:
                if basename_only and regex.fullmatch(absolute.name):
                    return True
                continue
            parts = relative.split("/")
            if basename_only:
                if any(regex.fullmatch(part) for part in parts):
                    return True
            elif any(regex.fullmatch("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
                return True
        return False


class _GitIgnores:
    """git's ignore rules for one walk: the ``.gitignore`` of every directory from the work
    tree's root down, ``.git/info/exclude``, and ``.ignore`` files (ripgrep's, which ruff
    reads too). Specs are read once per directory."""

    def __init__(self) -> None:
        self._specs: dict[Path, Any] = {}
        self._roots: dict[Path, Path | None] = {}

    def _repo_root(self, directory: Path) -> Path | None:
        if directory in self._roots:
            return self._roots[directory]
        found: Path | None = None
        for candidate in (directory, *directory.parents):
            if (candidate / ".git").exists():
                found = candidate
                break
        self._roots[directory] = found
        return found

    def _spec(self, directory: Path, in_repo: bool, is_root: bool) -> Any:
        key = directory
        if key in self._specs:
            return self._specs[key]
        lines: list[str] = []
        names = [".gitignore", ".ignore"] if in_repo else [".ignore"]
        files = [directory / name for name in names]
        if is_root:
            files.insert(0, directory / ".git" / "info" / "exclude")
        for file in files:
            try:
                lines += file.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
        spec = None
        if any(line.strip() and not line.lstrip().startswith("#") for line in lines):
            import pathspec  # lazily: only walks through directories with ignore files need it

            spec = pathspec.GitIgnoreSpec.from_lines(lines)
        self._specs[key] = spec
        return spec

    def ignored(self, path: Path, is_dir: bool) -> bool:
        """Whether git (or an .ignore file) ignores ``path``; its parents are assumed not
        ignored (the walk does not enter ignored directories)."""
        absolute = Path(os.path.abspath(path))
        root = self._repo_root(absolute.parent)
        top = root if root is not None else absolute.parent
        # Deepest directory first: a nested .gitignore overrides its parents' patterns.
        chain = [absolute.parent, *absolute.parent.parents]
        for directory in chain:
            spec = self._spec(directory, root is not None, directory == root)
            if spec is not None:
                relative = absolute.relative_to(directory).as_posix() + ("/" if is_dir else "")
                result = spec.check_file(relative)
                if result.include is not None:
                    return bool(result.include)
            if directory == top:
                break
        return False


class Discovery:
    """Finds the files to check; ``discover`` is the one-shot form."""

    def __init__(self, options: DiscoveryOptions | None = None) -> None:
        self.options = options or DiscoveryOptions()
        self._excluder = _Excluder(self.options)
        self._git = _GitIgnores()
        self.skipped_explicit: list[Path] = []
        self._seen: set[Path] = set()  # real paths already yielded, across calls

    def files(self, paths: Sequence[str]) -> Iterator[tuple[Path, bool]]:
        """(path, explicitly named) for each file to check, in a stable order, without duplicates."""
        seen = self._seen
        for raw in paths:
            path = Path(raw)
            if path.is_dir() and not path.is_symlink():
                if self._force_excluded(path, is_dir=True):
                    continue
                for found in self._walk(path):
                    key = _identity(found)
                    if key not in seen:
                        seen.add(key)
                        yield found, False
            else:
                if self._force_excluded(path, is_dir=False):
                    self.skipped_explicit.append(path)
                    continue
                key = _identity(path)
                if key not in seen:
                    seen.add(key)
                    yield path, True

    def _force_excluded(self, path: Path, is_dir: bool) -> bool:
        """A named path under ``--force-exclude``: excluded, or ignored by git, it is skipped."""
        _compiled, force, respect = self._excluder.settings(Path(os.path.abspath(path)).parent)
        if not force:
            return False
        absolute = Path(os.path.abspath(path))
        if self._excluder.excluded(absolute):
            return True
        if respect:
            # Named paths are checked with every parent: pre-commit passes nested files.
            for parent in reversed(absolute.parents):
                if parent.parent != parent and self._git.ignored(parent, is_dir=True):
                    return True
            return self._git.ignored(absolute, is_dir)
        return False

    def _walk(self, root: Path) -> Iterator[Path]:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            directory = Path(dirpath)
            _compiled, _force, respect = self._excluder.settings(directory)
            kept = []
            for name in sorted(dirnames):
                child = directory / name
                if self._excluder.excluded(child) or (respect and self._git.ignored(child, is_dir=True)):
                    continue
                kept.append(name)
            dirnames[:] = kept
            for name in sorted(filenames):
                if not is_dockerfile_name(name):
                    continue
                file = directory / name
                if self._excluder.excluded(file) or (respect and self._git.ignored(file, is_dir=False)):
                    continue
                yield file


def discover(paths: list[str], options: DiscoveryOptions | None = None) -> Iterator[tuple[Path, bool]]:
    """(path, explicitly named) for each file to check, in a stable order, without duplicates."""
    return Discovery(options).files(paths)


def _identity(path: Path) -> Path:
    """The real path, for de-duplication. ``os.path.realpath`` (not ``Path.resolve``) because
    it does not raise on a symlink loop: the loop is then reported when the file is read."""
    return Path(os.path.realpath(path))
