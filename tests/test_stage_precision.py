"""Precision of the stage rules DO401/DO402 (issue 16): classes found on real files, each a
test, and one corpus-wide invariant (the two rules never report the same image)."""
from __future__ import annotations

from collections import Counter

import pytest

from dockopt.fileio import FileError, read_source
from tests.corpus import corpus_files
from tests.lintkit import findings, run


def test_go_before_1_11_has_no_module_cache_and_before_1_10_no_build_cache() -> None:
    # Go 1.8: "Go module cache ~100 MB / build cache ~150 MB" in the saving do not exist.
    text = ('FROM golang:1.8\nWORKDIR /go/src/app\nCOPY . .\nRUN go get -d ./... && go build -o /go/bin/app .\n'
            'CMD ["/go/bin/app"]\n')
    [diag] = findings(text, "DO401")
    assert "module cache" not in diag.message and "build cache" not in diag.message, diag.message
    newer = findings(text.replace("golang:1.8", "golang:1.22"), "DO401")[0].message
    assert "module cache" in newer or "build cache" in newer, newer


def test_a_shell_script_command_is_an_application() -> None:
    text = ('FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y gcc libc6-dev\nCOPY . /src\n'
            'RUN gcc -o /usr/local/bin/app /src/app.c\nCMD ["sh", "run.sh"]\n')
    assert [d.code for d in findings(text, "DO401")] == ["DO401"]
    interactive = text.replace('CMD ["sh", "run.sh"]', 'CMD ["bash", "-l"]')
    assert not findings(interactive, "DO401")


@pytest.mark.parametrize("command", ['["sh", "-c", "mix deps.get && mix phx.server"]',
                                     '["/bin/bash", "-c", "cd /app && go run ./cmd/server"]',
                                     '["sh", "-c", "FOO=1 exec npm install && node server.js"]'])
def test_a_command_that_runs_the_toolchain_keeps_it(command: str) -> None:
    text = ('FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y gcc libc6-dev\nCOPY . /src\n'
            f'RUN gcc -o /usr/local/bin/app /src/app.c\nCMD {command}\n')
    assert not findings(text, "DO401")


@pytest.mark.slow
def test_do401_and_do402_never_report_the_same_image() -> None:
    both = []
    for path in corpus_files("real"):
        try:
            text = read_source(path).text
        except (FileError, ValueError):
            continue
        codes = Counter(d.code for d in run(text, "DO401", "DO402").diagnostics)
        if codes["DO401"] and codes["DO402"]:
            both.append(path.name)
    assert not both, both[:10]


@pytest.mark.parametrize("command", ['["npm", "start"]', '["sh", "-c", "bundle exec puma"]', '["dotnet", "app.dll"]'])
def test_a_package_manager_launching_the_app_is_not_the_toolchain(command: str) -> None:
    # `npm start` runs the application (corpus: npm-jasmine-node lost its DO402 to this).
    text = ('FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y gcc libc6-dev\nCOPY . /src\n'
            f'RUN gcc -o /usr/local/bin/app /src/app.c\nCMD {command}\n')
    assert [d.code for d in findings(text, "DO401")] == ["DO401"]


def test_a_build_with_apt_tools_on_full_debian_still_gets_the_slim_suggestion() -> None:
    # debian:bookworm has no gcc or git either: the tools come from apt and work on -slim too.
    text = ('FROM debian:bookworm\nRUN apt-get update && apt-get install -y gcc make git \\\n'
            '    && git clone https://example.com/tool.git /src && make -C /src install \\\n'
            '    && apt-get purge -y --auto-remove gcc make git\nCMD ["tool"]\n')
    assert [d.code for d in findings(text, "DO402")] == ["DO402"]
