"""Turning tree-sitter word nodes into ``Word``/``Part`` values (quote removal, escapes).

tree-sitter-bash gives a syntax tree, not shell semantics: it leaves escapes in ``word``
nodes, splits ``foo\\<newline>bar`` into two words, and describes ``${X:-a b}`` with
whatever tokens its lexer happened to produce. This module re-derives the shell meaning
from the source text, using the tree only to locate quotes and expansions. Text between
known child nodes is always taken from the source ("gaps"), so a lexer oddity can at worst
mis-classify characters, never drop them.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from dockopt.shell.model import ARITH, CMDSUB, LIT, OTHER, PARAM, Part, Redirect, Word

if TYPE_CHECKING:
    from tree_sitter import Node

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!-]")
# Longest operators first: "${X:-a}" must not be read as the substring operator ":".
_PARAM_OPS = (":-", ":=", ":+", ":?", "-", "=", "+", "?", "##", "#", "%%", "%", "//", "/#",
              "/%", "/", "^^", "^", ",,", ",", ":")
_DEFAULT_OPS = frozenset({":-", ":=", ":+", ":?", "-", "=", "+", "?"})
_DQ_ESCAPE = re.compile(r'\\([$`"\\\n])')
_HEREDOC_ESCAPE = re.compile(r"\\([$`\\\n])")
_ANSI_C = re.compile(r"\\(?:([abeEfnrtv\\'\"?])|([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|"
                     r"u([0-9A-Fa-f]{1,4})|U([0-9A-Fa-f]{1,8})|c(.))", re.S)
_ANSI_SIMPLE = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n",
                "r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}
# Node types whose whole source is literal text (no quotes, no escapes worth handling).
_PLAIN = frozenset({"number", "extglob_pattern", "regex", "test_operator", "variable_name",
                    "special_variable_name", "file_descriptor", "heredoc_start"})
_SUBSTITUTIONS = frozenset({"command_substitution", "process_substitution"})
_EXPANSIONS = frozenset({"simple_expansion", "expansion", "command_substitution",
                         "arithmetic_expansion", "process_substitution"})


class Ctx(NamedTuple):
    """What the walker knows about the surroundings of the node it is looking at."""

    in_subshell: bool = False
    # Which shell process runs it: one id per ( ), $( ) and pipeline member entered, outermost
    # first; () is the script's own shell. Siblings differ, so `( cd /a ) && ( b )` keeps b in /.
    subshell: tuple[int, ...] = ()
    in_substitution: bool = False
    in_pipeline: bool = False
    conditional: bool = False
    negated: bool = False
    background: bool = False
    depth: int = 0
    group_redirects: tuple[Redirect, ...] = ()
    function: str | None = None


def _dq_unescape(raw: str) -> str:
    """Backslash removal inside double quotes: only before $ ` " \\ and newline."""
    if "\\" not in raw:
        return raw
    return _DQ_ESCAPE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), raw)


def _heredoc_unescape(raw: str) -> str:
    if "\\" not in raw:
        return raw
    return _HEREDOC_ESCAPE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), raw)


def _ansi_c_char(m: re.Match[str]) -> str:
    simple, octal, hex2, u4, u8, ctrl = m.groups()
    if simple is not None:
        return _ANSI_SIMPLE[simple]
    if octal is not None:
        return chr(int(octal, 8) & 0xFF)
    if ctrl is not None:
        return chr(ord(ctrl.upper()) ^ 0x40) if ctrl != "?" else "\x7f"
    code = int(hex2 or u4 or u8, 16)
    return chr(code) if code <= 0x10FFFF else m.group(0)


def ansi_c_decode(raw: str) -> str:
    """The value of the inside of ``$'...'``."""
    return _ANSI_C.sub(_ansi_c_char, raw) if "\\" in raw else raw


def unquoted_parts(raw: str, out: list[Part]) -> None:
    """Unquoted text: ``\\x`` is a quoted x, ``\\<newline>`` disappears."""
    if "\\" not in raw:
        if raw:
            out.append(Part(LIT, raw))
        return
    start = i = 0
    n = len(raw)
    while True:
        j = raw.find("\\", i)
        if j < 0 or j + 1 >= n:  # a trailing lone backslash stays literal
            if start < n:
                out.append(Part(LIT, raw[start:]))
            return
        if j > start:
            out.append(Part(LIT, raw[start:j]))
        if raw[j + 1] != "\n":
            out.append(Part(LIT, raw[j + 1], True))
        start = i = j + 2


def merge_literals(parts: list[Part]) -> tuple[Part, ...]:
    """Join neighbouring literal parts of the same quoting, so values read naturally."""
    if len(parts) < 2:
        return tuple(parts)
    merged: list[Part] = [parts[0]]
    for part in parts[1:]:
        last = merged[-1]
        if part.kind == LIT and last.kind == LIT and part.quoted == last.quoted:
            merged[-1] = Part(LIT, last.text + part.text, last.quoted)
        else:
            merged.append(part)
    return tuple(merged)


def literal_value(parts: tuple[Part, ...]) -> str | None:
    for part in parts:
        if part.kind != LIT:
            return None
    return "".join(part.text for part in parts)


class WordBuilder:
    """Word construction, shared by the structural walker in ``parse.py``.

    ``conv`` maps tree-sitter byte offsets to character offsets; it is None for ASCII
    text, the overwhelmingly common case, where both are equal.
    """

    text: str
    conv: list[int] | None

    def walk_substitution(self, node: Node, ctx: Ctx) -> None:  # pragma: no cover
        raise NotImplementedError

    def span(self, node: Node) -> tuple[int, int]:
        conv = self.conv
        if conv is None:
            return node.start_byte, node.end_byte
        return conv[node.start_byte], conv[node.end_byte]

    def pos(self, byte: int) -> int:
        return byte if self.conv is None else self.conv[byte]

    def find_substitutions(self, node: Node, ctx: Ctx) -> None:
        """Walk every ``$(...)``/``<(...)`` below an opaque node (arithmetic, arrays, ...)."""
        for child in node.children:
            if child.type in _SUBSTITUTIONS:
                self.walk_substitution(child, ctx)
            elif child.child_count:
                self.find_substitutions(child, ctx)

    def word(self, node: Node, ctx: Ctx) -> Word:
        start, end = self.span(node)
        raw = self.text[start:end]
        if node.type == "word" and "\\" not in raw:  # fast path: most words are plain
            return Word(raw, (start, end), raw)
        parts: list[Part] = []
        self.parts(node, ctx, False, parts)
        merged = merge_literals(parts)
        return Word(raw, (start, end), literal_value(merged), merged)

    def join_words(self, first: Word, second: Word) -> Word:
        """One word from two that only a backslash-newline separated (``foo\\<nl>bar``)."""
        parts = merge_literals(list(first.parts) + list(second.parts))
        start, end = first.span[0], second.span[1]
        return Word(self.text[start:end], (start, end), literal_value(parts), parts)

    def literal_word(self, node: Node) -> Word:
        """A token whose text is its value (``export``, ``[``, an operator)."""
        start, end = self.span(node)
        raw = self.text[start:end]
        return Word(raw, (start, end), raw)

    def parts(self, node: Node, ctx: Ctx, quoted: bool, out: list[Part]) -> None:
        kind = node.type
        start, end = self.span(node)
        raw = self.text[start:end]
        if kind == "word":
            if quoted:
                out.append(Part(LIT, _dq_unescape(raw), True))
            else:
                unquoted_parts(raw, out)
        elif kind in _PLAIN:
            out.append(Part(LIT, raw, quoted))
        elif kind == "raw_string":
            out.append(Part(LIT, raw[1:-1] if len(raw) >= 2 else raw[1:], True))
        elif kind == "ansi_c_string":
            out.append(Part(LIT, ansi_c_decode(raw[2:-1]), True))
        elif kind in ("string", "translated_string"):
            opening = 2 if kind == "translated_string" else 1
            closing = end - 1 if raw.endswith('"') and len(raw) > opening else end
            self.mixed(node, ctx, start + opening, closing, "dq", out)
        elif kind in ("concatenation", "variable_assignment"):  # A=b under `export`
            self.mixed(node, ctx, start, end, "dq" if quoted else "bare", out)
        elif kind == "simple_expansion":
            out.append(Part(PARAM, raw[1:], quoted))
        elif kind == "expansion":
            out.append(self.expansion(node, ctx, quoted, start, end, raw))
        elif kind in _SUBSTITUTIONS:
            self.walk_substitution(node, ctx)
            out.append(Part(CMDSUB if kind == "command_substitution" else OTHER, raw, quoted))
        elif kind == "arithmetic_expansion":
            self.find_substitutions(node, ctx)
            out.append(Part(ARITH, raw, quoted))
        else:  # brace_expression, array, subscript, ERROR, ...
            self.find_substitutions(node, ctx)
            out.append(Part(OTHER, raw, quoted))

    def mixed(self, node: Node, ctx: Ctx, lo: int, hi: int, mode: str, out: list[Part]) -> None:
        """Parts of the region [lo, hi) of ``node``: known children plus literal gaps.

        ``mode``: "dq" (inside double quotes), "bare" (unquoted), "heredoc" (an unquoted
        heredoc body). Inside quotes only expansions are children worth trusting; the
        text between them is literal whatever tree-sitter called it.
        """
        text = self.text
        pos = lo
        inside = mode != "bare"
        for child in node.children:
            ctype = child.type
            if inside and ctype not in _EXPANSIONS:
                continue
            if not child.is_named:
                continue
            cs, ce = self.span(child)
            if cs < pos or ce > hi:
                continue
            if cs > pos:
                self.gap(text[pos:cs], mode, out)
            self.parts(child, ctx, inside, out)
            pos = ce
        if pos < hi:
            self.gap(text[pos:hi], mode, out)

    @staticmethod
    def gap(raw: str, mode: str, out: list[Part]) -> None:
        if mode == "dq":
            out.append(Part(LIT, _dq_unescape(raw), True))
        elif mode == "heredoc":
            out.append(Part(LIT, _heredoc_unescape(raw), True))
        else:
            unquoted_parts(raw, out)

    def expansion(self, node: Node, ctx: Ctx, quoted: bool, start: int, end: int,
                  raw: str) -> Part:
        """``${...}``, re-read from its text; the tree only supplies the operand's nodes."""
        inner = raw[2:-1] if raw.endswith("}") else raw[2:]
        if len(inner) > 1 and inner[0] == "#" and _NAME.fullmatch(inner, 1):
            return Part(PARAM, inner[1:], quoted, "len")
        m = _NAME.match(inner)
        if m is None:
            self.find_substitutions(node, ctx)
            return Part(OTHER, raw, quoted)
        name, rest = m.group(), inner[m.end():]
        if not rest:
            return Part(PARAM, name, quoted)
        op = next((o for o in _PARAM_OPS if rest.startswith(o)), None)
        if op is None:  # ${X[0]}, ${X@Q}, ...
            self.find_substitutions(node, ctx)
            return Part(OTHER, raw, quoted)
        lo = start + 2 + m.end() + len(op)
        hi = end - 1 if raw.endswith("}") else end
        if op == ":":
            self.find_substitutions(node, ctx)
            return Part(PARAM, name, quoted, op, (Part(LIT, self.text[lo:hi]),))
        if op in ("/", "//", "/#", "/%"):
            split = self.operand_split(node, lo, hi)
            pattern: list[Part] = []
            replacement: list[Part] = []
            self.operand(node, ctx, lo, split, quoted, pattern)
            if split < hi:
                self.operand(node, ctx, split + 1, hi, quoted, replacement)
            return Part(PARAM, name, quoted, op, merge_literals(pattern),
                        merge_literals(replacement))
        operand: list[Part] = []
        self.operand(node, ctx, lo, hi, quoted, operand)
        return Part(PARAM, name, quoted, op, merge_literals(operand))

    def operand(self, node: Node, ctx: Ctx, lo: int, hi: int, quoted: bool,
                out: list[Part]) -> None:
        if lo >= hi:
            return
        mode = "dq" if quoted else "bare"
        text = self.text
        pos = lo
        for child in node.children:
            if not child.is_named:
                continue
            cs, ce = self.span(child)
            if cs < lo or ce > hi:
                continue
            if cs > pos:
                self.gap(text[pos:cs], mode, out)
            self.parts(child, ctx, quoted, out)
            pos = ce
        if pos < hi:
            self.gap(text[pos:hi], mode, out)

    def operand_split(self, node: Node, lo: int, hi: int) -> int:
        """Where the replacement starts in ``${X/pattern/replacement}`` (``hi`` if none)."""
        for child in node.children:
            if child.type == "/" and not child.is_named:
                cs = self.pos(child.start_byte)
                if lo <= cs < hi:
                    return cs
        # tree-sitter sometimes folds the separator into a word: fall back to the text.
        text = self.text
        i = lo
        while i < hi:
            if text[i] == "\\":
                i += 2
                continue
            if text[i] == "/":
                return i
            i += 1
        return hi


def heredoc_body_word(builder: WordBuilder, body: Node | None, lo: int, hi: int, expand: bool,
                      strip_tabs: bool, ctx: Ctx) -> Word:
    """The body of a heredoc as a word (see ``model.Heredoc``)."""
    text: str = builder.text
    raw = text[lo:hi]
    parts: list[Part] = []
    if expand and body is not None:
        builder.mixed(body, ctx, lo, hi, "heredoc", parts)
    elif raw:
        parts.append(Part(LIT, raw, True))
    if strip_tabs:
        parts = _strip_tabs(parts, text, lo, expand)
    merged = merge_literals(parts)
    return Word(raw, (lo, hi), literal_value(merged), merged)


def _strip_tabs(parts: list[Part], text: str, lo: int, expand: bool) -> list[Part]:
    """``<<-``: leading tabs of every body line go (before expansion, as in bash)."""
    out: list[Part] = []
    at_line_start = lo == 0 or text[lo - 1] == "\n"
    for part in parts:
        if part.kind == LIT:
            value = re.sub(r"\n\t+", "\n", part.text)
            if at_line_start:
                value = value.lstrip("\t")
            out.append(Part(LIT, value, part.quoted))
            at_line_start = value.endswith("\n")
        else:
            out.append(part)
            at_line_start = False
    return out
