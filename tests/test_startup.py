"""Start-up cost: what a plain ``dockopt check`` of one Dockerfile must not import.

A single-file check (an editor, a pre-commit hook) pays for every import, so modules that
only some runs need are imported where they are used. Timing tests would be flaky; this
checks ``sys.modules`` after a real check in a fresh interpreter instead, with positive
controls showing that the same driver does see the modules when a run needs them.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Runs the CLI in-process, then lists every imported module after a marker line.
DRIVER = """
import sys
from dockopt.cli.main import main
code = main(sys.argv[1:])
print("--- modules ---")
print("\\n".join(sorted(sys.modules)))
"""

# A RUN (the shell parser), a COPY (the build context); no exec-form instruction (JSON).
DOCKERFILE = """FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y curl
COPY . /app
"""

# Needed only by: configuration files (tomllib), config and selector typos (difflib),
# config type errors (datetime), JSON input or output (json), gitlab/sarif fingerprints
# (hashlib), docs and SARIF (the rule book), `fix` (dockopt.fixes.fixer), manifests in a context,
# volatile build args (dockopt.cache.model), the parse-time probe for scripts of 4 KB or more
# (subprocess).
LAZY = ("tomllib", "difflib", "datetime", "json", "hashlib", "dockopt.rulebook", "dockopt.fixes.fixer",
        "dockopt.cache.ecosystem_files", "dockopt.cache.model", "concurrent.futures", "subprocess")


def _modules(cwd: Path, *args: str) -> set[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-c", DRIVER, *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)
    assert "--- modules ---" in proc.stdout, proc.stderr
    modules = set(proc.stdout.split("--- modules ---\n", 1)[1].split())
    # The check really ran: rule modules and the shell parser were loaded.
    assert {"dockopt.checks.do101_cleanup_in_later_layer", "dockopt.shell.parse"} <= modules
    return modules


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    return tmp_path


def test_plain_check_imports_nothing_it_does_not_need(project: Path) -> None:
    modules = _modules(project, "check", "Dockerfile")
    assert not [name for name in LAZY if name in modules]
    assert not [name for name in modules if name.startswith("tomllib.")]


def test_the_driver_sees_lazy_modules_when_a_run_needs_them(project: Path) -> None:
    # Positive controls: without them the test above could pass by never seeing anything.
    (project / "dockopt.toml").write_text('ignore = ["DO105"]\n')
    modules = _modules(project, "check", "--format", "sarif", "Dockerfile")
    assert {"tomllib", "json", "hashlib", "dockopt.rulebook"} <= modules
