"""DO101's span merge (issue 15): a cleanup RUN far from the RUN that made the mess is merged
together with every RUN between, when each step is the merge primitive's proven merge."""
from __future__ import annotations

import pytest

from dockopt.diagnostics import Applicability
from tests.lintkit import findings, fixed

CLASSIC = """FROM debian:bookworm-slim
RUN apt-get update
RUN apt-get install -y --no-install-recommends curl
RUN apt-get clean
RUN rm -rf /var/lib/apt/lists/*
"""
CAREFUL = """FROM debian:bookworm-slim
RUN apt-get update \\
    && apt-get install -y --no-install-recommends curl \\
    && apt-get clean \\
    && rm -rf /var/lib/apt/lists/*
"""


def test_the_classic_split_ends_as_the_careful_run_with_the_default_rules() -> None:
    from dockopt.checks import rule_defaults

    defaults = [code for code, on in rule_defaults().items() if on and code.startswith("DO")]
    assert fixed(CLASSIC, *defaults).text == CAREFUL


def test_a_span_fix_is_one_edit_naming_every_merged_line() -> None:
    [d] = findings(CLASSIC, "DO101")
    assert d.fix is not None and d.fix.applicability is Applicability.SAFE
    assert "lines 3, 4, 5 into the RUN on line 2" in d.fix.message


@pytest.mark.parametrize("between", ["WORKDIR /tmp", "ENV A=1", "USER nobody", "COPY a /a"])
def test_anything_but_a_run_between_ends_the_span(between: str) -> None:
    text = CLASSIC.replace("RUN apt-get clean\n", f"RUN apt-get clean\n{between}\n")
    [d] = findings(text, "DO101")
    assert d.fix is None or "Merge the RUNs" not in d.fix.message


def test_a_failure_masking_cleanup_is_braced_so_a_failed_install_still_fails() -> None:
    text = CLASSIC.replace("RUN rm -rf /var/lib/apt/lists/*", "RUN rm -rf /var/lib/apt/lists/* || true")
    result = fixed(text, "DO101").text
    assert "{ rm -rf /var/lib/apt/lists/* || true; }" in result and result.count("RUN ") == 1


def test_state_leaking_between_runs_is_kept_in_a_subshell() -> None:
    text = CLASSIC.replace("RUN apt-get clean", "RUN cd /tmp && apt-get clean")
    result = fixed(text, "DO101").text
    assert result.count("RUN ") == 1 and "( " in result  # the cd does not reach the rm


def test_one_removal_of_several_layers_names_each_layer_and_merges_from_the_earliest() -> None:
    text = ("FROM debian:bookworm-slim\nRUN curl -fsSLo /tmp/tool.tar.gz https://example.com/t.tar.gz\n"
            "RUN mkdir /tmp/build && make -C /tmp/build\nRUN rm -rf /tmp/*\n")
    [d] = findings(text, "DO101")
    assert "the downloaded file (unknown size) came from the RUN on line 2" in d.message
    assert "the build output (unknown size) came from the RUN on line 3" in d.message
    assert fixed(text, "DO101").text.count("RUN ") == 1


def test_a_builder_stage_cleanup_is_only_info_without_a_fix() -> None:
    from dockopt.diagnostics import Severity

    text = ("FROM debian:bookworm-slim AS build\nRUN apt-get update\nRUN rm -rf /var/lib/apt/lists/*\n"
            "FROM debian:bookworm-slim\nCOPY --from=build /etc/hostname /x\n")
    [d] = findings(text, "DO101")
    assert d.severity is Severity.INFO and d.fix is None and "does not ship" in d.message


def test_a_heredoc_run_gets_the_cleanup_inside_its_body() -> None:
    text = ("FROM debian:bookworm-slim\nRUN <<EOF\nset -e\napt-get update\napt-get install -y curl\nEOF\n"
            "RUN rm -rf /var/lib/apt/lists/*\n")
    result = fixed(text, "DO101").text
    assert result.count("RUN ") == 1
    body = result.split("<<EOF\n", 1)[1].split("\nEOF", 1)[0]
    assert "rm -rf /var/lib/apt/lists/*" in body


@pytest.mark.parametrize("between", ["WORKDIR /app", "ENV APP_HOME=/srv", "LABEL a=b"])
def test_a_literal_rm_moves_safely_past_env_workdir_and_metadata(between: str) -> None:
    text = (f"FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\n{between}\n"
            "RUN rm -rf /var/lib/apt/lists/*\n")
    result = fixed(text, "DO101").text
    assert result == (f"FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl && "
                      f"rm -rf /var/lib/apt/lists/*\n{between}\n")


@pytest.mark.parametrize("between", ["ENV PATH=/opt/bin:$PATH", "WORKDIR /var/lib/apt/lists/x", "USER nobody",
                                     "COPY a /a"])
def test_no_safe_move_past_what_could_change_the_rm(between: str) -> None:
    text = (f"FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\n{between}\n"
            "RUN rm -rf /var/lib/apt/lists/*\n")
    [d] = findings(text, "DO101")
    assert d.fix is None or d.fix.applicability is not Applicability.SAFE


def test_a_cleanup_after_an_unmodelled_build_step_is_merged_into_the_run_right_before() -> None:
    text = "FROM debian:bookworm-slim\nCOPY Makefile /src/\nRUN make -C /src\nRUN rm -rf /src/build\n"
    [d] = findings(text, "DO101")
    assert "unknown size" in d.message
    assert fixed(text, "DO101").text.endswith("RUN make -C /src \\\n    && rm -rf /src/build\n")


@pytest.mark.parametrize("codes", [("DO101",), ("DO102",)])
def test_a_crlf_heredoc_body_gets_no_appended_cleanup(codes: tuple[str, ...]) -> None:
    """BuildKit passes a heredoc body to the shell byte for byte (its parser keeps each body
    line's CR): `apt-get update\\r` fails. An append before the CR would make the build pass
    (`apt-get update && rm ...\\r`), so the body is left alone (found by the fix fuzzer)."""
    text = ("FROM debian:bookworm-slim\r\nRUN <<EOF\r\napt-get update\r\napt-get install -y curl\r\nEOF\r\n"
            + ("RUN rm -rf /var/lib/apt/lists/*\r\n" if "DO101" in codes else ""))
    result = fixed(text, *codes)
    assert "<<EOF\r\napt-get update\r\napt-get install -y curl\r\nEOF" in result.text, result.text
