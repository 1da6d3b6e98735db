"""The split recipes: each generated Dockerfile checked as text (snapshots under
tests/snapshots/split/, regenerated with DOCKOPT_UPDATE_GOLDEN=1), re-parsed without
DO000, and linted by every rule without crashing. Only recipes an e2e case proves on a real
engine (``PROVEN_RECIPES``) are unsafe fixes; the others are suggestions carrying the same
edit, shown and never applied."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockopt.checks import all_rules
from dockopt.diagnostics import Applicability
from dockopt.fixes.fixer import apply_edits
from dockopt.fixes.split import PROVEN_RECIPES
from dockopt.syntax import parse
from tests.lintkit import findings, fixed

SNAPSHOTS = Path(__file__).parent / "snapshots" / "split"

CASES: dict[str, str] = {
    "go": """\
# syntax=docker/dockerfile:1
FROM golang:1.22
WORKDIR /src
# dependencies first, for the cache
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -o /out/server ./cmd/server
EXPOSE 8080
LABEL org.opencontainers.image.title=server
CMD /out/server --port 8080
""",
    "go-alpine-setup": """\
FROM golang:1.22-alpine3.20
RUN apk add --no-cache git ca-certificates
RUN adduser -D app
WORKDIR /app
COPY . .
RUN go build -o app .
USER app
ENTRYPOINT ["./app"]
""",
    "rust": """\
FROM rust:1.79-bookworm
WORKDIR /usr/src/app
COPY . .
RUN cargo build --release
# the server listens on 3000
EXPOSE 3000
CMD ["./target/release/app"]
""",
    "c": """\
FROM gcc:13
WORKDIR /src
COPY hello.c .
# compile
RUN gcc -O2 -o hello hello.c
CMD ["./hello"]
""",
    "c-static": """\
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
COPY hello.c /src/hello.c
RUN gcc -static -o /usr/local/bin/hello /src/hello.c
CMD ["hello"]
""",
    "java": """\
FROM maven:3.9-eclipse-temurin-21
WORKDIR /app
COPY pom.xml .
RUN mvn dependency:go-offline
COPY src ./src
RUN mvn -B package -DskipTests
EXPOSE 8080
CMD ["java", "-jar", "target/app.jar"]
""",
    "node-static": """\
FROM node:20
WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build
EXPOSE 3000
CMD ["npx", "serve", "-s", "build", "-l", "3000"]
""",
    "node-server": """\
FROM node:20
WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build
ENV PORT=3000
USER node
CMD ["node", "dist/server.js"]
""",
    "python": """\
FROM python:3.12
WORKDIR /app
# build dependencies for psycopg2
RUN apt-get update \\
    && apt-get install -y --no-install-recommends gcc libpq-dev \\
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
EXPOSE 8000
CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]
""",
}


# The recipe each case exercises (the c case's gcc image has no WORKDIR of its own: "/").
RECIPE_OF = {"go": "go", "go-alpine-setup": "go", "rust": "rust", "c": "c", "c-static": "c-static", "java": "java",
             "node-static": "node-static", "node-server": "node-server", "python": "python"}


def _split(text: str) -> tuple[str, str]:
    """The split's text and message, whether it is an unsafe fix (proven) or a suggestion."""
    [diag] = findings(text, "DO401")
    assert diag.fix is not None and diag.fix.edits, diag.fix
    if diag.fix.applicability is Applicability.UNSAFE:
        assert fixed(text, "DO401", unsafe=True).text == apply_edits(text, list(diag.fix.edits))
    else:
        assert diag.fix.applicability is Applicability.SUGGESTION
        assert fixed(text, "DO401", unsafe=True).text == text, "a suggestion is never applied"
    return apply_edits(text, list(diag.fix.edits)), diag.fix.message


@pytest.mark.parametrize("name", sorted(CASES))
def test_only_proven_recipes_are_fixes(name: str) -> None:
    [diag] = findings(CASES[name], "DO401")
    assert diag.fix is not None
    recipe = RECIPE_OF[name]
    if recipe in PROVEN_RECIPES:
        assert diag.fix.applicability is Applicability.UNSAFE and f"recipe `{recipe}`" in diag.fix.message
    else:
        assert diag.fix.applicability is Applicability.SUGGESTION, diag.fix.message
        assert f"the `{recipe}` recipe is not proven" in diag.fix.message


