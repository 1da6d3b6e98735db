"""The merge primitive's equivalence argument, checked by running real dash and bash.

Three layers:
- the POSIX facts the argument rests on (``fixes/merge.py`` docstring), each a one-liner;
- the defects of issue 14, each reproduced on the text the old fixer produced;
- a property test: for generated script pairs (and appended cleanups), every form
  ``join_form`` accepts behaves like the two RUNs: same trace of external commands
  (argv, directory, a variable), same outcome, in every "the k-th command fails" scenario.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockopt.fixes.merge import JoinForm, Refused, join_form, join_text
from dockopt.shell import parse_script

SHELLS = [s for s in ("dash", "bash") if shutil.which(s)]
pytestmark = pytest.mark.skipif(len(SHELLS) < 2, reason="needs dash and bash")

STUB = """#!/bin/sh
n=$(cat "$TRACE/count"); n=$((n+1)); echo "$n" > "$TRACE/count"
echo "$(basename "$0") $* @${PWD#$TRACE/root} A=${A-unset}" >> "$TRACE/log"
[ "$n" = "$FAIL_AT" ] && exit 1
exit 0
"""
STUB_NAMES = ("c1", "c2", "c3", "c4", "c5", "clean")


class Sandbox:
    """A directory with stub commands on PATH; runs scripts the way the builder runs RUNs."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="dockopt-merge-"))
        bin_dir = self.root / "bin"
        bin_dir.mkdir()
        for name in STUB_NAMES:
            path = bin_dir / name
            path.write_text(STUB)
            path.chmod(0o755)

    def run(self, shell: str, flags: tuple[str, ...], scripts: list[str], fail_at: int) -> tuple[list[str], bool]:
        """Each script a fresh shell in the same start directory; stop at the first failure."""
        work = self.root / "root"
        if work.exists():
            shutil.rmtree(work)
        (work / "d1" / "d2").mkdir(parents=True)
        (self.root / "count").write_text("0")
        log = self.root / "log"
        log.write_text("")
        env = {"PATH": f"{self.root / 'bin'}:/usr/bin:/bin", "TRACE": str(self.root), "FAIL_AT": str(fail_at),
               "HOME": str(work)}
        ok = True
        for script in scripts:
            done = subprocess.run([shell, *flags, "-c", script], cwd=work, env=env, capture_output=True,
                                  timeout=20, check=False)
            log.open("a").write(f"status {'ok' if done.returncode == 0 else 'fail'}\n")
            if done.returncode != 0:
                ok = False
                break
        lines = [line for line in log.read_text().splitlines() if not line.startswith("status")]
        return lines, ok

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    box = Sandbox()
    yield box
    box.close()


def sh(shell: str, script: str) -> tuple[int, str]:
    done = subprocess.run([shell, "-c", script], capture_output=True, text=True, timeout=10, check=False)
    return done.returncode, done.stdout


# -- the facts ---------------------------------------------------------------------------
@pytest.mark.parametrize("shell", SHELLS)
def test_and_or_lists_are_left_associative_and_bind_tighter_than_semicolon(shell: str) -> None:
    assert sh(shell, "false && true || echo x")[1] == "x\n"  # (false && true) || echo x
    assert sh(shell, "false && echo a; echo b")[1] == "b\n"
    assert sh(shell, "false || true && echo a")[1] == "a\n"  # (false || true) && echo a
    assert sh(shell, "false && { echo a || true; }")[0] == 1


@pytest.mark.parametrize("shell", SHELLS)
def test_errexit_is_ignored_left_of_and_even_in_a_subshell_or_group(shell: str) -> None:
    assert sh(shell, "( set -e; false; echo x ) && echo y") == (0, "x\ny\n")
    assert sh(shell, "{ set -e; false; echo x; } && echo y") == (0, "x\ny\n")
    assert sh(shell, "( ( set -e; false; echo x ) ) && echo y") == (0, "x\ny\n")


@pytest.mark.parametrize("shell", SHELLS)
def test_errexit_applies_inside_the_last_member_of_an_and_or_list(shell: str) -> None:
    assert sh(shell, "set -e; true && { false; echo x; }") == (1, "")


@pytest.mark.parametrize("shell", SHELLS)
def test_errexit_exits_on_a_failing_subshell_but_not_on_a_failing_group(shell: str) -> None:
    assert sh(shell, "set -e; ( false && true ); echo x") == (1, "")
    assert sh(shell, "set -e; { false && true; }; echo x") == (0, "x\n")
    assert sh(shell, "set -e; false && true; echo x") == (0, "x\n")  # why `A; B` needs a simple L


@pytest.mark.parametrize("shell", SHELLS)
def test_exit_trap_of_a_subshell_runs_when_it_exits(shell: str) -> None:
    assert sh(shell, "( trap 'echo t' EXIT; echo a ) && echo b")[1] == "a\nt\nb\n"
    assert sh(shell, "( exit 3 ) && echo b")[0] == 3


