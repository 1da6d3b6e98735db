"""RUN merging: when it is provably equivalent, and that the text keeps the file's style."""
from __future__ import annotations

import pytest

from dockopt import parse
from dockopt.diagnostics import Applicability
from dockopt.fixes.fixer import apply_edits
from dockopt.fixes.merge import has_comment, plan_merge
from dockopt.model import build_model
from tests.lintkit import fixed


def merge(text: str) -> tuple[str | None, Applicability | None, str]:
    build = build_model(parse(text))
    first, second = build.stages[0].runs[:2]
    plan = plan_merge(build, first, second)
    if plan is None:
        return None, None, ""
    return apply_edits(text, list(plan.edits)), plan.applicability, plan.reason


def test_simple_merge_is_safe() -> None:
    text, applicability, _ = merge("FROM a\nRUN a\nRUN b\n")
    assert text == "FROM a\nRUN a \\\n    && b\n" and applicability is Applicability.SAFE


@pytest.mark.parametrize(
    ("first", "reason"),
    [
        ("cd /tmp", "'cd' changes the shell state"),
        ("export A=1", "'export'"),
        ("set -e", "'set'"),
        ("A=1", "assigns shell variable"),
        (". ./env.sh", "'.'"),
        ("umask 077", "'umask'"),
        ("f() { true; }", "function"),
        ("exit 0", "'exit'"),
    ],
)
def test_state_leaks_make_it_unsafe(first: str, reason: str) -> None:
    text, applicability, why = merge(f"FROM a\nRUN {first}\nRUN touch x\n")
    assert applicability is Applicability.UNSAFE and reason in why
    assert text is not None and parse(text).errors == []


def test_state_inside_a_subshell_does_not_leak() -> None:
    _, applicability, _ = merge("FROM a\nRUN (cd /tmp && make)\nRUN touch x\n")
    assert applicability is Applicability.SAFE


def test_different_flags_are_unsafe() -> None:
    _, applicability, why = merge("FROM a\nRUN --mount=type=cache,target=/c a\nRUN b\n")
    assert applicability is Applicability.UNSAFE and "flags" in why


def test_second_run_with_flags_of_its_own_is_not_merged() -> None:
    # `cat /test/hello` needs its mount; the joined RUN would run it without.
    assert merge("FROM a\nRUN mkdir /test\nRUN --mount=type=cache,from=b,target=/test cat /test/hello\n")[0] is None
    assert merge("FROM a\nRUN --network=none a\nRUN --network=host b\n")[0] is None


@pytest.mark.parametrize(
    "text",
    [
        'FROM a\nRUN ["a"]\nRUN b\n',  # exec form
        "FROM a\nRUN <<EOT\na\nEOT\nRUN b\n",  # heredoc
        "FROM a\nRUN a # trailing comment\nRUN b\n",  # the && would be commented out
        "FROM a\nRUN a &\nRUN b\n",  # background job
        "FROM a\nRUN a\nENV X=1\nRUN b\n",  # an instruction between
    ],
)
def test_declined(text: str) -> None:
    assert merge(text)[0] is None


def test_trailing_semicolon_is_dropped() -> None:
    text, applicability, _ = merge("FROM a\nRUN a;\nRUN b\n")
    assert text == "FROM a\nRUN a \\\n    && b\n" and applicability is Applicability.SAFE


def test_trailing_operator_style_is_kept() -> None:
    text, _, _ = merge("FROM a\nRUN a && \\\n  b\nRUN c\n")
    assert text == "FROM a\nRUN a && \\\n  b && \\\n  c\n"


def test_backtick_escape_and_crlf_are_kept() -> None:
    source = "# escape=`\r\nFROM a\r\nRUN a\r\nRUN b\r\n"
    result = fixed(source, "DO105")
    assert result.text == "# escape=`\r\nFROM a\r\nRUN a `\r\n    && b\r\n"


def test_comment_between_stays_inside_the_continuation() -> None:
    text, _, _ = merge("FROM a\nRUN a\n# why b\nRUN b\n")
    assert text == "FROM a\nRUN a \\\n# why b\n    && b\n"
    assert text is not None and parse(text).instructions[1].logical == "RUN a     && b"


def test_three_runs_merge_over_passes() -> None:
    result = fixed("FROM a\nRUN a\nRUN b\nRUN c\n", "DO105")
    assert result.text == "FROM a\nRUN a \\\n    && b \\\n    && c\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("echo a # c", True), ("echo 'a # c'", False), ('echo "#"', False), ("echo a#b", False), ("a;#c", True)],
)
def test_has_comment(text: str, expected: bool) -> None:
    assert has_comment(text) is expected


def test_comment_lines_before_the_second_command_are_kept() -> None:
    text, _, _ = merge("FROM a\nRUN a\nRUN \\\n# why b\n    b\n")
    assert text is not None and "# why b" in text
    assert parse(text).instructions[1].logical.split() == ["RUN", "a", "&&", "b"]


def test_second_script_that_does_not_parse_is_unsafe() -> None:
    _, applicability, why = merge("FROM a\nRUN a\nRUN for x in 1; do echo; done fi\n")
    assert applicability is Applicability.UNSAFE and "does not parse" in why


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A dangling escape at the end of the file: appending after it gave `curl \ && ...`,
        # an escaped space that apt-get reads as one more package name.
        ("FROM debian\nRUN apt-get update && apt-get install -y curl \\",
         "FROM debian\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/* \\"),
        ("FROM debian\nRUN apt-get update \\\n    && apt-get install -y \\\n       curl \\\n",
         "FROM debian\nRUN apt-get update \\\n    && apt-get install -y \\\n       curl \\\n"
         "    && rm -rf /var/lib/apt/lists/* \\\n"),
        # Comment lines at the end of a continuation stay as they are, after the new command
        # (found by the fix fuzzer: the comment got a trailing escape).
        ("FROM debian\nRUN apt-get update \\\n    && apt-get install -y \\\n       curl \\\n       # jq",
         "FROM debian\nRUN apt-get update \\\n    && apt-get install -y \\\n       curl \\\n"
         "    && rm -rf /var/lib/apt/lists/* \\\n       # jq"),
    ],
)
def test_appended_cleanup_goes_after_the_last_command_text(text: str, expected: str) -> None:
    result = fixed(text, "DO102", unsafe=True)
    assert result.text == expected
    ins = parse(result.text).instructions[-1]
    assert ins.logical.rstrip().endswith("&& rm -rf /var/lib/apt/lists/*")


def test_a_comment_with_a_unicode_line_separator_is_kept_whole() -> None:
    # str.splitlines breaks at \x85 (NEL); BuildKit does not: the fix fuzzer found a merge
    # that kept "#" and dropped the rest of the comment.
    text, _, _ = merge("FROM a\nRUN a\n#\x85 note\u2028more\nRUN b\n")
    assert text == "FROM a\nRUN a \\\n#\x85 note\u2028more\n    && b\n"


def test_physical_lines_break_at_line_feeds_only() -> None:
    from dockopt.text import physical_lines

    assert physical_lines("a\x85b\r\nc\u2028d\n") == ["a\x85b", "c\u2028d"]
    assert physical_lines("a\r\nb", keepends=True) == ["a\r\n", "b"]
    assert "".join(physical_lines("x\x0cy\n\nz\n", keepends=True)) == "x\x0cy\n\nz\n"
