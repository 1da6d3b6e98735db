"""The lossless syntax tree of a Dockerfile.

A ``Document`` is a sequence of nodes that tile the source text exactly: ``Trivia`` (blank
lines, comments, parser directives, a byte-order mark) and ``Instruction`` nodes, each
covering whole physical lines including their line endings. ``str(document)`` is the
concatenation of the nodes' texts and therefore equals the parsed source, for every input.

Positions are character offsets into the decoded source (see ``dockopt.text``).
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Literal

from dockopt.text import LineIndex, physical_lines

TriviaKind = Literal["bom", "blank", "comment", "directive", "orphan"]


@dataclass(frozen=True, slots=True)
class SyntaxIssue:
    """A parse error (the build would fail) or a warning, at a 1-based line."""

    message: str
    line: int
    end_line: int
    column: int = 1


@dataclass(frozen=True, slots=True)
class Directive:
    """A parser directive such as ``# syntax=docker/dockerfile:1`` or ``# escape=`"""

    name: str  # lower-cased: syntax | escape | check
    value: str
    line: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Trivia:
    kind: TriviaKind
    start: int
    end: int
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Flag:
    """An instruction flag like ``--mount=type=cache,target=/root/.cache``.

    ``text`` is the flag as BuildKit sees it after unquoting (``--name=value`` or ``--name``).
    """

    name: str
    value: str | None
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Argument:
    """One argument word as BuildKit's line parser produced it, with its source range.

    For JSON (exec form) arguments the range is the whole JSON array.
    """

    value: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Heredoc:
    """A here-document attached to RUN/COPY/ADD (``<<EOF`` ... ``EOF``)."""

    name: str
    chomp: bool  # <<- : leading tabs are stripped from the body
    expand: bool  # False when the delimiter was quoted: no variable expansion
    fd: int  # file descriptor prefix (``2<<EOF``), 0 when absent
    content: str  # raw body including line endings, excluding the terminator line
    body_start: int  # source offset of the first body character
    body_end: int  # source offset just past the body (start of the terminator line)
    terminator_start: int
    terminator_end: int  # end of the terminator's content (before its newline)


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of the logical line that is a contiguous slice of the source."""

    logical_start: int
    source_start: int
    length: int


@dataclass(slots=True)
class Instruction:
    """One Dockerfile instruction with everything BuildKit's parser knows about it.

    ``keyword`` is the instruction as written (``run``), ``name`` is upper-cased (``RUN``).
    ``logical`` is the instruction's logical line: continuation lines joined, comment and
    empty lines inside the continuation dropped, escape characters at line ends removed;
    exactly what BuildKit parses. ``segments`` map logical offsets back to the source.
    ``arguments`` are the values BuildKit's line parser produces (what its AST dump shows).
    """

    keyword: str
    name: str
    logical: str
    segments: tuple[Segment, ...]
    flags: tuple[Flag, ...]
    args_text: str  # the argument text after flags (logical, trimmed)
    args_start: int  # logical offset of args_text
    arguments: tuple[Argument, ...]
    is_json: bool
    heredocs: tuple[Heredoc, ...]
    onbuild: Instruction | None  # the triggered instruction of ONBUILD
    known: bool  # keyword is a Dockerfile instruction
    start: int  # source offset of the keyword
    end: int  # source offset just past the last content character (before the final newline)
    line_start: int  # source offset of the start of the first physical line
    line_end: int  # source offset just past the final line's line ending
    start_line: int  # 1-based
    end_line: int  # 1-based, inclusive (the heredoc terminator line, if any)
    text: str  # source[line_start:line_end]
    comments: tuple[str, ...] = ()  # comment lines directly above (without '#')
    _logical_starts: list[int] = field(default_factory=list, repr=False)

    def __str__(self) -> str:
        return self.text

    def to_source(self, logical_offset: int) -> int:
        """Source offset of a logical-line offset (clamped into the nearest segment)."""
        if not self.segments:
            return self.start
        if not self._logical_starts:
            self._logical_starts = [s.logical_start for s in self.segments]
        i = bisect.bisect_right(self._logical_starts, logical_offset) - 1
        seg = self.segments[max(i, 0)]
        delta = logical_offset - seg.logical_start
        return seg.source_start + max(0, min(delta, seg.length))

    def source_range(self, logical_start: int, logical_end: int) -> tuple[int, int]:
        """Source range of a logical range; the end maps to just past its last character."""
        if logical_end <= logical_start:
            s = self.to_source(logical_start)
            return s, s
        return self.to_source(logical_start), self.to_source(logical_end - 1) + 1

    def flag(self, name: str) -> Flag | None:
        for f in self.flags:
            if f.name == name:
                return f
        return None

    def flag_values(self, name: str) -> list[str]:
        return [f.value or "" for f in self.flags if f.name == name]

    @property
    def values(self) -> list[str]:
        return [a.value for a in self.arguments]

    @property
    def inner_comment_lines(self) -> list[str]:
        """The lines after the first that start with ``#`` (after blanks), stripped: comment
        lines inside the continuation, which BuildKit skips, and ``#`` lines of heredoc bodies.
        A fix that drops or rewrites the instruction's text would lose them."""
        return [line.strip(" \t") for line in physical_lines(self.text)[1:] if line.lstrip(" \t").startswith("#")]

    @property
    def is_continued(self) -> bool:
        return self.end_line > self.start_line


@dataclass(slots=True)
class Document:
    """A parsed Dockerfile. ``str(doc)`` is exactly the parsed source."""

    nodes: list[Instruction | Trivia]
    instructions: list[Instruction]
    directives: list[Directive]
    escape: str
    bom: bool
    errors: list[SyntaxIssue]
    warnings: list[SyntaxIssue]
    _source: str = field(repr=False, default="")
    _index: LineIndex | None = field(repr=False, default=None)

    def __str__(self) -> str:
        return "".join(node.text for node in self.nodes)

    @property
    def source(self) -> str:
        return self._source

    @property
    def index(self) -> LineIndex:
        if self._index is None:
            self._index = LineIndex(self._source)
        return self._index

    @property
    def ok(self) -> bool:
        return not self.errors

    def directive(self, name: str) -> Directive | None:
        for d in self.directives:
            if d.name == name:
                return d
        return None

    def instruction_at_line(self, line: int) -> Instruction | None:
        for ins in self.instructions:
            if ins.start_line <= line <= ins.end_line:
                return ins
        return None
