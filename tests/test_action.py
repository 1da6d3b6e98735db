"""The composite GitHub Action (action.yml): its shape, the flags it passes, and its scripts.

GitHub cannot be run here, so the test checks what would break a run - unknown inputs or
step ids in expressions, flags dockopt does not have, a `run:` without `shell:` - and then
runs the two dockopt steps' bash scripts the way the runner would (inputs in the
environment), with this checkout's dockopt standing in for the installed one.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")  # PyYAML comes with pre-commit (test extra)

ROOT = Path(__file__).resolve().parents[1]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
INPUT_REF = re.compile(r"\binputs\.([A-Za-z0-9_-]+)")
STEP_REF = re.compile(r"\bsteps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)")
FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
SARIF_CONDITION = re.compile(r"^inputs\.([A-Za-z0-9_-]+) != ''$")

BAD = "FROM golang:1.22 as build\nRUN go build -o /app .\nFROM gcr.io/distroless/static\nCOPY --from=build /app /app\n"


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def check_help() -> str:
    proc = subprocess.run([sys.executable, "-m", "dockopt", "check", "--help"],
                          capture_output=True, text=True, check=True)
    return proc.stdout


def _steps(action: dict[str, Any]) -> list[dict[str, Any]]:
    return action["runs"]["steps"]


def _dockopt_steps(action: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _steps(action) if "-m dockopt" in s.get("run", "")]


def test_inputs(action: dict[str, Any]) -> None:
    inputs = action["inputs"]
    assert {"paths", "select", "ignore", "severity-threshold", "sarif"} <= set(inputs)
    assert inputs["paths"]["default"] == "."
    for name in ("select", "ignore", "severity-threshold", "sarif"):
        assert inputs[name].get("required", False) is False
        assert inputs[name].get("default", "") == "", name  # empty: dockopt's own default applies
    for name, spec in inputs.items():
        assert spec.get("description"), f"input {name} has no description"


def test_composite_steps(action: dict[str, Any]) -> None:
    assert action["runs"]["using"] == "composite"
    steps = _steps(action)
    setup = steps[0]
    assert setup["uses"].startswith("actions/setup-python@")
    assert setup["with"]["update-environment"] is False  # leave the caller's Python alone
    install = next(s for s in steps if "pip install" in s.get("run", ""))
    assert '"$GITHUB_ACTION_PATH"' in install["run"] or 'spec="$GITHUB_ACTION_PATH"' in install["run"]
    for step in steps:
        if "run" in step:
            assert step.get("shell") == "bash", f"composite run steps need a shell: {step.get('name')}"
            # Inputs go through env:, never pasted into the script (shell injection).
            assert "${{" not in step["run"], f"expression inside run: {step.get('name')}"
    formats = [re.search(r"--format (\w+)", s["run"]).group(1) for s in _dockopt_steps(action)]  # type: ignore[union-attr]
    assert sorted(formats) == ["github", "sarif"]
    sarif_step = next(s for s in _dockopt_steps(action) if "--format sarif" in s["run"])
    assert SARIF_CONDITION.match(sarif_step["if"]).group(1) == "sarif"  # type: ignore[union-attr]


def test_expressions_name_real_inputs_and_steps(action: dict[str, Any]) -> None:
    inputs = set(action["inputs"])
    seen_ids: set[str] = set()
    for step in _steps(action):
        texts = [str(v) for v in (step.get("with") or {}).values()]
        texts += [str(v) for v in (step.get("env") or {}).values()]
        texts += [str(step["if"])] if "if" in step else []
        for text in texts:
            for name in INPUT_REF.findall(text):
                assert name in inputs, f"unknown input {name!r} in step {step.get('name')!r}"
            for step_id, _output in STEP_REF.findall(text):
                assert step_id in seen_ids, f"step {step_id!r} used before it runs (or unknown)"
        if "id" in step:
            seen_ids.add(step["id"])


def test_every_flag_exists(action: dict[str, Any], check_help: str) -> None:
    available = set(FLAG.findall(check_help))
    used = {flag for step in _dockopt_steps(action) for flag in FLAG.findall(step["run"])}
    assert used, "no dockopt flags found: the steps changed shape"
    assert used <= available, f"flags not in `dockopt check --help`: {sorted(used - available)}"
    choices = re.search(r"--format \{([^}]*)\}", check_help)
    assert choices is not None
    assert {"github", "sarif"} <= set(choices.group(1).split(","))
    thresholds = re.search(r"--severity-threshold \{([^}]*)\}", check_help)
    assert thresholds is not None and set(thresholds.group(1).split(",")) == {"error", "warning", "info"}


# --- running the steps' scripts -----------------------------------------------------------


def _run_step(step: dict[str, Any], inputs: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a step's script as the runner would: expressions in env resolved, bash -e-less."""

    def resolve(value: str) -> str:
        def one(m: re.Match[str]) -> str:
            expr = m.group(1)
            if (ref := STEP_REF.fullmatch(expr)) is not None:
                assert ref.groups() == ("install", "python")
                return sys.executable  # this checkout's dockopt stands in for the installed one
            ref_input = INPUT_REF.fullmatch(expr)
            assert ref_input is not None, f"cannot evaluate {expr!r}"
            return inputs[ref_input.group(1)]

        return EXPRESSION.sub(one, value)

    env = dict(os.environ)
    env.update({key: resolve(str(value)) for key, value in (step.get("env") or {}).items()})
    env["NO_COLOR"] = "1"
    return subprocess.run(["bash", "--noprofile", "--norc", "-c", step["run"]], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False, timeout=120)


def _inputs(action: dict[str, Any], **given: str) -> dict[str, str]:
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values.update({name.replace("_", "-"): value for name, value in given.items()})
    return values


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_check_step_annotates_and_fails(action: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "Dockerfile").write_text(BAD, encoding="utf-8")
    (tmp_path / "Dockerfile").write_text(BAD.replace(" as ", " AS "), encoding="utf-8")
    step = next(s for s in _dockopt_steps(action) if "--format github" in s["run"])

    proc = _run_step(step, _inputs(action), tmp_path)
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("::")]
    assert len(lines) == 1 and "file=svc/Dockerfile" in lines[0] and "DO404" in lines[0], proc.stdout

    # Two paths on separate lines, one of them clean; an ignore that removes the finding.
    proc = _run_step(step, _inputs(action, paths="Dockerfile\nsvc", ignore="DO404"), tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # A threshold above the finding's severity (DO404 is a warning) passes too.
    proc = _run_step(step, _inputs(action, severity_threshold="error"), tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_sarif_step_writes_report_without_failing(action: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(BAD, encoding="utf-8")
    step = next(s for s in _dockopt_steps(action) if "--format sarif" in s["run"])

    proc = _run_step(step, _inputs(action, sarif="reports/dockopt.sarif"), tmp_path)
    assert proc.returncode == 0, proc.stderr
    sarif = json.loads((tmp_path / "reports" / "dockopt.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["DO404"]

    # A clean tree still gets a well-formed (empty) report.
    (tmp_path / "Dockerfile").write_text(BAD.replace(" as ", " AS "), encoding="utf-8")
    proc = _run_step(step, _inputs(action, sarif="reports/dockopt.sarif"), tmp_path)
    assert proc.returncode == 0, proc.stderr
    sarif = json.loads((tmp_path / "reports" / "dockopt.sarif").read_text(encoding="utf-8"))
    assert sarif["runs"][0]["results"] == []

    # A usage error (exit 2) is not hidden.
    proc = _run_step(step, _inputs(action, sarif="out.sarif", select="NOPE"), tmp_path)
    assert proc.returncode == 2, proc.stderr
