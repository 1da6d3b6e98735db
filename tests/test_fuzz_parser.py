"""Property-based tests of the lossless parser (``dockopt.syntax.parse``).

Each property runs a fixed number of examples sized so that this file takes well under a
minute; set ``DOCKOPT_FUZZ_EXAMPLES=20`` (a multiplier) for a long fuzzing run. Under CI
Hypothesis loads its ``ci`` profile (derandomized, no example database), so a CI run is
reproducible; locally each run explores new inputs and failures are replayed from
``.hypothesis/``.

Properties:
  (a) ``str(parse(s)) == s`` and the nodes tile the source (contiguous, each ``.text`` is
      its slice);
  (b) ``parse`` never raises;
  (c) instruction spans nest in their line ranges, line numbers agree with the text, and
      ``to_source`` maps every logical character back to the same source character;
  (d) heredoc body and terminator spans agree with the text;
  (e) parse time grows linearly with the input;
  (f) the logical lines agree with an independent re-implementation of BuildKit's line
      joining (``frontend/dockerfile/parser/parser.go``), for files without heredocs.
"""
from __future__ import annotations

import math
import os
import sys
import types

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dockopt import parse
from dockopt.syntax import Document, Instruction, Trivia
from tests import strategies as gen
from tests.corpus import corpus_files

FACTOR = float(os.environ.get("DOCKOPT_FUZZ_EXAMPLES", "1"))


def examples(n: int) -> int:
    """Examples for a property: ``n`` scaled by DOCKOPT_FUZZ_EXAMPLES."""
    return max(1, int(n * FACTOR))


FUZZ = dict(
    deadline=None,  # parse time varies with input size; (e) checks speed explicitly
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# Go's unicode.IsSpace (what BuildKit's TrimSpace / TrimLeftFunc use), spelled out here
# rather than imported so the reference below does not share code with the parser.
GO_IS_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
)
RE2_SPACE = "\t\n\f\r "  # Go regexp's \s: ASCII only, and no \v


# ---------------------------------------------------------------------------------------------
# The invariants, as one checker shared by every strategy


def check_document(source: str, document: Document) -> None:
    # (a) round trip and exact tiling
    assert str(document) == source
    pos = 0
    for node in document.nodes:
        if isinstance(node, Instruction):
            start, end = node.line_start, node.line_end
        else:
            assert isinstance(node, Trivia)
            start, end = node.start, node.end
            check_trivia(node, source)
        assert start == pos, f"gap or overlap at {pos}: node starts at {start}"
        assert end > start, "empty node"
        assert node.text == source[start:end]
        pos = end
    assert pos == len(source)
    assert document.instructions == [n for n in document.nodes if isinstance(n, Instruction)]
    assert document.bom == source.startswith("\ufeff")

    index = document.index
    last_line = max(1, index.line_count)
    for issue in document.errors + document.warnings:
        assert 1 <= issue.line <= issue.end_line <= last_line, issue

    for ins in document.instructions:
        check_instruction(source, document, ins)


def check_trivia(node: Trivia, source: str) -> None:
    body = node.text.rstrip("\r\n")
    if node.kind == "bom":
        assert node.start == 0 and node.text == "\ufeff"
    elif node.kind == "blank":
        assert all(ch in GO_IS_SPACE for ch in body), node
    elif node.kind in ("comment", "directive"):
        assert body.lstrip("".join(GO_IS_SPACE)).startswith("#"), node
    # Every trivia node is made of whole lines (the BOM aside).
    if node.kind != "bom":
        assert node.start == 0 or source[node.start - 1] == "\n" or (node.start == 1 and source[0] == "\ufeff")
        assert node.end == len(source) or source[node.end - 1] == "\n"


