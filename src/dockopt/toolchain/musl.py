"""Which Python packages compile from source on Alpine (musl), by version.

pip installs a binary wheel on Alpine only if the project publishes a ``musllinux`` wheel
for that Python; manylinux wheels (glibc) do not apply. Older releases of the usual
scientific and crypto packages have none, so pip downloads the sdist and compiles it
(minutes, and compilers and headers in the image).

``FIRST_MUSL_WHEEL[package][minor]``: the first release with a musllinux x86_64 wheel for
CPython 3.<minor> (abi3 wheels counted for every later Python). Read from PyPI's JSON API
(pypi.org/pypi/<name>/json, release file names), November 2026.
"""
from __future__ import annotations

import re

FIRST_MUSL_WHEEL: dict[str, dict[int, str]] = {
    "numpy": {9: "1.25.0", 10: "1.25.0", 11: "1.25.0", 12: "1.26.0", 13: "2.1.0"},
    "pandas": {9: "2.1.0", 10: "2.1.0", 11: "2.1.0", 12: "2.1.1", 13: "2.2.3"},
    "scipy": {9: "1.11.0", 10: "1.11.0", 11: "1.11.0", 12: "1.11.2", 13: "1.14.1"},
    "lxml": {8: "4.6.4", 9: "4.6.4", 10: "4.6.4", 11: "4.9.1", 12: "4.9.3", 13: "5.3.0"},
    "psycopg2-binary": {8: "2.9.3", 9: "2.9.3", 10: "2.9.3", 11: "2.9.5", 12: "2.9.9", 13: "2.9.10"},
    "cryptography": {m: "3.4.8" for m in range(6, 14)},
    "grpcio": {8: "1.45.0", 9: "1.45.0", 10: "1.45.0", 11: "1.49.0", 12: "1.59.0", 13: "1.66.2"},
    "pillow": {8: "9.1.0", 9: "9.1.0", 10: "9.1.0", 11: "9.2.0", 12: "10.0.0", 13: "10.4.0"},
    "matplotlib": {9: "3.8.0", 10: "3.8.0", 11: "3.8.0", 12: "3.8.0", 13: "3.9.2"},
}
# The first release with a manylinux (glibc) x86_64 wheel for CPython 3.<minor>: a pin older than
# that compiles on every base, so a glibc image would not help (``pillow==2.8.0`` predates manylinux
# itself). From the projects' release notes and wheel lists as remembered, rounded *up* where unsure:
# an overestimate only drops a finding, never invents one.
FIRST_MANYLINUX_WHEEL: dict[str, dict[int, str]] = {
    "numpy": {5: "1.11.0", 6: "1.12.0", 7: "1.15.0", 8: "1.17.3", 9: "1.19.3", 10: "1.21.3", 11: "1.23.2",
              12: "1.26.0", 13: "2.1.0"},
    "pandas": {5: "0.19.0", 6: "0.20.0", 7: "0.23.2", 8: "1.0.0", 9: "1.1.3", 10: "1.3.4", 11: "1.5.1",
               12: "2.1.1", 13: "2.2.3"},
    "scipy": {5: "0.18.0", 6: "1.0.0", 7: "1.1.0", 8: "1.4.0", 9: "1.5.3", 10: "1.7.2", 11: "1.9.2",
              12: "1.11.2", 13: "1.14.1"},
    "lxml": {5: "3.8.0", 6: "4.0.0", 7: "4.2.2", 8: "4.4.2", 9: "4.6.2", 10: "4.6.4", 11: "4.9.1", 12: "4.9.3",
             13: "5.3.0"},
    "psycopg2-binary": {5: "2.7.0", 6: "2.7.0", 7: "2.7.5", 8: "2.8.4", 9: "2.8.6", 10: "2.9.2", 11: "2.9.5",
                        12: "2.9.9", 13: "2.9.10"},
    "cryptography": {m: "2.5" for m in range(5, 14)},
    "grpcio": {5: "1.2.0", 6: "1.8.0", 7: "1.15.0", 8: "1.26.0", 9: "1.33.2", 10: "1.41.1", 11: "1.49.1",
               12: "1.59.0", 13: "1.66.2"},
    "pillow": {5: "3.4.0", 6: "4.0.0", 7: "5.2.0", 8: "6.2.1", 9: "8.0.1", 10: "8.4.0", 11: "9.3.0",
               12: "10.1.0", 13: "11.0.0"},
    "matplotlib": {5: "2.0.0", 6: "2.0.0", 7: "3.0.0", 8: "3.1.2", 9: "3.3.3", 10: "3.5.0", 11: "3.6.1",
                   12: "3.8.0", 13: "3.9.2"},
}
# No wheels at all: a source build on every base (but on Alpine it also needs -dev packages).
NO_WHEELS = {"psycopg2": "psycopg2-binary (musllinux wheels since 2.9.3) or psycopg[binary]"}
# Python 3.<minor> that `apk add python3` gives on each Alpine release.
ALPINE_PYTHON = {"3.12": 8, "3.13": 9, "3.14": 9, "3.15": 9, "3.16": 10, "3.17": 10, "3.18": 11, "3.19": 11,
                 "3.20": 12, "3.21": 12, "3.22": 12}

