"""Source rewrites that steer tree-sitter-bash around constructs it cannot parse.

Each rewrite keeps bash's meaning and comes with a map back to the original offsets, so
the rest of the package never sees the rewritten text:

* ``cmd && `# a comment` \\`` -- a comment in backticks, the usual way to annotate
  continuation lines in a Dockerfile RUN. bash ends it at the closing backtick (it expands
  to nothing); tree-sitter lets the ``#`` swallow the rest of the line, i.e. the rest of
  the RUN. Blanked with spaces (same length, offsets unchanged).
* ``<<EOF python3 -`` -- a heredoc redirect before the command name (what BuildKit passes
  for ``RUN <<EOF python3 -``). tree-sitter reports an ERROR and loses the heredoc. The
  redirect and the name swap places, ``python3 <<EOF -`` (same length, same meaning: the
  arguments stay where they are, and tree-sitter reads words after a heredoc start as
  arguments), with a map back to the original positions.
"""
from __future__ import annotations

import re

_BACKTICK_HASH = re.compile(r"`[ \t]*#")
_LEADING_HEREDOC = re.compile(
    r"(?m)^([ \t]*)(\d*<<-?[ \t]*(?:'[^'\n]*'|\"[^\"\n]*\"|[^\s;&|<>()'\"]+))"
    r"([ \t]+)([A-Za-z0-9_./+-][^\s|;()`&<>'\"$\\=]*)(?=[ \t]|$)"
)


def blank_backtick_comments(text: str) -> str:
    """Replace `` `# ...` `` (outside quotes) by spaces; ``text`` itself if there is none."""
    if "`" not in text or _BACKTICK_HASH.search(text) is None:
        return text
    chars: list[str] | None = None
    quote = ""
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\" and quote != "'":
            i += 2
            continue
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "`":
            close = text.find("`", i + 1)
            if close < 0:
                break
            inner = text[i + 1:close]
            if inner.lstrip(" \t").startswith("#") and "\n" not in inner:
                if chars is None:
                    chars = list(text)
                chars[i:close + 1] = " " * (close + 1 - i)
            i = close + 1
            continue
        i += 1
    return text if chars is None else "".join(chars)


def rotate_leading_heredocs(text: str) -> tuple[str, list[int] | None]:
    """``<<EOF cmd args`` lines become ``cmd <<EOF args``.

    Returns the text to parse and, when anything moved, ``origin``: for every character
    offset of the new text (and its end), the offset in ``text`` it stands for. Offsets
    that end a token are mapped to the end of the same token in the original, which is
    what spans need: the end of ``cmd`` maps to the end of ``cmd``, the end of the redirect
    to the end of ``<<EOF``.
    """
    if "<<" not in text:
        return text, None
    matches = list(_LEADING_HEREDOC.finditer(text))
    if not matches:
        return text, None
    origin = list(range(len(text) + 1))
    pieces: list[str] = []
    pos = 0
    for m in matches:
        redirect_start, redirect_end = m.span(2)
        command_start, command_end = m.span(4)
        gap = m.group(3)
        pieces.append(text[pos:redirect_start])
        new_start = redirect_start
        pieces.append(m.group(4) + gap + m.group(2))
        command_len = command_end - command_start
        for k in range(command_len):
            origin[new_start + k] = command_start + k
        origin[new_start + command_len] = command_end
        for k in range(1, len(gap)):
            origin[new_start + command_len + k] = redirect_end + k
        redirect_at = new_start + command_len + len(gap)
        for k in range(redirect_end - redirect_start):
            origin[redirect_at + k] = redirect_start + k
        origin[redirect_at + redirect_end - redirect_start] = redirect_end
        pos = command_end
    pieces.append(text[pos:])
    rotated = "".join(pieces)
    return rotated, origin
