"""Go's path and regexp syntax in Python: what Docker's matching is built on.

* ``go_clean`` / ``go_match``: ``path/filepath.Clean`` and ``Match`` as on Linux (Go 1.16+,
  which reports a malformed pattern even when matching stops early). ``*`` and ``?`` never
  cross ``/``; ``[^...]`` negates and ``[!...]`` does not (``!`` is an ordinary member);
  ``\\`` escapes the next character.
* ``compile_glob``: the same matching, compiled once to a Python regex where that is exactly
  equivalent (see ``_glob_to_regex``) — COPY wildcards are matched against every path of a
  context, so this is the hot path.
* ``re2_to_python``: translates the small subset of RE2 syntax that moby/patternmatcher
  generates (anchors, ``.*``, groups, escapes, character classes with POSIX names) into
  Python ``re`` syntax with the same meaning: ``$`` is end-of-text, ``\\s`` is ASCII, a
  class range ``l-O`` is an error. Escapes Docker users never write (octal, ``\\x``,
  ``\\p``, ``\\Q``) are reported as unsupported rather than guessed.

Sources: golang/go src/path/filepath/match.go and path_unix.go; Go regexp/syntax
(parse.go, perl_groups.go) for the escape and class rules.
"""
from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable

# Go's unicode.IsSpace (what strings.TrimSpace strips); Python's str.strip() also strips \x1c-\x1f.
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
           "\u2028\u2029\u202f\u205f\u3000"
_MAX_RUNE = 0x10FFFF


class BadPattern(ValueError):
    """A pattern Docker rejects (``filepath.ErrBadPattern`` or an RE2 compile error)."""


def go_clean(path: str) -> str:
    """Go's ``filepath.Clean`` on Linux: ``posixpath.normpath`` except that ``//x`` becomes ``/x``."""
    cleaned = posixpath.normpath(path)
    return cleaned[1:] if cleaned.startswith("//") else cleaned


# --- path/filepath.Match -------------------------------------------------------------------------

def _scan_chunk(pattern: str) -> tuple[bool, str, str]:
    star = False
    while pattern and pattern[0] == "*":
        pattern, star = pattern[1:], True
    in_range, i = False, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 < len(pattern):
                i += 1
        elif c == "[":
            in_range = True
        elif c == "]":
            in_range = False
        elif c == "*" and not in_range:
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def _get_esc(chunk: str) -> tuple[str, str]:
    if not chunk or chunk[0] in "-]":
        raise BadPattern("syntax error in pattern")
    if chunk[0] == "\\":
        chunk = chunk[1:]
        if not chunk:
            raise BadPattern("syntax error in pattern")
    # A lone surrogate is an undecodable byte (surrogateescape): Go's utf8.RuneError.
    if not chunk[1:] or "\udc80" <= chunk[0] <= "\udcff":
        raise BadPattern("syntax error in pattern")
    return chunk[0], chunk[1:]


def _match_chunk(chunk: str, s: str) -> tuple[str, bool]:
    """Go's matchChunk: after a mismatch it keeps parsing so that syntax errors still surface."""
    failed = False
    while chunk:
        failed = failed or not s
        c = chunk[0]
        if c == "[":
            r = None
            if not failed:
                r, s = s[0], s[1:]
            chunk = chunk[1:]
            negated = bool(chunk) and chunk[0] == "^"
            if negated:
                chunk = chunk[1:]
            matched, ranges = False, 0
            while True:
                if chunk and chunk[0] == "]" and ranges > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _get_esc(chunk)
                hi = lo
                if chunk[0] == "-":
                    hi, chunk = _get_esc(chunk[1:])
                matched = matched or (r is not None and lo <= r <= hi)
                ranges += 1
            failed = failed or matched == negated
        elif c == "?":
            if not failed:
                failed, s = s[0] == "/", s[1:]
            chunk = chunk[1:]
        else:
            if c == "\\":
                chunk = chunk[1:]
                if not chunk:
                    raise BadPattern("syntax error in pattern")
            if not failed:
                failed, s = chunk[0] != s[0], s[1:]
            chunk = chunk[1:]
    return ("", False) if failed else (s, True)


