"""DO403 python-on-alpine-compiled: pip builds packages from source because the base is Alpine.

Any stage (build time is spent in builder stages too) whose base is Alpine and which runs
Python (a ``python:*-alpine`` image, or ``apk add python3``). Fires when:
- a pip install names a package that has no musllinux wheel for that version and Python
  (``dockopt.toolchain.musl``: numpy, pandas, scipy, lxml, psycopg2(-binary),
  cryptography, grpcio, pillow, matplotlib), also read from ``-r`` requirement files
  when the build context is known; unpinned packages only when the Python is so old that
  no release for it has such a wheel;
- otherwise, when compilers (gcc, build-base, musl-dev, python3-dev) are installed and a
  pip install follows that names a package with C extensions and manylinux wheels, on a
  Python older than musllinux wheels (2.x, <= 3.6): the stage compiles wheels that a glibc
  ``-slim`` base would download ready-made. Pins older than any manylinux wheel, packages
  without Linux wheels, pure-Python installs and unreadable requirement files are no evidence.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.diagnostics import Severity
from dockopt.layers.invocations import Invocation
from dockopt.model import Build, Run, Stage
from dockopt.toolchain.commands import compiling_install
from dockopt.toolchain.images import alpine_version, parse_image
from dockopt.toolchain.musl import ALPINE_PYTHON, compiles, parse_requirement
from dockopt.toolchain.packages import is_compiler, normalise

_PY_TAG = re.compile(r"^(?:3\.)?(\d+)")


class PythonOnAlpineCompiled(Rule):
    code = "DO403"
    name = "python-on-alpine-compiled"
    severity = Severity.WARNING
    uses_context = True

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        build = ctx.build
        for stage in build.stages:
            if ctx.layers.stage_plan(stage).family != "alpine":
                continue
            chain = _chain(stage)
            minor = _python_minor(ctx, chain)
            if minor is False:
                continue  # no Python in this stage
            reported = False
            compilers: list[tuple[Run, Invocation, list[str]]] = []
            for run in stage.runs:
                for inv in ctx.invocations(run):
                    if inv.name == "apk" and "add" in inv.argv:
                        found = [normalise(a) for a in inv.argv if a and (is_compiler(a) or normalise(a) == "python3-dev")]
                        if found:
                            compilers.append((run, inv, found))
                    step = compiling_install(inv)
                    if step is None or step.tool != "pip":
                        continue
                    reasons = self._reasons(ctx, build, stage, run, inv, minor if minor is not True else None)
                    if reasons:
                        reported = True
                        yield self._finding(inv, reasons)
                    elif compilers and not reported and _before_musllinux(chain) and _may_need_compilers(inv):
                        crun, cinv, names = compilers[0]
                        reported = True
                        verb = "is" if len(names) == 1 else "are"
                        message = (f"{', '.join(names)} (line {crun.instruction.start_line}) {verb} installed so that "
                                   f"`{_short(inv)}` (line {run.instruction.start_line}) can compile on Alpine: "
                                   "packages without musllinux wheels build from source here (slow, and the image "
                                   "needs compilers); on a glibc -slim base pip downloads manylinux wheels")
                        yield Finding(cinv.start, cinv.end, message)

    def _reasons(self, ctx: LintContext, build: Build, stage: Stage, run: Run, inv: Invocation,
                 minor: int | None) -> list[str]:
        reasons: list[str] = []
        words = [a for a in inv.argv if a is not None]
        requirements: list[str] = []
        for i, word in enumerate(words):
            if word in ("-r", "--requirement") and i + 1 < len(words):
                text = _requirements_text(ctx, stage, run, words[i + 1])
                if text:
                    requirements += text.splitlines()
            elif word.startswith("--requirement="):
                text = _requirements_text(ctx, stage, run, word.split("=", 1)[1])
                requirements += text.splitlines() if text else []
            elif not word.startswith("-") and word not in ("install", "pip", "pip3", "-m") and (
                    i == 0 or words[i - 1] not in ("-c", "--constraint", "-i", "--index-url", "--extra-index-url")):
                requirements.append(word)
        for line in requirements:
            parsed = parse_requirement(line)
            if parsed is None:
                continue
            name, version, _pinned = parsed
            why = compiles(name, version, minor)
            if why and why not in reasons:
                reasons.append(why)
        return reasons

    def _finding(self, inv: Invocation, reasons: list[str]) -> Finding:
        message = (f"`{_short(inv)}` builds from source on Alpine (musl): " + "; ".join(reasons[:3])
                   + "; a glibc -slim base installs manylinux wheels without compilers")
        return Finding(inv.start, inv.end, message)


# Packages with C extensions that publish manylinux wheels: installing one is what the compilers
# are for. Pure-Python packages (``pip install -U pip``, GitPython, gunicorn) need none, and
# packages that publish no Linux wheels at all (uwsgi, RPi.GPIO, mysqlclient) compile on every base.
_NATIVE_WITH_WHEELS = frozenset({
    "numpy", "pandas", "scipy", "lxml", "psycopg2-binary", "cryptography", "grpcio", "grpcio-tools", "pillow",
    "matplotlib", "gevent", "greenlet", "uvloop", "psutil", "pyyaml", "markupsafe", "cffi", "bcrypt", "pynacl",
    "ujson", "orjson", "pycryptodome", "pycryptodomex", "pyzmq", "regex", "msgpack", "aiohttp", "yarl",
    "multidict", "frozenlist", "scikit-learn", "pyarrow", "h5py", "kiwisolver", "cython", "pydantic-core",
    "ruamel-yaml-clib", "zstandard", "brotli", "simplejson", "wrapt", "cytoolz", "lz4", "xxhash", "pymssql",
    "python-snappy", "netifaces", "websockets", "httptools", "watchfiles", "levenshtein",
})


def _may_need_compilers(inv: Invocation) -> bool:
    """Whether a pip install names a package with C extensions that publishes manylinux wheels (and
    pip is not told to build it from source anyway, ``--no-binary``). A requirements file we cannot
    read does not count: judged on real files (issue 16), such files often pin releases with no
    wheel for that Python on any platform (microservices-demo's markupsafe 2.1.3 on Python 3.14)."""
    words = [a for a in inv.argv if a is not None]
    no_binary = {v.strip().lower().replace("_", "-") for i, w in enumerate(words)
                 if w == "--no-binary" and i + 1 < len(words) for v in words[i + 1].split(",")}
    no_binary |= {v.strip().lower().replace("_", "-") for w in words if w.startswith("--no-binary=")
                  for v in w.split("=", 1)[1].split(",")}
    if ":all:" in no_binary:
        return False
    for i, word in enumerate(words):
        if word.startswith("-") or (i > 0 and words[i - 1] in ("-r", "--requirement", "-c", "--constraint",
                                                                "--no-binary", "-i", "--index-url")):
            continue
        parsed = parse_requirement(word.strip("'\""))
        if parsed is not None and parsed[0] in _NATIVE_WITH_WHEELS and parsed[0] not in no_binary:
            return True
    return False


def _before_musllinux(chain: list[Stage]) -> bool:
    """Whether the stage's Python predates musllinux wheels (PEP 656, 2021: none exist for Python 2
    or 3.6 and older), while manylinux wheels did exist for it: only then are compilers needed on
    Alpine for packages that a glibc base installs ready-made. For a current Python most such
    packages publish musllinux wheels now, and compilers would be needed on neither."""
    image = parse_image(chain[0].base_resolved)
    if image is None or not image.official or image.name != "python":
        return False
    m = re.match(r"^(\d+)(?:\.(\d+))?", image.tag)
    if m is None:
        return False
    major, minor = int(m.group(1)), int(m.group(2)) if m.group(2) else None
    return major == 2 or (major == 3 and minor is not None and minor <= 6)


def _chain(stage: Stage) -> list[Stage]:
    out = []
    current: Stage | None = stage
    while current is not None and current not in out:
        out.append(current)
        current = current.base_stage
    return list(reversed(out))


def _python_minor(ctx: LintContext, chain: list[Stage]) -> int | bool:
    """3.<minor> of the stage's Python; True when present but of unknown version; False when absent."""
    image = parse_image(chain[0].base_resolved)
    if image is not None and image.official and image.name == "python":
        m = _PY_TAG.match(image.tag)
        return int(m.group(1)) if m and image.tag.startswith("3.") else True
    for stage in chain:
        for run in stage.runs:
            for inv in ctx.invocations(run):
                if inv.name == "apk" and "add" in inv.argv and any(
                        a and normalise(a) in ("python3", "py3-pip", "python3-dev") for a in inv.argv):
                    version = alpine_version(image)
                    return ALPINE_PYTHON.get(version or "", True)
    return False


def _requirements_text(ctx: LintContext, stage: Stage, run: Run, path: str) -> str | None:
    """A requirements file's text from the build context, found through the stage's COPYs."""
    context = ctx.build_context
    if not getattr(context, "available", False) or "$" in path:
        return None
    name = posixpath.basename(path)
    candidates: list[str] = []
    for ins in stage.instructions:
        if ins is run.instruction:
            break
        if ins.name not in ("COPY", "ADD") or ins.flag("from") or len(ins.values) < 2:
            continue
        for src in ins.values[:-1]:
            if posixpath.basename(src.rstrip("/")) == name:
                candidates.append(src)
            elif src in (".", "./") or src.endswith("/"):
                candidates.append(posixpath.join(src, path) if not path.startswith("/") else name)
    candidates.append(path.lstrip("./") if not path.startswith("/") else name)
    for candidate in candidates:
        text = context.read_text(posixpath.normpath(candidate.lstrip("/")), 262144)
        if text is not None:
            return text
    return None


def _short(inv: Invocation) -> str:
    first = inv.text.strip().splitlines()[0] if inv.text.strip() else inv.name
    return first if len(first) <= 60 else first[:57] + "..."

