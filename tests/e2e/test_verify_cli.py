"""``dockopt verify`` as a command: exit codes, the JSON contract, one-line errors.

The exit-code paths for dockopt's own bugs (a fixed Dockerfile that no longer builds, a
"safe" fix that changes the image) cannot be reached with correct rules, so two tests stand
in a deliberately wrong fixer: the real one runs, then its output is spoiled the way a buggy
rule would spoil it. Everything else -- engine, builds, comparison -- is real.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from dockopt.cli.main import main
from dockopt.verify import session
from dockopt.verify.engine import DockerEngine
from dockopt.verify.fixing import FixOutcome, plan_fixes

CASES = Path(__file__).parent / "cases"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dockopt", "verify", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)


def copy_case(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(CASES / name, tmp_path / name))


def test_no_engine_is_one_line_and_exit_2(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM busybox:latest\n")
    proc = run_cli(str(dockerfile), env={"DOCKER_HOST": f"unix://{tmp_path}/no.sock",
                                         "DOCKOPT_ENGINE_DIR": str(tmp_path / "none")})
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dockopt verify: ")
    assert "Docker engine" in lines[0] or "docker CLI" in lines[0]
    # what a user who installed dockopt with pip can do; no script of this repository
    assert "scripts/" not in lines[0] and "DOCKER_HOST" in lines[0]


def test_missing_dockerfile_exit_2(tmp_path: Path) -> None:
    proc = run_cli(str(tmp_path / "nope"))
    assert proc.returncode == 2
    assert "no such Dockerfile" in proc.stderr


def test_a_directory_without_a_dockerfile_is_a_clear_error(tmp_path: Path) -> None:
    proc = run_cli(str(tmp_path))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == (f"dockopt verify: {tmp_path}: a directory without a file named Dockerfile "
                                   "(give the Dockerfile's path)")


@pytest.mark.parametrize(("args", "message"), [
    (["--run", "sh -c 'unclosed"], "--run \"sh -c 'unclosed\": No closing quotation"),
    (["--run", "  "], "--run needs a command"),
    (["--run-timeout", "0"], "--run-timeout 0.0: must be a positive number of seconds"),
])
def test_bad_smoke_run_options_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox:latest\n")
    proc = run_cli(str(tmp_path / "Dockerfile"), *args)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"dockopt verify: {message}"


@pytest.mark.engine
def test_json_contract(engine: DockerEngine, tmp_path: Path) -> None:
    ctx = copy_case("copy-chmod", tmp_path)
    proc = run_cli(str(ctx / "Dockerfile"), "--context", str(ctx), "--rebuild-after", str(ctx / "tool.sh"),
                   "--unsafe-fixes", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    for side in ("original", "fixed"):
        assert isinstance(report[side]["size_bytes"], int)
        for layer in report[side]["layers"]:
            assert set(layer) >= {"line", "instruction", "size_bytes"}
    assert [(la["line"], la["instruction"]) for la in report["original"]["layers"]] == [
        (2, "FROM"), (3, "COPY"), (4, "RUN")]
    assert [(la["line"], la["instruction"]) for la in report["fixed"]["layers"]] == [(2, "FROM"), (3, "COPY")]
    assert report["filesystem_equal"] is True
    assert report["ignored_paths"] == [
        "/var/log/*", "/var/cache/ldconfig/aux-cache", "/etc/ssh/ssh_host_*", "/root/.cache/pip/http*"]
    assert report["secrets"] == []
    assert report["fixes_applied"] == [
        {"code": "DO104", "line": 4, "applicability": "unsafe", "message": report["fixes_applied"][0]["message"]}]
    cache = report["cache"]
    assert cache["edited"] == "tool.sh"
    assert cache["original"]["misses"] == 2 and cache["fixed"]["misses"] == 1  # COPY (+ the chmod RUN)
    assert report["saved_bytes"] == (ctx / "tool.sh").stat().st_size
    assert report["verdict"] == "ok" and report["exit_code"] == 0


@pytest.mark.engine
def test_text_report_names_lines_and_sizes(engine: DockerEngine, tmp_path: Path) -> None:
    ctx = copy_case("copy-chmod", tmp_path)
    proc = run_cli(str(ctx / "Dockerfile"), "--context", str(ctx), "--unsafe-fixes")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "fixes applied: DO104 line 4 (unsafe)" in out
    assert "RUN chmod 755 /usr/local/bin/tool" in out and "COPY --chmod=755 tool.sh" in out
    assert f"saved: {(ctx / 'tool.sh').stat().st_size:,} bytes" in out
    assert "filesystem: equal (ignored: /var/log/*" in out


@pytest.mark.engine
def test_original_that_does_not_build_exit_2(engine: DockerEngine, tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM busybox:latest\nRUN echo compiling && exit 3\n")
    proc = run_cli(str(dockerfile), "--format", "json")
    assert proc.returncode == 2
    report = json.loads(proc.stdout)
    assert report["verdict"] == "original-build-failed"
    assert report["original"]["built"] is False and report["fixed"] is None
    assert any("exit code: 3" in line or "non-zero code: 3" in line for line in report["original"]["log_tail"])
    assert "original Dockerfile does not build" in proc.stderr


@pytest.mark.engine
def test_rebuild_after_a_file_outside_the_context_exit_2(engine: DockerEngine, tmp_path: Path) -> None:
    ctx = copy_case("copy-chmod", tmp_path)
    proc = run_cli(str(ctx / "Dockerfile"), "--rebuild-after", "no-such-file.txt")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"dockopt verify: --rebuild-after no-such-file.txt: no such file in the build context {ctx}")


def _spoiled_fixer(spoil: str, replacement: str) -> Callable[..., FixOutcome]:
    """The real fixer, whose fixed text then gets ``spoil`` replaced, as a buggy rule would."""

    def plan(path: Path, *, unsafe_fixes: bool, context: Path | None, target: str | None) -> FixOutcome:
        outcome = plan_fixes(path, unsafe_fixes=unsafe_fixes, context=context, target=target)
        assert spoil in outcome.fixed_text
        outcome.fixed_text = outcome.fixed_text.replace(spoil, replacement)
        return outcome

    return plan


@pytest.mark.engine
def test_fixed_dockerfile_that_does_not_build_is_a_bug_exit_1(
        engine: DockerEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    ctx = copy_case("copy-chmod", tmp_path)
    spoiled = _spoiled_fixer("COPY --chmod=755 tool.sh", "COPY --chmod=755 tool.sh.gone")
    monkeypatch.setattr(session, "plan_fixes", spoiled)
    rc = main(["verify", str(ctx / "Dockerfile"), "--context", str(ctx), "--unsafe-fixes", "--format", "json"])
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert rc == 1
    assert report["verdict"] == "fixed-build-failed" and report["fixed"]["built"] is False
    assert report["original"]["built"] is True
    assert "this is a bug in dockopt: the original Dockerfile builds but the fixed one does not" in err
    assert any("tool.sh.gone" in line for line in report["fixed"]["log_tail"])


@pytest.mark.engine
def test_safe_fix_that_changes_the_image_is_a_bug_exit_1(
        engine: DockerEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    ctx = copy_case("build-stamp", tmp_path)
    monkeypatch.setattr(session, "plan_fixes", _spoiled_fixer("&& rm -f /tmp/scratch.bin", "&& true"))
    rc = main(["verify", str(ctx / "Dockerfile"), "--context", str(ctx)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "filesystem: differs" in out and "/tmp/scratch.bin" in out
    assert "dockopt verify: this is a bug in dockopt: a safe fix changed the image (DO101 line 5); " in out
    assert "/tmp/scratch.bin" in out.split("differing paths:", 1)[1]
    assert "expected: unsafe fixes" not in out


@pytest.mark.engine
def test_legacy_multi_stage_leaves_no_images_behind(engine: DockerEngine, tmp_path: Path) -> None:
    # The legacy builder leaves a multi-stage build's builder stage as an untagged image.
    marker = f"dockopt-leftover-{uuid.uuid4().hex[:12]}"
    (tmp_path / "Dockerfile").write_text(
        f"FROM busybox:latest AS build\nRUN echo {marker} > /a\n"
        "FROM busybox:latest\nCOPY --from=build /a /a\nCMD [\"cat\", \"/a\"]\n")
    proc = run_cli(str(tmp_path / "Dockerfile"), "--rebuild-after", str(tmp_path / "Dockerfile"),
                   env={"DOCKER_BUILDKIT": "0"})
    assert proc.returncode == 0, proc.stderr
    assert "legacy builder" in proc.stdout
    listed = subprocess.run([engine.cli, "images", "-a", "-q", "--no-trunc"], capture_output=True, text=True,
                            env={**os.environ, "DOCKER_HOST": engine.docker_host or ""}, check=True).stdout.split()
    for image in dict.fromkeys(listed):
        history = subprocess.run([engine.cli, "history", "--no-trunc", "--format", "{{.CreatedBy}}", image],
                                 capture_output=True, text=True,
                                 env={**os.environ, "DOCKER_HOST": engine.docker_host or ""}).stdout
        assert marker not in history, f"verify left image {image} behind"