def go_match(pattern: str, name: str) -> bool:
    """Go's ``filepath.Match`` (Linux). Raises :class:`BadPattern` for malformed patterns."""
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return "/" not in name  # a trailing * matches the rest unless it crosses a /
        rest, ok = _match_chunk(chunk, name)
        if ok and (not rest or pattern):
            name = rest
            continue
        if star:
            found: str | None = None
            for i, ch in enumerate(name):  # let the star eat up to (never past) the next /
                if ch == "/":
                    break
                rest, ok = _match_chunk(chunk, name[i + 1:])
                if ok and (pattern or not rest):  # the last chunk must end the name
                    found = rest
                    break
            if found is not None:
                name = found
                continue
        while pattern:  # before answering "no", check that the rest of the pattern is valid
            _, chunk, pattern = _scan_chunk(pattern)
            _match_chunk(chunk, "")
        return False
    return not name


def contains_wildcards(component: str) -> bool:
    """fsutil's containsWildcards: ``*``, ``?`` or ``[`` not escaped by a backslash."""
    i = 0
    while i < len(component):
        c = component[i]
        if c == "\\":
            i += 1
        elif c in "*?[":
            return True
        i += 1
    return False


def _glob_to_regex(pattern: str) -> str | None:
    """A Python regex equivalent to go_match(pattern, ·), or None when a class can match ``/``.

    Go matches each star-separated chunk at its earliest position and never backtracks into
    an earlier chunk. That gives the regex answer whenever only a literal ``/`` can match a
    ``/``: a chunk that also matches later can only have shifted over non-separators, which
    the following ``*`` absorbs. A class such as ``[^a]`` can match ``/``; such patterns fall
    back to the direct port. ``pattern`` must already be valid.
    """
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\":
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            chunk = pattern[i + 1:]
            negated = chunk.startswith("^")
            chunk = chunk[1:] if negated else chunk
            ranges: list[tuple[str, str]] = []
            while not (chunk[0] == "]" and ranges):
                lo, chunk = _get_esc(chunk)
                hi = lo
                if chunk[0] == "-":
                    hi, chunk = _get_esc(chunk[1:])
                ranges.append((lo, hi))
            if any(lo <= "/" <= hi for lo, hi in ranges) != negated:
                return None
            out.append("[" + ("^" if negated else "") + "".join(
                re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}" for lo, hi in ranges) + "]")
            i = len(pattern) - len(chunk)  # chunk[0] is the closing ]
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out) + r"\Z"


@functools.lru_cache(maxsize=4096)
def compile_glob(pattern: str) -> Callable[[str], bool]:
    """A matcher equivalent to ``go_match(pattern, name)``; a malformed pattern raises here, once."""
    go_match(pattern, "")  # validates the whole pattern, as filepath.Glob does
    regex = _glob_to_regex(pattern)
    if regex is None:
        return functools.partial(go_match, pattern)
    compiled = re.compile(regex)
    return lambda name: compiled.match(name) is not None


# --- RE2 (the part patternmatcher emits) to Python re --------------------------------------------

_Ranges = list[tuple[int, int]]
_PERL: dict[str, _Ranges] = {"d": [(48, 57)], "s": [(9, 10), (12, 13), (32, 32)],
                             "w": [(48, 57), (65, 90), (95, 95), (97, 122)]}
_POSIX: dict[str, _Ranges] = {
    "alnum": [(48, 57), (65, 90), (97, 122)], "alpha": [(65, 90), (97, 122)], "ascii": [(0, 127)],
    "blank": [(9, 9), (32, 32)], "cntrl": [(0, 31), (127, 127)], "digit": [(48, 57)], "graph": [(33, 126)],
    "lower": [(97, 122)], "print": [(32, 126)], "punct": [(33, 47), (58, 64), (91, 96), (123, 126)],
    "space": [(9, 13), (32, 32)], "upper": [(65, 90)], "word": [(48, 57), (65, 90), (95, 95), (97, 122)],
    "xdigit": [(48, 57), (65, 70), (97, 102)],
}
_CONTROL = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
_ASSERT = {"b": r"\b", "B": r"\B", "A": r"\A", "z": r"\Z"}


