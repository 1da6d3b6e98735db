"""Agreement with BuildKit's own parser test data (moby/buildkit frontend/dockerfile/parser)."""
from __future__ import annotations

from pathlib import Path

import pytest

from dockopt import parse
from dockopt.syntax.dump import dump, go_quote
from tests.corpus import BUILDKIT_CASES, require_corpus


def _cases(kind: str) -> list[Path]:
    root = BUILDKIT_CASES / kind
    if not root.is_dir():
        require_corpus(root)
    return sorted(p for p in root.iterdir() if p.is_dir())


def _positive_cases() -> list[Path]:
    root = BUILDKIT_CASES / "testfiles"
    return sorted(p for p in root.iterdir() if (p / "result").is_file()) if root.is_dir() else []


# [None] without the corpus: one test that skips with the reason, not an empty parameter set.
@pytest.mark.parametrize("case", _positive_cases() or [None], ids=lambda p: p.name if p else "no-corpus")
def test_agrees_with_buildkit_result(case: Path | None) -> None:
    if case is None:
        require_corpus(BUILDKIT_CASES)
        return
    source = (case / "Dockerfile").read_bytes().decode("utf-8")
    document = parse(source)
    assert document.errors == []
    assert dump(document) == (case / "result").read_text(encoding="utf-8")
    assert str(document) == source


def test_there_are_buildkit_cases() -> None:
    require_corpus(BUILDKIT_CASES)
    assert len(_positive_cases()) >= 30


@pytest.mark.parametrize("case", _cases("testfiles-negative") if BUILDKIT_CASES.is_dir() else [None],
                         ids=lambda p: p.name if p else "no-corpus")
def test_negative_cases_are_errors(case: Path | None) -> None:
    if case is None:
        require_corpus(BUILDKIT_CASES)
        return
    source = (case / "Dockerfile").read_bytes().decode("utf-8")
    document = parse(source)
    assert document.errors, "BuildKit rejects this file"
    assert str(document) == source


def test_testfile_line_locations() -> None:
    # BuildKit's TestLineInformation: start/end lines of each instruction.
    require_corpus(BUILDKIT_CASES / "testfile-line")
    source = (BUILDKIT_CASES / "testfile-line" / "Dockerfile").read_text()
    document = parse(source)
    assert [(i.start_line, i.end_line) for i in document.instructions] == [(5, 5), (11, 12), (17, 31)]
    assert document.errors == []


@pytest.mark.parametrize(
    ("text", "quoted"),
    [("a", '"a"'), ('"', '"\\""'), ("\\", '"\\\\"'), ("\x00", '"\\x00"'), ("♥", '"♥"'), ("\u200b", '"\\u200b"')],
)
def test_go_quote(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted
