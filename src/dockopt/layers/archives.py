"""What an extracted archive adds to a layer, estimated from the archive's size.

An archive of known size (a downloaded file sized by ``--fetch-sizes``, an archive from the
build context) unpacks into roughly ``RATIO[format]`` times its bytes: the median expansion
measured on the upstream tarballs of Debian source packages (``archive_ratios.py``, made by
scripts/measure_archive_ratios.py, which also gives the spread). A format without a measured
ratio (zip, zstd) stays unknown rather than guessed.
"""
from __future__ import annotations

from dockopt.layers.archive_ratios import RATIO, SPREAD

_SUFFIXES = (
    (".tar.gz", "gz"), (".tgz", "gz"), (".tar.xz", "xz"), (".txz", "xz"), (".tar.bz2", "bz2"), (".tbz2", "bz2"),
    (".tbz", "bz2"), (".tar.zst", "zst"), (".tzst", "zst"), (".tar", "tar"), (".zip", "zip"),
)
# tar's compression options: the format when the name does not say (`curl ... | tar -xJ`).
_TAR_OPTIONS = {"-z": "gz", "--gzip": "gz", "--gunzip": "gz", "-J": "xz", "--xz": "xz", "-j": "bz2",
                "--bzip2": "bz2", "--zstd": "zst"}
_NAMES = {"gz": ".tar.gz", "xz": ".tar.xz", "bz2": ".tar.bz2", "tar": ".tar", "zip": ".zip", "zst": ".tar.zst"}


def format_of_name(name: str | None) -> str | None:
    """``gz``/``xz``/``bz2``/``zst``/``tar``/``zip`` from a file name or URL; None if it says none."""
    if not name:
        return None
    base = name.split("?", 1)[0].split("#", 1)[0].lower()
    return next((fmt for suffix, fmt in _SUFFIXES if base.endswith(suffix)), None)


def tar_option_format(argv: list[str | None]) -> str | None:
    """The compression a tar command line names (``-xzf``, ``-xJ``, ``--zstd``), if any."""
    for index, arg in enumerate(argv):
        if arg is None:
            continue
        if not arg.startswith("-"):
            if index != 0:
                continue
            arg = "-" + arg  # the old style's first word: `tar xzf file`
        if arg.startswith("--"):
            if arg in _TAR_OPTIONS:
                return _TAR_OPTIONS[arg]
            continue
        for letter in arg[1:]:
            if f"-{letter}" in _TAR_OPTIONS:
                return _TAR_OPTIONS[f"-{letter}"]
            if letter in "fCT":  # options with a value: the rest of the cluster is the value
                break
    return None


def expanded(fmt: str | None, archive_bytes: int) -> tuple[int | None, str]:
    """(estimated bytes of the extracted files, how it was estimated or why it is unknown)."""
    if fmt is None:
        return None, "the archive's format is not known"
    ratio = RATIO.get(fmt)
    if ratio is None:
        return None, f"no measured expansion ratio for {_NAMES.get(fmt, fmt)} archives"
    count = SPREAD[fmt][0]
    return round(archive_bytes * ratio), (f"{ratio:g}x the {_NAMES[fmt]} archive, the median of "
                                          f"{count} measured archives")
