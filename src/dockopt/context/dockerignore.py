""".dockerignore with Docker's exact semantics: which paths BuildKit leaves out of the context.

Ported from the Go that decides it, because a look-alike (gitignore, pathspec, fnmatch)
answers differently on ordinary files (``*.pyc`` does not match ``sub/a.pyc`` here):

* ``moby/patternmatcher/ignorefile.ReadAll``: only a ``#`` in column 1 starts a comment;
  whitespace is trimmed; each pattern goes through ``filepath.Clean`` and loses a leading
  ``/`` (the context root is both the working and the root directory).
* ``moby/patternmatcher``: each line is validated with ``filepath.Match`` (see
  :mod:`dockopt.context.gosyntax`) and becomes an exact, prefix, suffix or regexp matcher (``**``
  is ``(.*/)?``, a leading ``**`` a suffix test); the last matching line wins; ``!`` lines
  re-include. The regexps are RE2 and are translated, classes included: the text inside
  ``[...]`` reaches RE2 unchanged, so ``[!a]`` matches ``!`` or ``a`` and ``[[:digit:]]`` is
  a POSIX class.
* ``tonistiigi/fsutil``'s filtered walk (``filter.go``), which sends BuildKit's context: a
  path is judged with its parent directory's per-pattern results
  (``MatchesUsingParentResults``), and an excluded directory is skipped whole unless an
  exception could re-include something below it. :meth:`IgnoreRules.excludes` answers that;
  :meth:`IgnoreRules.matches` is ``MatchesOrParentMatches``, which differs only for rare
  orderings such as ``dir/x`` followed by ``!dir``.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from dockopt.context.gosyntax import GO_SPACE, BadPattern, go_clean, go_match, re2_to_python

# --- moby/patternmatcher -------------------------------------------------------------------------

EXACT, PREFIX, SUFFIX, REGEXP = "exact", "prefix", "suffix", "regexp"


def go_regexp_of(cleaned: str) -> tuple[str, str]:
    """(match type, Go regexp source) exactly as patternmatcher's ``Pattern.compile`` builds them."""
    out, kind, pos, n = ["^"], EXACT, 0, len(cleaned)
    iteration = 0
    while pos < n:
        ch = cleaned[pos]
        pos += 1
        if ch == "*":
            if pos < n and cleaned[pos] == "*":  # some flavour of **
                pos += 1
                if pos < n and cleaned[pos] == "/":  # **/ is eaten as **
                    pos += 1
                if pos >= n:  # trailing **: accepts everything below
                    if kind == EXACT:
                        kind = PREFIX
                    else:
                        out.append(".*")
                        kind = REGEXP
                else:
                    out.append("(.*/)?")
                    kind = REGEXP
                if iteration == 0:  # a leading ** makes it a suffix match, whatever follows
                    kind = SUFFIX
            else:
                out.append("[^/]*")
                kind = REGEXP
        elif ch == "?":
            out.append("[^/]")
            kind = REGEXP
        elif ch in ".+()|{}$":  # regexp metacharacters with no glob meaning: escaped, type unchanged
            out.append("\\" + ch)
        elif ch == "\\":
            if pos < n:
                out.append("\\" + cleaned[pos])
                pos += 1
                kind = REGEXP
            else:
                out.append("\\")
        elif ch in "[]":
            out.append(ch)
            kind = REGEXP
        else:
            out.append(ch)  # includes ^, which RE2 reads as an anchor in a regexp pattern
        iteration += 1
    if kind == REGEXP:
        out.append("$")
    return kind, "".join(out)


@dataclass(frozen=True, slots=True)
class IgnorePattern:
    """One ``.dockerignore`` line after Docker's cleaning; ``error`` set when Docker rejects it."""

    text: str  # cleaned, without the leading "!"
    exclusion: bool  # a "!" line: re-includes what it matches
    line: int  # 1-based line in the ignore file (0 when built from a list)
    kind: str  # exact / prefix / suffix / regexp, as patternmatcher classifies it
    regex: re.Pattern[str] | None = None
    error: str | None = None

    def match(self, path: str) -> bool:
        """patternmatcher's ``Pattern.match`` on a slash-separated relative path."""
        kind = self.kind
        if kind == EXACT:
            return path == self.text
        if kind == PREFIX:
            return path.startswith(self.text[:-2])
        if kind == SUFFIX:
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        return self.regex is not None and self.regex.match(path) is not None


