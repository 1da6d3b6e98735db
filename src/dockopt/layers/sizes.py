"""Size estimates used by the simulator, each with where it comes from.

Sizes are estimates: messages say "~" and the rule book says how they are made. The
figures measured on a real engine are refreshed by the e2e suite (tests/e2e) and recorded
here with their source; the rest are typical values and say so.
"""
from __future__ import annotations

from collections.abc import Iterable

from dockopt.layers import apt_bookworm

MB = 1024 * 1024

# Measured (tests/e2e, scripts/engine.sh images, 2026-11-23): `apt-get update` on
# debian:bookworm-slim made a 19,856,468-byte layer; `du -sb /var/lib/apt/lists` = 19,868,756
# (bookworm, bookworm-updates, bookworm-security; indexes stored as .lz4).
APT_LISTS = 19_868_756
# Fitted (2026-12-05) on the measured install layers below against dpkg's Installed-Size of
# their closures: what one apt install adds besides the packages' files, and per package.
# jq 1.96 MB for 1.17 MB of files, file 9.44 for 8.64, ca-certificates 9.25 for 8.95.
APT_INSTALL_OVERHEAD = 500_000
APT_PACKAGE_OVERHEAD = 0
# Debian byte-compiles Python packages when it installs them: python3-pip's layer is 69.9 MB for
# 47.9 MB of files (33.4 MB of them Python's), python3-venv's 51.7 MB for 40.5 (22.8).
PYTHON_BYTECODE = 1.5
# Measured (2026-12-05, engine, debian:bookworm-slim): a second `apt-get update` while the lists
# of an earlier layer are still there downloads nothing new (unchanged InRelease): 241 kB.
APT_LISTS_REFRESH = 241_000
# Measured (same): without the docker-clean hook (`rm /etc/apt/apt.conf.d/docker-clean`),
# `apt-get update` also writes apt's binary caches /var/cache/apt/pkgcache.bin and
# srcpkgcache.bin, 36,946,136 bytes each, and every install rewrites pkgcache.bin. Not modelled
# yet: the cache fixes declare one path per cache category (Fix.removes_caches), and
# `apt-get clean` removes both the .debs and the *.bin files (see the calibration report).
# Typical: ratio of downloaded .deb size to installed size for Debian packages (~1/3).
APT_ARCHIVE_RATIO = 0.33
# Typical: Alpine 3.x APKINDEX for main + community, as kept in /var/cache/apk.
APK_INDEX = 3 * MB
# Typical: yum/dnf repository metadata in /var/cache/{yum,dnf} for base + updates repos.
RPM_METADATA = 60 * MB
# Typical: zypper metadata.
ZYPPER_METADATA = 40 * MB

# Typical installed sizes of frequently installed Debian/Alpine packages (with dependencies
# that a slim base lacks). Unknown packages get no estimate (messages say "unknown size").
PACKAGE_SIZES: dict[str, int] = {
    # Measured: `apt-get install -y --no-install-recommends build-essential` on bookworm-slim
    # added 304,417,830 bytes (366,046,661 with recommends).
    "build-essential": 304_417_830,
    # Measured (dockopt verify e2e, 2026-11-23): on debian:bookworm-slim after `apt-get update`,
    # one package per RUN with --no-install-recommends, `docker history` layer sizes: gcc alone
    # 164,203,303 (binutils, cpp-12, gcc-12, libgcc-12-dev come along; the typical 140 MB below
    # is 11% low, inside the e2e suite's tolerance), then libc6-dev 28,229,033 (linux-libc-dev,
    # libcrypt-dev, rpcsvc-proto), python3 36,177,184, then python3-pip 26,716,491; make on its
    # own 1,176,531. libc6-dev had no estimate at all: a gcc + libc6-dev split was 15% low.
    "gcc": 140 * MB,
    "libc6-dev": 28_229_033,
    "g++": 160 * MB,
    "clang": 350 * MB,
    "make": 1 * MB,
    "cmake": 40 * MB,
    # Measured (dockopt verify e2e, 2026-11-23; a real Dockerfile's DO103 merge was 9x off on
    # ca-certificates): on bookworm-slim after `apt-get update`, --no-install-recommends, one per
    # RUN in this order: ca-certificates 9,250,164 (it depends on openssl; 9,250,140 with
    # recommends), wget 1,553,808, git 93,409,650 (perl and libcurl3-gnutls come along).
    "git": 93_409_650,
    "curl": 12 * MB,  # measured: the curl install layer on bookworm-slim, 12,027,207 bytes
    "jq": 1_963_260,  # measured, --no-install-recommends
    "wget": 1_553_808,
    "ca-certificates": 9_250_164,
    "python3": 30 * MB,
    "python3-pip": 25 * MB,
    "python3-dev": 60 * MB,
    "openjdk-17-jdk": 330 * MB,
    "openjdk-17-jdk-headless": 250 * MB,
    "openjdk-17-jre-headless": 200 * MB,
    "default-jdk": 330 * MB,
    "golang": 450 * MB,
    "golang-go": 450 * MB,
    "nodejs": 80 * MB,
    "npm": 30 * MB,
    "build-base": 200 * MB,  # alpine
    "linux-headers": 10 * MB,
    "musl-dev": 5 * MB,
    "libpq-dev": 10 * MB,
    "libssl-dev": 10 * MB,
    "zlib1g-dev": 1 * MB,
    "vim": 40 * MB,
    "unzip": 1 * MB,
}

