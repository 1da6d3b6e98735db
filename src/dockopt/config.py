"""Configuration files: discovery, parsing and validation (ruff-like).

Sources, by precedence within one directory:

1. ``.dockopt.toml``  - top-level keys;
2. ``dockopt.toml``   - top-level keys;
3. ``pyproject.toml`` - the ``[tool.dockopt]`` table; a pyproject.toml without that table
   does not count, and the upward walk goes on (as ruff does with ``[tool.ruff]``).

The configuration of a Dockerfile is the nearest source walking upward from its directory,
unless ``--config FILE`` names one or ``--no-config`` disables them. Paths inside a file
(``context``, ``per-file-ignores`` globs) are relative to that file's directory.

Every mistake is a ``ConfigError`` whose ``str()`` is one line naming the file, the line
when it can be found cheaply, and the key: a typo in a config file must never be silently
ignored, or a team believes a rule is disabled when it is not.

Rule selectors are checked later, by ``RuleSelection.build`` (selection.py), because only
it knows the rule codes; ``Config.error`` lets it report them in the same style.
"""
from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockopt.diagnostics import Severity

# datetime, difflib, json and tomllib are imported where used: most runs find no
# configuration file, and only error messages need the others (start-up time).

__all__ = ["CONFIG_NAMES", "KEYS", "Config", "ConfigError", "clear_caches", "display_path", "find_config",
           "find_line", "load_config", "resolve_config", "toml_key"]

# Precedence order inside one directory.
CONFIG_NAMES = (".dockopt.toml", "dockopt.toml", "pyproject.toml")
PYPROJECT = "pyproject.toml"
_PYPROJECT_TABLE = ("tool", "dockopt")

KEYS = ("select", "extend-select", "ignore", "per-file-ignores", "severity", "severity-threshold", "context",
        "hadolint", "unsafe-fixes", "target", "exclude", "extend-exclude", "force-exclude", "respect-gitignore",
        "fetch-sizes")


def display_path(path: Path) -> str:
    """``path`` as shown in messages: relative when under the working directory, else absolute."""
    try:
        return os.path.relpath(path) if path.is_absolute() and path.is_relative_to(Path.cwd()) else str(path)
    except (OSError, ValueError):  # cwd deleted, or another drive on Windows
        return str(path)


def _absolute(path: Path | str) -> Path:
    # abspath, not resolve(): users think in the paths they typed (symlinked checkouts
    # included), and resolve() costs a syscall per component for thousands of files.
    return Path(os.path.abspath(path))


class ConfigError(Exception):
    """A configuration problem, printed as ``file[:line[:column]]: message``."""

    def __init__(self, path: Path | None, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = display_path(self.path)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors may cross a process pool; the default reduce would lose the extra fields.
        return (ConfigError, (self.path, self.message, self.line, self.column))


def toml_key(*parts: str) -> str:
    """A dotted TOML key, quoting the parts that need it: ``per-file-ignores."docker/**"``."""
    import json  # lazily: start-up time

    return ".".join(p if re.fullmatch(r"[A-Za-z0-9_-]+", p) else json.dumps(p) for p in parts)


@dataclass(frozen=True, slots=True)
class Config:
    """One configuration file's settings; ``None`` means "not set" (the CLI or a default decides)."""

    source: Path | None = None
    root: Path = field(default_factory=lambda: _absolute(os.getcwd()))
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    # glob (relative to ``root``; "!glob": every file it does not match) -> selectors.
    per_file_ignores: Mapping[str, tuple[str, ...]] | None = None
    # rule selector (code or prefix) -> severity overriding the rule's default.
    severity: Mapping[str, Severity] | None = None
    severity_threshold: Severity | None = None
    context: Path | None = None  # absolute
    hadolint: bool | None = None
    unsafe_fixes: bool | None = None
    # Ask servers for the sizes of downloaded files (HTTP HEAD; see layers/downloads.py).
    fetch_sizes: bool | None = None
    target: str | None = None
    # Discovery (dockopt.discovery): gitignore-style globs relative to ``root``.
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] | None = None
    force_exclude: bool | None = None
    respect_gitignore: bool | None = None
    # The file's text, kept only to find line numbers when a later check reports an error.
    text: str = field(default="", repr=False, compare=False)

    @property
    def in_pyproject(self) -> bool:
        return self.source is not None and self.source.name == PYPROJECT

    def error(self, message: str, *key: str) -> ConfigError:
        """A ``ConfigError`` about ``key`` (e.g. ``"select"`` or ``"severity", "DO101"``) of this file."""
        if self.source is None:
            return ConfigError(None, message)
        table = _PYPROJECT_TABLE if self.in_pyproject else ()
        line = find_line(self.text, table, key) if key else None
        prefix = "[tool.dockopt] " if self.in_pyproject else ""
        return ConfigError(self.source, prefix + message, line)