@functools.lru_cache(maxsize=4096)
def compile_pattern(raw: str, line: int = 0) -> IgnorePattern:
    """patternmatcher ``New`` for one entry (already through :func:`read_patterns`)."""
    p = go_clean(raw.strip(GO_SPACE))
    exclusion = p.startswith("!")
    if exclusion:
        if len(p) == 1:
            return IgnorePattern(p, True, line, EXACT, error='illegal exclusion pattern: "!"')
        p = p[1:]
    try:
        go_match(p, ".")
        kind, source = go_regexp_of(p)
        regex = re.compile(re2_to_python(source), re.ASCII) if kind == REGEXP else None
    except (BadPattern, re.error) as exc:
        return IgnorePattern(p, exclusion, line, EXACT, error=f"{exc}")
    return IgnorePattern(p, exclusion, line, kind, regex)


def read_patterns(text: str) -> list[tuple[int, str]]:
    """(line number, pattern) pairs, as ``ignorefile.ReadAll`` reads an ignore file.

    Only lines whose first byte is ``#`` are comments (``  # x`` is a pattern); a UTF-8 BOM
    on the first line and a CR before each LF are dropped; whitespace around the pattern and
    after a ``!`` is trimmed; the rest is cleaned and a leading ``/`` removed (the context
    root is both the working and the root directory).
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out: list[tuple[int, str]] = []
    for number, line in enumerate(lines, 1):
        if number == 1 and line.startswith("\ufeff"):
            line = line[1:]
        if line.endswith("\r"):
            line = line[:-1]
        if line.startswith("#"):
            continue
        pattern = line.strip(GO_SPACE)
        if not pattern:
            continue
        invert = pattern[0] == "!"
        if invert:
            pattern = pattern[1:].strip(GO_SPACE)
        if pattern:
            pattern = go_clean(pattern)
            if len(pattern) > 1 and pattern[0] == "/":
                pattern = pattern[1:]
        out.append((number, "!" + pattern if invert else pattern))
    return out


def _test_of(pattern: IgnorePattern) -> Callable[[str], bool]:
    """``pattern.match`` as one bound callable: the walk calls it for every path and pattern."""
    if pattern.kind == EXACT:
        return pattern.text.__eq__
    if pattern.kind == PREFIX:
        prefix = pattern.text[:-2]
        return lambda path: path.startswith(prefix)
    if pattern.kind == SUFFIX:
        return pattern.match
    regex = pattern.regex
    assert regex is not None
    return lambda path: regex.match(path) is not None


def _union(patterns: tuple[IgnorePattern, ...]) -> re.Pattern[str]:
    """One regex matching exactly the paths some pattern matches (a pre-filter for :meth:`IgnoreRules.step`)."""
    parts = []
    for p in patterns:
        if p.kind == EXACT:
            parts.append(re.escape(p.text) + r"\Z")
        elif p.kind == PREFIX:
            parts.append(re.escape(p.text[:-2]))
        elif p.kind == SUFFIX:
            suffix = p.text[2:]
            parts.append(r"(?s:.*)" + re.escape(suffix) + r"\Z")
            if suffix.startswith("/"):
                parts.append(re.escape(suffix[1:]) + r"\Z")
        elif p.regex is not None:
            parts.append(p.regex.pattern)
    return re.compile("|".join(f"(?:{part})" for part in parts) or "(?!)", re.ASCII)


def _without_trailing_glob(text: str) -> str:
    """fsutil's patternWithoutTrailingGlob."""
    text = text[:-3] if text.endswith("/**") else text
    return text[:-2] if text.endswith("/*") else text


