"""DO304's apt suggestion against a real BuildKit build (issue 16).

An install whose package lists come from an earlier RUN's `apt-get update` must not get a cache
mount on /var/lib/apt: the mount starts empty and hides the lists, and apt-get fails ("Unable to
locate package"). With the mount DO304 now suggests (only /var/cache/apt) the build succeeds.
Needs Debian's mirror (RUN steps reach it with --network host).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.lintkit import findings

if TYPE_CHECKING:
    from conftest import TagPool

SPLIT = "FROM debian:bookworm-slim\nRUN apt-get update\nRUN apt-get install -y --no-install-recommends file\n"


def _suggested(text: str) -> str:
    [d] = findings(text, "DO304")
    assert d.fix is not None
    [edit] = d.fix.edits
    return text[:edit.start] + edit.content + text[edit.end:]


@pytest.mark.engine
def test_do304_apt_mount_suggestion_builds_where_a_lists_mount_breaks(tags: TagPool, tmp_path: Path) -> None:
    suggested = _suggested(SPLIT)
    assert "target=/var/lib/apt" not in suggested
    good = tmp_path / "good"
    good.mkdir()
    (good / "Dockerfile").write_text(suggested)
    built = tags.build(good, "do304-suggested", buildkit=True, check=False)
    assert built.ok, built.log
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "Dockerfile").write_text(suggested.replace(
        "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked",
        "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked "
        "--mount=type=cache,target=/var/lib/apt,sharing=locked"))
    broken = tags.build(bad, "do304-lists-mount", buildkit=True, check=False)
    assert not broken.ok and "Unable to locate package" in broken.log, broken.log[-2000:]