# --- line numbers -----------------------------------------------------------------------

_PART = r"""(?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)"""
_DOTTED = rf"{_PART}(?:\s*\.\s*{_PART})*"
# Pattern strings, not compiled patterns: only error messages need them, and ``re``
# compiles (and caches) them on first use (start-up time).
_HEADER = rf"^\s*\[\[?\s*({_DOTTED})\s*\]\]?\s*(?:#.*)?$"
_KEY = rf"^\s*({_DOTTED})\s*="


def _split_dotted(text: str) -> tuple[str, ...]:
    import json  # lazily: start-up time

    parts = []
    for raw in re.findall(_PART, text):
        if raw.startswith('"'):
            try:
                raw = json.loads(raw)  # basic strings use JSON-compatible escapes in practice
            except ValueError:
                raw = raw[1:-1]
        elif raw.startswith("'"):
            raw = raw[1:-1]
        parts.append(raw)
    return tuple(parts)


def find_line(text: str, table: tuple[str, ...], key: tuple[str, ...]) -> int | None:
    """The 1-based line defining ``table + key``, or of its nearest parent key; None if not found.

    A line scan, not a TOML parser: it only has to be right for ordinary files, and it
    runs only when reporting an error.
    """
    wanted = table + key
    best: tuple[int, int] | None = None  # (matched depth, line)
    current: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(_HEADER, line)
        if header:
            current = _split_dotted(header.group(1))
            path = current
        else:
            assignment = re.match(_KEY, line)
            if not assignment:
                continue
            path = current + _split_dotted(assignment.group(1))
        if path == wanted:
            return number
        # A parent (e.g. an inline ``per-file-ignores = {...}``) is the best we can do.
        if len(path) > len(table) and wanted[: len(path)] == path and (best is None or len(path) > best[0]):
            best = (len(path), number)
    return best[1] if best else None


# --- parsing ----------------------------------------------------------------------------

def _type_name(value: object) -> str:
    """The TOML name of a parsed value's type: users wrote TOML, not Python."""
    import datetime  # lazily: only error messages need it (start-up time)

    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array",
             dict: "a table", datetime.datetime: "a date/time", datetime.date: "a date", datetime.time: "a time"}
    return names.get(type(value), type(value).__name__)


_Fail = Callable[..., ConfigError]  # fail(message, *key) -> ConfigError


def _strings(value: object, fail: _Fail, *key: str) -> tuple[str, ...]:
    what = f"{toml_key(*key)!r} must be an array of strings"
    if not isinstance(value, list):
        raise fail(f"{what}, not {_type_name(value)}", *key)
    for number, item in enumerate(value, 1):
        if not isinstance(item, str):
            raise fail(f"{what}, but item {number} is {_type_name(item)}", *key)
    return tuple(value)


