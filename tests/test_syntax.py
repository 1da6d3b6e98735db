"""The lossless parser: round-trips, spans, heredocs, directives, escapes, hostile input."""
from __future__ import annotations

import pytest

from dockopt import parse
from dockopt.syntax import Instruction, Trivia
from dockopt.syntax.dump import dump
from dockopt.syntax.heredoc import HeredocError, heredoc_from_word, heredocs_from_line
from tests.corpus import corpus_files


def _tiles(source: str) -> None:
    document = parse(source)
    assert str(document) == source
    pos = 0
    for node in document.nodes:
        start = node.line_start if isinstance(node, Instruction) else node.start
        end = node.line_end if isinstance(node, Instruction) else node.end
        assert start == pos
        assert node.text == source[start:end]
        pos = end
    assert pos == len(source)


def test_whole_corpus_round_trips_and_tiles() -> None:
    decoded = 0
    for path in corpus_files():
        try:
            source = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue  # UTF-16/32 fixtures: covered by the file-level tests in test_io.py
        decoded += 1
        _tiles(source)
    assert decoded > 3000


def test_real_corpus_has_no_parse_errors() -> None:
    bad = []
    for path in corpus_files("real"):
        document = parse(path.read_bytes().decode("utf-8"))
        if document.errors:
            bad.append((path.name, document.errors[0]))
    assert bad == []


# BuildKit's TestParseExtractsHeredoc input, verbatim.
HEREDOC_FILE = """
FROM alpine:3.6

ENV NAME=me

RUN ls

USER <<INVALID
INVALID

RUN <<EMPTY
EMPTY

RUN 3<<EMPTY2
EMPTY2

RUN "<<NOHEREDOC"

RUN <<INDENT
\tfoo
\tbar
INDENT

RUN <<-UNINDENT
\tbaz
\tquux
UNINDENT

RUN <<-UNINDENT2
\tbaz
\tquux
\tUNINDENT2

RUN <<-EXPAND
\texpand $NAME
EXPAND

RUN <<-'NOEXPAND'
\tdon't expand $NAME
NOEXPAND

RUN <<COPY
echo hello world
echo foo bar
COPY

RUN <<COMMENT
# internal comment
echo hello world
echo foo bar # trailing comment
COMMENT

RUN --mount=type=cache,target=/foo <<MOUNT
echo hello
MOUNT

COPY <<FILE1 <<FILE2 /dest
content 1
FILE1
content 2
FILE2

COPY <<EOF /quotes
"foo"
'bar'
EOF

COPY <<X <<Y /dest
Y
X
X
Y

RUN <<COMPLEX python3
print('hello world')
COMPLEX

COPY <<file.txt /dest
hello world
file.txt

RUN <<eo'f'
echo foo
eof

RUN <<eo\\'f
echo foo
eo'f

RUN <<'e'o\\'f
echo foo
eo'f

RUN <<'one two'
echo bar
one two

RUN <<$EOF
$EOF

RUN <<  EOF
EOF

RUN <<  EOF  > foo
EOF
\t"""

# (name, content, expand, chomp, fd) per instruction after FROM, as BuildKit expects.
HEREDOC_EXPECTED: list[list[tuple[str, str, bool, bool, int]]] = [
    [], [], [], [],
    [("EMPTY", "", True, False, 0)],
    [("EMPTY2", "", True, False, 3)],
    [],
    [("INDENT", "\tfoo\n\tbar\n", True, False, 0)],
    [("UNINDENT", "\tbaz\n\tquux\n", True, True, 0)],
    [("UNINDENT2", "\tbaz\n\tquux\n", True, True, 0)],
    [("EXPAND", "\texpand $NAME\n", True, True, 0)],
    [("NOEXPAND", "\tdon't expand $NAME\n", False, True, 0)],
    [("COPY", "echo hello world\necho foo bar\n", True, False, 0)],
    [("COMMENT", "# internal comment\necho hello world\necho foo bar # trailing comment\n", True, False, 0)],
    [("MOUNT", "echo hello\n", True, False, 0)],
    [("FILE1", "content 1\n", True, False, 0), ("FILE2", "content 2\n", True, False, 0)],
    [("EOF", "\"foo\"\n'bar'\n", True, False, 0)],
    [("X", "Y\n", True, False, 0), ("Y", "X\n", True, False, 0)],
    [("COMPLEX", "print('hello world')\n", True, False, 0)],
    [("file.txt", "hello world\n", True, False, 0)],
    [("eof", "echo foo\n", False, False, 0)],
    [("eo'f", "echo foo\n", True, False, 0)],
    [("eo'f", "echo foo\n", False, False, 0)],
    [("one two", "echo bar\n", False, False, 0)],
    [("$EOF", "", True, False, 0)],
    [("EOF", "", True, False, 0)],
    [("EOF", "", True, False, 0)],
]


