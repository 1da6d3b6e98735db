"""BuildKit's word-level helpers, re-implemented with position tracking.

Each function follows the corresponding Go function of moby/buildkit's
``frontend/dockerfile/parser`` (``split_command.go``, ``line_parsers.go``) step by step, so
that dockopt splits flags and arguments exactly as ``docker build`` does. Unlike the Go
code, every word also carries its (start, end) offsets in the logical line.
"""
from __future__ import annotations

import re

# Go's unicode.IsSpace.
GO_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(c) for c in range(0x2000, 0x200B)
)
# BuildKit's reWhitespace / tokenWhitespace: `[\t\v\f\r ]+`.
RE_WHITESPACE = re.compile(r"[\t\v\f\r ]+")
RE_NOT_WHITESPACE = re.compile(r"[^\t\v\f\r ]+")

Word = tuple[str, int, int]  # value, logical start, logical end


def go_trim_space(text: str) -> tuple[str, int]:
    """strings.TrimSpace; also returns how many characters were cut on the left."""
    start, end = 0, len(text)
    while start < end and text[start] in GO_SPACE:
        start += 1
    while end > start and text[end - 1] in GO_SPACE:
        end -= 1
    return text[start:end], start


def go_trim_left_space(text: str) -> str:
    i = 0
    while i < len(text) and text[i] in GO_SPACE:
        i += 1
    return text[i:]


def extract_builder_flags(line: str) -> tuple[int, list[Word]]:
    """``extractBuilderFlags``: leading ``--flag`` words; returns (offset of the rest, flags).

    The escape character here is always a backslash, whatever ``# escape=`` says (as in
    BuildKit). A lone ``--`` ends the flags.
    """
    words: list[Word] = []
    in_spaces, in_word, in_quote = 0, 1, 2
    phase = in_spaces
    word: list[str] = []
    word_start = 0
    quote = ""
    blank_ok = False
    n = len(line)
    pos = 0
    while pos <= n:
        ch = line[pos] if pos != n else ""
        if phase == in_spaces:
            if pos == n:
                break
            if ch in GO_SPACE:
                pos += 1
                continue
            if ch != "-" or pos + 1 == n or line[pos + 1] != "-":
                return pos, words
            phase = in_word
            word_start = pos
        if (phase == in_word or phase == in_quote) and pos == n:
            text = "".join(word)
            if text != "--" and (blank_ok or text):
                words.append((text, word_start, pos))
            break
        if phase == in_word:
            if ch in GO_SPACE:
                phase = in_spaces
                text = "".join(word)
                if text == "--":
                    return pos, words
                if blank_ok or text:
                    words.append((text, word_start, pos))
                word = []
                blank_ok = False
                pos += 1
                continue
            if ch in "'\"":
                quote = ch
                blank_ok = True
                phase = in_quote
                pos += 1
                continue
            if ch == "\\":
                if pos + 1 == n:
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            word.append(ch)
            pos += 1
            continue
        if phase == in_quote:
            if ch == quote:
                phase = in_word
                pos += 1
                continue
            if ch == "\\":
                if pos + 1 == n:
                    phase = in_word
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            word.append(ch)
        pos += 1
    return n, words


def parse_words(rest: str, escape: str) -> list[Word]:
    """``parseWords``: space-separated words; quotes and escapes are kept in the values."""
    words: list[Word] = []
    in_spaces, in_word, in_quote = 0, 1, 2
    phase = in_spaces
    quote = ""
    blank_ok = False
    buf: list[str] = []
    start = 0
    n = len(rest)
    pos = 0
    while pos <= n:
        ch = rest[pos] if pos != n else ""
        if phase == in_spaces:
            if pos == n:
                break
            if ch in GO_SPACE:
                pos += 1
                continue
            phase = in_word
            start = pos
        if (phase == in_word or phase == in_quote) and pos == n:
            if blank_ok or buf:
                words.append(("".join(buf), start, pos))
            break
        if phase == in_word:
            if ch in GO_SPACE:
                phase = in_spaces
                if blank_ok or buf:
                    words.append(("".join(buf), start, pos))
                buf = []
                blank_ok = False
                pos += 1
                continue
            if ch in "'\"":
                quote = ch
                blank_ok = True
                phase = in_quote
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue  # an escape token at the end of the line is skipped
                buf.append(ch)
                pos += 1
                ch = rest[pos]
            buf.append(ch)
            pos += 1
            continue
        if phase == in_quote:
            if ch == quote:
                phase = in_word
            if ch == escape and quote != "'":
                if pos + 1 == n:
                    phase = in_word
                    pos += 1
                    continue
                pos += 1
                buf.append(ch)
                ch = rest[pos]
            buf.append(ch)
        pos += 1
    return words


def split_whitespace(rest: str) -> list[Word]:
    """``parseStringsWhitespaceDelimited`` on an already trimmed string."""
    if rest == "":
        return []
    # regexp.Split keeps empty leading/trailing pieces; ``rest`` is TrimSpace'd by
    # splitCommand so only Go-space-but-not-separator characters could produce them.
    pieces: list[Word] = []
    pos = 0
    for m in RE_WHITESPACE.finditer(rest):
        pieces.append((rest[pos : m.start()], pos, m.start()))
        pos = m.end()
    pieces.append((rest[pos:], pos, len(rest)))
    return pieces


class NotStringArray(ValueError):
    """A JSON array with a non-string element: BuildKit refuses the instruction."""


def _reject_constant(name: str) -> object:
    raise ValueError(f"invalid JSON constant {name}")


def parse_json_array(rest: str) -> list[str] | None:
    """``parseJSON``: the exec-form array, or None when ``rest`` is not a JSON array.

    Raises NotStringArray for arrays of non-strings, as BuildKit does.
    """
    trimmed = go_trim_left_space(rest)
    if not trimmed.startswith("["):
        return None
    import json  # lazily: files without an exec-form instruction never need it (start-up time)

    try:
        value = json.loads(trimmed, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, list):
        return None
    for item in value:
        if not isinstance(item, str):
            raise NotStringArray("when using JSON array syntax, arrays must be comprised of strings only")
    return value
