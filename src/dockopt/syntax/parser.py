"""A BuildKit-faithful, lossless Dockerfile parser.

The control flow follows moby/buildkit's ``parser.Parse`` line by line (directives, comment
handling, continuation lines, empty continuation lines, heredocs), so that what dockopt
thinks an instruction is matches what ``docker build`` executes. On top of BuildKit it keeps
every character: the result tiles the source with Instruction and Trivia nodes, and each
logical-line character maps back to its source offset.

Errors do not raise: they are collected in ``Document.errors`` (the build would fail there)
and the rest of the file is still represented, so ``str(parse(s)) == s`` always holds.
"""
from __future__ import annotations

import re

from dockopt.syntax.arguments import DispatchError, dispatch
from dockopt.syntax.heredoc import HEREDOC_INSTRUCTIONS, HeredocError, heredocs_from_line
from dockopt.syntax.nodes import (
    Argument,
    Directive,
    Document,
    Flag,
    Heredoc,
    Instruction,
    Segment,
    SyntaxIssue,
    Trivia,
)
from dockopt.syntax.words import GO_SPACE, RE_WHITESPACE, extract_builder_flags, go_trim_space

VALID_DIRECTIVES = frozenset({"syntax", "escape", "check"})
# BuildKit: `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` in RE2, whose \s is ASCII
# [\t\n\f\r ] (no \v). The value is trimmed by hand: a lazy group plus \s*$ backtracks
# quadratically on long lines in Python's engine.
RE_DIRECTIVE = re.compile(r"^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.*)$", re.DOTALL)
RE2_SPACE = "\t\n\f\r "
# bufio.Scanner's default limit: BuildKit cannot read a longer line.
MAX_LINE_BYTES = 65535

# A physical line: (start offset, end of content before trailing \r/\n chars, end incl. newline)
_Line = tuple[int, int, int]


def _split_lines(text: str, begin: int) -> list[_Line]:
    lines: list[_Line] = []
    pos = begin
    n = len(text)
    find = text.find
    while pos < n:
        nl = find("\n", pos)
        full_end = n if nl == -1 else nl + 1
        content_end = full_end
        # BuildKit's trimNewline: strip every trailing \r and \n.
        while content_end > pos and text[content_end - 1] in "\r\n":
            content_end -= 1
        lines.append((pos, content_end, full_end))
        pos = full_end
    return lines


def _left_space(text: str, start: int, end: int) -> int:
    while start < end and text[start] in GO_SPACE:
        start += 1
    return start


class _Directives:
    """BuildKit's directive state: only leading ``# key=value`` lines count, once each."""

    def __init__(self) -> None:
        self.escape = "\\"
        self.done = False
        self.seen: set[str] = set()
        self.found: list[Directive] = []
        self._continuation = self._regex("\\")

    @staticmethod
    def _regex(escape: str) -> re.Pattern[str]:
        e = re.escape(escape)
        # "([^\\])\\[ \t]*$|^\\[ \t]*$": a trailing escape, unless it is itself escaped.
        return re.compile(rf"(?:(?<=[^{e}])|^){e}[ \t]*$")

    def continuation(self, content: str) -> int:
        """Index where the continuation escape starts, or -1 when the line ends the instruction."""
        # Called on every line: decide on the last non-blank character before running the
        # regex (which scans the whole line). The escape can only be that character.
        # (A line never ends in "\n" here; if one did, `$` could match before it: no shortcut.)
        stripped = content.rstrip(" \t")
        if content.endswith("\n"):
            start = 0
        elif stripped.endswith(self.escape):
            start = max(len(stripped) - 2, 0)
        else:
            return -1
        m = self._continuation.search(content, start)
        return -1 if m is None else m.start()

    def check(self, token: str, line: int, start: int, end: int) -> str | None:
        """possibleParserDirective; returns an error message or None."""
        if self.done:
            return None
        m = RE_DIRECTIVE.match(token)
        value = m.group(2).rstrip(RE2_SPACE) if m else ""
        if m and not value:
            # RE2's `=\s*(.+?)\s*$` gives an all-blank value its last blank character.
            after = token[token.index("=") + 1 :]
            value = after[-1:] if after else ""
        if not m or not value:
            self.done = True
            return None
        key = m.group(1).lower()
        if key not in VALID_DIRECTIVES:
            self.done = True
            return None
        if key in self.seen:
            return f"only one {key} parser directive can be used"
        self.seen.add(key)
        self.found.append(Directive(key, value, line, start, end))
        if key == "escape":
            if value not in ("`", "\\"):
                return f"invalid escape token '{value}' does not match ` or \\"
            self.escape = value
            self._continuation = self._regex(value)
        return None


