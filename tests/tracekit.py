"""Helpers for trace-harness tests: skip without a sandbox, check a verdict, and the one merge
most cases make (the wrong one leaks the `cd` into `make install`, the right one keeps it in a
subshell)."""
from __future__ import annotations

import pytest

from tests.trace import prove, unavailable

MISSING = unavailable()
needs_sandbox = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")

TAIL = "RUN cd /srv || exit 0\nRUN make install\n"


def wrong(original: str) -> str:
    return original.replace("\nRUN make install", " && make install")


def right(original: str) -> str:
    return original.replace("\nRUN cd /srv || exit 0\nRUN make install", "\nRUN (cd /srv || exit 0) && make install")


def check(original: str, fixed: str, expected: str, words: tuple[str, ...] = ()) -> None:
    verdict = prove(original, fixed)
    assert verdict.status == expected, verdict
    for word in words:
        assert word in verdict.reason, verdict
