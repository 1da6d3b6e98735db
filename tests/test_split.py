"""The split recipes: each generated Dockerfile checked as text (snapshots under
tests/snapshots/split/, regenerated with DOCKOPT_UPDATE_GOLDEN=1), re-parsed without
DO000, and linted by every rule without crashing."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockopt.checks import all_rules
from dockopt.diagnostics import Applicability
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


def _split(text: str) -> tuple[str, str]:
    [diag] = findings(text, "DO401")
    assert diag.fix is not None and diag.fix.applicability is Applicability.UNSAFE, diag.fix
    return fixed(text, "DO401", unsafe=True).text, diag.fix.message


@pytest.mark.parametrize("name", sorted(CASES))
def test_recipe_snapshot(name: str) -> None:
    text, message = _split(CASES[name])
    snapshot = SNAPSHOTS / f"{name}.Dockerfile"
    if os.environ.get("DOCKOPT_UPDATE_GOLDEN"):
        snapshot.write_text(text)
    assert text == snapshot.read_text(), f"regenerate with DOCKOPT_UPDATE_GOLDEN=1 ({message})"
    assert not parse(text).errors
    assert "unsafe" in message and "check" in message


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
