"""Offsets, lines and columns of a decoded Dockerfile text.

Every position in dockopt is a character offset into the decoded text (``str``), never a
byte offset. Lines and columns shown to users are 1-based; columns count characters;
an end column is exclusive (the column just after the last character), as in SARIF.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Location:
    line: int
    column: int


def physical_lines(text: str, keepends: bool = False) -> list[str]:
    """The lines of ``text`` as BuildKit sees them: only ``\n`` ends a line.

    Not ``str.splitlines``, which also breaks at ``\x0b``, ``\x0c``, ``\x1c``-``\x1e``,
    ``\x85``, ``\u2028`` and ``\u2029``: characters a Dockerfile may hold inside one line
    (a fix once cut a comment in two at a ``\x85``). Without ``keepends`` a line's ``\r``
    before the ``\n`` is dropped too.
    """
    pieces = text.split("\n")
    if keepends:
        lines = [piece + "\n" for piece in pieces[:-1]]
        return lines + [pieces[-1]] if pieces[-1] else lines
    if pieces[-1] == "":
        pieces.pop()
    return [piece[:-1] if piece.endswith("\r") else piece for piece in pieces]


class LineIndex:
    """Maps character offsets to 1-based (line, column) and back.

    Only ``\\n`` ends a line (as in BuildKit); a ``\\r`` before it belongs to the line.
    """

    __slots__ = ("text", "_starts")

    def __init__(self, text: str) -> None:
        self.text = text
        starts = [0]
        find = text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        self._starts = starts

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def location(self, offset: int) -> Location:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._starts, offset) - 1
        return Location(line + 1, offset - self._starts[line] + 1)

    def line_start(self, line: int) -> int:
        """Offset of the first character of 1-based ``line``."""
        return self._starts[line - 1]

    def line_end(self, line: int) -> int:
        """Offset just past the content of ``line``, before its ``\\r\\n`` or ``\\n``."""
        end = self._starts[line] - 1 if line < len(self._starts) else len(self.text)
        if end > self._starts[line - 1] and self.text[end - 1 : end] == "\r" and line < len(self._starts):
            end -= 1
        return end

    def line_text(self, line: int) -> str:
        return self.text[self.line_start(line) : self.line_end(line)]

    def offset(self, line: int, column: int) -> int:
        return self._starts[line - 1] + column - 1


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: for "did you mean" hints between short names (stage names,
    flag and option values), where the quadratic table is a few dozen cells."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
