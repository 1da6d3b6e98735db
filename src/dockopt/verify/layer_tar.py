"""Reading one layer tar of a saved image: its members as :class:`LayerEntry` s (whiteouts and
opaque markers decoded), and which layers still carry a file or a secret's bytes
(:func:`find_in_layers`, :func:`grep_layers`: the proof that deleting a secret in a later
layer does not remove it from the image).
"""
from __future__ import annotations

import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal

from dockopt.verify.errors import EngineError

if TYPE_CHECKING:  # annotations only: saved_image imports this module at run time
    from dockopt.verify.saved_image import SavedImage

#: What a path in an image can be (hard links are resolved into regular files).
EntryType = Literal["file", "dir", "symlink", "char", "block", "fifo"]
#: What a layer tar member can be: the above, plus hard links and the deletions a layer records.
LayerEntryType = Literal["file", "dir", "symlink", "hardlink", "char", "block", "fifo", "whiteout", "opaque"]


@dataclass(frozen=True, slots=True)
class LayerEntry:
    """One member of a layer tar, as listed (contents not read)."""

    path: str  # absolute, normalised ("/etc/passwd"); for whiteouts the path they delete
    type: LayerEntryType
    mode: int
    uid: int
    gid: int
    size: int
    link: str | None = None  # symlink target or (for hard links) the absolute target path


@contextmanager
def open_layer(path: Path) -> Iterator[tarfile.TarFile]:
    """The layer tar at ``path``, plain or gzip-compressed (OCI layouts may compress layers)."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == b"\x28\xb5\x2f\xfd":
        raise EngineError(f"layer {path.name} is zstd-compressed, which this reader does not support")
    with tarfile.open(path, mode="r:*") as tf:
        yield tf


def normalise_path(name: str) -> str:
    """Tar member name -> absolute normalised path ("./etc/" -> "/etc")."""
    parts = [p for p in PurePosixPath("/" + name).parts[1:] if p not in (".", "")]
    return "/" + "/".join(parts)


def _kind(member: tarfile.TarInfo) -> EntryType | Literal["hardlink"] | None:
    if member.isreg():
        return "file"
    if member.isdir():
        return "dir"
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hardlink"
    if member.ischr():
        return "char"
    if member.isblk():
        return "block"
    if member.isfifo():
        return "fifo"
    return None


def layer_entry(member: tarfile.TarInfo) -> LayerEntry | None:
    """``member`` as a :class:`LayerEntry` (whiteout names decoded into what they delete); None for
    the root, AUFS bookkeeping and member kinds an image cannot hold."""
    path = normalise_path(member.name)
    if path == "/":
        return None
    parent, _, base = path.rpartition("/")
    parent = parent or "/"
    if base == ".wh..wh..opq":
        return LayerEntry(path=parent, type="opaque", mode=0, uid=0, gid=0, size=0)
    if base.startswith(".wh..wh."):
        return None  # AUFS bookkeeping (e.g. .wh..wh.plnk), not content
    if base.startswith(".wh."):
        gone = (parent.rstrip("/") + "/" + base[4:]) if parent != "/" else "/" + base[4:]
        return LayerEntry(path=gone, type="whiteout", mode=0, uid=0, gid=0, size=0)
    kind = _kind(member)
    if kind is None:
        return None
    link: str | None = None
    if kind == "symlink":
        link = member.linkname
    elif kind == "hardlink":
        link = normalise_path(member.linkname)
    elif kind in ("char", "block"):
        link = f"{member.devmajor},{member.devminor}"
    return LayerEntry(
        path=path,
        type=kind,
        mode=member.mode & 0o7777,
        uid=member.uid,
        gid=member.gid,
        size=member.size if kind == "file" else 0,
        link=link,
    )


def find_in_layers(saved: SavedImage, path: str) -> list[int]:
    """Indexes (0-based, oldest first) of the layers whose tar holds ``path`` itself.

    Whiteouts do not count: a layer that deletes the file does not contain it. This is the
    "the secret is still in layer 3" proof: the path can be gone from :func:`flatten` and
    still be shipped in an earlier layer.
    """
    want = normalise_path(path)
    return [
        layer.index
        for layer in saved.layers
        if any(e.path == want and e.type not in ("whiteout", "opaque") for e in layer.entries)
    ]


def grep_layers(saved: SavedImage, needle: bytes) -> list[tuple[int, str]]:
    """``(layer index, path)`` of every regular file in any layer whose content holds ``needle``
    (e.g. a secret's value), whatever its name and whether a later layer deleted it."""
    if not needle:
        raise ValueError("needle must not be empty")
    hits: list[tuple[int, str]] = []
    overlap = len(needle) - 1
    for layer in saved.layers:
        with open_layer(layer.path) as tf:
            for member in tf:
                if not member.isreg() or member.size < len(needle):
                    continue
                src = tf.extractfile(member)
                if src is None:
                    continue
                tail = b""
                while chunk := src.read(1 << 20):
                    if needle in tail + chunk:
                        hits.append((layer.index, normalise_path(member.name)))
                        break
                    # Keep the last len(needle)-1 bytes: a match may straddle two chunks.
                    tail = (tail + chunk)[-overlap:] if overlap else b""
    return sorted(hits)
