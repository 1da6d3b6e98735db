"""Locating the shared, read-only corpus (../shared/corpus from the project root)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("DOCKOPT_CORPUS", PROJECT_ROOT.parent / "shared" / "corpus"))
BUILDKIT_CASES = CORPUS / "parser-cases" / "buildkit"


def corpus_files(*parts: str) -> list[Path]:
    """Every corpus file under ``parts`` (sorted), or a skip when the corpus is absent."""
    root = CORPUS.joinpath(*parts)
    if not root.is_dir():
        if os.environ.get("CI"):
            raise RuntimeError(f"corpus not found at {root}; CI must run beside ../shared")
        pytest.skip(f"corpus not found at {root}")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name not in {"MANIFEST.tsv", "README.md"})