def test_heredocs_match_buildkit() -> None:
    document = parse(HEREDOC_FILE)
    # BuildKit's parser test only parses; its instruction parser would refuse the body line.
    assert [e.message for e in document.errors] == ["unknown instruction: INVALID"]
    assert str(document) == HEREDOC_FILE
    got = [
        [(h.name, h.content, h.expand, h.chomp, h.fd) for h in ins.heredocs]
        for ins in document.instructions[1:]
    ]
    assert got == HEREDOC_EXPECTED


def test_heredoc_spans_point_at_body_and_terminator() -> None:
    source = "FROM a\nRUN <<EOT\necho hi\nEOT\nRUN true\n"
    document = parse(source)
    run = document.instructions[1]
    (heredoc,) = run.heredocs
    assert source[heredoc.body_start : heredoc.body_end] == "echo hi\n"
    assert source[heredoc.terminator_start : heredoc.terminator_end] == "EOT"
    assert (run.start_line, run.end_line) == (2, 4)
    assert document.instructions[2].logical == "RUN true"


def test_json_form_has_no_heredocs() -> None:
    document = parse('FROM a\nRUN ["whoami"]\nRUN ["<<EOT"]\nRUN ["<<\'EOT\'"]\n')
    assert all(not ins.heredocs for ins in document.instructions)
    assert document.errors == []


@pytest.mark.parametrize(
    "word", ["<<EOF", "<<'EOF'", '<<"EOF"', "<<-EOF", "<<-'EOF'", '<<-"EOF"', '<<EO"F"', "<< EOF", "<<- EOF"]
)
def test_valid_heredoc_words(word: str) -> None:
    header = heredoc_from_word(word)
    assert header is not None and header.name == "EOF"


@pytest.mark.parametrize("word", ["<<'EOF", '<<"EOF', "<<EOF'", '<<EOF"'])
def test_invalid_heredoc_words(word: str) -> None:
    with pytest.raises(HeredocError):
        heredoc_from_word(word)


@pytest.mark.parametrize("word", ["", "EOF", "<<", "<<-", "<EOF", "<<<EOF", "<<EOF sh"])
def test_not_heredoc_words(word: str) -> None:
    assert heredoc_from_word(word) is None


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("RUN <<EOF", ["EOF"]),
        ("RUN <<-EOF", ["EOF"]),
        ("RUN <<- EOF", ["EOF"]),
        ("RUN << -EOF", ["-EOF"]),
        ("RUN <<'EOF'", ["EOF"]),
        ("RUN 4<<EOF", ["EOF"]),
        ("RUN <<EOF <<EOF2", ["EOF", "EOF2"]),
        ("RUN '<<EOF'", []),
        ('RUN "<<EOF"', []),
    ],
)
def test_heredocs_from_line(line: str, names: list[str]) -> None:
    assert [h.name for h in heredocs_from_line(line)] == names


def test_unterminated_heredoc_is_an_error_but_round_trips() -> None:
    source = "FROM a\nRUN <<EOT\necho hi\n"
    document = parse(source)
    assert [e.message for e in document.errors] == ["unterminated heredoc"]
    assert str(document) == source


def test_heredoc_directly_followed_by_next_instruction() -> None:
    document = parse("FROM a\nCOPY <<EOT /x\nhi\nEOT\nRUN cat /x\n")
    assert [i.name for i in document.instructions] == ["FROM", "COPY", "RUN"]
    assert document.instructions[2].start_line == 5


def test_crlf_and_bom() -> None:
    source = "\ufeffFROM a\r\nRUN echo a \\\r\n  b\r\n"
    document = parse(source)
    assert document.bom
    assert str(document) == source
    run = document.instructions[1]
    assert run.logical == "RUN echo a   b"
    assert run.arguments[0].value == "echo a   b"
    assert source[run.start : run.end] == "RUN echo a \\\r\n  b"
    assert isinstance(document.nodes[0], Trivia) and document.nodes[0].kind == "bom"


def test_backtick_escape_directive() -> None:
    source = "# escape=`\nFROM windows\nRUN dir `\n  c:\\\nRUN echo \\\n"
    document = parse(source)
    assert document.escape == "`"
    assert [d.name for d in document.directives] == ["escape"]
    assert document.instructions[1].logical == "RUN dir   c:\\"
    # a backslash is an ordinary character under the backtick escape
    assert document.instructions[2].arguments[0].value == "echo \\"


