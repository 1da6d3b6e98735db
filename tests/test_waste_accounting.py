"""One accounting of waste (issue 15): every waste item the simulator records in a shipped
stage is named by exactly one finding of the default selection, or is one of the documented
exceptions (``dockopt.layers.accounting.EXCEPTIONS``). Over the whole shared corpus, and on
the classes that used to be missed."""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from dockopt.layers.accounting import EXCEPTIONS, account_text, describe
from tests.corpus import corpus_files


def _problems(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return []
    accounting = account_text(text)
    if accounting is None:
        return []
    out = []
    for item in accounting.items:
        if not item.reported and item.exception is None:
            out.append(f"{path}: unreported: {describe(item)}")
        elif len(item.named_by) > 1:
            out.append(f"{path}: named {len(item.named_by)} times ({', '.join(item.named_by)}): {describe(item)}")
        elif item.exception is not None:
            assert item.exception in EXCEPTIONS
    return out


@pytest.mark.slow
def test_every_waste_item_of_the_corpus_is_named_once_or_excepted() -> None:
    files = corpus_files("real")
    with ProcessPoolExecutor(2) as pool:
        problems = [p for ps in pool.map(_problems, files, chunksize=16) for p in ps]
    assert not problems, f"{len(problems)} waste items:\n" + "\n".join(problems[:20])


THREE_INSTALLS = """FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y curl
RUN apt-get update && apt-get install -y git
RUN apt-get update && apt-get install -y vim
"""


@pytest.mark.parametrize("text", [
    THREE_INSTALLS,
    "FROM python:3.12\nRUN pip install flask\nRUN pip install requests\n",
    "FROM fedora:40\nRUN dnf install -y gcc\nRUN dnf install -y make\n",
    # A stage built FROM another re-creates the cache its parent left.
    "FROM debian AS base\nRUN apt-get update\nFROM base\nRUN apt-get update && apt-get install -y jq\n",
    # One command, two caches: each named by its own finding.
    "FROM golang:1.22\nRUN go build ./...\nRUN go build -o /app .\n",
])
def test_recreated_caches_are_named_once_each(text: str) -> None:
    accounting = account_text(text)
    assert accounting is not None and accounting.items
    for item in accounting.items:
        assert len(item.named_by) == 1, describe(item)


def test_share_counts_known_sizes() -> None:
    accounting = account_text(THREE_INSTALLS)
    assert accounting is not None
    assert accounting.share() == (2, 2)  # the lists of lines 2 and 3, shadowed by 3 and 4
