"""Cache removals (DO102) and moved cleanups (DO101): safe only when nothing later needs the
cache (issue 14 items 2, 3, 5; issue 15 "Fix safety for caches, decided")."""
from __future__ import annotations

import pytest

from dockopt import parse
from dockopt.diagnostics import Applicability
from dockopt.layers.consumers import cache_readers
from dockopt.layers.toolchains import go_version
from dockopt.model import build_model
from tests.lintkit import findings, fixed


def _fixes(text: str, code: str = "DO102", line: int | None = None) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(d.fix.applicability.value, d.fix.message, d.fix.removes_caches) for d in findings(text, code)
            if d.fix is not None and (line is None or d.start.line == line)]


# -- item 2: a cleanup must not delete what a later step needs --------------------------
@pytest.mark.parametrize(
    "text",
    [
        # The reproduction: the lists were removed before the install.
        "FROM debian:bookworm-slim\nRUN apt-get update\nRUN apt-get install -y curl\n",
        # A later RUN installs without its own update.
        "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\nRUN apt-get install -y git\n",
        # ... in a stage built FROM this one, directly or through another.
        "FROM debian:bookworm-slim AS base\nRUN apt-get update && apt-get install -y curl\n"
        "FROM base\nRUN apt-get install -y git\n",
        "FROM debian:bookworm-slim AS base\nRUN apt-get update && apt-get install -y curl\n"
        "FROM base AS mid\nRUN echo hi\nFROM mid\nRUN apt-get install -y git\n",
        # apt-cache reads the lists too.
        "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\nRUN apt-cache policy git\n",
    ],
)
def test_no_cache_removal_before_a_step_that_needs_it(text: str) -> None:
    assert [d for d in findings(text, "DO102") if d.start.line == 2] != []
    assert _fixes(text, line=2) == []
    assert "lists" not in fixed(text, "DO102", unsafe=True).text


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\nRUN apt-get update && apt-get install -y git\n",
        "FROM debian:bookworm-slim AS base\nRUN apt-get update && apt-get install -y curl\n"
        "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y git\n",  # not built FROM base
        "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\nRUN curl -fsSL -o /x https://e.x/y\n",
    ],
)
def test_cache_removal_is_safe_when_nothing_later_needs_it(text: str) -> None:
    fixes = _fixes(text)
    assert fixes and fixes[0][0] == "safe" and fixes[0][2] == ("/var/lib/apt/lists/",)
    assert "which nothing later reads" in fixes[0][1]


@pytest.mark.parametrize(
    ("later", "says"),
    [
        ("RUN make install", "`make install` on line 3 might install packages"),
        ("RUN ./install.sh", "`./install.sh` on line 3 might install packages"),
        ("RUN <<EOF\nfor p in a b; do\nEOF", "cannot be analysed"),
        ('SHELL ["pwsh", "-c"]\nRUN Install-Thing', "cannot be analysed"),
    ],
)
def test_a_later_command_we_cannot_see_into_makes_it_unsafe_and_says_why(later: str, says: str) -> None:
    text = f"FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y make\n{later}\n"
    (applicability, message, caches), = [f for f in _fixes(text) if "lists" in f[1]]
    assert applicability == "unsafe" and caches == ("/var/lib/apt/lists/",)
    assert says in message and "later steps that install without `apt-get update` would fail" in message


@pytest.mark.parametrize(
    ("later", "certain"),
    [("RUN apk add git", [True]), ("RUN apk add --no-cache git", []), ("RUN apk update && apk add git", []),
     ("RUN apk add -U git", []), ("RUN apk add --no-network git", [True]), ("RUN ./setup.sh", [False])],
)
def test_apk_index_readers(later: str, certain: list[bool]) -> None:
    build = build_model(parse(f"FROM alpine:3.20\nRUN apk update\n{later}\n"))
    run = build.stages[0].runs[0]
    assert [r.certain for r in cache_readers(build, run, "apk-cache")] == certain


def test_copy_from_a_stage_of_its_cache_is_a_reader() -> None:
    text = ("FROM debian:bookworm-slim AS base\nRUN apt-get update && apt-get install -y curl\n"
            "FROM scratch\nCOPY --from=base / /\n")
    build = build_model(parse(text))
    run = build.stages[0].runs[0]
    assert [r.certain for r in cache_readers(build, run, "apt-lists")] == [True]


def test_offline_installs_need_their_cache() -> None:
    text = "FROM node:20\nRUN npm install\nRUN npm ci --offline\n"
    assert _fixes(text, line=2) == []
    text = "FROM alpine:3.20\nRUN apk update && apk add curl\nRUN apk add --no-network git\n"
    assert _fixes(text, line=2) == []


def test_a_later_install_that_only_reuses_a_cache_does_not_need_it() -> None:
    text = "FROM python:3.12-slim\nRUN pip install flask\nRUN pip install gunicorn\n"
    assert [f[0] for f in _fixes(text)][:1] == ["safe"]


# -- item 3: the cleanup goes where its tool still exists --------------------------------
def test_go_clean_goes_before_the_removal_of_go() -> None:
    text = "FROM golang:1.21-alpine\nRUN apk add --no-cache git && go build -o /app . && apk del git\n"
    result = fixed(text, "DO102")
    line = result.text.splitlines()[1]
    assert "go clean -cache && " in line and line.rindex("go clean") < line.index("apk del git")
    assert not result.text.rstrip().endswith(("go clean -cache", "go clean -modcache"))