def test_every_proven_recipe_has_an_e2e_case_that_builds_and_runs_it() -> None:
    import tomllib

    cases = Path(__file__).parent / "e2e" / "cases"
    for recipe, case in PROVEN_RECIPES.items():
        expect = tomllib.loads((cases / case / "expect.toml").read_text())
        assert expect.get("proves_recipe") == recipe, case
        assert expect.get("unsafe_fixes") is True and expect["fixes"]["applied"] == ["DO401"], case
        assert expect["image"]["run"] and expect["image"]["stdout_contains"], "the proof runs the result"


@pytest.mark.parametrize("name", sorted(CASES))
def test_recipe_snapshot(name: str) -> None:
    text, message = _split(CASES[name])
    snapshot = SNAPSHOTS / f"{name}.Dockerfile"
    if os.environ.get("DOCKOPT_UPDATE_GOLDEN"):
        snapshot.write_text(text)
    assert text == snapshot.read_text(), f"regenerate with DOCKOPT_UPDATE_GOLDEN=1 ({message})"
    assert not parse(text).errors
    assert ("unsafe" in message or "suggestion" in message) and "check" in message


@pytest.mark.parametrize("name", sorted(CASES))
def test_split_output_is_lintable_and_done(name: str) -> None:
    text, _ = _split(CASES[name])
    every = list(all_rules())
    diags = findings(text, *every)  # must not crash
    assert "DO000" not in {d.code for d in diags}
    assert not findings(text, "DO401"), "the split output must not need another split"


def test_comments_are_kept() -> None:
    for name, source in CASES.items():
        text, _ = _split(source)
        for line in source.splitlines():
            if line.lstrip().startswith("#"):
                assert line in text, (name, line)


def test_comments_inside_a_rewritten_run_are_kept() -> None:
    # Found by the fix fuzzer: the pip RUN is rewritten for the runtime stage, and its
    # continuation's comment line went with the old text.
    source = ("FROM python:3.12-slim\nCMD [\"app\"]\nRUN apt-get -qq install -y build-essential && \\\n"
              "    # why flask\n    pip install flask\n")
    text, _ = _split(source)
    assert "# why flask\nRUN --mount=type=bind" in text


def test_go_shell_form_cmd_becomes_exec_form_on_distroless() -> None:
    text, _ = _split(CASES["go"])
    assert 'CMD ["/out/server", "--port", "8080"]' in text
    assert "FROM gcr.io/distroless/static-debian12" in text
    assert "ENV CGO_ENABLED=0" in text.split("FROM gcr.io")[0]


def test_go_with_setup_runs_uses_a_runtime_with_a_shell() -> None:
    text, message = _split(CASES["go-alpine-setup"])
    runtime = text.split("\n\nFROM ", 1)[1]
    assert runtime.startswith("alpine:3.20")
    assert "RUN apk add --no-cache ca-certificates" in runtime and "git" not in runtime
    assert "RUN adduser -D app" in runtime and "USER app" in runtime
    assert "COPY --from=go-build /app/app /app/app" in runtime


def test_builder_name_avoids_taken_names() -> None:
    text = "FROM alpine AS go-build\nRUN true\nFROM golang:1.22\nWORKDIR /src\nCOPY . .\n" \
           "RUN go build -o /bin/app .\nCOPY --from=go-build /etc/hostname /x\nCMD [\"/bin/app\"]\n"
    result, _ = _split(text)
    assert "FROM golang:1.22 AS build\n" in result


def test_named_shipped_stage_keeps_its_name_on_the_runtime() -> None:
    text = "FROM golang:1.22 AS app\nWORKDIR /src\nCOPY . .\nRUN go build -o /bin/app .\nCMD [\"/bin/app\"]\n"
    result, _ = _split(text)
    assert "FROM golang:1.22 AS go-build\n" in result
    assert "FROM gcr.io/distroless/static-debian12 AS app\n" in result


def test_unknown_dev_package_gives_a_suggestion_not_a_guess() -> None:
    text = ("FROM python:3.12-slim\nRUN apt-get update && apt-get install -y gcc libfoo-dev\n"
            "RUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n")
    [diag] = findings(text, "DO401")
    assert diag.fix is not None and diag.fix.applicability is Applicability.SUGGESTION
    assert "line 2" in diag.fix.message and "line 3" in diag.fix.message
    assert fixed(text, "DO401", unsafe=True).text == text


def test_build_after_which_the_toolchain_still_runs_is_not_split() -> None:
    text = ("FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /bin/app .\n"
            "RUN go test ./...\nCMD [\"/bin/app\"]\n")
    [diag] = findings(text, "DO401")
    assert diag.fix is not None and diag.fix.applicability is Applicability.SUGGESTION


# Issue 14 item 6: splits applied to real files that did not build. Each is a class of defect.

