"""RUN merging: when it is provably equivalent, and that the text keeps the file's style."""
from __future__ import annotations

import pytest

from dockopt import parse
from dockopt.diagnostics import Applicability
from dockopt.fixes.fixer import apply_edits
from dockopt.fixes.merge import has_comment, plan_merge
from dockopt.model import build_model
from tests.lintkit import fixed
from tests.trace import prove, unavailable

NO_SANDBOX = unavailable()


def assert_proven(original: str, result: str) -> None:
    """The trace harness (tests/trace) runs both builds under dash and bash: same trace and
    outcome in every scenario."""
    if NO_SANDBOX is None:
        verdict = prove(original, result)
        assert verdict.proven, str(verdict)


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
    ("first", "expected"),
    [
        # Was: unsafe, "the first RUN's state would reach the second". A subshell keeps the
        # state in: safe (tests/test_merge_semantics.py runs these forms under dash and bash).
        ("cd /tmp", "RUN ( cd /tmp ) \\\n    && touch x\n"),
        ("export A=1", "RUN ( export A=1 ) \\\n    && touch x\n"),
        ("A=1", "RUN ( A=1 ) \\\n    && touch x\n"),
        (". ./env.sh", "RUN ( . ./env.sh ) \\\n    && touch x\n"),
        ("umask 077", "RUN ( umask 077 ) \\\n    && touch x\n"),
        ("f() { true; }", "RUN ( f() { true; } ) \\\n    && touch x\n"),
        ("exit 0", "RUN ( exit 0 ) \\\n    && touch x\n"),
        # `set -e` left on cannot change `touch x` (one command: -e only decides the status,
        # which is the script's status anyway).
        ("set -e", "RUN set -e \\\n    && touch x\n"),
    ],
)
def test_state_leaks_are_kept_in_a_subshell(first: str, expected: str) -> None:
    original = f"FROM a\nRUN {first}\nRUN touch x\n"
    text, applicability, why = merge(original)
    assert (text, applicability, why) == (f"FROM a\n{expected}", Applicability.SAFE, "")
    assert parse(text).errors == []
    if first != ". ./env.sh":  # the harness cannot source a file that does not exist: unprovable
        assert_proven(original, text)


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
    # On a Linux image: with an image of unknown family the backtick means Windows, whose
    # cmd.exe RUNs are not merged (tests/test_layers.py, test_windows_runs_are_not_merged).
    source = "# escape=`\r\nFROM debian\r\nRUN a\r\nRUN b\r\n"
    result = fixed(source, "DO105")
    assert result.text == "# escape=`\r\nFROM debian\r\nRUN a `\r\n    && b\r\n"


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


def test_second_script_that_does_not_parse_is_not_merged() -> None:
    # Was unsafe; an unparsable script cannot be grouped or proven: no fix.
    assert merge("FROM a\nRUN a\nRUN for x in 1; do echo; done fi\n")[0] is None


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


