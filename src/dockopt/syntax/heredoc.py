"""Heredoc detection on an instruction's logical line, as BuildKit does it.

BuildKit splits the whole logical line into shell words (its own lexer, with quotes and
escapes kept raw and unset variables left alone), and every word matching
``^(\\d*)<<(-?)\\s*([^<]*)$`` opens a heredoc; a bare ``<<`` or ``<<-`` word takes the next
word as its delimiter (``RUN <<  EOF``). The delimiter is the word after quote removal;
if removing quotes changed it, the body is not expanded.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from dockopt.syntax.words import GO_SPACE

# [0-9] and RE2's ASCII \s: Python's \d and \s would also accept non-ASCII digits and blanks.
RE_HEREDOC = re.compile(r"^([0-9]*)<<(-?)[\t\n\f\r ]*([^<]*)$", re.DOTALL)
RE_BARE_OPERATOR = re.compile(r"^[0-9]*<<-?$")
HEREDOC_INSTRUCTIONS = frozenset({"run", "copy", "add"})


@dataclass(frozen=True, slots=True)
class HeredocHeader:
    name: str
    chomp: bool
    expand: bool
    fd: int


class HeredocError(ValueError):
    pass


def _shell_words(line: str, raw: bool) -> list[str] | None:
    """Whitespace-separated shell words, honouring quotes and backslash escapes.

    With ``raw`` the quotes and escape characters stay in the words (BuildKit's RawQuotes /
    RawEscapes). Returns None for an unterminated quote (BuildKit then finds no heredocs).
    """
    words: list[str] = []
    buf: list[str] = []
    in_word = False
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if ch in GO_SPACE:
            if in_word:
                words.append("".join(buf))
                buf, in_word = [], False
            i += 1
            continue
        in_word = True
        if ch == "\\":
            if i + 1 < n:
                if raw:
                    buf.append(ch)
                buf.append(line[i + 1])
                i += 2
            else:
                i += 1
            continue
        if ch == "'":
            end = line.find("'", i + 1)
            if end == -1:
                return None
            buf.append(line[i : end + 1] if raw else line[i + 1 : end])
            i = end + 1
            continue
        if ch == '"':
            j = i + 1
            part: list[str] = ['"'] if raw else []
            while j < n and line[j] != '"':
                if line[j] == "\\" and j + 1 < n and line[j + 1] in '"\\$`':
                    if raw:
                        part.append("\\")
                    part.append(line[j + 1])
                    j += 2
                    continue
                part.append(line[j])
                j += 1
            if j >= n:
                return None
            if raw:
                part.append('"')
            buf.append("".join(part))
            i = j + 1
            continue
        buf.append(ch)
        i += 1
    if in_word:
        words.append("".join(buf))
    return words


def heredoc_from_word(word: str) -> HeredocHeader | None:
    m = RE_HEREDOC.match(word)
    if not m:
        return None
    fd_text, dash, rest = m.groups()
    if not rest:
        return None
    plain = _shell_words(rest, raw=False)
    if plain is None:
        raise HeredocError(f"unterminated quote in heredoc delimiter {rest!r}")
    if len(plain) != 1:
        return None
    raw_words = _shell_words(rest, raw=True) or []
    if len(raw_words) != 1:
        raise HeredocError(f"internal lexing of heredoc produced inconsistent results: {rest}")
    name = plain[0]
    quotes_plain = name.count("'") + name.count('"')
    quotes_raw = raw_words[0].count("'") + raw_words[0].count('"')
    return HeredocHeader(name=name, chomp=dash == "-", expand=quotes_plain == quotes_raw, fd=int(fd_text or 0))


def heredocs_from_line(line: str) -> list[HeredocHeader]:
    if "<<" not in line:
        return []  # the common case; the word lexer is the parser's most expensive step
    words = _shell_words(line, raw=True)
    if not words:
        return []
    found = []
    i = 0
    while i < len(words):
        word = words[i]
        if RE_BARE_OPERATOR.match(word) and i + 1 < len(words):
            word = f"{word} {words[i + 1]}"
            i += 1
        header = heredoc_from_word(word)
        if header is not None:
            found.append(header)
        i += 1
    return found