def test_a_library_built_in_an_interpreted_app_is_not_a_c_program() -> None:
    # The image runs python; the runtime would have got only the .so and no python app.
    text = ('FROM python:3.12\nRUN apt-get update && apt-get install -y gcc\nCOPY ext.c /src/ext.c\n'
            'RUN gcc -shared -o /usr/local/lib/libext.so /src/ext.c\nCOPY app.py /app/app.py\n'
            'CMD ["python", "/app/app.py"]\n')
    [diag] = findings(text, "DO401")
    assert diag.fix is not None and not diag.fix.edits
    assert fixed(text, "DO401", unsafe=True).text == text


def test_an_interpreter_the_image_runs_is_never_the_artifact() -> None:
    # `CMD sh ...` named /usr/local/bin/sh "the binary" the build made.
    text = ('FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y gcc make libc6-dev\n'
            'COPY . /src\nRUN make -C /src\nCMD ["bash", "/src/start.sh"]\n')
    for diag in findings(text, "DO401"):
        assert diag.fix is None or not any("bin/bash" in e.content for e in diag.fix.edits)


def test_artifact_a_later_run_moves_is_not_split() -> None:
    # `RUN cp build/hello /usr/local/bin/` after the build stayed in the runtime stage, where
    # there is no build tree: the runtime build failed.
    text = ('FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y gcc libc6-dev\nWORKDIR /src\n'
            'COPY hello.c .\nRUN gcc -o build/hello hello.c\nRUN cp build/hello /usr/local/bin/hello\nCMD ["hello"]\n')
    [diag] = findings(text, "DO401")
    assert diag.fix is not None and not diag.fix.edits
    assert fixed(text, "DO401", unsafe=True).text == text


def test_setup_run_on_builder_files_is_not_repeated_in_the_runtime() -> None:
    # `RUN chmod +x /app/run.sh` was repeated in the runtime stage, which has no /app/run.sh.
    text = ('FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y gcc libc6-dev\n'
            'COPY run.sh /app/run.sh\nRUN chmod +x /app/run.sh\nCOPY hello.c /src/hello.c\n'
            'RUN gcc -o /usr/local/bin/hello /src/hello.c\nRUN useradd app && mkdir /data && chown app /data\n'
            'CMD ["hello"]\n')
    result, _ = _split(text)
    runtime = result.split("\n\nFROM ", 1)[1]
    assert "chmod" not in runtime
    assert "RUN useradd app && mkdir /data && chown app /data" in runtime  # self-contained setup is kept


def test_base_image_workdir_is_where_relative_outputs_go() -> None:
    # golang images set WORKDIR /go: `go build -o app` writes /go/app, not /app.
    text = 'FROM golang:1.22\nCOPY . .\nRUN go build -o app .\nCMD ["./app"]\n'
    result, _ = _split(text)
    assert "COPY --from=go-build /go/app /go/app" in result
    assert "WORKDIR /go\n" in result.split("\n\nFROM ", 1)[1]


def test_unknown_base_workdir_declines_relative_paths() -> None:
    text = 'FROM example.com/builder:1\nRUN apt-get update && apt-get install -y golang\nCOPY . .\n' \
           'RUN go build -o app .\nCMD ["./app"]\n'
    for diag in findings(text, "DO401"):
        assert diag.fix is None or not diag.fix.edits


def test_busybox_runtime_gets_no_distribution_user_tools() -> None:
    text = ('FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y gcc libc6-dev\n'
            'RUN useradd --system app\nCOPY hello.c /src/hello.c\nRUN gcc -static -o /usr/local/bin/hello /src/hello.c\n'
            'USER app\nCMD ["hello"]\n')
    for diag in findings(text, "DO401"):
        assert diag.fix is None or not any("FROM busybox" in e.content for e in diag.fix.edits)


def test_a_program_found_only_through_the_command_is_not_the_proven_c_recipe() -> None:
    # `make && make install` then ENTRYPOINT ["/usr/local/bin/mdp"]: the artifact is a guess
    # from the command, not a `-o` the e2e proof covers: a suggestion (corpus: jessfraz/mdp).
    text = ('FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y gcc make libc6-dev git\n'
            'RUN git clone --depth 1 https://github.com/visit1985/mdp.git /src\nWORKDIR /src\n'
            'RUN make && make install\nENTRYPOINT ["/usr/local/bin/mdp"]\n')
    [diag] = findings(text, "DO401")
    assert diag.fix is not None and diag.fix.applicability is Applicability.SUGGESTION
    assert "the `c-make` recipe is not proven" in diag.fix.message
