"""LSP positions <-> dockopt character offsets.

dockopt counts characters (Python ``str`` indices) and ends lines at ``\\n`` only, as
BuildKit does. LSP counts in the negotiated position encoding (UTF-16 code units unless the
client offers another: a character outside the Basic Multilingual Plane, an emoji, is two
units) and ends lines at ``\\n``, ``\\r\\n`` or a lone ``\\r``. Every position the server sends
or reads goes through :class:`PositionMap`, built on the same text the client holds, so
both disagreements are settled in one place.
"""
from __future__ import annotations

import bisect
import re

from lsprotocol import types

_LINE_BREAK = re.compile(r"\r\n|\n|\r")


def encoding_name(encoding: str | types.PositionEncodingKind | None) -> str:
    """``"utf-16"``, ``"utf-8"`` or ``"utf-32"`` (UTF-16 when unknown, as LSP requires)."""
    value = getattr(encoding, "value", encoding)
    return value if value in ("utf-8", "utf-32") else "utf-16"


def _units(char: str, encoding: str) -> int:
    code = ord(char)
    if encoding == "utf-8":
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    if encoding == "utf-32":
        return 1
    return 2 if code >= 0x10000 else 1


class PositionMap:
    """Converts between character offsets into ``text`` and LSP positions."""

    __slots__ = ("text", "encoding", "_starts", "_ascii")

    def __init__(self, text: str, encoding: str = types.PositionEncodingKind.Utf16) -> None:
        self.text = text
        self.encoding = encoding_name(encoding)
        self._starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
        # Most Dockerfiles are ASCII: then a column is a character count in every encoding.
        self._ascii = text.isascii()

    def _line_content_end(self, line: int) -> int:
        """Offset just past ``line``'s content (before its line break)."""
        if line + 1 < len(self._starts):
            end = self._starts[line + 1]
            return end - 2 if self.text.startswith("\r\n", end - 2) else end - 1
        return len(self.text)

    def position(self, offset: int) -> types.Position:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        # An offset between a \r and its \n belongs to the end of the line's content.
        offset = min(offset, self._line_content_end(line))
        if self._ascii:
            return types.Position(line=line, character=offset - start)
        units = sum(_units(c, self.encoding) for c in self.text[start:offset])
        return types.Position(line=line, character=units)

    def offset(self, position: types.Position) -> int:
        """The character offset of ``position``; positions past a line's end clamp to it (as
        the LSP specification asks), lines past the end clamp to the end of the text."""
        if position.line < 0:
            return 0
        if position.line >= len(self._starts):
            return len(self.text)
        start = self._starts[position.line]
        end = self._line_content_end(position.line)
        if self._ascii:
            return min(start + max(position.character, 0), end)
        units = 0
        offset = start
        while offset < end and units < position.character:
            units += _units(self.text[offset], self.encoding)
            offset += 1
        return offset

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(start=self.position(start), end=self.position(end))

    @property
    def end(self) -> types.Position:
        return self.position(len(self.text))