# -- issue 14's reproductions on the texts the old fixer wrote ----------------------------
@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("false", "rm -rf /opt/old || true"),
        ("apt-get update && apt-get install -y curl", "echo cleaning; rm -rf /var/lib/apt/lists/*"),
        ("apt-get update && apt-get install -y curl", "rm -rf /var/lib/apt/lists/* || true"),
        ("useradd app", "set -ex; gpg --verify a.sig; echo verified"),
    ],
)
@pytest.mark.parametrize("shell", SHELLS)
def test_old_merges_masked_a_failure_and_the_new_ones_do_not(sandbox: Sandbox, shell: str, first: str,
                                                             second: str) -> None:
    stubbed = [_stub_words(first), _stub_words(second)]
    old = f"{stubbed[0]} && {stubbed[1]}"
    form = join_form(parse_script(stubbed[0]), parse_script(stubbed[1]), frozenset())
    assert isinstance(form, JoinForm)
    new = join_text(stubbed[0], stubbed[1], form)
    original = sandbox.run(shell, (), stubbed, fail_at=1)
    assert original[1] is False
    assert sandbox.run(shell, (), [old], fail_at=1) != original  # the old fix: a different build
    assert sandbox.run(shell, (), [new], fail_at=1) == original


def _stub_words(script: str) -> str:
    """Real command names -> stubs that record their calls and fail on demand."""
    for real, stub in (("apt-get", "c1"), ("rm", "c2"), ("useradd", "c3"), ("gpg", "c4"), ("false", "c5 false")):
        script = script.replace(real, stub)
    return script.replace("echo", "c4 echo")


# -- the property ------------------------------------------------------------------------
SIMPLE = ["c1", "c2 x", "c3 $A", "true", "false", "cd d1", "cd d1/d2", "export A=1", "A=2", "unset A",
          "exit 0", "exit 3", "set -e", "set +e", "set -u", "set -eu", "set -x", "c4 $U", "umask 077",
          "trap 'c5 trapped' EXIT", "f() { c2 f; }", "f", "c1 | cat", "! c3", "for A in 1 2; do c1 $A; done",
          "if c1; then c2; else c3; fi", "( cd d1; c4 )", "{ c1; c2; }", "x=$(c3) && c4 $x"]


@st.composite
def scripts(draw: st.DrawFn) -> str:
    parts = [draw(st.sampled_from(SIMPLE))]
    for _ in range(draw(st.integers(0, 3))):
        parts.append(draw(st.sampled_from([" && ", " || ", "; "])))
        parts.append(draw(st.sampled_from(SIMPLE)))
    return "".join(parts)


def _outcomes(sandbox: Sandbox, shell: str, flags: tuple[str, ...], scripts: list[str]) -> list[tuple[list[str], bool]]:
    results = []
    for fail_at in range(0, 7):
        results.append(sandbox.run(shell, flags, scripts, fail_at))
    return results


@settings(max_examples=int(os.environ.get("DOCKOPT_MERGE_EXAMPLES", "40")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(left=scripts(), right=scripts(), errexit_shell=st.booleans())
def test_every_accepted_join_behaves_like_two_runs(sandbox: Sandbox, left: str, right: str,
                                                   errexit_shell: bool) -> None:
    start = frozenset({"errexit"}) if errexit_shell else frozenset()
    flags = ("-e",) if errexit_shell else ()
    form = join_form(parse_script(left), parse_script(right), start)
    if isinstance(form, Refused):
        return
    merged = join_text(left, right, form)
    for shell in SHELLS:
        assert _outcomes(sandbox, shell, flags, [merged]) == _outcomes(sandbox, shell, flags, [left, right]), (
            f"{shell}: {left!r} + {right!r} -> {merged!r}")


@settings(max_examples=int(os.environ.get("DOCKOPT_MERGE_EXAMPLES", "40")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(left=scripts(), errexit_shell=st.booleans())
def test_every_accepted_append_runs_the_cleanup_exactly_after_success(sandbox: Sandbox, left: str,
                                                                     errexit_shell: bool) -> None:
    start = frozenset({"errexit"}) if errexit_shell else frozenset()
    flags = ("-e",) if errexit_shell else ()
    form = join_form(parse_script(left), parse_script("clean"), start, append=True)
    if isinstance(form, Refused):
        return
    merged = join_text(left, "clean", form)
    for shell in SHELLS:
        for fail_at in range(0, 7):
            trace, ok = sandbox.run(shell, flags, [left], fail_at)
            new_trace, new_ok = sandbox.run(shell, flags, [merged], fail_at)
            cleaned = [line for line in new_trace if line.startswith("clean ")]
            if any(line.startswith("clean ") for line in new_trace[: len(trace)]) or fail_at == len(trace) + 1:
                continue  # the cleanup itself was told to fail: cleanups are chosen to succeed
            assert (new_trace[: len(trace)], new_ok) == (trace, ok), f"{shell}: {left!r} -> {merged!r}"
            assert len(cleaned) == (1 if ok else 0), f"{shell}: {left!r} -> {merged!r}"
