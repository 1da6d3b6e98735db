"""The pre-commit hooks (.pre-commit-hooks.yaml), run for real by pre-commit.

pre-commit installs hooks from a git revision, so the test copies the working tree (tracked
and untracked, not ignored files: uncommitted work is what we want to test) into a temporary
git repository, commits it, and points pre-commit at that. HOME, PRE_COMMIT_HOME and the
git identity are temporary too, so the user's configuration and hook cache are untouched.
pre-commit builds a virtualenv and pip-installs dockopt into it (from PyPI or the configured
mirror), which takes a while: the test is marked slow but is part of the default run.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BAD = """\
FROM golang:1.22 as build
RUN go build -o /app .
FROM gcr.io/distroless/static
COPY --from=build /app /app
"""
FIXED = BAD.replace(" as build", " AS build")

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _env(tmp: Path) -> dict[str, str]:
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env = dict(os.environ)
    # pip's per-user configuration (a private index, say) lives under HOME: keep using it.
    for user_conf in (Path.home() / ".config/pip/pip.conf", Path.home() / ".pip/pip.conf"):
        if "PIP_CONFIG_FILE" not in env and user_conf.is_file():
            env["PIP_CONFIG_FILE"] = str(user_conf)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        PRE_COMMIT_HOME=str(tmp / "pre-commit-home"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="dockopt tests",
        GIT_AUTHOR_EMAIL="tests@dockopt.invalid",
        GIT_COMMITTER_NAME="dockopt tests",
        GIT_COMMITTER_EMAIL="tests@dockopt.invalid",
        PRE_COMMIT_COLOR="never",
        NO_COLOR="1",
    )
    for leaked in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "VIRTUAL_ENV"):
        env.pop(leaked, None)  # set when the suite itself runs inside a git hook or venv
    return env


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"git {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _working_tree_files() -> list[Path]:
    """The project's files as a commit of the current working tree would hold them."""
    if (ROOT / ".git").exists():
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, check=True,
        ).stdout.decode()
        return [Path(name) for name in out.split("\0") if name and (ROOT / name).is_file()]
    skip = {".git", ".venv", ".pytest_cache", ".hypothesis", "__pycache__", "build", "dist"}
    return [p.relative_to(ROOT) for p in ROOT.rglob("*")
            if p.is_file() and not skip.intersection(p.relative_to(ROOT).parts)]


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("precommit")
    env = _env(tmp)
    repo = tmp / "dockopt-under-test"
    for rel in _working_tree_files():
        dest = repo / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest)
    _git(repo, env, "init", "-q")
    _git(repo, env, "add", "-A")
    _git(repo, env, "commit", "-q", "--no-verify", "-m", "working tree under test")
    return repo, env


def _project(tmp: Path, env: dict[str, str]) -> Path:
    project = tmp / "user-project"
    project.mkdir()
    _git(project, env, "init", "-q")
    (project / "Dockerfile").write_text(BAD, encoding="utf-8")
    (project / "README.txt").write_text("not a Dockerfile: the hooks must skip it\n", encoding="utf-8")
    _git(project, env, "add", "-A")
    _git(project, env, "commit", "-q", "--no-verify", "-m", "initial")
    return project


def _configure_both_hooks(project: Path, repo: Path, env: dict[str, str]) -> None:
    """As users run the hooks: a staged .pre-commit-config.yaml pinning the repository under
    test at its revision, the fix hook before the check hook."""
    rev = _git(repo, env, "rev-parse", "HEAD").strip()
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {repo.as_posix()}\n    rev: {rev}\n    hooks:\n"
        "      - id: dockopt-fix\n      - id: dockopt\n",
        encoding="utf-8",
    )
    _git(project, env, "add", "-A")


def _pre_commit(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=900, check=False)


def _explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


