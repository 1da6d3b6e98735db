"""BuildKit's instruction-level errors as DO000 (issue 17, item 4): what the build refuses
although the line parser accepts it, with BuildKit's wording (moby/buildkit
frontend/dockerfile/instructions: parse.go, bflag.go, commands_run*.go) and the column of
the offending flag or argument."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockopt import parse
from dockopt.syntax.validate import go_duration, validate
from tests.corpus import corpus_files
from tests.test_cli import dockopt

CASES = [
    # (Dockerfile, line, column, message)
    ("RUN echo hi\n", 1, 1, "no build stage in current context"),
    ("ARG V=1\nRUN echo hi\n", 2, 1, "no build stage in current context"),
    ("ARG V=1\n", 1, 1, "dockerfile contains no stages to build"),
    ("FROM a\nCOPY onlyone\n", 2, 6,
     "COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
    ("FROM a\nADD onlyone\n", 2, 5,
     "ADD requires at least two arguments, but only one was provided. Destination could not be determined"),
    ("FROM a\nWORKDIR\n", 2, 1, "WORKDIR requires exactly one argument"),
    ("FROM a\nEXPOSE\n", 2, 1, "EXPOSE requires at least one argument"),
    ("FROM a\nSTOPSIGNAL\n", 2, 1, "STOPSIGNAL requires exactly one argument"),
    ("FROM a\nUSER\n", 2, 1, "USER requires exactly one argument"),
    ("FROM a\nCOPY --bogus a /b\n", 2, 6, "unknown flag: --bogus"),
    ("FROM a\nCOPY --frm=x a /b\n", 2, 6, "unknown flag: --frm (did you mean from?)"),
    ("FROM a\nCOPY --from b /c\n", 2, 6, "missing a value on flag: --from"),
    ("FROM a\nCOPY --link=maybe a /b\n", 2, 6, "expecting boolean value for flag --link, not: maybe"),
    ("FROM a\nCOPY --chown=a --chown=b x /y\n", 2, 16, "duplicate flag specified: --chown"),
    ("FROM a\nCMD --foo bar\n", 2, 5, "unknown flag: --foo"),
    ("FROM a\nRUN --mount=type=bogus true\n", 2, 5, 'unsupported mount type "bogus"'),
    ("FROM a\nRUN --mount=type=cahce,target=/x true\n", 2, 5, 'unsupported mount type "cahce" (did you mean cache?)'),
    ("FROM a\nRUN --mount=type=cache,sharing=everyone,target=/x true\n", 2, 5, 'unsupported sharing value "everyone"'),
    ("FROM a\nRUN --mount=type=bind,uid=0,target=/x true\n", 2, 5, 'uid not allowed for "bind" type mounts'),
    ("FROM a\nRUN --mount=type=secret true\n", 2, 5, "invalid secret mount. one of source, target required"),
    ("FROM a\nRUN --mount=type=cache,target=/x,z true\n", 2, 5, "invalid field 'z' must be a key=value pair"),
    ("FROM a\nRUN --network=fake true\n", 2, 5, 'invalid network mode "fake"'),
    ("FROM a\nHEALTHCHECK --interval=abc CMD true\n", 2, 13, 'time: invalid duration "abc"'),
    ("FROM a\nHEALTHCHECK --timeout=30 CMD true\n", 2, 13, 'time: missing unit in duration "30"'),
    ("FROM a\nHEALTHCHECK --interval=3x CMD true\n", 2, 13, 'time: unknown unit "x" in duration "3x"'),
    ("FROM a\nHEALTHCHECK --interval=10us CMD true\n", 2, 13, 'Interval "interval" cannot be less than 1ms'),
    ("FROM a\nHEALTHCHECK --retries=-1 CMD true\n", 2, 13, "--retries cannot be negative (-1)"),
    ("FROM a\nHEALTHCHECK CONNECT x\n", 2, 13, 'Unknown type "CONNECT" in HEALTHCHECK (try CMD)'),
    ("FROM a\nHEALTHCHECK NONE x\n", 2, 18, "HEALTHCHECK NONE takes no arguments"),
    ("FROM a\nHEALTHCHECK CMD\n", 2, 13, "Missing command after HEALTHCHECK CMD"),
    ("FROM a AS 1st\n", 1, 11, 'invalid name for build stage: "1st", name can\'t start with a number or contain symbols'),
    ("FROM a b\n", 1, 8, "FROM requires either one or three arguments"),
    ("FROM a\nSHELL sh -c\n", 2, 7, "SHELL requires the arguments to be in JSON form"),
    ("FROM a\nONBUILD\n", 2, 1, "ONBUILD requires at least one argument"),
    ("FROM a\nVOLUME [\"\"]\n", 2, 8, "VOLUME specified can not be an empty string"),
]

VALID = [
    "FROM a\nCOPY --from=build --chown=1:1 --chmod=644 --link --exclude=*.md --exclude=x a /b\n",
    "FROM a\nCOPY --from= a /b\n",  # BuildKit takes an empty --from as the build context (convert.go)
    "FROM a\nADD --checksum=sha256:0 --keep-git-dir=true --unpack=false https://x/y /z\n",
    "FROM a\nRUN --mount=type=cache,target=/root/.cache,sharing=locked,id=pip,uid=0,mode=0755 "
    "--mount=type=secret,id=tok,required --mount=type=tmpfs,target=/t,size=64m --network=none true\n",
    "FROM a\nRUN --mount=type=$T,target=/x --security=insecure true\n",  # expanded at build time
    "FROM a\nHEALTHCHECK --interval=1m30s --timeout=0 --start-period=1.5s --start-interval=5s --retries=3 "
    "CMD curl -f http://localhost/\n",
    "FROM a\nHEALTHCHECK NONE\n",
    "FROM a\nSTOPSIGNAL SIGTERM\nUSER a b\n",  # USER's argument is the rest of the line
    "ARG BASE=a\nFROM ${BASE} AS build.stage-1_x\nWORKDIR /app\nEXPOSE 80 443/udp\nUSER app\n",
    "FROM a\nONBUILD RUN echo hi\nSHELL [\"/bin/sh\", \"-c\"]\nENV A=1 B=2\nLABEL a=b\n",
    "# syntax=example.com/other/frontend:1\nRUN echo without FROM, another frontend's business\n",
]


@pytest.mark.parametrize(("text", "line", "column", "message"), CASES, ids=[c[3][:40] for c in CASES])
def test_buildkit_refuses(text: str, line: int, column: int, message: str) -> None:
    issues = validate(parse(text))
    assert [(i.line, i.column, i.message) for i in issues][:1] == [(line, column, message)]


@pytest.mark.parametrize("text", VALID)
def test_buildkit_accepts(text: str) -> None:
    assert validate(parse(text)) == []


def test_cli_reports_do000_with_column(tmp_path: Path) -> None:
    """Item 4 as a user sees it: before, each of these passed clean (exit 0)."""
    for text, line, column, message in CASES[:1] + CASES[3:4] + CASES[9:10] + CASES[15:16] + CASES[22:23]:
        (tmp_path / "Dockerfile").write_text(text)
        out = dockopt("check", "Dockerfile", "--format", "json", cwd=tmp_path)
        found = [(d["code"], d["line"], d["column"], d["message"]) for d in json.loads(out.stdout)]
        assert ("DO000", line, column, message) in found and out.returncode == 1, (text, found)
        fixed = dockopt("fix", "Dockerfile", cwd=tmp_path)
        assert (tmp_path / "Dockerfile").read_text() == text and fixed.returncode == 1  # never written


@pytest.mark.parametrize(("text", "nanoseconds", "error"), [
    ("0", 0, ""), ("1h2m3.5s", 3_723_500_000_000, ""), ("-1.5h", -5_400_000_000_000, ""), (".5ms", 500_000, ""),
    ("1µs", 1_000, ""), ("300ms", 300_000_000, ""), ("", 0, 'time: invalid duration ""'),
    ("1", 0, 'time: missing unit in duration "1"'), ("1d", 0, 'time: unknown unit "d" in duration "1d"'),
    (".s", 0, 'time: invalid duration ".s"'), ("9999999999h", 0, 'time: invalid duration "9999999999h"'),
])
def test_go_duration(text: str, nanoseconds: int, error: str) -> None:
    assert go_duration(text) == (nanoseconds, error)


@pytest.mark.slow
def test_no_false_do000_on_the_real_corpus() -> None:
    """Every file of ../shared/corpus/real builds upstream (or is a known broken file):
    validation must not call a valid file broken. The one file flagged uses
    `COPY --from build ...` (no '='), which BuildKit refuses: "missing a value on flag"."""
    flagged = {}
    for path in corpus_files("real"):
        document = parse(path.read_bytes().decode("utf-8", "replace"))
        if not document.errors and (issues := validate(document)):
            flagged[f"{path.parent.name}/{path.name}"] = [i.message for i in issues]
    assert flagged == {"vimagick__dockerfiles/obs-web-arm__Dockerfile": ["missing a value on flag: --from"]}
