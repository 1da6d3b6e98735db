"""Static expansion of words with known variables (ARG/ENV values, earlier assignments).

A linter must never guess: anything that depends on an unknown variable, a command
substitution or arithmetic makes the result None. By default a variable missing from
``env`` is *unknown*, not unset (a base image's ENV is invisible to us); callers that know
the complete scope pass ``assume_unset=True``.

Pathname expansion (globs) and tilde expansion are not performed: ``/var/lib/apt/lists/*``
stays as written, which is what rules want to match on (see ``Word.glob``).
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from dockopt.shell.model import LIT, PARAM, Command, Part, Word

_IFS = " \t\n"
_IFS_RUN = re.compile(r"[ \t\n]+")
_MAX_PATTERN_SUBJECT = 4096
_OPERAND_OPS = frozenset({":-", ":=", "-", "=", ":+", "+"})


def expand_word(word: Word, env: Mapping[str, str], *, assume_unset: bool = False) -> str | None:
    """The word's value with ``$X``, ``${X}``, ``${X:-d}``, ``${X-d}``, ``${X:+a}``,
    ``${X+a}``, ``${#X}``, ``${X%p}``, ``${X#p}``, ``${X/p/r}``, ``${X:o:l}``, ``${X^^}``
    resolved; None if anything unknown remains. No field splitting (see ``expand_fields``)."""
    if word.value is not None:
        return word.value
    return _expand_parts(word.parts, env, assume_unset)


def expand_fields(word: Word, env: Mapping[str, str], *,
                  assume_unset: bool = False) -> list[str] | None:
    """The fields the word becomes: unquoted expansions are split on blanks, so
    ``apt-get install $PACKAGES`` yields one argument per package; None if unknown."""
    if word.value is not None:
        return [word.value]
    segments: list[tuple[str, bool]] = []
    for part in word.parts:
        if not _segments(part, env, assume_unset, False, segments):
            return None
    fields: list[str] = []
    current: list[str] = []
    started = False  # the current field exists (possibly empty, from quotes)
    for value, split in segments:
        if not split:
            current.append(value)
            started = True
            continue
        if not value.strip(_IFS):
            if value and started:  # blanks only: they separate fields
                fields.append("".join(current))
                current, started = [], False
            continue
        if value[0] in _IFS and started:
            fields.append("".join(current))
            current, started = [], False
        for index, piece in enumerate(_IFS_RUN.split(value.strip(_IFS))):
            if index:
                fields.append("".join(current))
                current = []
            current.append(piece)
            started = True
        if value[-1] in _IFS:
            fields.append("".join(current))
            current, started = [], False
    if started:
        fields.append("".join(current))
    return fields


def _segments(part: Part, env: Mapping[str, str], assume_unset: bool, quoted: bool,
              out: list[tuple[str, bool]]) -> bool:
    """Append (text, subject to field splitting) pieces of ``part``; False if unknown.

    The operand of ``${X:-word}`` keeps its own quoting: ``${E:-"a b"}`` is one field.
    """
    quoted = quoted or part.quoted
    if part.kind == PARAM and part.op in _OPERAND_OPS:
        value = env.get(part.text)
        if value is None and not assume_unset:
            return False
        op = part.op
        if op in (":-", ":="):
            use = not value
        elif op in ("-", "="):
            use = value is None
        elif op == ":+":
            use, value = bool(value), ""
        else:  # "+"
            use, value = value is not None, ""
        if use:
            return all(_segments(sub, env, assume_unset, quoted, out) for sub in part.arg)
        out.append((value or "", not quoted))
        return True
    text = _expand_part(part, env, assume_unset)
    if text is None:
        return False
    out.append((text, not quoted))
    return True


def static_args(command: Command, env: Mapping[str, str], *,
                assume_unset: bool = False) -> list[str | None]:
    """``command.args`` expanded one by one (aligned with ``args``, no field splitting)."""
    return [expand_word(arg, env, assume_unset=assume_unset) for arg in command.args]


def command_argv(command: Command, env: Mapping[str, str], *,
                 assume_unset: bool = False) -> list[str | None]:
    """Name and arguments after field splitting; each unknown word contributes one None."""
    argv: list[str | None] = []
    for word in command.words:
        fields = expand_fields(word, env, assume_unset=assume_unset)
        if fields is None:
            argv.append(None)
        else:
            argv.extend(fields)
    return argv


def _expand_parts(parts: tuple[Part, ...], env: Mapping[str, str],
                  assume_unset: bool) -> str | None:
    out: list[str] = []
    for part in parts:
        value = _expand_part(part, env, assume_unset)
        if value is None:
            return None
        out.append(value)
    return "".join(out)


def _expand_part(part: Part, env: Mapping[str, str], assume_unset: bool) -> str | None:
    if part.kind == LIT:
        return part.text
    if part.kind != PARAM:
        return None
    value = env.get(part.text)
    is_set = value is not None
    if not is_set and not assume_unset:
        return None
    op = part.op
    if op == "":
        return value if is_set else ""
    if op in (":-", ":="):
        return value if value else _expand_parts(part.arg, env, assume_unset)
    if op in ("-", "="):
        return value if is_set else _expand_parts(part.arg, env, assume_unset)
    if op == ":+":
        return _expand_parts(part.arg, env, assume_unset) if value else ""
    if op == "+":
        return _expand_parts(part.arg, env, assume_unset) if is_set else ""
    if op == ":?":
        return value if value else None  # the shell would abort
    if op == "?":
        return value
    text = value or ""
    if op == "len":
        return str(len(text))
    if op in ("^^", ",,"):
        return text.upper() if op == "^^" else text.lower()
    if op in ("^", ","):
        return (text[:1].upper() if op == "^" else text[:1].lower()) + text[1:]
    if op == ":":
        return _substring(text, part.arg)
    if len(text) > _MAX_PATTERN_SUBJECT:
        return None  # the matching below is quadratic; real ARG/ENV values are short
    pattern = _pattern(part.arg, env, assume_unset)
    if pattern is None:
        return None
    if op in ("#", "##"):
        ends = range(len(text) + 1) if op == "#" else range(len(text), -1, -1)
        for end in ends:
            if pattern.fullmatch(text, 0, end):
                return text[end:]
        return text
    if op in ("%", "%%"):
        starts = range(len(text), -1, -1) if op == "%" else range(len(text) + 1)
        for start in starts:
            if pattern.fullmatch(text, start):
                return text[:start]
        return text
    replacement = _expand_parts(part.arg2, env, assume_unset)
    if replacement is None:
        return None
    return _substitute(text, op, pattern, replacement)


def _substitute(text: str, op: str, pattern: re.Pattern[str], replacement: str) -> str:
    """``${X/p/r}`` family: the longest match at the leftmost position, like bash."""
    if op == "/#":
        for end in range(len(text), -1, -1):
            if pattern.fullmatch(text, 0, end):
                return replacement + text[end:]
        return text
    if op == "/%":
        for start in range(len(text) + 1):
            if pattern.fullmatch(text, start):
                return text[:start] + replacement
        return text
    out: list[str] = []
    pos = 0
    while pos <= len(text):
        match_end = next((end for end in range(len(text), pos, -1)
                          if pattern.fullmatch(text, pos, end)), None)
        if match_end is None:
            if pos < len(text):
                out.append(text[pos])
            pos += 1
            continue
        out.append(replacement)
        pos = match_end
        if op == "/":
            out.append(text[pos:])
            return "".join(out)
    return "".join(out)


def _substring(text: str, arg: tuple[Part, ...]) -> str | None:
    raw = arg[0].text if arg else ""
    offset_text, _, length_text = raw.partition(":")
    try:
        offset = int(offset_text.strip() or "0")
        length = int(length_text.strip()) if length_text.strip() else None
    except ValueError:
        return None  # arithmetic or variables in the offset: not evaluated
    if offset < 0:
        offset = max(0, len(text) + offset)
    if length is None:
        return text[offset:]
    end = offset + length if length >= 0 else len(text) + length
    return text[offset:end] if end >= offset else None


def _pattern(parts: tuple[Part, ...], env: Mapping[str, str],
             assume_unset: bool) -> re.Pattern[str] | None:
    """A shell pattern as a regex: quoted text literal, unquoted ``* ? [...]`` globs."""
    regex: list[str] = []
    for part in parts:
        value = _expand_part(part, env, assume_unset)
        if value is None:
            return None
        regex.append(re.escape(value) if part.quoted else _glob_to_regex(value))
    try:
        return re.compile("".join(regex), re.S)
    except re.error:
        return None


def _glob_to_regex(glob: str) -> str:
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        char = glob[i]
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(glob[i]))
        elif char == "[":
            close = glob.find("]", i + 2 if glob[i + 1:i + 2] in ("!", "^") else i + 1)
            if close < 0:
                out.append(re.escape(char))
            else:
                body = glob[i + 1:close]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = close
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)