def check_instruction(source: str, document: Document, ins: Instruction) -> None:
    # (c) spans nest: line_start <= start <= end <= line_end, whole lines
    assert ins.line_start <= ins.start <= ins.end <= ins.line_end, ins
    assert ins.text == source[ins.line_start : ins.line_end]
    assert ins.line_start == 0 or source[ins.line_start - 1] == "\n" or ins.line_start == 1 and source[0] == "\ufeff"
    assert ins.line_end == len(source) or source[ins.line_end - 1] == "\n"
    assert source[ins.end : ins.line_end].strip("\r\n") == "", "end must be the end of the last line's content"
    assert 1 <= ins.start_line <= ins.end_line
    index = document.index
    assert index.location(ins.line_start).line == ins.start_line
    assert index.location(ins.line_end - 1).line == ins.end_line
    assert ins.logical.lstrip("".join(GO_IS_SPACE)).startswith(ins.keyword)
    if not ins.keyword:
        # Only a logical line of blanks has no command word (BuildKit then makes a node with
        # an empty command, which the build rejects as an unknown instruction).
        assert _is_blank(ins.logical) and not ins.known, ins

    # Segments cover the logical line in order, each a verbatim slice of the source.
    logical_pos = 0
    last_source = ins.line_start
    for seg in ins.segments:
        assert seg.logical_start == logical_pos and seg.length > 0
        assert seg.source_start >= last_source
        assert ins.logical[seg.logical_start : seg.logical_start + seg.length] == source[
            seg.source_start : seg.source_start + seg.length
        ]
        logical_pos += seg.length
        last_source = seg.source_start + seg.length
    assert logical_pos == len(ins.logical)
    assert last_source <= ins.end or ins.heredocs

    # to_source maps every logical character to the same character in the source, inside the
    # instruction's lines, in increasing order.
    previous = -1
    for k, ch in enumerate(ins.logical):
        at = ins.to_source(k)
        assert ins.line_start <= at < ins.line_end
        assert source[at] == ch, (k, ch, at)
        assert at > previous
        previous = at
    assert ins.line_start <= ins.to_source(len(ins.logical)) <= ins.line_end
    assert ins.to_source(ins.args_start) <= ins.line_end

    for flag in ins.flags:
        assert ins.line_start <= flag.start <= flag.end <= ins.line_end, flag
        raw = source[flag.start : flag.end]
        if not any(c in raw for c in "\n'\"\\"):
            assert raw == flag.text, (raw, flag)
    for arg in ins.arguments:
        assert ins.line_start <= arg.start <= arg.end <= ins.line_end, arg
        raw = source[arg.start : arg.end]
        # Values that BuildKit takes verbatim from the line must be exactly their source slice.
        verbatim = ins.name in {"FROM", "EXPOSE"} or (
            ins.name in {"COPY", "ADD", "VOLUME", "RUN", "CMD", "ENTRYPOINT", "SHELL", "USER", "WORKDIR",
                         "STOPSIGNAL", "MAINTAINER"}
            and not ins.is_json
        )
        if verbatim and "\n" not in raw:
            assert raw == arg.value, (raw, arg, ins.logical)

    # (d) heredocs
    unterminated = any(
        e.message == "unterminated heredoc" and e.line == ins.start_line for e in document.errors
    )
    check_heredocs(source, ins, unterminated)

    if ins.onbuild is not None:
        sub = ins.onbuild
        assert ins.start <= sub.start <= ins.end
        for item in (*sub.flags, *sub.arguments):
            assert ins.line_start <= item.start <= item.end <= ins.line_end
        assert sub.heredocs == ins.heredocs


def check_heredocs(source: str, ins: Instruction, unterminated: bool) -> None:
    if not ins.heredocs:
        return
    # The first body starts on the line after the instruction's (last) header line.
    header_end = ins.segments[-1].source_start + ins.segments[-1].length if ins.segments else ins.start
    expected_start = source.find("\n", header_end) + 1
    assert expected_start > 0
    for heredoc in ins.heredocs:
        assert heredoc.body_start == expected_start, heredoc
        assert ins.line_start <= heredoc.body_start <= heredoc.body_end <= heredoc.terminator_start
        assert heredoc.terminator_start <= heredoc.terminator_end <= ins.end
        assert source[heredoc.body_start : heredoc.body_end] == heredoc.content
        assert heredoc.body_end == heredoc.terminator_start
        # The terminator is a whole line: its content (after tabs, for <<-) is the name.
        assert heredoc.terminator_start == 0 or source[heredoc.terminator_start - 1] == "\n"
        line = source[heredoc.terminator_start : heredoc.terminator_end]
        assert (line.lstrip("\t") if heredoc.chomp else line) == heredoc.name
        tail = source[heredoc.terminator_end : source.find("\n", heredoc.terminator_end) + 1 or len(source)]
        assert tail.strip("\r\n") == ""
        # The body is whole lines (each with its newline), and none of them would have
        # terminated the heredoc earlier.
        assert heredoc.content == "" or heredoc.content.endswith("\n")
        for body_line in heredoc.content.split("\n")[:-1]:
            candidate = body_line.rstrip("\r")
            candidate = candidate.lstrip("\t") if heredoc.chomp else candidate
            assert candidate != heredoc.name
        assert heredoc.fd >= 0
        expected_start = heredoc.terminator_end + len(tail)
    if not unterminated:
        # The instruction ends with its last terminator (an unterminated one runs to EOF).
        assert ins.heredocs[-1].terminator_end == ins.end


