"""A clone of the repository alone (issue 17, item 11): no ../shared/corpus and no Docker
engine. The tests that need them must skip, each with one line saying what is missing and
how to get it, and the run must pass; tests/conftest.py adds one summary line per resource.
(The whole suite on a real fresh clone is checked by hand; see the report of issue 17.)"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Files whose tests need the corpus (directly, through a fixture file, or a parametrization
# built from it) or an engine.
NEEDING = ["tests/test_syntax_buildkit.py", "tests/test_jobs.py", "tests/test_hostile.py::test_bom_fixture_decodes_and_round_trips",
           "tests/test_syntax.py", "tests/e2e/test_engine.py"]


def test_without_corpus_and_engine_the_suite_skips_with_one_line_each(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "DOCKOPT_REQUIRE_ENGINE", "DOCKER_HOST")}
    env.update(DOCKOPT_CORPUS=str(tmp_path / "no-corpus"), DOCKOPT_ENGINE_DIR=str(tmp_path / "no-engine"),
               DOCKER_HOST=f"unix://{tmp_path}/no-docker.sock")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow", *NEEDING],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    corpus = [line for line in lines if line.startswith("dockopt: ") and "shared corpus not found" in line]
    engine = [line for line in lines if line.startswith("dockopt: ") and "Docker engine" in line]
    assert len(corpus) == 1 and "set DOCKOPT_CORPUS=" in corpus[0], proc.stdout[-3000:]
    assert len(engine) == 1 and "scripts/engine.sh" in engine[0], proc.stdout[-3000:]
    # and nothing else about them: one line per missing resource, not one per test location
    assert not [line for line in lines if "shared corpus not found" in line or "Docker engine" in line
                if line not in corpus + engine]
