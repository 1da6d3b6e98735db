"""Measure how much a downloaded archive grows when it is extracted, for dockopt's size estimates.

    .venv/bin/python scripts/measure_archive_ratios.py > src/dockopt/layers/archive_ratios.py

The population: the upstream ("orig") tarballs of the Debian bookworm source packages named in
``POPULATION`` below, chosen to span what Dockerfiles download and unpack: C and C++ projects,
language runtimes and toolchains (Python, Perl, Ruby, PHP, Go, Tcl), libraries of several
ecosystems (Python, JavaScript, Rust), documentation-heavy trees, and data (time zones, word
lists, ISO codes, fonts, icons, MIME types), in the three compressions upstreams publish
(gzip, xz, bzip2). Their URLs come from apt itself (``apt-get source --print-uris`` against
Debian's mirror, in a private apt directory: nothing on the system changes); archives over
``MAX_BYTES`` are left out to bound the download.

Each archive is streamed (never stored): the bytes read from the network are the compressed
size; the decompressed stream is counted (the .tar size) and read as a tar, summing the sizes
of its regular files and symlink targets — what an image layer holding the extracted tree
stores (Docker's layer size is the sum of the files' apparent sizes; directories count 0).
The expansion ratio of an archive is that sum over its compressed size; the module written
holds every archive's figures and, per format, the median ratio (the estimate dockopt uses:
robust to the few archives of already-compressed data, such as fonts or images) and the
quartiles. The .tar ratio (an uncompressed archive) is the files' sum over the .tar size.
"""
from __future__ import annotations

import bz2
import datetime
import lzma
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
MAX_BYTES = 32_000_000
POPULATION = (
    # C/C++ projects and tools
    "bash", "hello", "make-dfsg", "curl", "wget", "openssl", "nginx", "coreutils", "grep", "sed", "tar", "git",
    "vim", "zlib", "busybox", "alsa-lib", "alsa-utils", "gnupg2", "libgcrypt20", "libgpg-error", "pcre3", "mpg123",
    "lynx", "cpio", "valgrind", "graphviz", "cmake", "expat", "ncurses", "libjpeg-turbo", "libxml2", "postfix",
    "unzip", "jq", "zsh", "fish",
    # language runtimes and toolchains
    "python3.11", "perl", "ruby3.1", "php8.2", "golang-1.19", "tcl8.6",
    # libraries of other ecosystems
    "python-django", "numpy", "sphinx", "setuptools", "jquery", "rust-ripgrep",
    # documentation-heavy trees
    "gettext", "texinfo", "groff",
    # data: time zones, word lists, ISO codes, fonts, icons, MIME types
    "tzdata", "scowl", "iso-codes", "fonts-dejavu", "adwaita-icon-theme", "shared-mime-info",
)
_ORIG = re.compile(r"^'(?P<url>[^']+/(?P<name>[^/' ]+\.orig\.tar\.(?P<format>gz|xz|bz2)))' \S+ (?P<size>\d+) ")
_CHUNK = 1 << 16
LEFT_OUT: list[str] = []  # what the population lost, and why (recorded in the module written)


@dataclass(frozen=True)
class Measured:
    name: str
    format: str
    compressed: int
    tar_bytes: int
    file_bytes: int
    files: int

    @property
    def ratio(self) -> float:
        return self.file_bytes / self.compressed


def orig_tarballs(names: tuple[str, ...]) -> list[tuple[str, str, str, int]]:
    """(url, file name, format, size) of each package's main upstream tarball, from apt."""
    with tempfile.TemporaryDirectory(prefix="dockopt-apt-") as tmp:
        root = Path(tmp)
        for sub in ("lists/partial", "cache/archives/partial"):
            (root / sub).mkdir(parents=True)
        (root / "sources.list").write_text(f"deb-src {MIRROR} {SUITE} main\n")
        options = [f"-oDir::Etc::SourceList={root / 'sources.list'}", "-oDir::Etc::SourceParts=/dev/null",
                   f"-oDir::State::Lists={root / 'lists'}", f"-oDir::Cache={root / 'cache'}", "-oDebug::NoLocking=1",
                   "-oAPT::Sandbox::User=root"]
        subprocess.run(["apt-get", *options, "-qq", "update"], check=True)
        found = []
        for name in names:
            proc = subprocess.run(["apt-get", *options, "-qq", "source", "--print-uris", name],
                                  capture_output=True, text=True)
            for line in proc.stdout.splitlines():
                match = _ORIG.match(line)
                if match and "-" not in match["name"].split(".orig.")[1]:  # not an orig-COMPONENT tarball
                    found.append((match["url"], match["name"], match["format"], int(match["size"])))
                    break
            else:
                LEFT_OUT.append(f"{name}: no upstream tarball in the index")
        return found