def test_directives_stop_at_first_non_directive() -> None:
    document = parse("# syntax=docker/dockerfile:1\n# check=skip=all\n# comment\n# escape=`\nFROM a\n")
    assert [(d.name, d.value) for d in document.directives] == [
        ("syntax", "docker/dockerfile:1"),
        ("check", "skip=all"),
    ]
    assert document.escape == "\\"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("# escape=x\nFROM a\n", "invalid escape token"),
        ("# syntax=a\n# syntax=b\nFROM a\n", "only one syntax parser directive"),
        ("", "file with no instructions"),
        ("\n\n# only a comment\n", "file with no instructions"),
        ("FROM a\nENV X\n", "ENV must have two arguments"),
        ("FROM a\nLABEL a=b c\n", "can't find = in"),
        ('FROM a\nCMD ["a", 1]\n', "arrays must be comprised of strings"),
    ],
)
def test_errors(source: str, message: str) -> None:
    document = parse(source)
    assert any(message in e.message for e in document.errors), document.errors
    assert str(document) == source


def test_trailing_escape_at_eof_keeps_the_last_instruction() -> None:
    document = parse("FROM a\nRUN something \\")
    assert dump(document) == '(from "a")\n(run "something")\n'


def test_comments_and_blank_lines_inside_continuation() -> None:
    source = (
        "FROM a\nRUN apt-get update \\\n\n    # a comment\n    && apt-get install -y x \\\n"
        "  # another\n    && true\nUSER x\n"
    )
    document = parse(source)
    run = document.instructions[1]
    assert run.logical == "RUN apt-get update     && apt-get install -y x     && true"
    assert (run.start_line, run.end_line) == (2, 7)
    assert document.warnings and "empty continuation" in document.warnings[0].message
    assert document.instructions[2].name == "USER"


def test_logical_offsets_map_back_to_source() -> None:
    source = "FROM a\nRUN echo one \\\n  && echo two\n"
    document = parse(source)
    run = document.instructions[1]
    pos = run.logical.index("two")
    assert source[run.to_source(pos) : run.to_source(pos) + 3] == "two"
    start, end = run.source_range(run.args_start, len(run.logical))
    assert source[start:end] == "echo one \\\n  && echo two"


def test_flags_with_spans() -> None:
    source = (
        "FROM a AS b\nCOPY --from=b --chmod=755 --link src /dst\n"
        "RUN --mount=type=cache,target=/root/.cache --network=none pip install x\n"
    )
    document = parse(source)
    copy, run = document.instructions[1], document.instructions[2]
    assert [(f.name, f.value) for f in copy.flags] == [("from", "b"), ("chmod", "755"), ("link", None)]
    assert source[copy.flags[0].start : copy.flags[0].end] == "--from=b"
    assert copy.values == ["src", "/dst"]
    assert run.flag_values("mount") == ["type=cache,target=/root/.cache"]
    assert run.args_text == "pip install x"
    assert source[run.arguments[0].start : run.arguments[0].end] == "pip install x"


def test_onbuild_and_from_as() -> None:
    document = parse("ARG V=1\nFROM img:$V AS Build\nONBUILD RUN --mount=type=cache,target=/c echo hi\n")
    onbuild = document.instructions[2]
    assert onbuild.onbuild is not None
    assert onbuild.onbuild.name == "RUN"
    assert onbuild.onbuild.flag_values("mount") == ["type=cache,target=/c"]
    assert dump(document) == (
        '(arg "V=1")\n(from "img:$V" "AS" "Build")\n(onbuild (run ["--mount=type=cache,target=/c"] "echo hi"))\n'
    )


def test_unknown_instruction_is_parsed_but_marked_and_an_error() -> None:
    document = parse("FROM a\nFOO bar\n")
    assert document.instructions[1].known is False
    assert [e.message for e in document.errors] == ["unknown instruction: FOO"]


def test_a_lone_escape_line_is_an_empty_instruction_like_buildkit() -> None:
    document = parse("FROM a\n\\\n")
    assert [e.message for e in document.errors] == ["unknown instruction: "]
    assert str(document) == "FROM a\n\\\n"


def test_exec_form() -> None:
    document = parse('FROM a\nRUN ["sh", "-c", "echo hi"]\nCMD ["a b"]\n')
    assert document.instructions[1].is_json
    assert document.instructions[1].values == ["sh", "-c", "echo hi"]


@pytest.mark.parametrize(
    "source",
    [
        "FROM a\n" + "RUN x \\\n" * 20000 + "  y\n",
        "FROM a\nRUN " + "x" * 1_000_000 + "\n",
        "FROM a\n\x00\x01\x02 binary\n",
        "\\\n\\\n",
        "FROM a\n\\",
        "\r\r\n\r",
        "FROM a\nRUN <<EOT\n" + "x\n" * 50000,
    ],
    ids=["long-continuation", "1MB-line", "binary", "lone-escapes", "escape-at-eof", "bare-cr", "open-heredoc"],
)
def test_hostile_inputs_round_trip(source: str) -> None:
    _tiles(source)
