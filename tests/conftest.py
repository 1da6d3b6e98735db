"""Suite-wide reporting (pytest runs with -rfExX, see pyproject.toml): one line per missing outside resource (the shared corpus, a Docker
engine) at the end of the run, saying how many tests it cost and how to get it, so a fresh
clone's run says plainly what it did not test (README, Tests)."""
from __future__ import annotations

from collections import Counter

import pytest

from tests.corpus import MISSING_CORPUS, SKIP_PREFIX

_RESOURCES = {SKIP_PREFIX: MISSING_CORPUS, "no Docker engine": None,
              "the engine at": None}  # the engine's own reasons carry the how-to


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts: Counter[str] = Counter()
    reasons: dict[str, str] = {}
    others: Counter[str] = Counter()  # other skips, grouped by reason (pytest's -rs, which is off)
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr or "")
        reason = reason.removeprefix("Skipped: ")
        for key, fixed in _RESOURCES.items():
            if reason.startswith(key):
                group = "corpus" if key == SKIP_PREFIX else "engine"
                counts[group] += 1
                reasons.setdefault(group, fixed or reason)
                break
        else:
            where = report.location[0] if getattr(report, "location", None) else report.nodeid
            others[f"{where}: {reason}"] += 1
    for text, count in sorted(others.items()):
        terminalreporter.write_line(f"SKIPPED [{count}] {text}")
    for group, count in sorted(counts.items()):
        terminalreporter.write_line(f"dockopt: {count} test{'s' if count != 1 else ''} skipped: {reasons[group]}")