def parse(source: str) -> Document:
    """Parse a Dockerfile text. Never raises for bad input; see ``Document.errors``."""
    bom = source.startswith("\ufeff")
    begin = 1 if bom else 0
    nodes: list[Instruction | Trivia] = []
    if bom:
        nodes.append(Trivia("bom", 0, 1, "\ufeff"))
    lines = _split_lines(source, begin)
    d = _Directives()
    errors: list[SyntaxIssue] = []
    warnings: list[SyntaxIssue] = []
    instructions: list[Instruction] = []
    comments: list[str] = []
    i, count = 0, len(lines)

    for number, (ls, _le, lf) in enumerate(lines, start=1):
        # bufio.Scanner counts raw bytes up to the newline: a CR, and the BOM on line 1, included.
        end = lf - 1 if source[lf - 1 : lf] == "\n" else lf
        if end - ls > MAX_LINE_BYTES // 4 and len(source[ls:end].encode("utf-8", "surrogatepass")) + (
            3 if bom and number == 1 else 0
        ) > MAX_LINE_BYTES:
            errors.append(SyntaxIssue(f"dockerfile line greater than max allowed size of {MAX_LINE_BYTES}", number, number))
            break
    while i < count:
        ls, le, lf = lines[i]
        first = _left_space(source, ls, le)
        token = source[first:le]
        is_comment = token.startswith("#")
        if is_comment:
            comments.append(go_trim_space(token[1:])[0])
        error = d.check(token, i + 1, ls, le)
        if error:
            errors.append(SyntaxIssue(error, i + 1, i + 1))
        processed = "" if is_comment else token
        i += 1
        if processed == "":
            kind = "blank"
            if not is_comment:
                comments = []  # only a comment block directly above belongs to an instruction
            if is_comment:
                kind = "directive" if d.found and d.found[-1].line == i else "comment"
            nodes.append(Trivia(kind, ls, lf, source[ls:lf]))
            continue
        cut = d.continuation(processed)
        start_line = i
        segments: list[Segment] = []
        logical_parts: list[str] = []
        logical_len = 0

        def add(text_start: int, text_end: int) -> None:
            nonlocal logical_len
            if text_end > text_start:
                segments.append(Segment(logical_len, text_start, text_end - text_start))
                logical_parts.append(source[text_start:text_end])
                logical_len += text_end - text_start

        ended = cut == -1
        add(first, le if ended else first + cut)
        has_empty_continuation = False
        while not ended and i < count:
            cs, ce, cf = lines[i]
            raw = source[cs:ce]
            error = d.check(raw, i + 1, cs, ce)
            if error:
                errors.append(SyntaxIssue(error, i + 1, i + 1))
            i += 1
            stripped_start = _left_space(source, cs, ce)
            if source.startswith("#", stripped_start) and stripped_start < ce:
                continue  # a comment line inside a continuation is dropped
            if stripped_start == ce:
                has_empty_continuation = True
                continue
            processed = raw
            cut = d.continuation(processed)
            ended = cut == -1
            add(cs, ce if ended else cs + cut)

        logical = "".join(logical_parts)
        if has_empty_continuation:
            warnings.append(SyntaxIssue("empty continuation line", start_line, i))

        instruction, issue = _build_instruction(logical, tuple(segments), d.escape)
        if issue is None and _can_contain_heredoc(instruction):
            try:
                headers = heredocs_from_line(logical)
            except HeredocError as exc:
                headers = []
                issue = str(exc)
            heredocs: list[Heredoc] = []
            for header in headers:
                terminated = False
                body_start = lines[i][0] if i < count else len(source)
                body_parts: list[str] = []
                while i < count:
                    hs, he, hf = lines[i]
                    i += 1
                    candidate = source[hs:he]
                    if header.chomp:
                        candidate = candidate.lstrip("\t")
                    if candidate == header.name:
                        heredocs.append(
                            Heredoc(header.name, header.chomp, header.expand, header.fd,
                                    "".join(body_parts), body_start, hs, hs, he)
                        )
                        terminated = True
                        break
                    body_parts.append(source[hs:hf])
                if not terminated:
                    issue = "unterminated heredoc"
                    break
            _attach_heredocs(instruction, tuple(heredocs))
        end_line = i
        line_start = lines[start_line - 1][0]
        line_end = lines[end_line - 1][2]
        instruction.start = first
        instruction.end = lines[end_line - 1][1]
        instruction.line_start = line_start
        instruction.line_end = line_end
        instruction.start_line = start_line
        instruction.end_line = end_line
        instruction.text = source[line_start:line_end]
        instruction.comments = tuple(comments)
        if instruction.onbuild is not None:
            sub = instruction.onbuild
            sub.end, sub.line_start, sub.line_end = instruction.end, line_start, line_end
            sub.start_line, sub.end_line, sub.text = start_line, end_line, instruction.text
        if issue is None and not instruction.known:
            issue = f"unknown instruction: {instruction.keyword}"  # BuildKit's instruction parser refuses it
        if issue is not None:
            errors.append(SyntaxIssue(issue, start_line, end_line, first - line_start + 1))
        comments = []
        nodes.append(instruction)
        instructions.append(instruction)

    if not instructions:
        errors.append(SyntaxIssue("file with no instructions", max(count, 1), max(count, 1)))
    return Document(
        nodes=nodes,
        instructions=instructions,
        directives=d.found,
        escape=d.escape,
        bom=bom,
        errors=errors,
        warnings=warnings,
        _source=source,
    )