def test_go_clean_is_never_appended_after_go_is_removed() -> None:
    text = "FROM alpine:3.20\nRUN apk add go && go build -o /app . && apk del go\n"
    result = fixed(text, "DO102", unsafe=True)
    line = result.text.splitlines()[1]
    assert line.index("go clean") < line.index("apk del go")


# -- item 5: Go's cache cleanups exist from Go 1.10 / 1.11 -------------------------------
def test_no_modcache_cleanup_on_go_before_1_11() -> None:
    text = "FROM golang:1.6\nRUN go get github.com/x/y\n"
    assert [f for f in _fixes(text) if "modcache" in f[1]] == []
    assert "go clean" not in fixed(text, "DO102", unsafe=True).text


@pytest.mark.parametrize(
    ("image", "version"),
    [("golang:1.6", (1, 6)), ("golang:1.10-alpine", (1, 10)), ("golang:1.21.3-bookworm", (1, 21)),
     ("golang", (1, 99)), ("golang:alpine", (1, 99)), ("docker.io/library/golang:1.9", (1, 9)),
     ("alpine:3.20", None), ("golang:${GO}", None)],
)
def test_go_version_from_the_image_tag(image: str, version: tuple[int, int] | None) -> None:
    build = build_model(parse(f"FROM {image} AS a\nFROM a\nRUN true\n"))
    assert go_version(build.stages[1]) == version


def test_unknown_go_version_makes_the_go_cleanup_unsafe() -> None:
    text = "FROM alpine:3.20\nRUN apk add --no-cache go && go mod download\n"
    (applicability, message, _), = [f for f in _fixes(text) if "modcache" in f[1]]
    assert applicability == "unsafe" and "Go version is unknown" in message


# -- issue 15: safe cache removals declare what they remove -------------------------------
@pytest.mark.parametrize(
    ("text", "caches"),
    [
        ("FROM python:3.12-slim\nRUN pip install flask\n", ("/root/.cache/pip/",)),
        ("FROM alpine:3.20\nRUN apk add curl\n", ("/var/cache/apk/",)),
        ("FROM node:20\nRUN npm install\n", ("/root/.npm/",)),
    ],
)
def test_safe_cache_fixes_declare_the_cache(text: str, caches: tuple[str, ...]) -> None:
    fixes = _fixes(text)
    assert fixes and fixes[0][0] == "safe" and fixes[0][2] == caches
    assert fixed(text, "DO102").text != text


def test_non_root_user_makes_a_system_cache_removal_unsafe() -> None:
    text = "FROM debian:bookworm-slim\nUSER app\nRUN apt-get update && apt-get install -y curl\n"
    (applicability, message, _), = _fixes(text)
    assert applicability == "unsafe" and "runs as user app" in message


def test_sudo_made_cache_is_removed_with_sudo() -> None:
    text = "FROM debian:bookworm-slim\nUSER app\nRUN sudo apt-get update && sudo apt-get install -y curl\n"
    assert fixed(text, "DO102").text.rstrip().endswith("&& sudo rm -rf /var/lib/apt/lists/*")


def test_every_unsafe_cache_fix_says_what_might_break() -> None:
    text = ("FROM alpine:3.20\nRUN apk add --no-cache go && go mod download\n"
            "FROM debian:bookworm-slim\nUSER app\nRUN apt-get update && apt-get install -y curl\nRUN make\n")
    for applicability, message, _ in _fixes(text):
        if applicability == Applicability.UNSAFE.value:
            assert "(unsafe: " in message and len(message.split("(unsafe: ", 1)[1]) > 20


# -- DO101: a cleanup moved up must not pass a step that needs the files -------------------
def test_moved_cleanup_does_not_pass_an_install_that_needs_the_lists() -> None:
    text = ("FROM debian:bookworm-slim\nRUN apt-get update\nWORKDIR /app\nRUN apt-get install -y curl\n"
            "RUN rm -rf /var/lib/apt/lists/*\n")
    result = fixed(text, "DO101", unsafe=True)
    assert result.text.splitlines()[1] == "RUN apt-get update"


@pytest.mark.parametrize(("later", "safe"), [
    ("RUN apt-get update; apt-get install -y curl", False),  # a failing update does not stop the install
    ("RUN <<EOF\napt-get update\napt-get install -y curl\nEOF", False),
    ("RUN apt-get update | tee /log && apt-get install -y curl", False),  # tee's status, not update's
    ("RUN apt-get update && apt-get install -y curl", True),
    ("RUN set -eux; apt-get update; apt-get install -y curl", True),
])
def test_a_later_update_protects_the_lists_only_when_its_failure_stops_the_install(later: str, safe: bool) -> None:
    """Found by the fix fuzzer with the trace harness: without -e or `&&`, an `apt-get update`
    that fails leaves the install reading the lists an earlier RUN fetched; removing those
    lists turns a passing build into a failing one."""
    text = f"FROM debian:bookworm-slim\nRUN apt-get update\n{later}\n"
    [d] = [d for d in findings(text, "DO102") if d.start.line == 2]
    assert (d.fix is not None and d.fix.applicability is Applicability.SAFE) is safe, d.fix
