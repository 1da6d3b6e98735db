"""Forced guards (tests/trace/guards.py): a script's own test of real output, which fails in the
stub world, no longer keeps the changed steps from being compared; a wrong fix behind such a
test is disproven, a right one proven, and nothing is forced when the tests do not correspond."""
from __future__ import annotations

import pytest

from tests.trace import guards, sandbox
from tests.trace.build import RunStep, plan
from tests.trace.prove import prove

needs_sandbox = pytest.mark.skipif(sandbox.unavailable() is not None,
                                   reason=f"trace sandbox: {sandbox.unavailable()}")

# A checksum compared by the script itself: the stub sha256sum prints nothing, so the test
# fails and the build stops before the RUNs the fix merged.
DOWNLOAD = ('RUN set -eux; curl -fL -o x.tgz https://a/x; '
            '[ "$(sha256sum x.tgz | cut -d" " -f1)" = "9f86d081884c7d659a2feaa0c55ad015" ]\n')
# adoptium's check of the JVM's encoding (the stub jshell prints nothing)
ENCODING = 'RUN [ "$(echo \'System.out.println(1)\' | jshell -s -)" = UTF-8 ] || exit 1\n'
# a check that must come out false in the real image (vscode-dev-containers' anaconda)
CODENAME = 'RUN . /etc/os-release && if [ "${VERSION_CODENAME}" != "bullseye" ]; then exit 1; fi\n'
# jenkins: a check of real output by a pipeline in an `if` condition (the stub grep succeeds)
LDD = "RUN set -e; if ldd /usr/bin/java | grep 'not found'; then exit 1; fi\n"
LEAKING = ("RUN cd /srv || exit 0\nRUN make install\n", "RUN cd /srv || exit 0 && make install\n")
GROUPED = ("RUN cd /srv || exit 0\nRUN make install\n", "RUN (cd /srv || exit 0) && make install\n")


def _verdict(guard: str, change: tuple[str, str]) -> tuple[str, str]:
    before, after = change
    verdict = prove(f"FROM debian\n{guard}{before}", f"FROM debian\n{guard}{after}")
    return verdict.status, verdict.reason


@needs_sandbox
@pytest.mark.parametrize("guard", [DOWNLOAD, ENCODING, CODENAME, LDD], ids=["download", "encoding", "codename", "if"])
def test_a_failing_guard_before_the_changed_steps_is_forced(guard: str) -> None:
    status, reason = _verdict(guard, LEAKING)
    assert status == "disproven", reason
    status, reason = _verdict(guard, GROUPED)
    assert status == "proven", reason
    assert "forced" in reason


@needs_sandbox
def test_a_guard_inside_the_changed_steps_is_forced() -> None:
    # The guard's RUN is one of those the fix merges: the stop was inside the changed steps.
    original = "FROM debian\nRUN cd /opt && v=\"$(tool --version)\" && [ -n \"$v\" ]\nRUN make install\n"
    right = "FROM debian\nRUN (cd /opt && v=\"$(tool --version)\" && [ -n \"$v\" ]) && make install\n"
    wrong = "FROM debian\nRUN cd /opt && v=\"$(tool --version)\" && [ -n \"$v\" ] && make install\n"
    assert prove(original, right).status == "proven"
    verdict = prove(original, wrong)
    assert verdict.status == "disproven" and "/opt" in verdict.reason, verdict


@needs_sandbox
def test_no_guard_is_forced_when_the_tests_do_not_correspond() -> None:
    # The fixed file drops the test: forcing "the same" test on both sides is meaningless.
    original = f"FROM debian\n{ENCODING}RUN make\nRUN make install\n"
    fixed = "FROM debian\nRUN true\nRUN make && make install\n"
    verdict = prove(original, fixed)
    assert verdict.status != "proven", verdict


@needs_sandbox
def test_a_stop_that_is_no_test_stays_unprovable() -> None:
    # a `case` on a stub's output: no test or condition to force
    original = 'FROM debian\nRUN case "$(cat /etc/flavour)" in y) ;; *) exit 1;; esac\n' + LEAKING[0]
    verdict = prove(original, original.replace(*LEAKING))
    assert verdict.status == "unprovable" and "stops before the end of the changed steps" in verdict.reason


