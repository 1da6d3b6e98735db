"""An image's final filesystem and how two of them compare: :func:`flatten` applies a saved
image's layers (whiteouts honoured) into path -> :class:`FileEntry`; :func:`compare_filesystems`
gives the :class:`FsDiff`, leaving out :data:`DEFAULT_IGNORE`, the paths that differ between
any two builds of the same Dockerfile.
"""
from __future__ import annotations

import fnmatch
import hashlib
import re
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Union

from dockopt.verify.errors import EngineError
from dockopt.verify.layer_tar import EntryType, layer_entry, open_layer
from dockopt.verify.saved_image import SavedImage

#: Paths that differ between two ``--no-cache`` builds of the same Dockerfile, seconds apart,
#: and say nothing about whether a fix changed the result. Found by building the same
#: Dockerfiles twice (legacy builder and BuildKit; busybox; debian:bookworm{,-slim} with
#: ``apt-get update && apt-get install`` of jq, python3-minimal, python3-pip, openssh-server,
#: ca-certificates; ``useradd``) and diffing :func:`flatten` outputs. Why each one varies:
DEFAULT_IGNORE: tuple[str, ...] = (
    # dpkg.log, alternatives.log, apt/history.log, apt/term.log: every line is timestamped.
    "/var/log/*",
    # ldconfig's cache of the scanned libraries' stat data (mtime, inode), rewritten by every
    # dpkg trigger run: differs in content at identical size.
    "/var/cache/ldconfig/aux-cache",
    # openssh-server's postinst generates fresh random host keys on every install.
    "/etc/ssh/ssh_host_*",
    # pip's HTTP cache (``http`` before pip 23.3, ``http-v2`` since): responses stored with
    # the time they were fetched; what is installed from them is compared everywhere else.
    "/root/.cache/pip/http*",
)

