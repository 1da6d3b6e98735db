"""System packages that only serve a build: compilers, headers, language toolchains.

``is_build_package`` decides what DO401 calls build tools. Deliberately left out: git,
curl, wget, ca-certificates, nodejs, npm, python3 (an application may need them at run
time), and pkg-config-like helpers that are tiny. ``runtime_library`` maps a ``-dev``
package to the shared library a runtime stage needs instead (the split recipes use it; an
unknown ``-dev`` package stops a recipe rather than guessing).
"""
from __future__ import annotations

import re

COMPILERS = frozenset({
    "gcc", "g++", "gcc-c++", "cpp", "c++", "clang", "gfortran", "build-essential", "build-base",
    "alpine-sdk", "make", "cmake", "automake", "autoconf", "libtool", "ninja-build", "ninja", "samurai",
    "meson", "bison", "flex", "nasm", "yasm", "swig", "linux-headers", "musl-dev", "libc6-dev", "libc-dev",
    "glibc-devel", "kernel-headers", "dpkg-dev",
})
TOOLCHAINS = frozenset({
    "golang", "golang-go", "go", "rust", "rustc", "cargo", "maven", "gradle", "default-jdk",
    "default-jdk-headless", "ant", "sbt",
})
# Development Tools group on RHEL-likes: `yum groupinstall "Development Tools"`.
GROUPS = frozenset({"development tools", "@development-tools", "@development tools"})

# Helpers that build nothing on their own (make is often a task runner): a stage whose only
# build packages are these is not reported.
LIGHT_TOOLS = frozenset({
    "make", "cmake", "autoconf", "automake", "libtool", "bison", "flex", "pkg-config", "pkgconf", "pkgconfig",
    "ninja", "ninja-build", "samurai", "meson", "swig", "nasm", "yasm", "dpkg-dev",
})

_JDK = re.compile(r"^(openjdk-?\d*-jdk(-headless)?|java-[\d.]+-openjdk-devel|openjdk\d+(-jdk)?|temurin-\d+-jdk)$")
_VERSIONED = re.compile(r"^(gcc|g\+\+|clang|llvm)-?\d+(\.\d+)?$")


def normalise(name: str) -> str:
    """Drop version pins and architecture qualifiers: ``gcc=4:12.2`` -> ``gcc``."""
    for sep in ("=", ":", ">", "<", "~"):
        name = name.split(sep, 1)[0]
    return name.strip().lower()


def is_dev_package(name: str) -> bool:
    """Headers and static libraries (``libpq-dev``, ``openssl-devel``, ``zlib-static``)."""
    name = normalise(name)
    return name.endswith(("-dev", "-devel", "-headers")) or (name.endswith("-static") and name != "busybox-static")


def is_build_package(name: str) -> bool:
    """Whether a system package is a build tool (compiler, headers, toolchain, JDK)."""
    name = normalise(name)
    if not name or name.startswith(("$", "-")):
        return False
    if name in COMPILERS or name in TOOLCHAINS or name in GROUPS:
        return True
    return bool(_JDK.match(name) or _VERSIONED.match(name) and not name.startswith("llvm") or is_dev_package(name))


def is_heavy(name: str) -> bool:
    """A build package that is more than a helper: compilers, headers, toolchains, a JDK."""
    return is_build_package(name) and normalise(name) not in LIGHT_TOOLS


def is_toolchain(name: str) -> bool:
    """Something that compiles: a C compiler, a language toolchain, a JDK (not headers alone)."""
    name = normalise(name)
    return is_compiler(name) and name not in LIGHT_TOOLS or name in TOOLCHAINS or name in GROUPS or is_jdk(name)


def is_compiler(name: str) -> bool:
    """Packages that compile C (what pip, node-gyp and gem native extensions need)."""
    name = normalise(name)
    return name in COMPILERS or bool(_VERSIONED.match(name))


def is_jdk(name: str) -> bool:
    return bool(_JDK.match(normalise(name))) or normalise(name) in ("default-jdk", "default-jdk-headless")


# -dev package -> the library a runtime needs, per family. Empty string: nothing needed
# (headers of something every base has, or a pure build helper).
_RUNTIME_DEBIAN = {
    "libpq-dev": "libpq5", "libffi-dev": "", "libssl-dev": "", "zlib1g-dev": "", "libc6-dev": "",
    "python3-dev": "", "python-dev": "", "libjpeg-dev": "libjpeg62-turbo", "libjpeg62-turbo-dev": "libjpeg62-turbo",
    "libpng-dev": "libpng16-16", "libxml2-dev": "libxml2", "libxslt1-dev": "libxslt1.1", "libxslt-dev": "libxslt1.1",
    "libmariadb-dev": "libmariadb3", "default-libmysqlclient-dev": "libmariadb3",
    "libmariadb-dev-compat": "libmariadb3", "libyaml-dev": "libyaml-0-2", "libsqlite3-dev": "libsqlite3-0",
    "libcurl4-openssl-dev": "libcurl4", "libgeos-dev": "libgeos-c1v5", "libbz2-dev": "", "liblzma-dev": "",
    "libreadline-dev": "", "libncurses5-dev": "", "libncursesw5-dev": "", "linux-libc-dev": "",
}
_RUNTIME_ALPINE = {
    "musl-dev": "", "linux-headers": "", "python3-dev": "", "libffi-dev": "libffi", "openssl-dev": "",
    "libressl-dev": "", "zlib-dev": "", "postgresql-dev": "libpq", "libpq-dev": "libpq", "jpeg-dev": "libjpeg-turbo",
    "libjpeg-turbo-dev": "libjpeg-turbo", "libpng-dev": "libpng", "libxml2-dev": "libxml2", "libxslt-dev": "libxslt",
    "mariadb-dev": "mariadb-connector-c", "mariadb-connector-c-dev": "mariadb-connector-c", "yaml-dev": "yaml",
    "sqlite-dev": "sqlite-libs", "cargo": "", "rust": "",
}


def runtime_library(dev: str, family: str) -> str | None:
    """The runtime package replacing a -dev package ('' for none needed), or None if unknown."""
    table = _RUNTIME_ALPINE if family == "alpine" else _RUNTIME_DEBIAN if family in ("debian", "ubuntu") else {}
    name = normalise(dev)
    if name in table:
        return table[name]
    if name in COMPILERS or name in TOOLCHAINS:
        return ""
    return None
