"""The build context: what Docker sends, and what a COPY/ADD source takes from it.

``BuildContext`` lists a context directory the way BuildKit's client walks it (fsutil):
symlinks are entries, never followed; ``.dockerignore`` verdicts come from
:mod:`dockopt.context.dockerignore`; a directory the ignore file excludes wholesale is not walked
(its contents are read lazily, only when a question is about them); a directory that is
excluded but contains a re-included path is sent as that path's parent. The listing is
built once, on first use, and capped (``max_entries``) so that a huge tree cannot hang a
lint run; ``truncated`` then says answers may be incomplete.

``select`` follows BuildKit's COPY/ADD: the source is joined to ``/`` and cleaned (``..``
cannot leave the context); a source without wildcards names one path, symlinks followed
inside the context; otherwise the components before the first one with a wildcard name a
directory, and every path below it is matched with Go's ``filepath.Match`` against the
rest (``*`` never crosses ``/``), a matching directory being taken whole. A wildcard that
matches nothing is not an error for BuildKit (AllowEmptyWildcard), a missing plain path is.

``known`` records where the directory came from: True when the user named the context
(``--context`` or configuration), False when it is only the Dockerfile's directory, the
usual but unverified default; rules lower their certainty accordingly.

Sources: moby/buildkit frontend/dockerfile/dockerfile2llb (COPY: FollowSymlinks,
AllowWildcard, AllowEmptyWildcard), tonistiigi/fsutil copy/copy.go (ResolveWildcards,
splitWildcards) and filter.go; docs.docker.com/build/concepts/context/ (ignore-file
discovery: ``<Dockerfile name>.dockerignore`` beside the Dockerfile wins over
``<context>/.dockerignore``).
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path

from dockopt.context.dockerignore import IgnoreRules
from dockopt.context.gosyntax import BadPattern, compile_glob, contains_wildcards, go_clean

MAX_ENTRIES = 200_000
_MAX_LINKS = 255  # containerd's fs.RootPath gives up after this many symlinks


@dataclass(frozen=True, slots=True)
class ContextEntry:
    """One path of the context directory (relative, ``/``-separated; ``""`` is the root)."""

    path: str
    size: int  # bytes of a regular file; 0 for directories, symlinks and special files
    is_dir: bool
    is_symlink: bool
    ignored: bool  # not sent: excluded by the ignore file (a directory: and nothing below it re-included)
    link: str | None = None  # a symlink's target, as written


@dataclass(frozen=True, slots=True)
class Selection:
    """What one COPY/ADD source takes from the context."""

    source: str
    paths: tuple[str, ...]  # sent non-directory entries copied, sorted (a symlink inside a copied tree counts)
    size_bytes: int
    matched: bool  # the source names something that is sent (an empty directory counts)
    ignored_matches: tuple[str, ...]  # what it would also take without .dockerignore (an excluded tree as its root)
    wildcard: bool = False
    complete: bool = True  # False without a context directory or when the listing was truncated

    @property
    def missing(self) -> bool:
        """Nothing there at all, ignored or not (a plain source then fails the build)."""
        return not self.matched and not self.ignored_matches


@dataclass(slots=True)
class _Listing:
    entries: dict[str, ContextEntry] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)  # directory -> child paths, sorted
    pruned: set[str] = field(default_factory=set)  # excluded directories BuildKit does not walk
    truncated: bool = False  # the capped walk stopped early: sent files may be missing
    lazy_truncated: bool = False  # a later read of an excluded tree hit the cap
    budget: int = 0


def normalize(path: str) -> str:
    """A path relative to the context root as BuildKit sees it: ``/a/./b/..`` -> ``a``; root -> ``""``."""
    return go_clean("/" + path).lstrip("/")


def find_ignore_file(dockerfile: Path | None, root: Path | None) -> Path | None:
    """The ignore file a build would use: ``<Dockerfile>.dockerignore`` first, then ``<root>/.dockerignore``."""
    candidates = []
    if dockerfile is not None and dockerfile.name not in ("", "-"):
        candidates.append(dockerfile.with_name(dockerfile.name + ".dockerignore"))
    if root is not None:
        candidates.append(root / ".dockerignore")
    return next((c for c in candidates if c.is_file()), None)


class BuildContext:
    """A build context directory (or the lack of one) and its ``.dockerignore``."""

    def __init__(self, root: Path | None, *, known: bool, rules: IgnoreRules | None = None,
                 dockerfile: Path | None = None, max_entries: int = MAX_ENTRIES) -> None:
        self.root = root
        self.known = known
        self.rules = rules if rules is not None else IgnoreRules()
        self.dockerfile = dockerfile
        self.max_entries = max_entries
        self.available = root is not None and root.is_dir()
        self._listing: _Listing | None = None
        self._selections: dict[str, Selection] = {}
        self._files: tuple[ContextEntry, ...] | None = None

    @classmethod
    def for_dockerfile(cls, dockerfile: Path | None, context_dir: Path | None, *,
                       max_entries: int = MAX_ENTRIES) -> BuildContext:
        """The context of a Dockerfile: ``context_dir`` when given (known), else the Dockerfile's directory."""
        df = None if dockerfile is None or dockerfile.name in ("", "-") else dockerfile  # "-": stdin
        if context_dir is not None:
            root, known = context_dir, True
        elif df is None:
            return cls.unknown()
        else:
            root, known = df.parent, False
        ignore = find_ignore_file(df, root)
        rules = IgnoreRules.load(ignore) if ignore is not None else IgnoreRules()
        return cls(root, known=known, rules=rules, dockerfile=df, max_entries=max_entries)

    @classmethod
    def unknown(cls) -> BuildContext:
        """No directory at all (Dockerfile from stdin, no --context): every answer is "don't know"."""
        return cls(None, known=False)

    @property
    def ignore_file(self) -> Path | None:
        return self.rules.source

    @property
    def truncated(self) -> bool:
        return self._walk().truncated

    def __repr__(self) -> str:
        return f"BuildContext(root={self.root!r}, known={self.known}, ignore_file={self.ignore_file!r})"

    # --- the listing -----------------------------------------------------------------------------

    def _walk(self) -> _Listing:
        if self._listing is not None:
            return self._listing
        listing = self._listing = _Listing(budget=self.max_entries)
        listing.entries[""] = ContextEntry("", 0, True, False, False)
        if not self.available:
            listing.children[""] = []
            return listing
        rules = self.rules if self.rules else None
        walked_excluded: list[str] = []  # excluded directories walked for a possible re-inclusion
        stack: list[tuple[str, tuple[bool, ...] | None]] = [("", None)]
        while stack:
            directory, info = stack.pop()
            subdirs: list[tuple[str, tuple[bool, ...] | None]] = []
            kids = listing.children[directory] = []
            for entry in self._scan(directory, listing):
                if rules is not None:
                    excluded, child_info = rules.step(entry.path, info, want_info=entry.is_dir)
                else:
                    excluded, child_info = False, None
                kids.append(entry.path)
                if entry.is_dir and excluded and rules is not None and rules.prunes(entry.path):
                    listing.pruned.add(entry.path)
                elif entry.is_dir:
                    subdirs.append((entry.path, child_info))
                    if excluded:
                        walked_excluded.append(entry.path)
                listing.entries[entry.path] = replace(entry, ignored=excluded) if excluded else entry
            stack.extend(reversed(subdirs))
            if listing.truncated:
                break
        # Children before parents: an excluded directory is sent only as the parent of something sent.
        for directory in reversed(walked_excluded):
            if any(not listing.entries[k].ignored for k in listing.children.get(directory, ())):
                listing.entries[directory] = replace(listing.entries[directory], ignored=False)
        return listing

    def _scan(self, directory: str, listing: _Listing, ignored: bool = False) -> list[ContextEntry]:
        """One directory's entries (sorted by name), within the entry budget."""
        assert self.root is not None
        try:
            with os.scandir(self.root / directory if directory else self.root) as it:
                items = sorted(it, key=lambda e: e.name)
        except OSError:
            return []
        out: list[ContextEntry] = []
        for item in items:
            if listing.budget <= 0:
                if ignored:
                    listing.lazy_truncated = True
                else:
                    listing.truncated = True
                break
            listing.budget -= 1
            path = f"{directory}/{item.name}" if directory else item.name
            try:
                st = item.stat(follow_symlinks=False)
            except OSError:
                continue
            link = None
            if stat.S_ISLNK(st.st_mode):
                try:
                    link = os.readlink(item.path)
                except OSError:
                    link = ""
            is_dir = stat.S_ISDIR(st.st_mode)
            size = st.st_size if stat.S_ISREG(st.st_mode) else 0
            out.append(ContextEntry(path, size, is_dir, link is not None, ignored, link))
        return out

    def _kids(self, directory: str) -> list[str]:
        """Child paths of a directory; inside a tree BuildKit skips, read from disk on first need."""
        listing = self._walk()
        kids = listing.children.get(directory)
        if kids is None:
            kids = []
            entry = listing.entries.get(directory)
            if entry is not None and entry.is_dir and self._in_pruned(directory):
                for child in self._scan(directory, listing, ignored=True):
                    listing.entries[child.path] = child
                    kids.append(child.path)
            listing.children[directory] = kids
        return kids

    def _in_pruned(self, path: str) -> bool:
        pruned = self._walk().pruned
        parts = path.split("/")
        return any("/".join(parts[:k]) in pruned for k in range(1, len(parts) + 1))

    def _lookup(self, path: str) -> ContextEntry | None:
        """The entry at a clean relative path, sent or not; symlinks are not followed."""
        listing = self._walk()
        found = listing.entries.get(path)
        if found is not None or not path:
            return found
        head = path.rpartition("/")[0]
        parent = self._lookup(head) if head else listing.entries[""]
        if parent is None or not parent.is_dir:
            return None
        self._kids(head)
        return listing.entries.get(path)

    def _resolve(self, path: str) -> str | None:
        """``path`` with symlinks followed inside the context (absolute targets are context-rooted)."""
        pending = [p for p in path.split("/") if p]
        resolved: list[str] = []
        hops = 0
        while pending:
            name = pending.pop(0)
            if name == ".":
                continue
            if name == "..":
                if resolved:
                    resolved.pop()
                continue
            entry = self._lookup("/".join([*resolved, name]))
            if entry is None:
                return None
            if entry.is_symlink:
                hops += 1
                if hops > _MAX_LINKS or not entry.link:
                    return None
                if entry.link.startswith("/"):
                    resolved = []
                pending[:0] = [p for p in entry.link.split("/") if p]
                continue
            resolved.append(name)
        return "/".join(resolved)

    # --- questions -------------------------------------------------------------------------------

    def entry(self, relpath: str) -> ContextEntry | None:
        """The entry at ``relpath`` (sent or ignored), or None when the path does not exist."""
        return self._lookup(normalize(relpath)) if self.available else None

    def is_ignored(self, relpath: str) -> bool:
        """Whether ``.dockerignore`` keeps ``relpath`` out of the context (works for absent paths too)."""
        path = normalize(relpath)
        if not path or not self.rules:
            return False
        if self.available:
            found = self._walk().entries.get(path)
            if found is not None:
                return found.ignored
            if self._in_pruned(path):
                return True  # below a directory BuildKit skips whole: no need to read it
        return self.rules.excludes(path)

    def exists(self, relpath: str) -> bool:
        """Whether ``relpath`` is in the context as sent (present and not excluded)."""
        found = self._walk().entries.get(normalize(relpath)) if self.available else None
        return found is not None and not found.ignored  # every sent path is in the eager listing

    def exists_ignoring_case(self, relpath: str) -> bool:
        """``exists`` as a Windows builder answers it: its file system ignores case."""
        if not self.available:
            return False
        wanted = normalize(relpath).lower()
        return any(path.lower() == wanted and not entry.ignored for path, entry in self._walk().entries.items())

    def files(self) -> tuple[ContextEntry, ...]:
        """Every sent non-directory entry, in path order."""
        if self._files is None:
            entries = self._walk().entries.values()
            self._files = tuple(sorted((e for e in entries if not e.is_dir and not e.ignored), key=lambda e: e.path))
        return self._files

    def total_size(self) -> int:
        """Bytes of the regular files sent (what ``COPY . .`` copies)."""
        return sum(e.size for e in self.files())

    def ignored_files(self) -> tuple[ContextEntry, ...]:
        """What the ignore file keeps out, each excluded tree once as its top directory (sizes of
        trees BuildKit skips whole are not read: such a directory entry has size 0)."""
        entries = self._walk().entries
        return tuple(sorted((e for e in entries.values()
                             if e.ignored and not entries[e.path.rpartition("/")[0]].ignored), key=lambda e: e.path))

    def read_text(self, relpath: str, limit: int = 65536) -> str | None:
        """Up to ``limit`` bytes of a regular file (symlinks followed inside the context), decoded
        leniently; None when there is no such file. Ignored files are readable: callers decide."""
        if not self.available or self.root is None:
            return None
        path = self._resolve(normalize(relpath))
        found = self._lookup(path) if path else None
        if path is None or found is None or found.is_dir or found.is_symlink:
            return None
        try:
            with open(self.root / path, "rb") as handle:
                return handle.read(max(limit, 0)).decode("utf-8", "replace")
        except OSError:
            return None

    def select(self, source: str) -> Selection:
        """What the COPY/ADD source ``source`` (context-relative) takes from the context."""
        cached = self._selections.get(source)
        if cached is not None:
            return cached
        path = normalize(source)
        parts = path.split("/") if path else []
        split = next((k for k, part in enumerate(parts) if contains_wildcards(part)), None)
        if not self.available:
            return Selection(source, (), 0, False, (), split is not None, complete=False)
        roots: list[str] = []
        ignored: set[str] = set()
        if split is None:
            target = self._resolve(path)
            if target is not None:
                self._classify(target, roots, ignored)
        else:
            self._match_wildcard("/".join(parts[:split]), "/".join(parts[split:]), roots, ignored)
        files: set[str] = set()
        for root in roots:
            self._expand(root, files, ignored)
        listing = self._walk()
        selection = Selection(
            source=source,
            paths=tuple(sorted(files)),
            size_bytes=sum(listing.entries[p].size for p in files),
            matched=bool(roots),
            ignored_matches=tuple(sorted(ignored)),
            wildcard=split is not None,
            complete=not (listing.truncated or listing.lazy_truncated),
        )
        self._selections[source] = selection
        return selection

    def _classify(self, path: str, roots: list[str], ignored: set[str]) -> None:
        found = self._lookup(path)
        if found is not None:
            (ignored.add(path) if found.ignored else roots.append(path))

    def _match_wildcard(self, base_path: str, pattern: str, roots: list[str], ignored: set[str]) -> None:
        """fsutil ResolveWildcards: walk below the base, match each relative path, take matching dirs whole."""
        base = self._resolve(base_path)
        base_entry = self._lookup(base) if base is not None else None
        if base is None or base_entry is None or not base_entry.is_dir:
            return
        try:
            matches = compile_glob(pattern)
        except BadPattern:
            return  # fsutil ignores Match's error: a malformed pattern simply matches nothing
        listing = self._walk()
        stack = [base]
        while stack:
            for child in self._kids(stack.pop()):
                entry = listing.entries[child]
                if matches(child[len(base) + 1:] if base else child):
                    if entry.is_symlink:  # each match is copied with symlinks followed
                        target = self._resolve(child)
                        if target is not None:
                            self._classify(target, roots, ignored)
                    else:
                        (ignored.add(child) if entry.ignored else roots.append(child))
                elif entry.is_dir:
                    stack.append(child)

    def _expand(self, root: str, files: set[str], ignored: set[str]) -> None:
        """Add the sent files of a selected path (a whole tree for a directory) and its excluded parts."""
        listing = self._walk()
        if not listing.entries[root].is_dir:
            files.add(root)
            return
        stack = [root]
        while stack:
            for child in self._kids(stack.pop()):
                entry = listing.entries[child]
                if entry.ignored:
                    ignored.add(child)  # an excluded directory has nothing sent below it: report it once
                elif entry.is_dir:
                    stack.append(child)
                else:
                    files.add(child)
