"""One version everywhere (issue 17, item 13): pyproject.toml, ``dockopt --version``, the
README's pre-commit and GitHub Actions snippets, the hook manifest and the action name the
same release, and the release tag ``v<version>`` is what they document.

Releasing: bump ``version`` in pyproject.toml and ``__version__``; this test then lists every
place that still names the old one. The tag is created on the commit whose README documents
it (``git tag v<version> <commit>``); only a clone that carries no tags at all skips that check.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import dockopt

ROOT = Path(__file__).resolve().parents[1]


def _project_version() -> str:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def test_package_and_cli_agree_with_pyproject() -> None:
    version = _project_version()
    assert dockopt.__version__ == version
    out = subprocess.run([sys.executable, "-m", "dockopt", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"dockopt {version}"


@pytest.mark.parametrize(("file", "pattern"), [
    ("README.md", r"rev: (v[0-9][^\s]*)"),
    ("README.md", r"dockopt/dockopt@(v[0-9][^\s]*)"),
    (".pre-commit-hooks.yaml", r"rev: (v[0-9][^\s]*)"),
    ("action.yml", r"dockopt/dockopt@(v[0-9][^\s`]*)"),
])
def test_snippets_name_the_current_release(file: str, pattern: str) -> None:
    found = re.findall(pattern, (ROOT / file).read_text(encoding="utf-8"))
    assert found, f"{file}: no snippet matches {pattern}"
    assert set(found) == {f"v{_project_version()}"}, f"{file} names {sorted(set(found))}"


def test_the_release_tag_points_at_a_commit_that_documents_it() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tag cannot be checked")
    tag = f"v{_project_version()}"
    tags = subprocess.run(["git", "tag", "--list"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.split()
    shallow = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=ROOT, capture_output=True,
                             text=True, check=False).stdout.strip() == "true"
    if tag not in tags and shallow:
        pytest.skip(f"shallow clone without tags: {tag} cannot be checked")
    if not tags:
        # A clone made from a branch alone (CI's clean clone of main may be one) carries no
        # tags at all: nothing to check here. A clone with tags but not this one still fails.
        pytest.skip(f"this clone carries no tags: {tag} cannot be checked")
    # The README, the hooks and the action tell users `rev: {tag}`: it must exist.
    assert tag in tags, f"the documented release tag {tag} does not exist: git tag {tag} <commit>"
    readme = subprocess.run(["git", "show", f"{tag}:README.md"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout
    assert f"rev: {tag}" in readme and f"dockopt/dockopt@{tag}" in readme
    pyproject = subprocess.run(["git", "show", f"{tag}:pyproject.toml"], cwd=ROOT, capture_output=True, text=True,
                               check=True).stdout
    assert f'version = "{_project_version()}"' in pyproject
