"""Which files a directory walk checks (issue 17, item 10): .gitignore as git decides,
exclude/extend-exclude (command line and config), --force-exclude for named files, template
and backup names skipped unless named, --show-files; and pre-commit's `files:` pattern agrees
with the walk."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from dockopt.discovery import HOOK_FILES_REGEX, is_dockerfile_name
from tests.test_cli import CLEAN, dockopt

NAMES_CHECKED = ["Dockerfile", "Dockerfile.dev", "Dockerfile.prod.arm64", "api.dockerfile", "api.Dockerfile",
                 "Containerfile", "Containerfile.fedora", "Dockerfile.", ".Dockerfile", "web.prod.Dockerfile"]
NAMES_SKIPPED = ["Dockerfile.md", "Dockerfile.j2", "Dockerfile.orig", "Dockerfile.bak", "Dockerfile~",
                 "Dockerfile.dev.tmpl", "Dockerfile.template", "Containerfile.in", "Dockerfile.rej",
                 "Dockerfile.dockerignore", "Dockerfile.MD", "Dockerfile.swp", "README.md", "dockerfile",
                 "Dockerfile.dockopt-tmp", "api.dockerfile.j2", "notes.txt"]


def _files(project: Path, *args: str) -> list[str]:
    out = dockopt("check", "--show-files", *args, cwd=project)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for rel in ["Dockerfile", "svc/Dockerfile", "build/Dockerfile", "vendor/x/Dockerfile", "out/Dockerfile",
                "svc/gen/Dockerfile", "svc/gen/keep.Dockerfile", "Dockerfile.md", "Dockerfile.j2",
                "Dockerfile.orig", "api.dockerfile", "node_modules/m/Dockerfile"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(CLEAN)
    (tmp_path / ".gitignore").write_text("out/\n# generated\nsvc/gen/*\n!svc/gen/keep.Dockerfile\n")
    return tmp_path


def test_walk_names_and_skipped_extensions() -> None:
    assert [n for n in NAMES_CHECKED if not is_dockerfile_name(n)] == []
    assert [n for n in NAMES_SKIPPED if is_dockerfile_name(n)] == []


def test_hook_files_regex_agrees_with_the_walk() -> None:
    regex = re.compile(HOOK_FILES_REGEX)
    for name in NAMES_CHECKED + NAMES_SKIPPED:
        for path in (name, f"sub/dir/{name}"):
            assert bool(regex.search(path)) == is_dockerfile_name(name), path
    hooks = (Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text()
    assert hooks.count(f"files: '{HOOK_FILES_REGEX}'") == 2  # both hooks, the same pattern


def test_gitignore_default_excludes_and_templates(repo: Path) -> None:
    assert _files(repo) == ["Dockerfile", "api.dockerfile", "build/Dockerfile", "svc/Dockerfile",
                            "svc/gen/keep.Dockerfile"]
    # named explicitly, a template or an ignored file is still checked (as in ruff)
    assert _files(repo, "Dockerfile.j2", "out/Dockerfile") == ["Dockerfile.j2", "out/Dockerfile"]
    # a walk started below the root still reads the root's .gitignore
    assert _files(repo, "svc") == ["svc/Dockerfile", "svc/gen/keep.Dockerfile"]
    assert "out/Dockerfile" in _files(repo, "--no-respect-gitignore")


def test_gitignore_needs_a_git_work_tree(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "Dockerfile").write_text(CLEAN)
    (tmp_path / ".gitignore").write_text("out/\n")
    assert _files(tmp_path) == ["out/Dockerfile"]  # git would not apply it either
    (tmp_path / ".ignore").write_text("out/\n")
    assert _files(tmp_path) == []


def test_exclude_and_extend_exclude(repo: Path) -> None:
    assert _files(repo, "--extend-exclude", "svc,api.*") == ["Dockerfile", "build/Dockerfile"]
    assert "vendor/x/Dockerfile" in _files(repo, "--exclude", "build")
    assert "build/Dockerfile" not in _files(repo, "--exclude", "build")
    (repo / "dockopt.toml").write_text('extend-exclude = ["build/"]\n')
    assert "build/Dockerfile" not in _files(repo)
    (repo / "dockopt.toml").write_text('exclude = []\nrespect-gitignore = false\n')
    assert {"vendor/x/Dockerfile", "out/Dockerfile", "node_modules/m/Dockerfile"} <= set(_files(repo))
    (repo / "dockopt.toml").write_text('exclude = "build"\n')
    bad = dockopt("check", "--show-files", cwd=repo)
    assert bad.returncode == 2 and "dockopt.toml" in bad.stderr and "exclude" in bad.stderr


def test_force_exclude_applies_to_named_files(repo: Path) -> None:
    named = ["vendor/x/Dockerfile", "out/Dockerfile", "svc/Dockerfile"]
    assert _files(repo, *named) == sorted(named)
    assert _files(repo, "--force-exclude", *named) == ["svc/Dockerfile"]
    (repo / "dockopt.toml").write_text("force-exclude = true\n")
    assert _files(repo, *named) == ["svc/Dockerfile"]
    out = dockopt("check", "--force-exclude", "out/Dockerfile", cwd=repo)
    assert out.returncode == 0 and "Traceback" not in out.stderr


def test_walk_lints_only_what_show_files_lists(repo: Path) -> None:
    (repo / "Dockerfile.md").write_text("# How to build\nRun `docker build .`\n")
    out = dockopt("check", ".", "--format", "json", cwd=repo)
    assert out.returncode == 0 and out.stdout.strip() == "[]"