class _Decompressed:
    """A read-only stream of ``response`` decompressed, counting bytes in and out."""

    def __init__(self, response: object, fmt: str) -> None:
        self.response = response
        self.decompressor = {"gz": lambda: zlib.decompressobj(16 + zlib.MAX_WBITS), "xz": lzma.LZMADecompressor,
                             "bz2": bz2.BZ2Decompressor}[fmt]()
        self.buffer = b""
        self.compressed = 0
        self.decompressed = 0
        self.eof = False

    def read(self, size: int = -1) -> bytes:
        while not self.eof and (size < 0 or len(self.buffer) < size):
            chunk = self.response.read(_CHUNK)  # type: ignore[attr-defined]
            if not chunk:
                self.eof = True
                break
            self.compressed += len(chunk)
            self.buffer += self.decompressor.decompress(chunk)
        if size < 0:
            size = len(self.buffer)
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        self.decompressed += len(out)
        return out


def measure(url: str, name: str, fmt: str) -> Measured:
    with urllib.request.urlopen(url, timeout=60) as response:
        stream = _Decompressed(response, fmt)
        file_bytes = files = 0
        with tarfile.open(fileobj=stream, mode="r|") as archive:  # type: ignore[call-overload]
            for member in archive:
                if member.isreg():
                    file_bytes += member.size
                    files += 1
                elif member.issym():
                    file_bytes += len(member.linkname)
        while stream.read(_CHUNK):  # the tar's end padding and anything after it
            pass
    return Measured(name, fmt, stream.compressed, stream.decompressed, file_bytes, files)


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    q1, q2, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else (values[0],) * 3
    return round(q1, 2), round(q2, 2), round(q3, 2)


def main() -> int:
    rows = []
    for url, name, fmt, size in orig_tarballs(POPULATION):
        if size > MAX_BYTES:
            LEFT_OUT.append(f"{name}: {size:,} bytes, over the {MAX_BYTES:,} limit")
            continue
        try:
            rows.append(measure(url, name, fmt))
        except (OSError, EOFError, tarfile.TarError, lzma.LZMAError, zlib.error) as exc:  # HTTPError is an OSError
            LEFT_OUT.append(f"{name}: {exc}")
            continue
        print(f"# {name}: {rows[-1].ratio:.2f}", file=sys.stderr)
    ratios: dict[str, float] = {}
    spread: dict[str, tuple[int, float, float, float]] = {}
    for fmt in ("gz", "xz", "bz2"):
        values = [r.ratio for r in rows if r.format == fmt]
        if values:
            ratios[fmt] = round(statistics.median(values), 2)
            q1, _, q3 = _quartiles(values)
            spread[fmt] = (len(values), q1, ratios[fmt], q3)
    tar_values = [r.file_bytes / r.tar_bytes for r in rows]
    ratios["tar"] = round(statistics.median(tar_values), 2)
    spread["tar"] = (len(tar_values), *_quartiles(tar_values))
    today = datetime.date.today().isoformat()
    print(f'"""Generated by scripts/measure_archive_ratios.py on {today} (see there); do not edit by hand.')
    print()
    print(f"How much an archive grows when extracted: the bytes of its files over the archive's size,")
    print(f"measured on the upstream tarballs of {len(rows)} Debian {SUITE} source packages ({MIRROR}).")
    print('``RATIO`` holds the median per format; ``SPREAD`` (archives, first quartile, median, third')
    print('quartile); ``ARCHIVES`` every archive: (file, format, compressed bytes, .tar bytes, bytes of')
    print('its files, files).')
    if LEFT_OUT:
        print()
        print(f"Left out of the {len(POPULATION)} packages named: " + "; ".join(LEFT_OUT) + ".")
    print('"""')
    print("# fmt: off")
    print(f"RATIO: dict[str, float] = {ratios!r}")
    print(f"SPREAD: dict[str, tuple[int, float, float, float]] = {spread!r}")
    print("ARCHIVES: tuple[tuple[str, str, int, int, int, int], ...] = (")
    for r in rows:
        print(f"    ({r.name!r}, {r.format!r}, {r.compressed}, {r.tar_bytes}, {r.file_bytes}, {r.files}),")
    print(")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