@pytest.mark.slow
def test_hooks_check_fix_and_pass(hook_repo: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    repo, env = hook_repo
    project = _project(tmp_path, env)
    dockerfile = project / "Dockerfile"

    # 1. The check hook fails on the finding and leaves the file alone.
    proc = _pre_commit(project, env, "try-repo", str(repo), "dockopt", "--all-files")
    assert proc.returncode == 1, _explain(proc)
    assert "DO404" in proc.stdout, _explain(proc)
    assert "README.txt" not in proc.stdout, _explain(proc)
    assert dockerfile.read_text(encoding="utf-8") == BAD

    # 2. The fix hook rewrites it; pre-commit fails the run because a file changed.
    proc = _pre_commit(project, env, "try-repo", str(repo), "dockopt-fix", "--all-files")
    assert proc.returncode == 1, _explain(proc)
    assert "files were modified by this hook" in proc.stdout, _explain(proc)
    assert dockerfile.read_text(encoding="utf-8") == FIXED

    # 3. As users run it: a .pre-commit-config.yaml pinning the revision; both hooks pass.
    _configure_both_hooks(project, repo, env)
    proc = _pre_commit(project, env, "run", "--all-files")
    assert proc.returncode == 0, _explain(proc)
    assert proc.stdout.count("Passed") == 2, _explain(proc)
    assert dockerfile.read_text(encoding="utf-8") == FIXED


def test_manifest_matches_the_cli() -> None:
    """Fast companion: pre-commit accepts the manifest, and its hooks name real subcommands."""
    yaml = pytest.importorskip("yaml")
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest", ".pre-commit-hooks.yaml"],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"dockopt", "dockopt-fix"}
    assert hooks["dockopt"]["entry"] == "dockopt check --force-exclude"
    assert hooks["dockopt-fix"]["entry"] == "dockopt fix --fix-only --force-exclude"
    from dockopt.discovery import HOOK_FILES_REGEX

    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["files"] == HOOK_FILES_REGEX  # the walk's names, not identify's `dockerfile` tag
        assert hook["require_serial"] is True  # one process, one summary (as ruff's hooks)


# A fixable finding (DO404 casing) and one without a safe fix (DO102: `make` might need the lists).
MIXED = """FROM golang:1.22 as build
RUN go build -o /app .
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y curl
RUN make
COPY --from=build /app /app
"""


@pytest.mark.slow
def test_both_hooks_print_each_finding_once(hook_repo: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """Issue 17 items 10 and 12: with both hooks, the fix hook prints what it changed and a
    count, the check hook the remaining findings, each once and in one summary; the hooks
    take api.dockerfile (identify's tag does not) and skip Dockerfile.md (which it takes)."""
    repo, env = hook_repo
    project = _project(tmp_path, env)
    (project / "Dockerfile").write_text(MIXED, encoding="utf-8")
    (project / "api.dockerfile").write_text(MIXED, encoding="utf-8")
    (project / "Dockerfile.md").write_text("# Building\n\nRun `docker build .`\n", encoding="utf-8")
    _configure_both_hooks(project, repo, env)
    proc = _pre_commit(project, env, "run", "--all-files")
    assert proc.returncode == 1, _explain(proc)
    fix_part, check_part = proc.stdout.split("dockopt (fix)", 1)[1].split("\ndockopt.", 1)
    assert "Fixed Dockerfile: DO404 stage-reference" in fix_part, _explain(proc)
    assert "Fixed api.dockerfile: DO404 stage-reference" in fix_part, _explain(proc)
    assert "Fixed 2 findings in 2 files; 2 findings remain" in fix_part, _explain(proc)
    assert "DO102" not in fix_part, _explain(proc)  # the remaining findings: the check hook's job
    assert check_part.count("DO102 [-] warning") == 2, _explain(proc)
    assert check_part.count("Found ") == 1 and "Found 2 findings: 2 warnings." in check_part, _explain(proc)
    assert "Dockerfile.md" not in proc.stdout, _explain(proc)