#: Paths that are identical between builds minutes apart but not between builds on different
#: days or across a mirror update; add them to ``ignore`` when comparing builds made far apart.
SLOW_VOLATILE: tuple[str, ...] = (
    # apt's indexes are the mirror's: InRelease carries a Date, Packages changes with uploads.
    "/var/lib/apt/lists/*",
    # useradd/passwd store "days since epoch of the last password change" in field 3.
    "/etc/shadow",
    "/etc/shadow-",
)


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A path in a flattened filesystem. mtimes are left out on purpose: they always differ."""

    type: EntryType
    mode: int  # permission bits incl. setuid/setgid/sticky (0o7777)
    uid: int
    gid: int
    size: int  # bytes of content for files, 0 otherwise
    sha256: str | None = None  # content digest of regular files (hard links: their target's)
    link: str | None = None  # symlink target; "major,minor" for device nodes
    xattrs: tuple[tuple[str, str], ...] = ()  # e.g. security.capability set by setcap


@dataclass(frozen=True, slots=True)
class FsDiff:
    added: dict[str, FileEntry] = field(default_factory=dict)
    removed: dict[str, FileEntry] = field(default_factory=dict)
    changed: dict[str, tuple[FileEntry, FileEntry]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def paths(self) -> list[str]:
        return sorted({*self.added, *self.removed, *self.changed})

    def summary(self, limit: int = 20) -> str:
        lines = [f"{len(self.added)} added, {len(self.removed)} removed, {len(self.changed)} changed"]
        shown = 0
        for sign, paths in (("+", self.added), ("-", self.removed), ("~", self.changed)):
            for p in paths:
                if shown >= limit:
                    lines.append("  ...")
                    return "\n".join(lines)
                lines.append(f"  {sign} {p}")
                shown += 1
        return "\n".join(lines)


def _xattrs(member: tarfile.TarInfo) -> tuple[tuple[str, str], ...]:
    prefix = "SCHILY.xattr."
    return tuple(sorted((k[len(prefix):], v) for k, v in (member.pax_headers or {}).items() if k.startswith(prefix)))


#: A ``.pyc`` header (PEP 552): magic, flags, then either the source's mtime and size
#: (flags 0) or a hash of the source (flags bit 0).
PYC_HEADER_BYTES = 16
_PYC_MTIME = slice(8, 12)


def _hash_member(tf: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    h = hashlib.sha256()
    src = tf.extractfile(member)
    if src is not None:
        first = True
        for chunk in iter(lambda: src.read(1 << 20), b""):
            if first and member.name.endswith(".pyc"):
                chunk = normalise_pyc_header(chunk)
            first = False
            h.update(chunk)
    return h.hexdigest()


def normalise_pyc_header(data: bytes) -> bytes:
    """``data`` (a ``.pyc`` file's first bytes) with the source mtime of a timestamp-based pyc
    zeroed: it is the time the ``.py`` file was written during the build (pip, py3compile),
    which differs between two builds of the same Dockerfile. The code object, the magic
    number (Python version) and the source size are compared as they are."""
    if len(data) < PYC_HEADER_BYTES or int.from_bytes(data[4:8], "little") != 0:
        return data  # not a pyc, or a hash-based one (deterministic by design)
    return data[:_PYC_MTIME.start] + b"\0\0\0\0" + data[_PYC_MTIME.stop:]


def _drop_subtree(state: dict[str, FileEntry], path: str, *, keep_root: bool) -> None:
    prefix = path.rstrip("/") + "/"
    doomed = [k for k in state if k.startswith(prefix)]
    if not keep_root:
        doomed.append(path)
    for k in doomed:
        state.pop(k, None)


def flatten(saved: SavedImage) -> dict[str, FileEntry]:
    """The image's final filesystem: layers applied in order, whiteouts honoured.

    Per layer, whiteouts (``.wh.NAME`` deletes NAME and everything below it) and opaque markers
    (``.wh..wh..opq`` hides everything a lower layer had in that directory) apply to the lower
    layers first, then the layer's own entries are laid on top; a non-directory replacing a
    directory hides the directory's old contents. Hard links become regular files with their
    target's digest (which files share an inode is an artefact of layering, not of content).
    Returns a dict sorted by path.
    """
    state: dict[str, FileEntry] = {}
    for layer in saved.layers:
        new: dict[str, FileEntry] = {}
        whiteouts: list[str] = []
        opaques: list[str] = []
        with open_layer(layer.path) as tf:
            for member in tf:
                le = layer_entry(member)
                if le is None:
                    continue
                if le.type == "whiteout":
                    whiteouts.append(le.path)
                    continue
                if le.type == "opaque":
                    opaques.append(le.path)
                    continue
                xattrs = _xattrs(member)
                if le.type == "file":
                    digest = _hash_member(tf, member)
                    new[le.path] = FileEntry("file", le.mode, le.uid, le.gid, le.size, digest, None, xattrs)
                elif le.type == "hardlink":
                    assert le.link is not None
                    target = new.get(le.link) or state.get(le.link)
                    if target is None or target.type != "file":
                        raise EngineError(f"layer {layer.index}: hard link {le.path} -> {le.link} has no file target")
                    new[le.path] = FileEntry("file", le.mode, le.uid, le.gid, target.size, target.sha256, None, xattrs)
                elif le.type in ("dir", "symlink", "char", "block", "fifo"):
                    kind: EntryType = le.type
                    new[le.path] = FileEntry(kind, le.mode, le.uid, le.gid, 0, None, le.link, xattrs)
        for path in opaques:
            _drop_subtree(state, path, keep_root=True)
        for path in whiteouts:
            _drop_subtree(state, path, keep_root=False)
        for path, entry in new.items():
            old = state.get(path)
            if old is not None and old.type == "dir" and entry.type != "dir":
                _drop_subtree(state, path, keep_root=True)
            state[path] = entry
    return dict(sorted(state.items()))


FsLike = Union[Mapping[str, FileEntry], SavedImage]  # noqa: UP007 - a runtime alias, 3.10-safe


def _compile_ignores(patterns: Iterable[str]) -> re.Pattern[str] | None:
    pats = [fnmatch.translate(p) for p in patterns]
    return re.compile("|".join(f"(?:{p})" for p in pats)) if pats else None


def compare_filesystems(a: FsLike, b: FsLike, ignore: Iterable[str] | None = None) -> FsDiff:
    """Differences from ``a`` to ``b`` (flattened filesystems or saved images).

    ``ignore`` holds shell-style globs matched against absolute paths (``*`` also crosses
    ``/``); None means :data:`DEFAULT_IGNORE`, pass ``[]`` to compare everything. Directory
    entries compare by type/mode/owner only (their tar size is meaningless).
    """
    fa = flatten(a) if isinstance(a, SavedImage) else a
    fb = flatten(b) if isinstance(b, SavedImage) else b
    rx = _compile_ignores(DEFAULT_IGNORE if ignore is None else ignore)

    def keep(path: str) -> bool:
        return rx is None or not rx.match(path)

    added = {p: e for p, e in sorted(fb.items()) if p not in fa and keep(p)}
    removed = {p: e for p, e in sorted(fa.items()) if p not in fb and keep(p)}
    changed = {
        p: (fa[p], e)
        for p, e in sorted(fb.items())
        if p in fa and keep(p) and fa[p] != e
    }
    return FsDiff(added=added, removed=removed, changed=changed)
