"""Which differences between the original and the fixed image the fix made.

The filesystem comparison (``filesystem.compare_filesystems``) already leaves out known noise
(``DEFAULT_IGNORE``, the source mtime in ``.pyc`` headers). What is left is split three ways
before a safe fix is judged:

- **nondeterministic**: a path where two builds of the *original* differ too, in the same way
  (content or type changed at the path in both comparisons; or the path exists in only one
  image of both pairs). This is measured, not guessed: ``verify`` builds the original a second
  time, without the cache, when the fixed image differs from the first build. A fix is never
  blamed for it.
- **declared caches**: paths a fix says it removes (``Fix.removes_caches``: package-manager
  caches such as ``/var/lib/apt/lists`` or ``/root/.cache/pip``). Only *removals* under those
  paths are expected -- a declared cache that appears or changes is still the fix's doing --
  plus the removal of directories that only held such a cache (pip creates ``/root/.cache``
  for its cache; with ``--no-cache-dir`` it never exists).
- **by the fix**: everything else. For a safe fix this must be empty.
"""
from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from dockopt.diagnostics import Diagnostic
from dockopt.verify.filesystem import FsDiff


@dataclass(frozen=True, slots=True)
class Attribution:
    by_fix: FsDiff
    nondeterministic: FsDiff = field(default_factory=FsDiff)
    declared_caches: FsDiff = field(default_factory=FsDiff)


def declared_caches(applied: Iterable[Diagnostic]) -> tuple[str, ...]:
    """The cache paths the applied fixes declare they remove, in order, without repeats.

    ``removes_caches`` is read with ``getattr``: a fix made before the field existed (or a
    plugin's) declares nothing, which is the strict reading.
    """
    paths: list[str] = []
    for diagnostic in applied:
        fix = diagnostic.fix
        for path in getattr(fix, "removes_caches", ()) or ():
            if path not in paths:
                paths.append(path)
    return tuple(paths)


def attribute(diff: FsDiff, repeat: FsDiff | None = None, caches: Sequence[str] = ()) -> Attribution:
    """Split ``diff`` (original -> fixed) into nondeterminism, declared-cache removals and the rest.

    ``repeat`` is the difference between two builds of the original (None: not measured).
    """
    varies = {p for p in diff.paths() if repeat is not None and _same_kind(diff, repeat, p)}
    nondeterministic = _select(diff, lambda path: path in varies)
    rest = _select(diff, lambda path: path not in varies)
    cached = _cache_removals(rest, caches)
    by_fix = _select(rest, lambda path: path not in cached)
    return Attribution(
        by_fix=by_fix,
        nondeterministic=nondeterministic,
        declared_caches=_select(rest, lambda path: path in cached),
    )


def _kind(diff: FsDiff, path: str) -> str | None:
    if path in diff.changed:
        return "changed"
    if path in diff.added or path in diff.removed:
        return "presence"
    return None


def _same_kind(diff: FsDiff, repeat: FsDiff, path: str) -> bool:
    kind = _kind(repeat, path)
    return kind is not None and kind == _kind(diff, path)


def _select(diff: FsDiff, keep: Callable[[str], bool]) -> FsDiff:
    return FsDiff(
        added={p: e for p, e in diff.added.items() if keep(p)},
        removed={p: e for p, e in diff.removed.items() if keep(p)},
        changed={p: e for p, e in diff.changed.items() if keep(p)},
    )


def under_cache(path: str, cache: str) -> bool:
    """``path`` is the cache ``cache`` or inside it. A cache with glob characters is matched
    like the ignore patterns (``*`` also crosses ``/``), and so is everything below a match."""
    if any(c in cache for c in "*?["):
        return fnmatch.fnmatchcase(path, cache) or fnmatch.fnmatchcase(path, cache.rstrip("/") + "/*")
    root = cache.rstrip("/") or "/"
    return path == root or path.startswith(root.rstrip("/") + "/")


def _holds_cache(directory: str, caches: Sequence[str]) -> bool:
    """``directory`` is an ancestor of a declared cache path (the glob's fixed prefix)."""
    prefix = directory.rstrip("/") + "/"
    for cache in caches:
        fixed = cache.split("*", 1)[0].split("?", 1)[0].split("[", 1)[0]
        if fixed.startswith(prefix):
            return True
    return False


def _cache_removals(diff: FsDiff, caches: Sequence[str]) -> set[str]:
    """Removed paths explained by the declared caches (see the module docstring)."""
    if not caches:
        return set()
    inside = {p for p in diff.removed if any(under_cache(p, c) for c in caches)}
    holders = {p for p, e in diff.removed.items() if e.type == "dir" and _holds_cache(p, caches)}
    explained = inside | holders
    # A removed directory that held a cache counts only if nothing else of it was removed.
    for holder in sorted(holders, key=len, reverse=True):
        prefix = holder.rstrip("/") + "/"
        if any(p.startswith(prefix) and p not in explained for p in diff.removed):
            explained.discard(holder)
    return explained