@needs_sandbox
def test_a_negated_pipeline_ending_the_script_is_forced() -> None:
    """buildah: `RUN ! cmp /bin/busybox /bin/busybox.foreign` fails in the stub world (cmp
    succeeds); merged, it ends `arch && ls && { ! cmp ...; }`. Mid-script a `!` pipeline stops
    nothing and is left alone."""
    runs = "RUN arch\nRUN ! cmp /bin/busybox /bin/busybox.foreign\n"
    original = f"FROM debian\nRUN cd /srv || exit 0\n{runs}"
    assert prove(original, original.replace("\nRUN ! cmp", " && { ! cmp").replace(".foreign\n", ".foreign; }\n")).proven
    wrong = original.replace("RUN cd /srv || exit 0\nRUN arch\n", "RUN cd /srv || exit 0 && arch\n")
    verdict = prove(original, wrong)
    assert verdict.disproven and "/srv" in verdict.reason, verdict
    _, texts = guards.instrument(plan("FROM d\nRUN ! cmp /a /b; make\n"))
    assert texts == []


def _script(text: str) -> str:
    built, _ = guards.instrument(plan(text))
    step = built.stages[0].steps[0]
    assert isinstance(step, RunStep)
    return step.argv[-1]


def test_instrument_numbers_tests_in_build_order_and_keeps_line_numbers() -> None:
    text = ('FROM debian\nRUN a=1; \\\n  [ -n "$a" ] && test -d /x\n'
            'RUN f() { [ -e /y ]; }; v="$( [ -s /z ] && echo y)"; [[ -n $v ]]\n')
    built, tests = guards.instrument(plan(text))
    assert tests == ['[ -n "$a" ]', "test -d /x", "[ -e /y ]", "[ -s /z ]"]
    first = built.stages[0].steps[0].argv[-1]  # type: ignore[union-attr]
    second = built.stages[0].steps[1].argv[-1]  # type: ignore[union-attr]
    assert first.count("\n") == plan(text).stages[0].steps[0].argv[-1].count("\n")  # type: ignore[union-attr]
    assert first.endswith('__trace_guard 0 [ -n "$a" ] && __trace_guard 1 test -d /x')
    assert "__trace_guard 2 [ -e /y ]" in second and "__trace_guard 3 [ -s /z ]" in second
    assert "[[ -n $v ]]" in second and "__trace_guard 4" not in second  # syntax, not a command
    assert _script("FROM debian\nRUN make\n") == "make"  # no test: the script is untouched


def test_next_flip_forces_the_last_unforced_test_the_other_way() -> None:
    log = guards.read_log("0 0 0\n1 0 1\n2 1 0\n")
    assert log == [(0, False, 0), (1, False, 1), (2, True, 0)]
    assert guards.next_flip(log, set()) == (1, True)  # failed: forced true; 2 was forced already
    assert guards.next_flip(log, {1}) == (0, False)  # passed (`if [ ... ]; then exit 1`): false
    assert guards.next_flip(log, {0, 1}) is None
    loop = guards.read_log("5 0 0\n" * 9 + "5 0 1\n")  # `while [ $i -lt 10 ]`: never forced
    assert guards.next_flip(loop, set()) is None


def test_a_test_free_if_condition_is_guarded_as_a_whole() -> None:
    text = ("FROM debian\nRUN if ldd /x | grep 'not found'; then exit 1; elif [ -e /y ]; then :; fi; "
            "while read l; do :; done < /z\n")
    built, texts = guards.instrument(plan(text))
    script = built.stages[0].steps[0].argv[-1]  # type: ignore[union-attr]
    assert texts == ["if ldd /x | grep 'not found'", "[ -e /y ]"]
    assert "\n" not in script  # every line keeps its number
    assert "__trace_condition 0; case $? in 0) :;; 1) ! :;; *) ldd /x | grep 'not found'; __trace_logged 0 $?;; esac" in script
    assert "while read l" in script  # a loop's condition is not an `if`