# Measured (2026-12-05, engine, debian:bookworm-slim with python3-venv): `python3 -m venv /venv`
# made a 21,620,000-byte layer (pip and setuptools copied in by ensurepip, with byte-code);
# with --without-pip the environment is a few directories, links and pyvenv.cfg.
VENV = 21_620_000
VENV_WITHOUT_PIP = 40_000

# Typical: pip's HTTP cache holds roughly the wheels it downloaded, about the installed size / 2.
PIP_CACHE_RATIO = 0.5
# Typical sizes when nothing better is known about the packages installed.
PIP_CACHE_DEFAULT = 30 * MB
NPM_CACHE_DEFAULT = 50 * MB
GO_BUILD_CACHE = 150 * MB
GO_MOD_CACHE = 100 * MB
CARGO_REGISTRY = 150 * MB
MAVEN_REPO = 150 * MB
GRADLE_CACHE = 250 * MB
COMPOSER_CACHE = 20 * MB
GEM_CACHE = 10 * MB


# apt installs Recommends unless told not to; for some packages that is most of the bytes.
# Measured (2026-12-04, private engine, debian:bookworm-slim after `apt-get update`, one
# `apt-get install -y NAME` per image, `docker history` layer size): python3-pip 459,573,134
# (build-essential, python3-dev, perl, ... come along; 69,884,609 with --no-install-recommends,
# python3 included), git 112,376,616 (93,409,650 without recommends). build-essential: above.
WITH_RECOMMENDS: dict[str, int] = {
    "python3-pip": 459_573_134,
    "git": 112_376_616,
    "build-essential": 366_046_661,
}


def package_size(name: str, recommends: bool = False) -> int | None:
    """Installed size of a package with the dependencies a slim base lacks; ``recommends``
    when apt also installs its Recommends (no ``--no-install-recommends``)."""
    base = name.split("=", 1)[0].split(":", 1)[0]
    if recommends and base in WITH_RECOMMENDS:
        return WITH_RECOMMENDS[base]
    return PACKAGE_SIZES.get(base)


def apt_install_sizes(names: list[str], recommends: bool, installed: Iterable[str] = ()) -> list[int | None]:
    """Bytes each of ``apt-get install NAMES`` adds, counting every package of the dependency
    closure once per image: what ``installed`` (packages earlier layers installed) or an
    earlier name of the same command already brought costs nothing again.

    Closures and installed sizes are measured on debian:bookworm-slim (layers/apt_bookworm.py,
    scripts/measure_package_sizes.py); a name not measured there falls back to
    :func:`package_size` (None when unknown). dpkg's Installed-Size leaves out what each
    install adds besides the files: its database entries, the rewritten status file and
    debconf cache, the logs (APT_INSTALL_OVERHEAD, fitted on the measured layers).
    """
    counted: set[str] = set()
    installed = set(installed)
    for name in installed:
        counted.update(apt_bookworm.CLOSURE.get(name, ()))
    out: list[int | None] = []
    first = True
    for name in names:
        base = name.split("=", 1)[0].split(":", 1)[0]
        if base in installed:
            out.append(0)  # already installed: apt does nothing ("is already the newest version")
            continue
        closure = (apt_bookworm.CLOSURE_RECOMMENDS.get(base) if recommends else None) or apt_bookworm.CLOSURE.get(base)
        if closure is None:
            out.append(package_size(name, recommends))
            continue
        new = [p for p in closure if p not in counted]
        counted.update(closure)
        size = int(sum(apt_bookworm.INSTALLED_KIB.get(p, 0) * (PYTHON_BYTECODE if _compiled(p) else 1)
                       for p in new) * 1024)
        size += APT_PACKAGE_OVERHEAD * len(new) + (APT_INSTALL_OVERHEAD if first and new else 0)
        first = first and not new
        out.append(size)
    return out


def _compiled(package: str) -> bool:
    """Python modules Debian byte-compiles when it installs them (not the bundled wheels)."""
    return package.startswith(("python3", "libpython3")) and not package.endswith("-whl")


# Units in everything a user reads: decimal, as ``docker images`` prints them (MB = 10^6 bytes).
# The typical figures above are written in MiB (``MB`` below is 2^20) because that is how
# the sources state them; only the display is decimal.
KB_DISPLAY, MB_DISPLAY, GB_DISPLAY = 10**3, 10**6, 10**9


def human(size: int | None) -> str:
    """``~20 MB``-style text in decimal units (MB = 10^6 B, as ``docker images``);
    ``unknown size`` when there is no estimate."""
    if size is None:
        return "unknown size"
    if size >= GB_DISPLAY:
        return f"~{size / GB_DISPLAY:.1f} GB"
    if size >= MB_DISPLAY:
        return f"~{round(size / MB_DISPLAY)} MB"
    if size >= KB_DISPLAY:
        return f"~{round(size / KB_DISPLAY)} kB"
    return f"~{size} B"
