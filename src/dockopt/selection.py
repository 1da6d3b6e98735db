"""Which rules run, at what severity, for which file (ruff's selection semantics).

Selectors: a full code (``DO101``), a prefix (``DO1``, ``DO10``, ``DO``), ``ALL``; and the
hadolint / ShellCheck codes dockopt merges when ``hadolint`` is on (``DL3009``, ``DL``,
``SC2086``, ``SC``). Those are open-ended sets we cannot list, so any ``DL\\d{4}`` /
``SC\\d{4}`` code counts as known, and selectors of those shapes are always valid.

Resolution is ruff's, layer by layer: defaults, then the configuration file, then the
command line. Within a layer (``select``, ``extend-select``, ``ignore``) the most specific
matching selector decides a code (``ALL`` < ``DO`` < ``DO1`` < ``DO10`` < ``DO101``); on a
tie ``ignore`` wins. A layer with ``select`` starts from scratch: its result replaces what
the layers below chose. A layer without it only adds (``extend-select``) and removes
(``ignore``). So ``--select`` replaces the file's selection and ``--extend-select`` /
``--ignore`` refine it - and a command-line ``--ignore DO1`` beats a file's
``select = ["DO101"]`` because it is applied later.

Hadolint and ShellCheck codes are on by default: their findings only exist when the user
asked for hadolint, and then they want to see them. ``per-file-ignores`` removes codes
for matching files after all of that (as in ruff).
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dockopt.config import Config, ConfigError, toml_key
from dockopt.diagnostics import Severity

__all__ = ["ALL", "CliOverrides", "RuleSelection", "compile_glob", "is_known_code", "selector_matches", "specificity"]

ALL = "ALL"
_OPEN_CODE = re.compile(r"(?:DL|SC)\d{4}")  # hadolint, ShellCheck
_OPEN_SELECTOR = re.compile(r"(?:DL|SC)\d{0,4}")
_SELECTOR_SHAPE = re.compile(r"[A-Z]{2}\d*")  # a linter prefix (two letters) and digits


@dataclass(frozen=True, slots=True)
class CliOverrides:
    """The command line's say in the selection; ``select=None`` means "not given"."""

    select: Sequence[str] | None = None
    extend_select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    severity_threshold: Severity | None = None

    def __post_init__(self) -> None:
        # Tuples: hashable, immutable, and cheap to pickle into worker processes.
        if self.select is not None:
            object.__setattr__(self, "select", tuple(self.select))
        object.__setattr__(self, "extend_select", tuple(self.extend_select or ()))
        object.__setattr__(self, "ignore", tuple(self.ignore or ()))


def is_known_code(code: str, known_codes: Mapping[str, bool]) -> bool:
    return code in known_codes or _OPEN_CODE.fullmatch(code) is not None


def specificity(selector: str) -> int:
    """``ALL`` < linter prefix < longer prefix < full code (codes of one linter share a shape)."""
    return 0 if selector == ALL else len(selector)


def selector_matches(selector: str, code: str) -> bool:
    return selector == ALL or code.startswith(selector)


def _selector_problem(selector: str, known_codes: Mapping[str, bool]) -> str | None:
    """None when ``selector`` is valid, else the complaint (with a suggestion when we have one)."""
    if selector == ALL or _OPEN_SELECTOR.fullmatch(selector):
        return None
    if _SELECTOR_SHAPE.fullmatch(selector) and any(code.startswith(selector) for code in known_codes):
        return None
    problem = f"unknown rule selector {selector!r}"
    upper = selector.strip().upper()
    if upper != selector and _selector_problem(upper, known_codes) is None:
        return f"{problem} (did you mean {upper!r}?)"
    # Only same-length codes: a typo in a code, not a prefix that happens to look alike.
    same_length = [code for code in known_codes if len(code) == len(upper)]
    import difflib  # lazily: only a mistyped selector needs it (start-up time)

    close = difflib.get_close_matches(upper, same_length, n=1, cutoff=0.75)
    return f"{problem} (did you mean {close[0]!r}?)" if close else problem