def _can_contain_heredoc(instruction: Instruction) -> bool:
    target = instruction.onbuild if instruction.name == "ONBUILD" and instruction.onbuild else instruction
    return target.keyword.lower() in HEREDOC_INSTRUCTIONS and not target.is_json


def _attach_heredocs(instruction: Instruction, heredocs: tuple[Heredoc, ...]) -> None:
    instruction.heredocs = heredocs
    if instruction.onbuild is not None:
        instruction.onbuild.heredocs = heredocs


def _build_instruction(
    logical: str, segments: tuple[Segment, ...], escape: str, offset: int = 0
) -> tuple[Instruction, str | None]:
    """splitCommand + the per-keyword line parser on ``logical[offset:]``, keeping offsets."""
    trimmed, left = go_trim_space(logical[offset:])
    m = RE_WHITESPACE.search(trimmed)
    keyword = trimmed[: m.start()] if m else trimmed
    rest_start = offset + left + (m.end() if m else len(trimmed))
    rest = trimmed[m.end() :] if m else ""
    flag_end, flag_words = extract_builder_flags(rest)
    args_text, args_left = go_trim_space(rest[flag_end:])
    args_start = rest_start + flag_end + args_left
    # Go's strings.ToLower is a simple (1:1) case mapping; Python's full mapping turns U+0130
    # into two characters. A non-ASCII result can match no instruction.
    lowered = keyword.replace("\u0130", "i").lower()
    instruction = Instruction(
        keyword=keyword,
        name=lowered.upper() if lowered.isascii() else keyword,
        logical=logical,
        segments=segments,
        flags=(),
        args_text=args_text,
        args_start=args_start,
        arguments=(),
        is_json=False,
        heredocs=(),
        onbuild=None,
        known=True,
        start=0,
        end=0,
        line_start=0,
        line_end=0,
        start_line=0,
        end_line=0,
        text="",
    )
    flags = []
    for text, s, e in flag_words:
        name, eq, value = text[2:].partition("=")
        src_s, src_e = instruction.source_range(rest_start + s, rest_start + e)
        flags.append(Flag(name, value if eq else None, text, src_s, src_e))
    instruction.flags = tuple(flags)
    try:
        result = dispatch(instruction.name, args_text, escape)
    except DispatchError as exc:
        return instruction, str(exc)
    instruction.known = result.known
    instruction.is_json = result.is_json
    arguments = []
    for value, s, e in result.words:
        src_s, src_e = instruction.source_range(args_start + s, args_start + e)
        arguments.append(Argument(value, src_s, src_e))
    instruction.arguments = tuple(arguments)
    issue: str | None = None
    if instruction.name == "ONBUILD" and args_text:
        sub_keyword = RE_WHITESPACE.split(args_text, maxsplit=1)[0].upper()
        if sub_keyword in ("ONBUILD", "FROM", "MAINTAINER"):
            # BuildKit refuses these as triggers; not recursing also bounds ONBUILD ONBUILD ... chains.
            return instruction, f"{sub_keyword} isn't allowed as an ONBUILD trigger"
        sub, issue = _build_instruction(logical, segments, escape, args_start)
        sub.start = instruction.to_source(args_start)
        instruction.onbuild = sub
    return instruction, issue
