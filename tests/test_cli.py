"""The command line as users run it: exit codes, formats, config errors, stdin, fix in place."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

BAD = "FROM golang:1.22 as build\nRUN go build -o /app .\nFROM scratch\nCOPY --from=build /app /app\n"
FIXED = BAD.replace(" as build", " AS build")
CLEAN = "FROM debian:bookworm-slim\nCMD [\"true\"]\n"


def dockopt(*args: str, cwd: Path, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "dockopt", *args], cwd=cwd, input=stdin, capture_output=True, text=True,
        env=full_env, timeout=120,
    )


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(BAD)
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "Dockerfile").write_text(CLEAN)
    return tmp_path


def test_exit_codes(project: Path) -> None:
    assert dockopt("check", "Dockerfile", cwd=project).returncode == 1
    assert dockopt("check", "clean", cwd=project).returncode == 0
    missing = dockopt("check", "nope", cwd=project)
    assert missing.returncode == 2 and "nope" in missing.stderr and "Traceback" not in missing.stderr
    usage = dockopt("check", "--format", "yaml", cwd=project)
    assert usage.returncode == 2 and usage.stderr.count("\n") == 1


def test_severity_threshold(project: Path) -> None:
    assert dockopt("check", "Dockerfile", "--severity-threshold", "error", cwd=project).returncode == 0
    assert dockopt("check", "Dockerfile", "--severity-threshold", "warning", cwd=project).returncode == 1


def test_directory_discovery_skips_vendored_dirs(project: Path) -> None:
    (project / "node_modules" / "x").mkdir(parents=True)
    (project / "node_modules" / "x" / "Dockerfile").write_text(BAD)
    (project / "svc.Dockerfile").write_text(BAD)
    out = dockopt("check", ".", "--format", "json", cwd=project)
    files = sorted({d["file"] for d in json.loads(out.stdout)})
    assert files == ["Dockerfile", "svc.Dockerfile"]


def test_json_contract(project: Path) -> None:
    out = dockopt("check", "Dockerfile", "--format", "json", cwd=project)
    (item,) = json.loads(out.stdout)
    assert set(item) == {"code", "name", "severity", "message", "file", "line", "column", "end_line",
                         "end_column", "fix", "url"}
    assert item["code"] == "DO404" and item["line"] == 1 and item["column"] == 18
    assert item["fix"]["applicability"] == "safe"
    assert item["fix"]["edits"] == [{"line": 1, "column": 18, "end_line": 1, "end_column": 20, "content": "AS"}]


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif", "gitlab", "checkstyle"])
def test_every_format_runs(project: Path, fmt: str) -> None:
    out = dockopt("check", "Dockerfile", "--format", fmt, cwd=project)
    assert out.returncode == 1 and out.stdout and "Traceback" not in out.stderr


def test_select_ignore_and_unknown_selector(project: Path) -> None:
    assert dockopt("check", "Dockerfile", "--ignore", "DO404", cwd=project).returncode == 0
    assert dockopt("check", "Dockerfile", "--select", "DO1", cwd=project).returncode == 0
    bad = dockopt("check", "Dockerfile", "--select", "DO999", cwd=project)
    assert bad.returncode == 2 and "DO999" in bad.stderr and bad.stderr.count("\n") == 1


def test_config_file_and_errors(project: Path) -> None:
    (project / "dockopt.toml").write_text('ignore = ["DO404"]\n')
    assert dockopt("check", "Dockerfile", cwd=project).returncode == 0
    assert dockopt("check", "Dockerfile", "--no-config", cwd=project).returncode == 1
    (project / "dockopt.toml").write_text('selct = ["DO404"]\n')
    out = dockopt("check", "Dockerfile", cwd=project)
    assert out.returncode == 2 and "dockopt.toml" in out.stderr and "selct" in out.stderr
    assert "Traceback" not in out.stderr


def test_syntax_error_is_do000_and_never_fixed(project: Path) -> None:
    broken = "FROM a\nRUN <<EOT\necho\n"
    (project / "Dockerfile").write_text(broken)
    out = dockopt("check", "Dockerfile", "--format", "json", cwd=project)
    assert [(d["code"], d["line"]) for d in json.loads(out.stdout)] == [("DO000", 2)]
    assert dockopt("fix", "Dockerfile", cwd=project).returncode == 1
    assert (project / "Dockerfile").read_text() == broken


def test_invalid_utf8_is_a_one_line_error(project: Path) -> None:
    (project / "Dockerfile").write_bytes(b"FROM a\nRUN echo \xff\n")
    out = dockopt("check", "Dockerfile", cwd=project)
    assert out.returncode == 2
    assert out.stderr.strip().startswith("dockopt: Dockerfile:2:") and out.stderr.count("\n") == 1


def test_stdin(project: Path) -> None:
    out = dockopt("check", "-", "--stdin-filename", "Dockerfile", "--format", "json", stdin=BAD, cwd=project)
    assert out.returncode == 1 and json.loads(out.stdout)[0]["file"] == "Dockerfile"
    fixed = dockopt("fix", "-", stdin=BAD, cwd=project)
    assert fixed.stdout == FIXED and fixed.returncode == 0


def test_fix_in_place_keeps_bytes_it_does_not_touch(project: Path) -> None:
    path = project / "Dockerfile"
    original = "\ufeff# top comment\r\n" + BAD.replace("\n", "\r\n")
    path.write_bytes(original.encode("utf-8"))
    os.chmod(path, 0o640)
    out = dockopt("fix", "Dockerfile", cwd=project)
    assert out.returncode == 0, out.stderr
    assert path.read_bytes() == ("\ufeff# top comment\r\n" + FIXED.replace("\n", "\r\n")).encode("utf-8")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not [p for p in project.iterdir() if p.name.endswith(".dockopt-tmp")]
    before = path.read_bytes()
    assert dockopt("fix", "Dockerfile", cwd=project).returncode == 0
    assert path.read_bytes() == before  # idempotent


def test_fix_keeps_utf16_encoding(project: Path) -> None:
    path = project / "Dockerfile"
    path.write_bytes(("\ufeff" + BAD).encode("utf-16-le"))
    assert dockopt("fix", "Dockerfile", cwd=project).returncode == 0
    assert path.read_bytes() == ("\ufeff" + FIXED).encode("utf-16-le")


def test_fix_diff_writes_nothing(project: Path) -> None:
    out = dockopt("fix", "--diff", "Dockerfile", cwd=project)
    assert out.returncode == 1
    assert "-FROM golang:1.22 as build" in out.stdout and "+FROM golang:1.22 AS build" in out.stdout
    assert (project / "Dockerfile").read_text() == BAD


def test_fix_on_read_only_file_is_an_error(project: Path) -> None:
    path = project / "Dockerfile"
    os.chmod(path, 0o444)
    out = dockopt("fix", "Dockerfile", cwd=project)
    assert out.returncode == 2 and "read-only" in out.stderr
    assert path.read_text() == BAD


def test_suppressions(project: Path) -> None:
    text = "FROM golang:1.22 as build\n# dockopt: ignore=DO404\nCOPY --from=nope /a /a\n"
    (project / "Dockerfile").write_text(text)
    out = json.loads(dockopt("check", "Dockerfile", "--format", "json", cwd=project).stdout)
    assert [(d["code"], d["line"]) for d in out] == [("DO404", 1)]  # the casing finding, not line 3
    (project / "Dockerfile").write_text("# dockopt: ignore-file\n" + BAD)
    assert dockopt("check", "Dockerfile", cwd=project).returncode == 0
    (project / "Dockerfile").write_text("FROM a\n# dockopt: ignore=DO101\nRUN true\n")
    unused = dockopt("check", "Dockerfile", "--report-unused-suppressions", "--format", "json", cwd=project)
    assert [d["code"] for d in json.loads(unused.stdout)] == ["DO001"]


def test_rule_command(project: Path) -> None:
    out = dockopt("rule", "DO101", cwd=project)
    assert out.returncode == 0 and out.stdout.startswith("# DO101 cleanup-in-later-layer")
    assert dockopt("rule", "DO999", cwd=project).returncode == 2
    listing = json.loads(dockopt("rule", "--all", "--format", "json", cwd=project).stdout)
    assert {"DO101", "DO404"} <= {r["code"] for r in listing}


def test_layers_command(project: Path) -> None:
    (project / "Dockerfile").write_text("FROM debian:bookworm\nRUN apt-get update\nRUN rm -rf /var/lib/apt/lists/*\n")
    out = dockopt("layers", "Dockerfile", "--format", "json", cwd=project)
    (stage,) = json.loads(out.stdout)
    assert stage["estimated_waste_bytes"] > 15_000_000
    text = dockopt("layers", "Dockerfile", cwd=project).stdout
    assert "estimated waste" in text


def test_version(project: Path) -> None:
    out = dockopt("--version", cwd=project)
    assert out.returncode == 0 and out.stdout.startswith("dockopt ")


def test_jobs_give_the_same_output(project: Path) -> None:
    for i in range(20):
        (project / f"s{i}.Dockerfile").write_text(BAD)
    one = dockopt("check", ".", "--format", "json", "--jobs", "1", cwd=project)
    two = dockopt("check", ".", "--format", "json", "--jobs", "2", cwd=project)
    assert one.stdout == two.stdout and one.returncode == two.returncode == 1