def compile_glob(pattern: str) -> tuple[re.Pattern[str], bool]:
    """A per-file-ignores glob as (regex, match basename only).

    ``*`` and ``?`` stay within one path segment, ``**`` spans segments, ``[...]`` is a
    class (``[!...]`` negated). A pattern without ``/`` matches the file name anywhere
    (``Dockerfile.*``); one with ``/`` is anchored at the configuration's directory; a
    trailing ``/`` means everything below that directory.
    """
    glob = pattern.strip()
    while glob.startswith("./"):
        glob = glob[2:]
    basename_only = "/" not in glob
    glob = glob.lstrip("/")
    if glob.endswith("/"):
        glob += "**"
    out: list[str] = []
    i = 0
    while i < len(glob):
        char = glob[i]
        if glob.startswith("**", i):
            at_start = i == 0 or glob[i - 1] == "/"
            if at_start and glob.startswith("**/", i):
                out.append("(?:.*/)?")  # zero or more whole directories
                i += 3
                continue
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and (end := glob.find("]", i + 2)) != -1:
            body = glob[i + 1 : end]
            body = "^" + body[1:] if body.startswith("!") else body
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
            continue
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out), re.DOTALL), basename_only


@dataclass(frozen=True, slots=True)
class _Layer:
    select: tuple[str, ...] | None
    extend_select: tuple[str, ...]
    ignore: tuple[str, ...]

    def verdict(self, code: str) -> bool | None:
        """True/False when a selector of this layer matches ``code``; None when none does."""
        chosen = max((specificity(s) for s in (*(self.select or ()), *self.extend_select) if selector_matches(s, code)),
                     default=-1)
        dropped = max((specificity(s) for s in self.ignore if selector_matches(s, code)), default=-1)
        if chosen < 0 and dropped < 0:
            return None
        return chosen > dropped  # a tie goes to ignore

    def apply(self, code: str, enabled: bool) -> bool:
        verdict = self.verdict(code)
        if self.select is not None:
            return verdict is True  # a layer with select starts from nothing
        return enabled if verdict is None else verdict


@dataclass(frozen=True, slots=True)
class _FileIgnore:
    regex: re.Pattern[str]
    basename_only: bool
    negated: bool
    selectors: tuple[str, ...]

    def applies(self, relative: str | None, basename: str) -> bool:
        if self.basename_only:
            hit = self.regex.fullmatch(basename) is not None
        else:  # anchored patterns never match files outside the configuration's directory
            hit = relative is not None and self.regex.fullmatch(relative) is not None
        return hit != self.negated


