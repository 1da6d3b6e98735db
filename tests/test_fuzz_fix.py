"""Property-based tests of the fixer: generated and mutated Dockerfiles, every rule, both fix modes.

For every input, ``dockopt fix`` (safe fixes, then safe and unsafe ones) must: never raise;
produce a text that parses; be idempotent; keep every comment line and every non-blank
byte outside the instructions it edited; leave a text with no applicable fix byte for byte
alone; for safe fixes, keep the simulated final filesystem; and the trace harness
(``tests/trace``) must not disprove a safe fix (unprovable ones are counted, see
``test_generated_files_give_the_fixers_work``). These are the corpus invariants of ``tests/invariants.py``, here on inputs built to give the fixers work
(``tests/fix_strategies.py``) and on damaged corpus files. ``DOCKOPT_FUZZ_EXAMPLES``
multiplies the number of examples, as for the parser's properties.
"""
from __future__ import annotations

import os
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import strategies as gen
from tests.fix_strategies import fixable_dockerfiles
from tests.invariants import STRICT_TRACE, TRACE, check_text
from tests.trace import unavailable

FACTOR = float(os.environ.get("DOCKOPT_FUZZ_EXAMPLES", "1"))
# CI (.ci/run) sets DOCKOPT_FUZZ_DERANDOMIZE=1: the same examples on every run, so a red CI
# names a change, not the luck of a draw; local runs draw new examples each time.
FUZZ = dict(deadline=None, derandomize=os.environ.get("DOCKOPT_FUZZ_DERANDOMIZE") == "1",
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
# How often the generated files gave the fixers work, over one test session: a guard that
# the strategy keeps exercising fixes (a strategy that stopped triggering rules would make
# the properties pass vacuously).
SEEN: Counter[str] = Counter()


# Trace verdicts that are not failures here: a fix the harness cannot run is counted, not
# failed; a disproven safe fix fails (unless DOCKOPT_TRACE_STRICT=0, see tests/invariants.py).
TOLERATED = {"trace-unprovable"} | (set() if STRICT_TRACE else {"trace-disproven"})


def assert_invariants(text: str) -> None:
    result = check_text(text, "<generated>", trace_modes=("safe",))
    SEEN.update(result.counts)
    problems = [p for p in result.problems if p.invariant not in TOLERATED]
    assert not problems, "\n".join(str(p) for p in problems) + f"\n--- input ---\n{text!r}"


@settings(max_examples=max(1, int(300 * FACTOR)), **FUZZ)
@given(fixable_dockerfiles())
def test_fix_invariants_on_generated_files(text: str) -> None:
    assert_invariants(text)


@settings(max_examples=max(1, int(60 * FACTOR)), **FUZZ)
@given(st.one_of(gen.corpus_mutants(), gen.dockerfiles(max_items=8)))
def test_fix_invariants_on_mutants_and_grammar_files(text: str) -> None:
    assert_invariants(text)


def test_generated_files_give_the_fixers_work() -> None:
    """Runs after the properties above (file order): they must have applied real fixes."""
    if not SEEN:  # run alone (-k): exercise the strategy here
        test_fix_invariants_on_generated_files()
    assert SEEN["safe: files changed"] >= 20, SEEN
    assert SEEN["unsafe: files changed"] >= 40, SEEN
    if TRACE and not unavailable():
        print("\n[trace] generated files, safe fixes: " + ", ".join(
            f"{k.split(': ', 1)[1]} {v}" for k, v in sorted(SEEN.items()) if k.startswith("safe: trace")))
        # The harness really runs the generated builds: most safe fixes get a verdict other
        # than "unprovable" (a harness that could run nothing would prove nothing).
        decided = SEEN["safe: trace proven (files)"] + SEEN["safe: trace disproven (files)"]
        assert decided >= 0.5 * SEEN["safe: files changed"], SEEN