# -- issue 14, item 1: the merged RUN must fail exactly when one of the RUNs failed --------
@pytest.mark.parametrize(
    ("code", "text", "expected"),
    [
        # `false && rm -rf /opt/old || true` exited 0: the build no longer failed.
        ("DO105", "FROM a\nRUN false\nRUN rm -rf /opt/old || true\n",
         "FROM a\nRUN false \\\n    && { rm -rf /opt/old || true; }\n"),
        # the same where the first RUN fails only in one of the harness's scenarios
        ("DO105", "FROM a\nRUN make\nRUN rm -rf /opt/old || true\n",
         "FROM a\nRUN make \\\n    && { rm -rf /opt/old || true; }\n"),
        # `... && echo cleaning; rm -rf ...`: a failed install was hidden.
        ("DO105", "FROM debian\nRUN apt-get update && apt-get install -y curl\n"
                  "RUN echo cleaning; rm -rf /var/lib/apt/lists/*\n",
         "FROM debian\nRUN apt-get update && apt-get install -y curl \\\n"
         "    && { echo cleaning; rm -rf /var/lib/apt/lists/*; }\n"),
        # DO101's default (safe) fix gave `... && rm -rf /var/lib/apt/lists/* || true`.
        ("DO101", "FROM debian\nRUN apt-get update && apt-get install -y curl\n"
                  "RUN rm -rf /var/lib/apt/lists/* || true\n",
         "FROM debian\nRUN apt-get update && apt-get install -y curl \\\n"
         "    && { rm -rf /var/lib/apt/lists/* || true; }\n"),
        # A failed useradd skipped `set -ex` and ran the checks without it.
        ("DO105", "FROM debian\nRUN useradd app\nRUN set -ex; \\\n    gpg --verify a.sig; \\\n    echo ok\n",
         "FROM debian\nRUN useradd app \\\n    && { set -ex; \\\n    gpg --verify a.sig; \\\n    echo ok; }\n"),
    ],
)
def test_merges_do_not_mask_a_failure(code: str, text: str, expected: str) -> None:
    assert fixed(text, code).text == expected
    assert_proven(text, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # -e from SHELL: `( A ) && B` would switch it off inside A; as a statement of its
        # own, a failing `( A )` stops the shell (-e) with A's status: `( A ); B`.
        ('FROM a\nSHELL ["/bin/sh", "-ec"]\nRUN cd /tmp; make\nRUN touch b\n',
         'FROM a\nSHELL ["/bin/sh", "-ec"]\nRUN ( cd /tmp; make ); \\\n    touch b\n'),
        # set -e in a script that also changes state: A begins with `set -e`, so turning -e on
        # just before its subshell changes nothing in A, and stops the shell when A fails.
        ("FROM a\nRUN set -e; cd /src; make\nRUN touch b\n",
         "FROM a\nRUN set -e; ( set -e; cd /src; make ); set +e; \\\n    touch b\n"),
        # ... not when something runs before A's `set -e`.
        ("FROM a\nRUN cd /src; set -e; make\nRUN touch b\n", None),
        # set -e left on, the second script a single command: it cannot feel -e.
        ("FROM a\nRUN set -e; make\nRUN touch b\n", "FROM a\nRUN set -e; make \\\n    && touch b\n"),
        # set -e left on, the second a sequence that would feel it: isolated as above.
        ("FROM a\nRUN set -e; make\nRUN touch b; touch c\n",
         "FROM a\nRUN set -e; ( set -e; make ); set +e; \\\n    touch b; touch c\n"),
        ("FROM a\nRUN set -ex; make\nRUN set -ex; touch b; touch c\n",
         "FROM a\nRUN set -ex; make \\\n    && { set -ex; touch b; touch c; }\n"),
        # The first script ends in a subshell that relies on -e: `&&` would switch -e off in
        # it; the shell stops on its own when that subshell fails, so `;` joins.
        ("FROM a\nRUN set -e; (cd /tmp; make)\nRUN set -e; touch b; touch c\n",
         "FROM a\nRUN set -e; (cd /tmp; make); \\\n    set -e; touch b; touch c\n"),
        # A loop's variable leaks (subshell needed) and -e is on.
        ("FROM a\nRUN set -e; for p in a b; do make $p; done\nRUN touch b\n",
         "FROM a\nRUN set -e; ( set -e; for p in a b; do make $p; done ); set +e; \\\n    touch b\n"),
        ("FROM a\nRUN A=1; set -e; for p in a b; do make $p; done\nRUN touch b\n", None),
        ("FROM a\nRUN set -e; if make; then make install; fi\nRUN touch b\n", None),
        # pipefail left on matters only where there is a pipeline.
        ("FROM a\nRUN set -o pipefail; make | tee log\nRUN touch b\n",
         "FROM a\nRUN set -o pipefail; make | tee log \\\n    && touch b\n"),
        ("FROM a\nRUN set -o pipefail; make | tee log\nRUN curl x | sh\n",
         "FROM a\nRUN ( set -o pipefail; make | tee log ) \\\n    && curl x | sh\n"),
        # A background job would run on while the second RUN runs.
        ("FROM a\nRUN serve & sleep 1\nRUN touch b\n", None),
    ],
)
def test_errexit_options_and_background(text: str, expected: str | None) -> None:
    assert merge(text)[0] == expected
    if expected is not None:
        assert_proven(text, expected)
