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


def _step(action: dict[str, Any], mode: str) -> dict[str, Any]:
    return next(s for s in _steps(action) if s.get("run", "").endswith(f"run.sh\" {mode}"))


NEW_INPUTS = {"config", "args", "working-directory", "context", "target", "no-fail", "version"}
RUN_SH = ROOT / "action" / "run.sh"


def test_inputs(action: dict[str, Any]) -> None:
    inputs = action["inputs"]
    assert {"paths", "select", "ignore", "severity-threshold", "sarif"} | NEW_INPUTS <= set(inputs)
    assert inputs["paths"]["default"] == "."
    for name in ("select", "ignore", "severity-threshold", "sarif", "config", "args", "working-directory",
                 "context", "target", "version"):
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
    for step in steps:
        if "run" in step:
            assert step.get("shell") == "bash", f"composite run steps need a shell: {step.get('name')}"
            # Inputs go through env:, never pasted into the script (shell injection).
            assert "${{" not in step["run"], f"expression inside run: {step.get('name')}"
    modes = [s["run"].split()[-1] for s in steps if "run" in s]
    assert modes == ["install", "sarif", "check"]
    assert all('bash "$GITHUB_ACTION_PATH/action/run.sh"' in s["run"] for s in steps if "run" in s)
    sarif_step = _step(action, "sarif")
    assert SARIF_CONDITION.match(sarif_step["if"]).group(1) == "sarif"  # type: ignore[union-attr]
    # every input a dockopt step reads is passed to it
    script = RUN_SH.read_text()
    for step in (_step(action, "sarif"), _step(action, "check")):
        for variable in set(re.findall(r"\$\{?(INPUT_[A-Z_]+)", script)) - {"INPUT_SARIF", "INPUT_VERSION",
                                                                          "INPUT_NO_FAIL", "INPUT_SEVERITY_THRESHOLD"}:
            assert variable in step["env"], (step["name"], variable)


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
    used = set(FLAG.findall(RUN_SH.read_text())) - {"--quiet", "--disable-pip-version-check", "--constraint"}
    assert used, "no dockopt flags found: the script changed shape"
    assert used <= available, f"flags not in `dockopt check --help`: {sorted(used - available)}"
    choices = re.search(r"--format \{([^}]*)\}", check_help)
    assert choices is not None
    assert {"github", "sarif"} <= set(choices.group(1).split(","))
    thresholds = re.search(r"--severity-threshold \{([^}]*)\}", check_help)
    assert thresholds is not None and set(thresholds.group(1).split(",")) == {"error", "warning", "info"}


def test_constraints_pin_every_dependency() -> None:
    """Issue 17 item 14: the action installs from a committed constraints file that pins every
    runtime dependency (and the hadolint extra) to one version that pyproject accepts."""
    from packaging.requirements import Requirement

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["hadolint"]]
    pins: dict[str, str] = {}
    for line in (ROOT / "action" / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line}"
            pins[name.strip().lower()] = version.strip()
    for requirement in wanted:
        assert requirement.name.lower() in pins, f"{requirement.name} is not pinned"
        assert requirement.specifier.contains(pins[requirement.name.lower()], prereleases=True), requirement


# --- running the steps' scripts -----------------------------------------------------------