def parse_and_check(source: str) -> Document:
    document = parse(source)  # (b): any exception fails the property
    check_document(source, document)
    return document


# ---------------------------------------------------------------------------------------------
# (a)-(d) over every strategy


@settings(max_examples=examples(600), **FUZZ)
@given(gen.dockerfiles())
@example("FROM a\nRUN <<EOT\necho hi\nEOT\nRUN true\n")
@example("\ufeff# escape=`\r\nFROM a\r\nRUN x `  \r\n\r\n  # c\r\n y\r\n")
@example("FROM a\nCOPY <<A <<-B /d\na\nA\n\tb\n\tB\n")
@example("FROM a\nRUN something \\")
def test_grammar_files_round_trip_and_spans_are_consistent(source: str) -> None:
    parse_and_check(source)


@settings(max_examples=examples(800), **FUZZ)
@given(gen.line_soups())
@example("\xa0\\\n\xa0\\\n")  # found by this property: a logical line of one NBSP
def test_line_soups_round_trip_and_spans_are_consistent(source: str) -> None:
    parse_and_check(source)


@settings(max_examples=examples(800), **FUZZ)
@given(gen.nasty_text)
@example("")
@example("\\")
@example("\r")
@example("\ufeff")
@example("\x00")
def test_arbitrary_text_never_raises_and_round_trips(source: str) -> None:
    parse_and_check(source)


@settings(max_examples=examples(300), **FUZZ)
@given(gen.corpus_mutants())
def test_mutated_corpus_files_round_trip_and_spans_are_consistent(source: str) -> None:
    parse_and_check(source)


@settings(max_examples=examples(150), **FUZZ)
@given(gen.dockerfiles(), st.sampled_from(["\n", "\r\n"]))
def test_line_ending_style_does_not_change_the_logical_lines(source: str, eol: str) -> None:
    # BuildKit strips every trailing CR/LF from a physical line, so rewriting all line endings
    # to one style must leave every logical line and its line numbers unchanged.
    normalised = eol.join(line.rstrip("\r") for line in source.split("\n"))
    before = parse(source)
    after = parse_and_check(normalised)
    assert [i.logical for i in before.instructions] == [i.logical for i in after.instructions]
    assert [(i.start_line, i.end_line) for i in before.instructions] == [
        (i.start_line, i.end_line) for i in after.instructions
    ]
    assert [[h.name for h in i.heredocs] for i in before.instructions] == [
        [h.name for h in i.heredocs] for i in after.instructions
    ]


# ---------------------------------------------------------------------------------------------
# (e) parse time is linear in the input size


def _work(text: str) -> int:
    """The parser's work on ``text``, counted deterministically: the Python lines it executes.

    A count, not a clock: a timed assertion fails on a loaded machine (this one failed at a
    load average of 16) and passes a quadratic step hidden by a fast one. Quadratic work done
    inside a single C call (a slice or regex per character) is not counted here; the
    benchmark (bench/) times whole parses for that.
    """
    lines = 0

    def local(frame: types.FrameType, event: str, arg: object) -> object:
        nonlocal lines
        if event == "line":
            lines += 1
        return local

    def on_call(frame: types.FrameType, event: str, arg: object) -> object:
        return local if frame.f_code.co_filename.startswith(_DOCKOPT_SRC) else None

    sys.settrace(on_call)
    try:
        parse(text)
    finally:
        sys.settrace(None)
    return lines


_DOCKOPT_SRC = os.path.dirname(os.path.abspath(parse.__code__.co_filename)).rsplit(os.sep, 1)[0]
LINEAR_K = 8
LINEAR_FACTOR = 1.5  # linear work grows ~K times; a quadratic step grows ~K*K times