_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


def version_tuple(text: str) -> tuple[int, ...]:
    parts = re.findall(r"\d+", text.split("+", 1)[0])[:4]
    return tuple(int(p) for p in parts)


def parse_requirement(line: str) -> tuple[str, str | None, bool] | None:
    """(normalised name, version pinned from above or None, whether any upper pin) of a requirement."""
    line = line.split("#", 1)[0].split(";", 1)[0].strip()
    if not line or line.startswith(("-", "git+", "http", ".", "/")):
        return None
    m = _REQ.match(line)
    if m is None:
        return None
    name = m.group(1).lower().replace("_", "-").replace(".", "-")
    spec = m.group(3).replace(" ", "")
    pin = re.search(r"(===|==|~=|<=|<)([0-9][0-9A-Za-z.*+!-]*)", spec)
    return name, (pin.group(2).rstrip(".*") if pin else None), bool(pin)


def compiles(name: str, version: str | None, python_minor: int | None) -> str | None:
    """Why pip would build ``name`` from source on Alpine, or None when a wheel exists."""
    if name in NO_WHEELS:
        return f"{name} publishes no wheels at all (use {NO_WHEELS[name]})"
    table = FIRST_MUSL_WHEEL.get(name)
    if table is None:
        return None
    if version is not None and not has_manylinux_wheel(name, version, python_minor):
        return None  # it compiles on a glibc base too: Alpine is not the reason
    if python_minor is not None:
        first = table.get(python_minor)
        if first is None:
            if python_minor > max(table):
                return None  # newer Python than our data: assume current releases have wheels
            return f"{name} has no musllinux wheel for Python 3.{python_minor}"
        if version is not None and version_tuple(version) < version_tuple(first):
            return f"{name} {version} has no musllinux wheel for Python 3.{python_minor} (first: {first})"
        return None
    if version is not None:
        first = min(table.values(), key=version_tuple)
        if version_tuple(version) < version_tuple(first):
            return f"{name} {version} predates its first musllinux wheel ({first})"
    return None


def has_manylinux_wheel(name: str, version: str, python_minor: int | None) -> bool:
    """Whether ``name==version`` has a manylinux wheel for CPython 3.<minor> (any Python when None),
    as far as :data:`FIRST_MANYLINUX_WHEEL` knows; unknown packages and Pythons count as yes."""
    table = FIRST_MANYLINUX_WHEEL.get(name)
    if table is None:
        return True
    if python_minor is None:
        first = min(table.values(), key=version_tuple)
    elif python_minor in table:
        first = table[python_minor]
    else:
        return python_minor > max(table)
    return version_tuple(version) >= version_tuple(first)