def _severity(value: object, fail: _Fail, *key: str) -> Severity:
    what = f"{toml_key(*key)!r} must be \"error\", \"warning\" or \"info\""
    if not isinstance(value, str):
        raise fail(f"{what}, not {_type_name(value)}", *key)
    if value not in ("error", "warning", "info"):  # exact spelling, as everywhere in TOML
        import json  # lazily: start-up time

        raise fail(f"{what}, not {json.dumps(value)}", *key)
    return Severity.parse(value)


def _bool(value: object, fail: _Fail, key: str) -> bool:
    if not isinstance(value, bool):
        raise fail(f"{key!r} must be true or false, not {_type_name(value)}", key)
    return value


def _string(value: object, fail: _Fail, key: str) -> str:
    if not isinstance(value, str):
        raise fail(f"{key!r} must be a string, not {_type_name(value)}", key)
    if not value.strip():
        raise fail(f"{key!r} must not be empty", key)
    return value


def _table(value: object, fail: _Fail, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(f"{key!r} must be a table, not {_type_name(value)}", key)
    return value


def _suggest(key: str) -> str:
    spelled = key.replace("_", "-").lower()
    if spelled in KEYS:
        return f" (did you mean {spelled!r}?)"
    import difflib  # lazily: start-up time

    close = difflib.get_close_matches(key, KEYS, n=1, cutoff=0.75)  # typos, not vague likenesses
    return f" (did you mean {close[0]!r}?)" if close else ""


def _build(path: Path, text: str, data: Mapping[str, Any]) -> Config:
    """Validate the settings table ``data`` of the file ``path`` into a ``Config``."""
    probe = Config(source=path, root=path.parent, text=text)
    fail = probe.error
    for key in data:
        if key not in KEYS:
            raise fail(f"unknown key {key!r}{_suggest(key)}", key)

    values: dict[str, Any] = {}
    for key in ("select", "extend-select", "ignore", "exclude", "extend-exclude"):
        if key in data:
            values[key.replace("-", "_")] = _strings(data[key], fail, key)
    if "per-file-ignores" in data:
        table = _table(data["per-file-ignores"], fail, "per-file-ignores")
        ignores: dict[str, tuple[str, ...]] = {}
        for glob, codes in table.items():
            if not glob.strip() or glob.strip() == "!":
                raise fail("'per-file-ignores' has an empty glob", "per-file-ignores", glob)
            ignores[glob] = _strings(codes, fail, "per-file-ignores", glob)
        values["per_file_ignores"] = ignores
    if "severity" in data:
        table = _table(data["severity"], fail, "severity")
        values["severity"] = {code: _severity(level, fail, "severity", code) for code, level in table.items()}
    if "severity-threshold" in data:
        values["severity_threshold"] = _severity(data["severity-threshold"], fail, "severity-threshold")
    if "context" in data:
        context = _absolute(path.parent / _string(data["context"], fail, "context"))
        if not context.is_dir():
            raise fail(f"'context' is not a directory: {display_path(context)}", "context")
        values["context"] = context
    for key in ("hadolint", "unsafe-fixes", "force-exclude", "respect-gitignore", "fetch-sizes"):
        if key in data:
            values[key.replace("-", "_")] = _bool(data[key], fail, key)
    if "target" in data:
        values["target"] = _string(data["target"], fail, "target")
    return Config(source=path, root=path.parent, text=text, **values)


_TOML_POSITION = r"^(.*?)\s*\(at line (\d+), column (\d+)\)$"  # invalid files only: compiled on use


def _read(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, f"cannot read configuration: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(path, "invalid TOML: not valid UTF-8", line) from None


def _parse(path: Path, *, discovering: bool) -> Config | None:
    """Parse ``path``; None for a pyproject.toml without ``[tool.dockopt]`` while discovering."""
    text = _read(path)
    is_pyproject = path.name == PYPROJECT
    if discovering and is_pyproject and "dockopt" not in text:
        return None  # fast path: most pyproject.toml files are not ours; skip parsing them
    if sys.version_info >= (3, 11):  # lazily: only runs that find a configuration file parse TOML
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = re.match(_TOML_POSITION, message)
        if position:
            raise ConfigError(path, f"invalid TOML: {position.group(1)}",
                              int(position.group(2)), int(position.group(3))) from None
        if message.endswith("(at end of document)"):  # point at the last line, not nowhere
            raise ConfigError(path, f"invalid TOML: {message}", text.count("\n") + 1) from None
        raise ConfigError(path, f"invalid TOML: {message}") from None
    if not is_pyproject:
        return _build(path, text, data)
    tool = data.get("tool")
    table = tool.get("dockopt") if isinstance(tool, dict) else None
    if table is None:
        return None if discovering else Config(source=path, root=path.parent, text=text)
    if not isinstance(table, dict):
        line = find_line(text, (), _PYPROJECT_TABLE)
        raise ConfigError(path, f"'tool.dockopt' must be a table, not {_type_name(table)}", line)
    return _build(path, text, table)


def load_config(path: Path) -> Config:
    """Read one configuration file (uncached). A pyproject.toml without our table is empty."""
    config = _parse(_absolute(path), discovering=False)
    assert config is not None
    return config


# --- discovery and caches ---------------------------------------------------------------
# The CLI resolves a configuration per Dockerfile, thousands of times per run, but the
# answers only change per directory: cache discovery per directory and parsing per file.
# Errors are cached too, so a broken file is parsed once and reported for every Dockerfile.

_FOUND: dict[Path, Path | None] = {}
_LOADED: dict[tuple[Path, bool], Config | ConfigError | None] = {}
_DEFAULTS: dict[Path, Config] = {}


def clear_caches() -> None:
    """Forget discovered and parsed files (tests; long-running processes after edits)."""
    _FOUND.clear()
    _LOADED.clear()
    _DEFAULTS.clear()


def _load_cached(path: Path, *, discovering: bool) -> Config | None:
    key = (path, discovering)
    if key not in _LOADED:
        try:
            _LOADED[key] = _parse(path, discovering=discovering)
        except ConfigError as exc:
            _LOADED[key] = exc
    result = _LOADED[key]
    if isinstance(result, ConfigError):
        raise ConfigError(result.path, result.message, result.line, result.column)
    return result


def _config_in(directory: Path) -> Path | None:
    for name in CONFIG_NAMES:
        candidate = directory / name
        if not candidate.is_file():
            continue
        if name != PYPROJECT or _load_cached(candidate, discovering=True) is not None:
            return candidate
    return None


def find_config(start_dir: Path) -> Path | None:
    """The nearest configuration file in ``start_dir`` or above it; None when there is none."""
    current = _absolute(start_dir)
    visited: list[Path] = []
    found: Path | None = None
    while True:
        if current in _FOUND:
            found = _FOUND[current]
            break
        visited.append(current)
        found = _config_in(current)
        if found is not None or current.parent == current:
            break
        current = current.parent
    for directory in visited:
        _FOUND[directory] = found
    return found


def _default_config() -> Config:
    cwd = _absolute(os.getcwd())
    if cwd not in _DEFAULTS:
        _DEFAULTS[cwd] = Config(source=None, root=cwd)
    return _DEFAULTS[cwd]


def resolve_config(file_path: Path, explicit: Path | None, disabled: bool) -> Config:
    """The configuration that applies to the Dockerfile ``file_path``.

    ``disabled`` (``--no-config``) wins over ``explicit`` (``--config``): "no configuration"
    is the stronger, safer request. Results are cached, so the same ``Config`` object comes
    back for every file under one configuration.
    """
    if disabled:
        return _default_config()
    if explicit is not None:
        config = _load_cached(_absolute(explicit), discovering=False)
        assert config is not None
        return config
    found = find_config(_absolute(file_path).parent)
    if found is None:
        return _default_config()
    config = _load_cached(found, discovering=found.name == PYPROJECT)
    assert config is not None
    return config