@settings(max_examples=examples(20), **FUZZ)
@given(st.one_of(gen.dockerfiles(), gen.line_soups()))
def test_parse_work_is_linear_in_repetitions(unit: str) -> None:
    unit = unit or "FROM a\n"
    base = unit * max(1, math.ceil(500 / len(unit)))
    small = _work(base)
    large = _work(base * LINEAR_K)
    assert large <= LINEAR_K * small * LINEAR_FACTOR + 1000, (
        f"{len(base)} chars: {small} lines executed; x{LINEAR_K}: {large}"
    )


# ---------------------------------------------------------------------------------------------
# (f) differential check against BuildKit's logical-line joining


class _DirectiveError(Exception):
    pass


class ReferenceDirectives:
    """BuildKit's directive state (parser.go ``directives`` + directives.go ``ParseLine``)."""

    def __init__(self) -> None:
        self.escape = "\\"
        self.done = False
        self.seen: set[str] = set()

    @staticmethod
    def match(token: str) -> tuple[str, str] | None:
        """``^#\\s*([a-zA-Z][a-zA-Z0-9]*)\\s*=\\s*(.+?)\\s*$`` with RE2 semantics, by hand.

        Done without ``re`` because Python's ``\\s`` and ``\\d`` are Unicode-aware while
        RE2's are ASCII, and because the lazy group is quadratic in Python's backtracker.
        """
        n = len(token)
        if not token.startswith("#"):
            return None
        i = 1
        while i < n and token[i] in RE2_SPACE:
            i += 1
        if i >= n or not ("a" <= token[i].lower() <= "z"):
            return None
        j = i + 1
        while j < n and (token[j].isascii() and token[j].isalnum()):
            j += 1
        key = token[i:j]
        k = j
        while k < n and token[k] in RE2_SPACE:
            k += 1
        if k >= n or token[k] != "=":
            return None
        rest = token[k + 1 :]
        if not rest:
            return None  # (.+?) needs a character
        value = rest.lstrip(RE2_SPACE).rstrip(RE2_SPACE)
        if not value:
            # All blanks: the greedy \s* gives back one character for (.+?).
            value = rest[-1]
        return key, value

    def feed(self, token: str) -> None:
        if self.done:
            return
        found = self.match(token)
        if found is None:
            self.done = True
            return
        key = found[0].lower()
        if key not in ("syntax", "escape", "check"):
            self.done = True
            return
        if key in self.seen:
            raise _DirectiveError(f"only one {key} parser directive can be used")
        self.seen.add(key)
        if key == "escape":
            if found[1] not in ("`", "\\"):
                raise _DirectiveError("invalid escape token")
            self.escape = found[1]


def _go_trim_left(text: str) -> str:
    i = 0
    while i < len(text) and text[i] in GO_IS_SPACE:
        i += 1
    return text[i:]


def _trim_newline(line: str) -> str:
    return line.rstrip("\r\n")  # bytes.TrimRight(src, "\r\n")


def _trim_continuation(line: str, escape: str) -> tuple[str, bool]:
    """``([^E])E[ \\t]*$|^E[ \\t]*$`` replaced by ``$1``: (line, is_end_of_line)."""
    body = line.rstrip(" \t")
    if body.endswith(escape) and (len(body) == 1 or body[-2] != escape):
        return body[:-1], False
    return line, True


def reference_logical_lines(text: str) -> list[tuple[str, int, int]] | None:
    """(logical line, start line, end line) per node, as BuildKit's Parse loop builds them.

    None when BuildKit rejects the file because of a parser directive.
    """
    physical = text.split("\n")
    lines = [p + "\n" for p in physical[:-1]] + ([physical[-1]] if physical[-1] else [])
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]  # only the first line's BOM is stripped
    d = ReferenceDirectives()
    out: list[tuple[str, int, int]] = []
    current = 0
    i = 0
    try:
        while i < len(lines):
            token = _go_trim_left(_trim_newline(lines[i]))
            i += 1
            d.feed(token)
            processed = "" if token.startswith("#") else token  # trimComments: ^#.*$
            current += 1
            start = current
            line, end_of_line = _trim_continuation(processed, d.escape)
            if end_of_line and line == "":
                continue
            while not end_of_line and i < len(lines):
                raw = lines[i]
                i += 1
                token = _trim_newline(raw)
                d.feed(token)
                processed = "" if token.startswith("#") else token
                current += 1
                if _go_trim_left(_trim_newline(raw)).startswith("#"):
                    continue  # isComment: comment lines inside a continuation are dropped
                if _go_trim_left(processed) == "":
                    continue  # isEmptyContinuationLine
                piece, end_of_line = _trim_continuation(processed, d.escape)
                line += piece
            out.append((line, start, current))
    except _DirectiveError:
        return None
    return out


