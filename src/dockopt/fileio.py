"""Reading Dockerfiles as text and writing them back exactly as they were encoded.

Reading detects the encoding from a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE)
and keeps the mark as U+FEFF at the start of the text, so the parser sees it and the
writer puts it back. Without a BOM the file must be UTF-8: anything else is a one-line
error naming the file and the line of the first bad byte.

Writing is atomic: a temporary file in the same directory, flushed and fsynced, given the
original's permission bits, then renamed over the original. If the file changed on disk
since it was read, nothing is written.
"""
from __future__ import annotations

import codecs
import os
import stat
from dataclasses import dataclass
from pathlib import Path

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class FileError(Exception):
    """A one-line, user-facing error about a file (exit code 2)."""


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path
    text: str
    encoding: str
    raw: bytes

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding)


def decode(data: bytes, name: str) -> tuple[str, str]:
    """(text, encoding) of file bytes; raises FileError for undecodable input."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise FileError(f"{name}: invalid {encoding} data at byte {exc.start}") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileError(f"{name}:{line}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


# Larger than any real Dockerfile by three orders of magnitude, and small enough that a
# mistaken path (a disk image, a pipe that never ends) is refused before it fills memory.
MAX_FILE_BYTES = 128 * 1024 * 1024


def read_source(path: Path, display: str | None = None) -> SourceFile:
    name = display or str(path)
    try:
        if path.is_dir():
            raise FileError(f"{name}: is a directory, not a Dockerfile")
        data = _read_bytes(path, name)
    except FileError:
        raise
    except FileNotFoundError:
        raise FileError(f"{name}: no such file") from None
    except PermissionError:
        raise FileError(f"{name}: permission denied") from None
    except OSError as exc:
        raise FileError(f"{name}: cannot read: {exc.strerror or exc}") from None
    text, encoding = decode(data, name)
    return SourceFile(path, text, encoding, data)


def _read_bytes(path: Path, name: str) -> bytes:
    """The file's bytes, refusing what cannot be a Dockerfile before reading it.

    A FIFO is opened without blocking (a FIFO nobody writes to would hang ``open``) and then
    read normally, so ``dockopt check <(generate)`` works. Devices and sockets are refused:
    reading ``/dev/zero`` never ends. Sizes are capped at ``MAX_FILE_BYTES``.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode):
            if info.st_size > MAX_FILE_BYTES:
                raise FileError(f"{name}: {info.st_size} bytes is too large for a Dockerfile "
                                f"(limit {MAX_FILE_BYTES // 2**20} MiB)")
        elif not stat.S_ISFIFO(info.st_mode):
            raise FileError(f"{name}: not a regular file")
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, 1 << 20):
            total += len(chunk)
            if total > MAX_FILE_BYTES:
                raise FileError(f"{name}: more than {MAX_FILE_BYTES // 2**20} MiB; too large for a Dockerfile")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def write_source(original: SourceFile, new_text: str, display: str | None = None) -> None:
    """Atomically replace the file with ``new_text`` in its original encoding."""
    name = display or str(original.path)
    data = original.encode(new_text)
    # Write through a symlink to its target, as an editor would, instead of replacing the link.
    path = Path(os.path.realpath(original.path))
    try:
        current = path.read_bytes()
    except OSError as exc:
        raise FileError(f"{name}: cannot re-read before writing: {exc.strerror or exc}") from None
    if current != original.raw:
        raise FileError(f"{name}: changed on disk while dockopt was fixing it; not written")
    try:
        st = path.stat()
        if not st.st_mode & 0o222:
            # Renaming over it would work even so; a read-only file is a request not to touch it.
            raise FileError(f"{name}: file is read-only; not written")
        import tempfile  # lazily: only fix writes files (start-up time)

        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".dockopt-tmp", dir=path.parent)
    except OSError as exc:
        raise FileError(f"{name}: cannot write: {exc.strerror or exc}") from None
    try:
        try:
            handle = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            raise
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, st.st_mode & 0o7777)
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except OSError:
            pass  # not permitted for other owners unless root; the mode is what matters
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise FileError(f"{name}: cannot write: {exc.strerror or exc}; the original is unchanged") from None
