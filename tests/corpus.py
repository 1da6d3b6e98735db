"""Locating the shared, read-only corpus (../shared/corpus from the project root, or
``$DOCKOPT_CORPUS``).

A fresh clone of the repository alone has no corpus: the tests that need it are skipped with
``MISSING_CORPUS``, one line saying what is missing and how to get it (tests/conftest.py
counts them in one summary line). Under CI (``CI`` set) a missing corpus is an error, so
that a broken checkout cannot pass as "all skipped".
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("DOCKOPT_CORPUS", PROJECT_ROOT.parent / "shared" / "corpus"))
BUILDKIT_CASES = CORPUS / "parser-cases" / "buildkit"
SKIP_PREFIX = "shared corpus not found"
MISSING_CORPUS = (f"{SKIP_PREFIX} at {CORPUS}: set DOCKOPT_CORPUS=/path/to/corpus "
                  "(README, Tests) to run these tests")


def require_corpus(path: Path | None = None) -> None:
    """Skip (or, under CI, fail) the calling test when ``path`` (default: the corpus) is missing."""
    where = path or CORPUS
    if where.exists():
        return
    if os.environ.get("CI"):
        raise RuntimeError(f"corpus not found at {where}; CI must run beside ../shared")
    pytest.skip(MISSING_CORPUS)


def corpus_files(*parts: str) -> list[Path]:
    """Every corpus file under ``parts`` (sorted), or a skip when the corpus is absent."""
    root = CORPUS.joinpath(*parts)
    if not root.is_dir():
        require_corpus(root)
        pytest.skip(MISSING_CORPUS)  # the corpus is there but not this part of it
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name not in {"MANIFEST.tsv", "README.md"})