def _no_heredocs(text: str) -> str:
    # The reference models no heredocs; without "<<" there cannot be one.
    while "<<" in text:
        text = text.replace("<<", "< <")
    return text


def _is_blank(line: str) -> bool:
    return all(ch in GO_IS_SPACE for ch in line)


def check_against_reference(source: str) -> None:
    expected = reference_logical_lines(source)
    document = parse(source)
    if expected is None:
        assert any("directive" in e.message or "escape token" in e.message for e in document.errors)
        return
    # BuildKit also creates a node for a logical line that is only blanks (it is rejected
    # later as an unknown instruction); dockopt keeps such lines as trivia. That divergence
    # has its own test below, so blank logical lines are compared separately.
    got = [(i.logical, i.start_line, i.end_line) for i in document.instructions if not _is_blank(i.logical)]
    want = [entry for entry in expected if not _is_blank(entry[0])]
    assert got == want


@settings(max_examples=examples(400), **FUZZ)
@given(gen.dockerfiles(heredocs=False).map(_no_heredocs))
@example("FROM a\nRUN echo hi \\\n \\\n world \\\n\\\n good\\\n\\\nnight\n")
@example("# escape=`\nFROM a\nRUN a ``\nRUN b `\n\n# c\n  c\n")
@example("\ufeff\\\nFROM a\n")
@example("#escape=\\\n# escape=`\nFROM a\n")
def test_logical_lines_match_buildkit_reference(source: str) -> None:
    check_against_reference(source)


@settings(max_examples=examples(600), **FUZZ)
@given(st.one_of(gen.line_soups(), gen.nasty_text).map(_no_heredocs))
def test_logical_lines_match_buildkit_reference_on_soups(source: str) -> None:
    check_against_reference(source)


@settings(max_examples=examples(300), **FUZZ)
@given(gen.corpus_mutants().map(_no_heredocs))
def test_logical_lines_match_buildkit_reference_on_mutants(source: str) -> None:
    check_against_reference(source)


def test_reference_agrees_on_every_corpus_file_without_heredocs() -> None:
    compared = 0
    for path in corpus_files():  # skips without the corpus, except under CI
        text = gen.read_corpus_text(path)
        if "<<" in text:
            continue
        check_against_reference(text)
        compared += 1
    assert compared > 3000


def test_reference_reproduces_buildkit_continuation_results() -> None:
    # BuildKit's own testfiles/continueIndent expectations, checked on the reference itself
    # so that a reference bug cannot hide a parser bug.
    source = (
        "FROM ubuntu:14.04\n\nRUN echo hello\\\n  world\\\n  goodnight  \\\n  moon\\\n  light\\\nning\n"
        "RUN echo hello  \\\n  world\nRUN echo hello \\\ngoodbye\\\nfrog\nRUN echo hello  \\  \nworld\n"
        "RUN echo hi \\\n \\\n world \\\n\\\n good\\\n\\\nnight\n"
    )
    logical = [line for line, _, _ in reference_logical_lines(source) or []]
    assert logical == [
        "FROM ubuntu:14.04",
        "RUN echo hello  world  goodnight    moon  lightning",
        "RUN echo hello    world",
        "RUN echo hello goodbyefrog",
        "RUN echo hello  world",
        "RUN echo hi   world  goodnight",
    ]


# ---------------------------------------------------------------------------------------------
# Defects found by the properties above, pinned as tests. Fixed ones are plain regression
# tests; open ones are strict xfails, which XPASS (and so fail the run) once src/ is fixed,
# as a reminder to drop the marker.


@pytest.mark.parametrize("source", ["FROM a\n\\\n", "FROM a\n\\\n\\\n", "FROM a\n \\\n\t\n"])
def test_blank_logical_line_is_an_instruction_error_like_buildkit(source: str) -> None:
    # BuildKit: newNodeFromLine("") adds a node whose command is "" and instructions.Parse
    # then fails with "unknown instruction: ". dockopt silently turns the lines into trivia
    # (while "\xa0\\" lines, blank only to Go, do become an instruction with keyword "").
    assert [entry[0].strip() for entry in reference_logical_lines(source) or []] == ["FROM a", ""]
    document = parse(source)
    # Either as a parse error or, like other unknown words, as an instruction that is not known.
    flagged = document.errors or any(not i.known for i in document.instructions[1:])
    assert flagged, "the build fails here ('unknown instruction: '), dockopt sees nothing"