class RuleSelection:
    """The resolved selection for one configuration (and command line): cheap to query.

    Build it once per configuration file: known codes are decided up front, per-file
    globs compiled once, and per-path answers memoised (the engine asks once per rule).
    """

    def __init__(
        self,
        known_codes: Mapping[str, bool],
        layers: Sequence[_Layer],
        severities: Mapping[str, Severity],
        file_ignores: Sequence[_FileIgnore],
        root: Path,
        threshold: Severity,
    ) -> None:
        self._known = dict(known_codes)
        self._layers = tuple(layers)
        self._severities = dict(severities)
        self._file_ignores = tuple(file_ignores)
        self._root = str(root)
        self._cwd = os.getcwd()  # the engine passes display paths, relative to it
        self.threshold = threshold
        self._decided: dict[str, bool] = {code: self._decide(code) for code in self._known}
        self.enabled_codes: frozenset[str] = frozenset(c for c, on in self._decided.items() if on)
        self._severity_of: dict[str, Severity | None] = {}
        self._ignored_in: dict[str, tuple[str, ...]] = {}

    @classmethod
    def build(cls, known_codes: Mapping[str, bool], config: Config, cli: CliOverrides) -> RuleSelection:
        """Validate every selector (``ConfigError`` naming the file or flag) and resolve."""

        def check(selectors: Sequence[str], fail: Callable[[str], ConfigError], where: str) -> None:
            for selector in selectors:
                problem = _selector_problem(selector, known_codes)
                if problem:
                    raise fail(f"{problem} in {where}")

        lists = (("select", config.select), ("extend-select", config.extend_select), ("ignore", config.ignore))
        for key, value in lists:
            check(value or (), lambda m, k=key: config.error(m, k), repr(key))
        for glob, selectors in (config.per_file_ignores or {}).items():
            check(selectors, lambda m, g=glob: config.error(m, "per-file-ignores", g),
                  repr(toml_key("per-file-ignores", glob)))
        for selector in config.severity or {}:
            check([selector], lambda m, s=selector: config.error(m, "severity", s), "'severity'")
        for flag, value in (("--select", cli.select), ("--extend-select", cli.extend_select), ("--ignore", cli.ignore)):
            check(value or (), lambda m: ConfigError(None, m), flag)

        layers = [
            _Layer(config.select, config.extend_select or (), config.ignore or ()),
            _Layer(tuple(cli.select) if cli.select is not None else None, tuple(cli.extend_select), tuple(cli.ignore)),
        ]
        file_ignores = []
        for glob, selectors in (config.per_file_ignores or {}).items():
            negated = glob.startswith("!")
            regex, basename_only = compile_glob(glob[1:] if negated else glob)
            file_ignores.append(_FileIgnore(regex, basename_only, negated, tuple(selectors)))
        threshold = cli.severity_threshold or config.severity_threshold or Severity.INFO
        return cls(known_codes, layers, config.severity or {}, file_ignores, config.root, threshold)

    # --- which rules ----------------------------------------------------------------

    def _decide(self, code: str) -> bool:
        enabled = self._known.get(code, _OPEN_CODE.fullmatch(code) is not None)
        for layer in self._layers:
            enabled = layer.apply(code, enabled)
        return enabled

    def is_selected(self, code: str) -> bool:
        """Whether ``code`` runs at all, before per-file-ignores."""
        decided = self._decided.get(code)
        if decided is None:  # a hadolint/ShellCheck code (or an unlisted one): decide once
            decided = self._decided[code] = self._decide(code)
        return decided

    def enabled(self, code: str, path: str | os.PathLike[str] | None = None) -> bool:
        """Whether ``code`` is reported for the file ``path`` (absolute, or relative to the cwd)."""
        if not self.is_selected(code):
            return False
        if not self._file_ignores or path is None:
            return True
        return not any(selector_matches(s, code) for s in self._ignored_for(os.fspath(path)))

    def _ignored_for(self, path: str) -> tuple[str, ...]:
        ignored = self._ignored_in.get(path)
        if ignored is None:
            absolute = os.path.normpath(os.path.join(self._cwd, path))
            try:
                relative: str | None = os.path.relpath(absolute, self._root).replace(os.sep, "/")
            except ValueError:  # another drive (Windows)
                relative = None
            if relative is not None and (relative == ".." or relative.startswith("../")):
                relative = None
            basename = os.path.basename(absolute)
            rules = (rule for rule in self._file_ignores if rule.applies(relative, basename))
            ignored = tuple(selector for rule in rules for selector in rule.selectors)
            self._ignored_in[path] = ignored
        return ignored

    # --- how serious ----------------------------------------------------------------

    def severity(self, code: str, default: Severity) -> Severity:
        """The configured severity of ``code`` (most specific selector), else ``default``."""
        if not self._severities:
            return default
        if code in self._severity_of:
            found = self._severity_of[code]
        else:
            matching = [s for s in self._severities if selector_matches(s, code)]
            found = self._severities[max(matching, key=specificity)] if matching else None
            self._severity_of[code] = found
        return default if found is None else found