def _complement(ranges: _Ranges) -> _Ranges:
    out: _Ranges = []
    nxt = 0
    for lo, hi in sorted(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = max(nxt, hi + 1)
    if nxt <= _MAX_RUNE:
        out.append((nxt, _MAX_RUNE))
    return out


def _class_source(ranges: _Ranges) -> str:
    """A Python class for the code points in ``ranges`` (sorted, merged), negated when shorter."""
    if not ranges:
        return "(?!)"  # an empty class matches nothing
    negated = _complement(ranges)
    body, caret = (negated, "^") if len(negated) < len(ranges) else (ranges, "")

    def one(cp: int) -> str:
        return re.escape(chr(cp)) if 32 < cp < 127 else f"\\U{cp:08x}"

    return "[" + caret + "".join(one(lo) if lo == hi else f"{one(lo)}-{one(hi)}" for lo, hi in body) + "]"


def _escape(src: str, i: int) -> tuple[str, object, int]:
    """RE2's reading of ``\\`` + src[i]: ("char", code), ("class", ranges) or ("assert", letter)."""
    if i >= len(src):
        raise BadPattern("trailing backslash at end of expression")
    c = src[i]
    if c < "\x80" and not c.isalnum():
        return "char", ord(c), i + 1  # escaped punctuation is itself
    if c in _CONTROL:
        return "char", _CONTROL[c], i + 1
    if c.lower() in _PERL:
        ranges = _PERL[c.lower()]
        return "class", (_complement(ranges) if c.isupper() else ranges), i + 1
    if c in _ASSERT:
        return "assert", c, i + 1
    raise BadPattern(f"unsupported escape sequence \\{c} (Go regexp)")


def _parse_class(src: str, i: int) -> tuple[_Ranges, int]:
    """An RE2 class body from src[i] (just after ``[``) to its ``]``: (code point ranges, next index)."""
    n = len(src)
    negated = i < n and src[i] == "^"
    i += negated
    ranges: _Ranges = []
    first = True
    while True:
        if i >= n:
            raise BadPattern("missing closing ]")
        c = src[i]
        if c == "]" and not first:
            i += 1
            break
        first = False
        if src.startswith("[:", i) and (end := src.find(":]", i + 2)) != -1:
            name = src[i + 2:end]
            named = _POSIX.get(name.removeprefix("^"))
            if named is None:
                raise BadPattern(f"invalid character class range [:{name}:]")
            ranges += _complement(named) if name.startswith("^") else named
            i = end + 2
            continue
        if c == "\\":
            kind, value, i = _escape(src, i + 1)
            if kind == "class":
                ranges += value  # type: ignore[arg-type]
                continue
            if kind == "assert":
                raise BadPattern(f"invalid escape sequence \\{value} in a class")
            lo = int(value)  # type: ignore[call-overload]
        else:
            lo, i = ord(c), i + 1
        hi = lo
        if i + 1 < n and src[i] == "-" and src[i + 1] != "]":  # [a-] means a or -
            if src[i + 1] == "\\":
                kind, value, i = _escape(src, i + 2)
                if kind != "char":
                    raise BadPattern("invalid character class range")
                hi = int(value)  # type: ignore[call-overload]
            else:
                hi, i = ord(src[i + 1]), i + 2
            if hi < lo:
                raise BadPattern(f"invalid character class range {chr(lo)}-{chr(hi)}")
        ranges.append((lo, hi))
    merged: _Ranges = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return (_complement(merged) if negated else merged), i


def re2_to_python(src: str) -> str:
    """Python ``re`` source (to compile with ``re.ASCII``) meaning what RE2 reads in ``src``.

    Only the constructs patternmatcher emits appear unescaped outside classes: ``^``,
    ``$``, ``.``, ``*``, ``?`` and the ``( | )`` of ``(.*/)?``. Raises BadPattern where Go's
    ``regexp.Compile`` would fail (or for escapes this translation does not model).
    """
    out: list[str] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == "\\":
            kind, value, i = _escape(src, i + 1)
            if kind == "char":
                out.append(re.escape(chr(value)))  # type: ignore[arg-type]
            elif kind == "class":
                out.append(_class_source(value))  # type: ignore[arg-type]
            else:
                out.append(_ASSERT[value])  # type: ignore[index]
            continue
        if c == "[":
            ranges, i = _parse_class(src, i + 1)
            out.append(_class_source(ranges))
            continue
        if c == "$":
            out.append(r"\Z")  # without (?m), RE2's $ is end of text: Python's $ also matches before a final \n
        elif c in "^.*?()|":
            out.append(c)
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)