def _run_step(step: dict[str, Any], inputs: dict[str, str], cwd: Path,
              extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a step's script as the runner would: expressions in env resolved, bash -e-less."""

    def resolve(value: str) -> str:
        def one(m: re.Match[str]) -> str:
            expr = m.group(1)
            if (ref := STEP_REF.fullmatch(expr)) is not None:
                if ref.groups() == ("python", "python-path"):
                    return inputs.get("_base_python", sys.executable)
                assert ref.groups() == ("install", "python")
                return sys.executable  # this checkout's dockopt stands in for the installed one
            ref_input = INPUT_REF.fullmatch(expr)
            assert ref_input is not None, f"cannot evaluate {expr!r}"
            return inputs[ref_input.group(1)]

        return EXPRESSION.sub(one, value)

    env = dict(os.environ)
    env.update({key: resolve(str(value)) for key, value in (step.get("env") or {}).items()})
    env["NO_COLOR"] = "1"
    env["GITHUB_ACTION_PATH"] = str(ROOT)
    env.setdefault("RUNNER_TEMP", str(cwd / "_runner_temp"))
    env.update(extra_env or {})
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
    step = _step(action, "check")

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
    step = _step(action, "sarif")

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


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_unreadable_file_is_a_notification_and_the_rest_annotated(action: dict[str, Any], tmp_path: Path) -> None:
    """Item 14: one unreadable file no longer costs every annotation."""
    (tmp_path / "Dockerfile").write_text(BAD, encoding="utf-8")
    (tmp_path / "bad.Dockerfile").write_bytes(b"FROM a\nRUN echo \xff\n")
    proc = _run_step(_step(action, "sarif"), _inputs(action, sarif="out.sarif"), tmp_path)
    assert proc.returncode == 0, proc.stderr
    sarif = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    run = sarif["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["DO404"]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and "not valid UTF-8" in note["message"]["text"]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "bad.Dockerfile"
    import jsonschema

    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)

    check = _run_step(_step(action, "check"), _inputs(action), tmp_path)
    assert check.returncode == 2
    lines = [line for line in check.stdout.splitlines() if line.startswith("::")]
    assert any(line.startswith("::warning file=Dockerfile,") and "DO404" in line for line in lines), lines
    assert any(line.startswith("::error file=bad.Dockerfile,title=dockopt::") for line in lines), lines


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("value", ["true", "True", "TRUE", "yes", "Yes", "on", "1"])
def test_booleans_are_accepted_consistently(action: dict[str, Any], tmp_path: Path, value: str) -> None:
    (tmp_path / "Dockerfile").write_text(BAD, encoding="utf-8")
    proc = _run_step(_step(action, "check"), _inputs(action, no_fail=value), tmp_path)
    assert proc.returncode == 0 and "DO404" in proc.stdout, proc.stdout + proc.stderr
    off = _run_step(_step(action, "check"), _inputs(action, no_fail=value.replace("1", "0") if value == "1" else "no"),
                    tmp_path)
    assert off.returncode == 1


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_a_wrong_boolean_is_an_error(action: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(BAD, encoding="utf-8")
    proc = _run_step(_step(action, "check"), _inputs(action, hadolint="maybe"), tmp_path)
    assert proc.returncode == 2 and "::error title=dockopt::input 'hadolint' must be true or false" in proc.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_working_directory_config_context_target_args(action: dict[str, Any], tmp_path: Path) -> None:
    app = tmp_path / "services" / "app"
    app.mkdir(parents=True)
    (app / "Dockerfile").write_text(BAD, encoding="utf-8")
    (app / "ci.toml").write_text('extend-select = ["DO105"]\n', encoding="utf-8")
    proc = _run_step(_step(action, "check"), _inputs(action, working_directory="services/app", config="ci.toml",
                                                     context=".", target="build", args="--extend-select DO105"),
                     tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # annotations name the file relative to the repository, not to working-directory
    assert "::warning file=services/app/Dockerfile," in proc.stdout, proc.stdout
    nosuch = _run_step(_step(action, "check"), _inputs(action, working_directory="services/app", target="nosuch"),
                       tmp_path)
    assert nosuch.returncode == 2 and "nosuch" in nosuch.stdout + nosuch.stderr
    missing = _run_step(_step(action, "check"), _inputs(action, working_directory="nope"), tmp_path)
    assert missing.returncode == 2 and "working-directory" in missing.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize(("version", "hadolint", "spec"), [
    ("", "false", "{root}"), ("", "True", "{root}[hadolint]"), ("0.1.0", "no", "dockopt==0.1.0"),
    ("v0.1.0", "yes", "dockopt[hadolint]==0.1.0"),
])
def test_install_step_pins_dependencies(action: dict[str, Any], tmp_path: Path, version: str, hadolint: str,
                                        spec: str) -> None:
    """The install step with a stand-in Python that records what pip was asked to do."""
    log = tmp_path / "pip.log"
    base = tmp_path / "base-python"
    base.write_text(
        "#!/usr/bin/env bash\n"
        "# -m venv DIR: make DIR/bin/python, a recorder of its arguments\n"
        f'mkdir -p "$3/bin"; printf \'#!/usr/bin/env bash\\necho "$@" >> {log}\\n\' > "$3/bin/python"; '
        'chmod +x "$3/bin/python"\n')
    base.chmod(0o755)
    output = tmp_path / "github_output"
    inputs = _inputs(action, version=version, hadolint=hadolint)
    inputs["_base_python"] = str(base)
    proc = _run_step(_step(action, "install"), inputs, tmp_path,
                     {"GITHUB_OUTPUT": str(output), "RUNNER_TEMP": str(tmp_path / "tmp")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    recorded = log.read_text().split()
    assert recorded[:2] == ["-m", "pip"]
    assert recorded[recorded.index("--constraint") + 1] == str(ROOT / "action" / "constraints.txt")
    assert recorded[-1] == spec.format(root=ROOT)
    assert output.read_text().startswith("python=")
