"""The command line as a new user meets it (issue 17): what is printed next to errors, empty
runs, --quiet, --target, severities in text, fix --diff, suppressions, rule docs, and the
options users expect from ruff and hadolint. Each test failed before the change it covers."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.test_cli import BAD, dockopt, project  # noqa: F401 (project: the same fixture)

# A warning whose fix is unsafe (DO102: a later `make` might need the apt lists).
WARNINGS = "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\nRUN make\n"
MULTI = "FROM golang:1.22 AS build\nRUN go build -o /app .\nFROM debian:bookworm AS runtime\nCOPY --from=build /app /app\n"


# -- 1. no "All checks passed!" next to an exit-2 error ------------------------------------


def test_item1_no_all_checks_passed_next_to_errors(project: Path) -> None:
    missing = dockopt("check", "/nonexistent/Dockerfile", cwd=project)
    assert missing.returncode == 2 and "All checks passed" not in missing.stdout + missing.stderr
    (project / "bin.Dockerfile").write_bytes(b"\x00\x01\x02\xff\xfe")
    binary = dockopt("check", "bin.Dockerfile", cwd=project)
    assert binary.returncode == 2 and "All checks passed" not in binary.stdout
    hadolint = dockopt("check", "clean/Dockerfile", "--hadolint", cwd=project,
                       env={"DOCKOPT_HADOLINT": str(project / "no-such-hadolint")})
    assert hadolint.returncode == 2 and "All checks passed" not in hadolint.stdout
    # a clean file alone still says so
    assert dockopt("check", "clean/Dockerfile", cwd=project).stdout == "All checks passed!\n"


# -- 2. a path with no Dockerfile ---------------------------------------------------------


def test_item2_no_dockerfiles_found_warns(project: Path) -> None:
    (project / "d").mkdir()
    (project / "d" / "README.md").write_text("hi\n")
    out = dockopt("check", "d", cwd=project)
    # ruff's choice: a warning, exit 0 (a repository without Dockerfiles is not an error)
    assert out.returncode == 0 and "No Dockerfiles found under d" in out.stderr
    assert "All checks passed" not in out.stdout
    github = dockopt("check", "d", "--format", "github", cwd=project)
    assert github.stdout.startswith("::warning title=dockopt::No Dockerfiles found under d")


# -- 3. --quiet ----------------------------------------------------------------------------


def test_item3_quiet_prints_findings_only(project: Path) -> None:
    out = dockopt("check", "Dockerfile", "-q", cwd=project)
    assert out.returncode == 1 and "DO404" in out.stdout
    assert "Found" not in out.stdout and "fixable" not in out.stdout and "DO404  stage-reference" not in out.stdout
    assert dockopt("check", "clean", "-q", cwd=project).stdout == ""


@pytest.mark.parametrize("fmt", ["json", "sarif", "gitlab", "checkstyle"])
def test_item3_quiet_machine_formats_stay_valid_when_empty(project: Path, fmt: str) -> None:
    out = dockopt("check", "clean", "-q", "--format", fmt, cwd=project)
    assert out.returncode == 0 and out.stdout.strip()
    if fmt == "checkstyle":
        import xml.etree.ElementTree as ET

        assert ET.fromstring(out.stdout).tag == "checkstyle"
    elif fmt == "sarif":
        assert json.loads(out.stdout)["runs"][0]["results"] == []
    else:
        assert json.loads(out.stdout) == []


# -- 5. --target checked; layers honours it ------------------------------------------------


def test_item5_unknown_target_is_an_error(project: Path) -> None:
    (project / "Dockerfile").write_text(MULTI)
    out = dockopt("check", "Dockerfile", "--target", "nosuch", cwd=project)
    assert out.returncode == 2 and 'target stage "nosuch" could not be found' in out.stderr
    assert "stages: build, runtime" in out.stderr and out.stderr.count("\n") == 1
    (project / "dockopt.toml").write_text('target = "nosuch"\n')
    config = dockopt("check", "Dockerfile", cwd=project)
    assert config.returncode == 2 and "dockopt.toml" in config.stderr
    assert dockopt("check", "Dockerfile", "--target", "runtime", "--no-config", cwd=project).returncode in (0, 1)


def test_item5_layers_target_and_context(project: Path) -> None:
    (project / "Dockerfile").write_text(MULTI)
    full = json.loads(dockopt("layers", "Dockerfile", "--format", "json", cwd=project).stdout)
    build = json.loads(dockopt("layers", "Dockerfile", "--target", "build", "--format", "json", cwd=project).stdout)
    assert [s["stage"] for s in full] == ["build", "runtime"] and [s["stage"] for s in build] == ["build"]
    runtime = json.loads(dockopt("layers", "Dockerfile", "--target", "runtime", "--format", "json", cwd=project).stdout)
    assert [s["stage"] for s in runtime] == ["build", "runtime"]  # it copies from build
    nosuch = dockopt("layers", "Dockerfile", "--target", "nosuch", cwd=project)
    assert nosuch.returncode == 2 and "nosuch" in nosuch.stderr
    nope = dockopt("layers", "Dockerfile", "--context", "/nope", cwd=project)
    assert nope.returncode == 2 and "/nope" in nope.stderr


# -- 6. severities in text, counted by severity, a hint that works ------------------------


def test_item6_text_shows_and_counts_severity(project: Path) -> None:
    (project / "Dockerfile").write_text(WARNINGS)
    out = dockopt("check", "Dockerfile", "--severity-threshold", "error", cwd=project)
    assert out.returncode == 0
    assert "Dockerfile:2:5: DO102 [-] warning:" in out.stdout
    assert "errors" not in out.stdout.splitlines()[-2] and "Found " in out.stdout
    found = next(line for line in out.stdout.splitlines() if line.startswith("Found "))
    assert "error" not in found and "warning" in found
    assert "`dockopt fix --unsafe-fixes`" in out.stdout and "dockopt check --unsafe-fixes" not in out.stdout
    (project / "dockopt.toml").write_text("unsafe-fixes = true\n")
    configured = dockopt("check", "Dockerfile", cwd=project)
    assert "hidden fix" not in configured.stdout and "[-]" not in configured.stdout
    assert "[-]" in dockopt("check", "--help", cwd=project).stdout  # the marker is documented


# -- 7. fix --diff says why; --format with --diff is refused ------------------------------


def test_item7_fix_diff_with_nothing_to_fix(project: Path) -> None:
    # DO102's fix is unsafe: nothing `dockopt fix` would change, and findings remain.
    (project / "Dockerfile").write_text(WARNINGS)
    out = dockopt("fix", "--diff", "Dockerfile", cwd=project)
    assert out.stdout == "" and out.returncode == 0
    assert "No fixes available" in out.stderr and "dockopt check" in out.stderr
    refused = dockopt("fix", "--diff", "--format", "json", "Dockerfile", cwd=project)
    assert refused.returncode == 2 and "--diff" in refused.stderr and refused.stderr.count("\n") == 1
    assert dockopt("fix", "--diff", "Dockerfile", cwd=project).returncode == 0
    (project / "Dockerfile").write_text(BAD)
    assert dockopt("fix", "--diff", "Dockerfile", cwd=project).returncode == 1


# -- 8. suppressions: DO001 selectable, reasons, malformed comments ----------------------


def test_item8_do001_is_an_ordinary_rule(project: Path) -> None:
    (project / "Dockerfile").write_text("FROM a\n# dockopt: ignore=DO101\nRUN true\n")
    for args in (["--select", "DO001"], ["--select", "ALL"], ["--extend-select", "DO001"]):
        out = dockopt("check", "Dockerfile", "--format", "json", *args, cwd=project)
        assert "DO001" in [d["code"] for d in json.loads(out.stdout)], args
    (project / "dockopt.toml").write_text('extend-select = ["DO001"]\n')
    out = dockopt("check", "Dockerfile", "--format", "json", cwd=project)
    assert [d["code"] for d in json.loads(out.stdout)] == ["DO001"]


def test_item8_reason_accepted_malformed_reported(project: Path) -> None:
    text = "FROM golang:1.22 as build\n# dockopt: ignore=DO404 -- the casing is upstream's\nFROM scratch as final\n"
    (project / "Dockerfile").write_text(text)
    out = json.loads(dockopt("check", "Dockerfile", "--format", "json", cwd=project).stdout)
    assert ("DO404", 1) in [(d["code"], d["line"]) for d in out]
    assert ("DO404", 3) not in [(d["code"], d["line"]) for d in out]  # silenced, reason and all
    (project / "Dockerfile").write_text(text.replace("# dockopt: ignore=DO404 -- the casing is upstream's",
                                                     "# dockopt ignore=DO404"))
    bad = dockopt("check", "Dockerfile", "--format", "json", cwd=project)
    assert "Dockerfile:2: warning: malformed suppression comment" in bad.stderr
    assert ("DO404", 3) in [(d["code"], d["line"]) for d in json.loads(bad.stdout)]
    selected = dockopt("check", "Dockerfile", "--format", "json", "--extend-select", "DO001", cwd=project)
    assert ("DO001", 2) in [(d["code"], d["line"]) for d in json.loads(selected.stdout)]


# -- 9. rule docs do not contradict themselves --------------------------------------------


def test_item9_rule_docs_do_not_promise_a_fix_always(project: Path) -> None:
    out = dockopt("rule", "DO404", cwd=project).stdout
    assert "always available" not in out
    assert "When a fix is offered it is safe" in out


# -- 16. options users expect --------------------------------------------------------------


def test_item16_output_file_and_exit_zero(project: Path) -> None:
    out = dockopt("check", "Dockerfile", "--format", "json", "--output-file", "reports/out.json", cwd=project)
    assert out.returncode == 1 and out.stdout == ""
    assert json.loads((project / "reports" / "out.json").read_text())[0]["code"] == "DO404"
    assert dockopt("check", "Dockerfile", "--exit-zero", cwd=project).returncode == 0
    assert dockopt("check", "Dockerfile", "--no-fail", cwd=project).returncode == 0
    assert dockopt("check", "missing", "--exit-zero", cwd=project).returncode == 2  # errors still count


def test_item16_statistics(project: Path) -> None:
    out = dockopt("check", "Dockerfile", "--statistics", cwd=project)
    assert out.returncode == 1 and out.stdout.splitlines()[0].split() == ["1", "DO404", "[*]", "stage-reference"]
    data = json.loads(dockopt("check", "Dockerfile", "--statistics", "--format", "json", cwd=project).stdout)
    assert data == [{"code": "DO404", "name": "stage-reference", "count": 1, "fixable": True, "fixable_count": 1}]


def test_item16_check_fix_and_show_fixes(project: Path) -> None:
    out = dockopt("check", "--fix", "--show-fixes", "Dockerfile", cwd=project)
    assert out.returncode == 0, out.stderr
    assert (project / "Dockerfile").read_text() == BAD.replace(" as build", " AS build")
    assert "Dockerfile:" in out.stderr and "1 × DO404 stage-reference" in out.stderr


def test_item16_show_settings_and_help(project: Path) -> None:
    (project / "dockopt.toml").write_text('extend-select = ["DO105"]\n')
    out = dockopt("check", "Dockerfile", "--show-settings", cwd=project)
    assert out.returncode == 0 and "dockopt.toml" in out.stdout and "DO105" in out.stdout
    for command in ("check", "fix", "rule", "layers", "verify"):
        text = dockopt(command, "--help", cwd=project).stdout
        assert "exit codes:" in text, command
        # every option has help text
        import re

        for line in text.splitlines():
            if re.match(r"^  (-\w, )?--[\w-]+( [A-Z_{},a-z|-]+)?$", line):
                index = text.splitlines().index(line)
                assert text.splitlines()[index + 1].startswith(" " * 20), (command, line)
    top = dockopt("--help", cwd=project).stdout
    assert "exit codes:" in top and "report findings" in top


def test_item16_force_color_and_jobs(project: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    forced = dockopt("check", "Dockerfile", cwd=project, env={**env, "FORCE_COLOR": "1"})
    assert "\x1b[" in forced.stdout
    assert "\x1b[" not in dockopt("check", "Dockerfile", cwd=project).stdout
    for bad in ("0", "-1"):
        out = dockopt("check", "Dockerfile", "--jobs", bad, cwd=project)
        assert out.returncode == 2 and "--jobs" in out.stderr and out.stderr.count("\n") == 1


def test_item16_rule_all_is_compact(project: Path) -> None:
    out = dockopt("rule", "--all", cwd=project).stdout
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["DO000", "syntax-error"]
    assert any(line.startswith("DO101  cleanup-in-later-layer") for line in lines)
    assert "## What it does" not in out and len(lines) < 40
    assert "## What it does" in dockopt("rule", "DO101", cwd=project).stdout