@pytest.mark.parametrize(
    ("source", "escape"),
    [
        ("#\vescape=`\nFROM a\n", "\\"),  # \v is not RE2 \s: not a directive at all
        ("#\x1cescape=`\nFROM a\n", "\\"),
        ("#\u2003escape=`\nFROM a\n", "\\"),
        ("#  escape \t=\f`\nFROM a\n", "`"),  # ... but \t and \f are
    ],
)
def test_directive_whitespace_is_re2_whitespace(source: str, escape: str) -> None:
    assert parse(source).escape == escape


def test_directive_value_keeps_non_ascii_blanks() -> None:
    # "# escape=`<NBSP>": RE2's \s* cannot eat U+00A0, so the value is "`\xa0": invalid.
    document = parse("# escape=`\u00a0\nFROM a\n")
    assert any("invalid escape token" in e.message for e in document.errors)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # `=\s*(.+?)\s*$`: the greedy \s* gives one blank back to (.+?), so the value is " ".
        ("# escape= \nFROM a\n", "invalid escape token"),
        ("# escape=\t\t\nFROM a\n", "invalid escape token"),
        # ... and that still counts as the one syntax directive.
        ("# syntax= \n# syntax=x\nFROM a\n", "only one syntax parser directive"),
    ],
)
def test_all_blank_directive_value_is_one_blank_like_re2(source: str, message: str) -> None:
    # Regression: the first RE2-exact rewrite trimmed such a value to "" and dropped it.
    assert reference_logical_lines(source) is None  # the reference agrees BuildKit fails
    assert any(message in e.message for e in parse(source).errors)


def test_heredoc_fd_must_be_ascii_digits() -> None:
    # RE2's \d is [0-9]: "١<<EOF" (Arabic-Indic one) is not a heredoc in BuildKit, so the
    # following lines are instructions of their own.
    document = parse("FROM a\nRUN \u0661<<EOF\nRUN x\nEOF\n")
    assert [i.name for i in document.instructions] == ["FROM", "RUN", "RUN", "EOF"]


def test_onbuild_trigger_has_real_spans() -> None:
    source = "FROM a\nONBUILD RUN echo \\\n  hi\n"
    document = parse(source)
    outer = document.instructions[1]
    inner = outer.onbuild
    assert inner is not None
    assert (inner.line_start, inner.line_end) == (outer.line_start, outer.line_end)
    assert (inner.start_line, inner.end_line) == (outer.start_line, outer.end_line)
    assert source[inner.start : inner.end] == "RUN echo \\\n  hi"
    assert inner.text == outer.text


@pytest.mark.parametrize(
    ("keyword", "known"),
    [
        ("\u017fHELL", False),  # LATIN SMALL LETTER LONG S: upper() is "S", Go's ToLower keeps it
        ("HEALTHCHEC\u212a", True),  # KELVIN SIGN lowers to "k" in Go
        ("ENTRYPO\u0130NT", True),  # Go's simple mapping lowers U+0130 to "i"; Python's gives "i\u0307"
    ],
)
def test_keyword_case_folding_matches_go(keyword: str, known: bool) -> None:
    document = parse(f"FROM a\n{keyword} x\n")
    assert document.instructions[1].known is known


@pytest.mark.xfail(strict=True, reason="DIVERGENCE, kept on purpose: BuildKit reads flag bytes as runes (José becomes JosÃ©); dockopt keeps characters")
@pytest.mark.parametrize(
    ("line", "flag_text"),
    [
        # Go's extractBuilderFlags reads line[pos] byte by byte and WriteRune()s each byte:
        # UTF-8 "é" (C3 A9) comes out as "Ã©".
        ("COPY --chown=Jos\u00e9 a /b", "--chown=Jos\u00c3\u00a9"),
        # ... and a 0xA0 or 0x85 continuation byte is unicode.IsSpace, so "à" (C3 A0) ends the word.
        ("COPY --chown=\u00e0x a /b", "--chown=\u00c3"),
    ],
)
def test_non_ascii_flag_values_match_buildkit_bytes(line: str, flag_text: str) -> None:
    document = parse(f"FROM a\n{line}\n")
    assert document.instructions[1].flags[0].text == flag_text
