"""What ``pip install`` and ``python3 -m venv`` add to a layer, with measured sizes.

``pip install NAME...`` installs each named project with its dependencies: modelled as one
package pseudo-path per name (``package numpy`` in messages), sized from
``layers/pip_sizes.py`` (measured on debian:bookworm-slim by scripts/measure_pip_sizes.py:
the installed closure, byte-code included). pip's download cache then holds the wheels it
fetched: their measured total when every name is known. A requirements file, a local path or
an unmeasured project is an install of unknown size (never a known 0 B).
"""
from __future__ import annotations

import re

from dockopt.layers import pip_sizes, sizes
from dockopt.layers.invocations import Invocation
from dockopt.layers.knowledge import ShellState, effect, resolve
from dockopt.layers.plan import PKG_ROOT, Effect, EffectKind

C = EffectKind.CREATE

# pip install options that take a value (the value is not a requirement).
_VALUE_OPTIONS = frozenset({
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url", "--extra-index-url",
    "-f", "--find-links", "-t", "--target", "--prefix", "--root", "--trusted-host", "--platform",
    "--python-version", "--implementation", "--abi", "--src", "--upgrade-strategy", "--progress-bar", "--log",
    "--cache-dir", "--no-binary", "--only-binary", "--global-option", "--config-settings", "-C", "--report",
    "--python", "--retries", "--timeout", "--proxy", "--cert", "--client-cert", "--exists-action",
})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def normalise(project: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", project).lower()


def requirements(inv: Invocation) -> list[str | None]:
    """Normalised project names of ``pip install`` arguments, in order; None for what cannot be
    named statically (a requirements file, a local path or archive, a URL, a variable)."""
    out: list[str | None] = []
    argv = inv.argv
    start = argv.index("install") + 1 if "install" in argv else len(argv)
    skip = False
    for arg in argv[start:]:
        if skip:
            skip = False
            continue
        if arg is None:
            out.append(None)
        elif arg in ("-r", "--requirement", "-e", "--editable"):
            out.append(None)
            skip = True
        elif arg.startswith(("--requirement=", "--editable=")):
            out.append(None)
        elif arg in _VALUE_OPTIONS:
            skip = True
        elif arg.startswith("-"):
            continue
        elif "/" in arg or arg.startswith(".") or arg.endswith((".whl", ".tar.gz", ".zip")):
            out.append(None)
        else:
            m = _NAME.match(arg)
            out.append(normalise(m.group(0)) if m else None)
    return out


def pip_install(inv: Invocation, state: ShellState, cache: str, caching: bool) -> list[Effect]:
    """The installed packages of ``pip install`` and, when ``caching``, its download cache."""
    names = requirements(inv)
    out: list[Effect] = []
    known_wheels: list[int] = []
    for name in names:
        measured = pip_sizes.MEASURED.get(name) if name else None
        path = f"{PKG_ROOT}/pip/{name or 'unnamed'}/"
        detail = "installed with its dependencies" if name else "what the requirements name"
        out += effect(C, path, inv, "package", measured[0] if measured else None, detail)
        if measured:
            known_wheels.append(measured[1])
    if caching:
        all_known = bool(names) and len(known_wheels) == len(names)
        size = sum(known_wheels) if all_known else sizes.PIP_CACHE_DEFAULT
        out += effect(C, cache, inv, "pip-cache", size, detail="pip's download cache")
    return out


def venv(inv: Invocation, state: ShellState) -> list[Effect]:
    """``python3 -m venv DIR``: the environment, with pip (and setuptools on Python <= 3.11)
    copied in unless ``--without-pip``."""
    targets = [a for a in inv.argv[2:] if a is None or not a.startswith("-")]
    if not targets:
        return []
    size = sizes.VENV_WITHOUT_PIP if inv.has("--without-pip") else sizes.VENV
    out: list[Effect] = []
    for target in targets:
        resolved = resolve(target, state) if target else None
        path = resolved.rstrip("/") + "/" if resolved else f"{PKG_ROOT}/venv/unresolved/"
        out += effect(C, path, inv, "virtualenv", size, detail="a virtual environment")
    return out