class IgnoreRules:
    """A compiled ``.dockerignore``: the patterns, their errors, and Docker's verdict per path."""

    def __init__(self, entries: Iterable[tuple[int, str] | str] = (), source: Path | None = None) -> None:
        pairs = [(0, e) if isinstance(e, str) else e for e in entries]
        # patternmatcher.New skips entries that are empty after trimming.
        compiled = [compile_pattern(text, line) for line, text in pairs if text.strip(GO_SPACE)]
        self.source = source
        self.all_patterns: tuple[IgnorePattern, ...] = tuple(compiled)
        # Docker refuses the whole build on a bad line; dockopt keeps the good ones and reports the rest.
        self.patterns: tuple[IgnorePattern, ...] = tuple(p for p in compiled if p.error is None)
        self.errors: tuple[str, ...] = tuple(f"line {p.line}: {p.error}" if p.line else p.error
                                             for p in compiled if p.error is not None)
        self.has_exclusions = any(p.exclusion for p in self.patterns)
        self._tests = tuple(_test_of(p) for p in self.patterns)
        self._exclusion = tuple(p.exclusion for p in self.patterns)
        self._no_info = (False,) * len(self.patterns)
        self._any = _union(self.patterns)
        exceptions = [_without_trailing_glob(p.text) for p in self.patterns if p.exclusion]
        # fsutil only skips an excluded directory wholesale when every exception is a plain path.
        self.only_prefix_exceptions = not any(ch in e for e in exceptions for ch in "*[]?^\\")
        self._exception_dirs = tuple(e + "/" for e in exceptions)
        self._dirs: dict[str, tuple[bool, tuple[bool, ...] | None]] = {}

    @classmethod
    def parse(cls, text: str, source: Path | None = None) -> IgnoreRules:
        return cls(read_patterns(text), source)

    @classmethod
    def load(cls, path: Path) -> IgnoreRules:
        """Rules from an ignore file; unreadable files give no patterns and one error."""
        try:
            text = path.read_bytes().decode("utf-8", "surrogateescape")
        except OSError as exc:
            rules = cls((), path)
            rules.errors = (f"cannot read {path}: {exc.strerror or exc}",)
            return rules
        return cls.parse(text, path)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def step(self, path: str, parent: tuple[bool, ...] | None,
             want_info: bool = True) -> tuple[bool, tuple[bool, ...]]:
        """patternmatcher ``MatchesUsingParentResults``: (excluded, per-pattern results for children).

        ``parent`` is the parent directory's result (None at the top level, where the zero
        MatchInfo makes Go check the path's ancestors instead). Files pass ``want_info=False``:
        only directories hand results down, and without exceptions the verdict is then simply
        "some pattern matches" (the walk runs this once per path, so it is kept tight).
        """
        tests = self._tests
        ancestors = None if parent or "/" not in path else self._ancestors(path)
        if not (parent and True in parent):  # fast exit: no pattern touches the path or its ancestors
            hit_any = self._any.match
            if hit_any(path) is None and not (ancestors and any(hit_any(a) for a in ancestors)):
                return False, (self._no_info if want_info else ())
        if not want_info and not self.has_exclusions:
            if parent and True in parent:
                return True, ()
            for test in tests:
                if test(path) or (ancestors and any(test(a) for a in ancestors)):
                    return True, ()
            return False, ()
        matched = False
        info = [False] * len(tests)
        for i, test in enumerate(tests):
            hit = parent[i] if parent else False
            if not hit:
                if self._exclusion[i] != matched:
                    continue  # cannot change the verdict: not evaluated (and not inherited below)
                hit = test(path) or bool(ancestors and any(test(a) for a in ancestors))
            info[i] = hit
            if hit:
                matched = not self._exclusion[i]
        return matched, tuple(info)

    @staticmethod
    def _ancestors(path: str) -> list[str]:
        parts = path.split("/")
        return ["/".join(parts[:k]) for k in range(1, len(parts))]

    def prunes(self, directory: str) -> bool:
        """Whether fsutil skips an excluded directory without looking inside it."""
        if not self.only_prefix_exceptions:
            return False
        prefix = directory + "/"
        return not any(e.startswith(prefix) for e in self._exception_dirs)

    def _dir(self, directory: str) -> tuple[bool, tuple[bool, ...] | None]:
        """(skipped whole, match info) of a directory on BuildKit's walk; cached per directory."""
        found = self._dirs.get(directory)
        if found is None:
            head, _, _ = directory.rpartition("/")
            skipped, parent = self._dir(head) if head else (False, None)
            if skipped:
                found = (True, None)
            else:
                excluded, info = self.step(directory, parent)
                found = (excluded and self.prunes(directory), info)
            self._dirs[directory] = found
        return found

    def excludes(self, path: str) -> bool:
        """Whether BuildKit leaves ``path`` (relative, slash-separated, clean) out of the context."""
        if not self.patterns or path in ("", "."):
            return False  # the root itself is never matched
        head, _, _ = path.rpartition("/")
        skipped, parent = self._dir(head) if head else (False, None)
        return skipped or self.step(path, parent)[0]

    def matches(self, path: str) -> bool:
        """patternmatcher ``MatchesOrParentMatches`` (what BuildKit's CopyIgnoredFile check uses)."""
        path = go_clean(path)
        if path == ".":
            return False
        ancestors = self._ancestors(path)
        matched = False
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            if pattern.match(path) or any(pattern.match(a) for a in ancestors):
                matched = not pattern.exclusion
        return matched
