"""Which files ``dockopt check``/``fix`` look at.

A file named on the command line is always checked. Directories are walked for
Dockerfiles by name: ``Dockerfile``, ``Dockerfile.*``, ``*.Dockerfile``, ``*.dockerfile``,
``Containerfile``, ``Containerfile.*``; ``.git``, ``node_modules``, virtualenvs and caches
are skipped; symlinked directories are not followed (no loops, no escaping the tree).
"""
from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from pathlib import Path

SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"})
_PATTERNS = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.dockerfile", "Containerfile", "Containerfile.*")


def is_dockerfile_name(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in _PATTERNS) and not name.endswith(
        (".dockerignore", ".dockopt-tmp")
    )


def discover(paths: list[str]) -> Iterator[tuple[Path, bool]]:
    """(path, explicitly named) for each file to check, in a stable order, without duplicates."""
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir() and not path.is_symlink():
            for found in _walk(path):
                key = _identity(found)
                if key not in seen:
                    seen.add(key)
                    yield found, False
        else:
            key = _identity(path)
            if key not in seen:
                seen.add(key)
                yield path, True


def _identity(path: Path) -> Path:
    """The real path, for de-duplication. ``os.path.realpath`` (not ``Path.resolve``) because
    it does not raise on a symlink loop: the loop is then reported when the file is read."""
    return Path(os.path.realpath(path))


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            if is_dockerfile_name(name):
                yield Path(dirpath) / name
