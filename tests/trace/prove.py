"""Prove a fix by test: the original and the fixed build run the same commands and end the same.

``prove(original, fixed)`` builds both Dockerfiles in the sandbox (``build.py`` says what a
build runs, ``sandbox.py`` how) under each shell in ``SHELLS`` as /bin/sh, in scenarios:

1. every command succeeds;
2. for each invocation of the original's all-succeed trace — identified by argv, working
   directory and occurrence index, so the same invocation fails on both sides — that
   invocation exits non-zero: 1, or inside the instructions the fix changed 1 and 100 in
   turn (a script that tells exit statuses apart, ``|| [ $? -eq 100 ]``, meets both; a
   scenario per status and invocation would double the run time for little).

Equivalent means: in every scenario, the same command trace — per invocation the stage,
argv, working directory, umask, environment, USER and exit status, with the declared cache
cleanups removed (``declared.py``) and the members of one pipeline in a canonical order —
and the same outcome (the build succeeds, or fails with the same exit status); in the
all-succeed scenario also the same files at the end of every stage (what redirections and
``mkdir`` wrote; declared cache directories excepted).

A difference is confirmed by building both sides of that scenario again: a trace that
changes between two builds of the same file (a race between background jobs) proves nothing,
and the fix is unprovable instead.

Scenario caps (so the corpus run fits CI): invocations inside the instructions both files
start with identically (the common prefix) are not made to fail — both sides run the same
deterministic steps up to them, so they fail the same way by construction; nor those in the
steps both files end with identically (the common tail: same argv, environment, directory,
user, COPY/WORKDIR, stage structure) when both all-succeed builds enter that tail with the
same files (every file, stub and cache included) — from the same state the same steps run
the same in every scenario. Of the rest at most ``MAX_FAILURES`` per shell are made to fail,
those of the changed instructions first, the others spread evenly.

Gaps are filled (``run.fill_gap``) and the world models a few effects (``world.py``) only
so that the original runs further; whatever the world holds, both sides start from the same
root and run the same deterministic stubs, so a richer world can only let more of both builds
run, never make two different builds look alike. It can, though, make a step fail that the
real image would pass (a directory made too early, a file a test says must not exist): an
original that then stops before or in the changed instructions proves nothing (``_prove_in``),
and the fills stay where a real build would agree (a positive ``[ -s FILE ]``, never a
negative one; the first ``mkdir`` of a filled directory succeeds, a second fails).

A script's own test of real output (``[ -n "$success" ]`` after a download loop, ``[
"$(jshell ...)" = UTF-8 ]``) fails in the stub world and would stop the original before the
changed steps in every scenario; such tests are forced to the value the real build gives them,
the same on both sides (``guards.py``, ``forcing.py``), and the verdict names them.

A build the harness cannot run (``build.Unprovable``), a RUN that times out or floods the
trace, a nondeterministic trace, or an original whose all-succeed build stops at a gap of
the stub world (a command it has no stub for, a ``cd`` into a directory it did not create,
a file it cannot source) is **not proven**: the verdict says why. Only differences prove
anything wrong (``disproven``), and only a clean run of every scenario proves it right.
"""
from __future__ import annotations

import difflib
import functools
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace

from dockopt.syntax import parse
from tests.trace import guards, sandbox
from tests.trace.forcing import search_forced
from tests.trace.build import DirStep, Plan, RunStep, Unprovable, fails_in_every_world, layout, plan
from tests.trace.run import Failure, Key, Outcome, Position, State, execute, fill_gap, files_of
from tests.trace.sandbox import Layout

SHELLS = ("dash", "bash")
MAX_GAP_FILLS = 12  # gaps of the stub world filled before giving up (see run.fill_gap)
MAX_FAILURES = 60  # failing-invocation scenarios per shell
FAIL_STATUSES = (1, 100)  # the failing invocations of the changed instructions take these in turn


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str  # "proven" | "disproven" | "unprovable"
    reason: str  # one line: the first difference, or why it cannot be proven
    category: str = ""  # a short class of the reason, for counting over a corpus
    scenarios: int = 0

    @property
    def proven(self) -> bool:
        return self.status == "proven"

    @property
    def disproven(self) -> bool:
        return self.status == "disproven"

    def __str__(self) -> str:
        return f"{self.status}: {self.reason}" if self.reason else self.status


# --- comparing ------------------------------------------------------------------------------

def _result_text(outcome: Outcome) -> str:
    if outcome.result == ("ok",):
        return "builds"
    return f"fails at {outcome.stop.split(':', 1)[0]} (exit {outcome.result[1]})"


def difference(original: Outcome, fixed: Outcome) -> str:
    """The first difference between two builds, or "" when they are equivalent."""
    for i, (a, b) in enumerate(zip(original.events, fixed.events)):
        if a != b:
            if (a.path, a.args, a.cwd) != (b.path, b.args, b.cwd) or a.stage != b.stage:
                return f"invocation {i + 1}: the original runs {a}, the fixed file {b}"
            if a.status != b.status:
                return f"invocation {i + 1}: {a} exits {a.status} in the original, {b.status} in the fixed file"
            if a.umask != b.umask:
                return f"invocation {i + 1}: {a} runs with umask {a.umask}, in the fixed file {b.umask}"
            if a.piped != b.piped:
                return f"invocation {i + 1}: {a} reads/writes a pipe {a.piped} in the original, {b.piped} in the fixed"
            if a.user != b.user:
                return f"invocation {i + 1}: {a} runs as {a.user}, in the fixed file as {b.user}"
            only_a, only_b = sorted(set(a.env) - set(b.env)), sorted(set(b.env) - set(a.env))
            return (f"invocation {i + 1}: {a} runs with a different environment: original {only_a[:3]}, "
                    f"fixed {only_b[:3]}")
    if len(original.events) != len(fixed.events):
        longer, which = (original, "original") if len(original.events) > len(fixed.events) else (fixed, "fixed file")
        extra = longer.events[min(len(original.events), len(fixed.events))]
        return (f"the {which} runs more commands: next {extra}; the original {_result_text(original)}, "
                f"the fixed file {_result_text(fixed)}")
    if original.result != fixed.result:
        return f"the original {_result_text(original)}, the fixed file {_result_text(fixed)}"
    for stage in sorted(set(original.files) | set(fixed.files)):
        a, b = original.files.get(stage, frozenset()), fixed.files.get(stage, frozenset())
        if a != b:
            gone, new = sorted(a - b)[:2], sorted(b - a)[:2]
            return f"stage {stage} ends with different files: only in the original {gone}, only in the fixed {new}"
    return ""


# --- proving --------------------------------------------------------------------------------

def _changed(original: Plan, fixed: Plan) -> tuple[int, set[int]]:
    """The length of the common instruction prefix, and the original's changed instructions."""
    a, b = original.instruction_texts, fixed.instruction_texts
    prefix = 0
    while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
        prefix += 1
    changed: set[int] = set()
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag != "equal":
            changed.update(range(i1, max(i2, i1 + 1)))
    return prefix, changed


def failures(outcome: Outcome, prefix: int, changed: set[int], limit: int = MAX_FAILURES,
             settled: frozenset[Position] = frozenset()) -> list[Failure]:
    """The failing-invocation scenarios for one shell (see the module docstring for the cap);
    none in the RUNs at ``settled`` positions (a common tail reached from the same state)."""
    occurrences: Counter[Key] = Counter()
    near: list[tuple[Key, int]] = []
    far: list[tuple[Key, int]] = []
    for call in outcome.calls:
        occurrence = occurrences[call.key]
        occurrences[call.key] += 1
        if call.cache or call.index < prefix or call.position in settled:
            continue
        if call.ambiguous:  # scheduling, not the scenario, would pick the failing command
            continue
        (near if call.index in changed else far).append((call.key, occurrence))
    chosen = near[:limit]
    room = limit - len(chosen)
    if room > 0 and far:
        step = max(1, len(far) / room)
        chosen += [far[int(i * step)] for i in range(min(room, len(far)))]
    near_set = set(near)
    return [Failure(key, occurrence, FAIL_STATUSES[i % len(FAIL_STATUSES)] if (key, occurrence) in near_set else 1)
            for i, (key, occurrence) in enumerate(chosen)]


def _position(outcome: Outcome, failure: Failure) -> Position | None:
    """The RUN in which the failing invocation happens when every command succeeds."""
    nth = 0
    for call in outcome.calls:
        if call.key == failure.key:
            if nth == failure.occurrence:
                return call.position
            nth += 1
    return None


def _tail(a: Plan, b: Plan) -> tuple[list[Position], list[Position]]:
    """The RUN positions of the longest common tail of the two builds: the same steps (argv,
    environment, directory, user; the same COPY/WORKDIR; the same stage structure) to the end."""
    def flat(build: Plan) -> list[tuple[object, Position | None]]:
        out: list[tuple[object, Position | None]] = []
        for stage_pos, stage in enumerate(build.stages):
            out.append((("FROM", stage.index, stage.base), None))
            for step_pos, step in enumerate(stage.steps):
                if isinstance(step, RunStep):
                    out.append((("RUN", step.argv, step.env, step.cwd, step.user), (stage_pos, step_pos)))
                elif isinstance(step, DirStep):
                    out.append((("DIR", step.path), None))
                else:
                    out.append((("COPY", step.dest, step.sources, step.into_dir), None))
        return out

    fa, fb = flat(a), flat(b)
    n = 0
    while n < min(len(fa), len(fb)) and fa[-1 - n][0] == fb[-1 - n][0]:
        n += 1
    tail_a = [p for _, p in fa[len(fa) - n:] if p is not None]
    tail_b = [p for _, p in fb[len(fb) - n:] if p is not None]
    return tail_a, tail_b


def _same_state(a: State | None, b: State | None) -> bool:
    """Whether two paused builds would run the rest of a common tail identically."""
    if a is None or b is None or set(a.roots) != set(b.roots):
        return False
    return all(files_of(a.roots[k], full=True) == files_of(b.roots[k], full=True) for k in a.roots)


def _resume_points(build: Plan, prefix: int) -> frozenset[Position]:
    """The RUNs where a scenario's failure can happen: those after the common prefix."""
    return frozenset((stage_pos, step_pos) for stage_pos, stage in enumerate(build.stages)
                     for step_pos, step in enumerate(stage.steps)
                     if isinstance(step, RunStep) and step.index >= prefix)


def prove(original_text: str, fixed_text: str, *, shells: tuple[str, ...] = SHELLS,
          max_failures: int = MAX_FAILURES) -> Verdict:
    """Whether ``fixed_text`` builds like ``original_text`` in every scenario (module docstring)."""
    if original_text == fixed_text:
        return Verdict("proven", "the texts are identical", "identical")
    if _instructions(original_text) == _instructions(fixed_text):
        # The builder reads both into the same instructions (a keyword's casing, `as`/`AS`):
        # the same build whatever it runs, even under a shell the sandbox lacks.
        return Verdict("proven", "the builder reads the same instructions", "identical")
    reason = sandbox.unavailable()
    if reason:
        return Verdict("unprovable", reason, "no sandbox")
    try:
        original, fixed = plan(original_text), plan(fixed_text)
    except Unprovable as why:
        return Verdict("unprovable", str(why), _category(str(why)))
    verdict = _prove_plans(original, fixed, shells, max_failures)
    if verdict.category in ("stops before the changed steps", "gap: fill made the build fail"):
        return _prove_forced(original, fixed, shells, max_failures) or verdict
    return verdict


def _prove_plans(original: Plan, fixed: Plan, shells: tuple[str, ...], max_failures: int,
                 forced: Mapping[int, bool] | None = None) -> Verdict:
    """``prove`` of two plans in the stub world, its gaps filled as the original meets them."""
    initial, relative = layout(original, fixed)
    prefix, changed = _changed(original, fixed)
    for fills in range(MAX_GAP_FILLS + 1):
        verdict = _prove_in(original, fixed, initial, relative, prefix, changed, shells, max_failures, fills > 0,
                            forced or {})
        if not isinstance(verdict, Layout):
            return verdict
        initial = verdict
    return Verdict("unprovable", f"still stops at a gap of the stub world after {MAX_GAP_FILLS} fills", "gap: too many")


def _prove_forced(original: Plan, fixed: Plan, shells: tuple[str, ...], max_failures: int) -> Verdict | None:
    """``prove`` in a world where the tests that stop the original take the other value
    (``guards.py``): None when the tests do not correspond or forcing them does not get the
    original's all-succeed build through the changed steps under any shell."""
    guarded_a, tests_a = guards.instrument(original)
    guarded_b, tests_b = guards.instrument(fixed)
    if not tests_a or tests_a != tests_b:
        return None
    _, changed = _changed(original, fixed)
    for shell in shells:  # a stop of one shell's own (dash and `set -o pipefail`) has no test to force
        forced = search_forced(guarded_a, layout(guarded_a, guarded_b), shell, max(changed, default=-1))
        if forced:
            verdict = _prove_plans(guarded_a, guarded_b, shells, max_failures, forced)
            shown = ", ".join(f"`{tests_a[k]}` {'true' if v else 'false'}" for k, v in sorted(forced.items()))
            return replace(verdict, reason=f"{verdict.reason}; with {len(forced)} test(s) forced: {shown}"[:600])
    return None


def _instructions(text: str) -> list[tuple[object, ...]] | None:
    """What BuildKit takes from each instruction: keyword, flags, arguments and heredoc bodies,
    with the casing BuildKit ignores folded (keywords, FROM's ``AS`` and stage names); None
    when the text does not parse."""
    document = parse(text)
    if document.errors:
        return None
    read: list[tuple[object, ...]] = []
    for ins in document.instructions:
        args: tuple[str, ...] = tuple(ins.values) if ins.is_json else (ins.args_text.strip(),)
        words = tuple(ins.args_text.split())
        if ins.keyword.upper() == "FROM" and len(words) == 3 and words[1].upper() == "AS":
            args = (words[0], "AS", words[2].lower())
        read.append((ins.keyword.upper(), ins.is_json, tuple(f.text for f in ins.flags), args,
                     tuple(h.content for h in ins.heredocs)))
    return read


def _prove_in(original: Plan, fixed: Plan, initial: Layout, relative: frozenset[str], prefix: int, changed: set[int],
              shells: tuple[str, ...], max_failures: int, filled: bool = False,
              forced: Mapping[int, bool] | None = None) -> Verdict | Layout:
    """``prove`` in one stub world; a richer world (``fill_gap``) when the original stops at a gap.

    An original whose all-succeed build fails before or in the instructions the fix changed,
    under every shell, proves nothing, in any world: every other scenario only adds a failure,
    so what follows the stop runs in none of them (a stop under one shell only is that shell's
    own doing, as dash's missing ``set -o pipefail``: the real build stops there too).
    ``RUN [ -e /etc/x ]`` before a merge that leaks a ``cd`` would otherwise be "proven" in two
    scenarios that never reach the merge. In a world with gaps ``filled``
    the fill may itself have made that step fail (a stubbed ``gradlew`` before ``mkdir`` of its
    directory: "File exists"); without fills, a stub that prints nothing did (an empty
    ``$(dpkg --print-architecture)``; stub.c now answers such questions). A stop after every
    changed instruction still lets them run in every scenario."""
    scenarios = 0
    early_stops: list[str] = []  # per shell: why nothing after the original's stop was compared
    for shell in shells:
        build = functools.partial(execute, initial=initial, relative=relative, shell=shell, forced=forced or {})
        # The all-succeed builds save their state before each RUN after the common prefix: a
        # failure scenario is the all-succeed build up to the RUN where its invocation fails
        # (the stubs are deterministic), so it resumes there instead of rebuilding the prefix.
        base, saved_a = build(original, snapshot=True, save=_resume_points(original, prefix))
        if base.gap and (filled := fill_gap(base, initial)) is not None:
            for state in saved_a.values():
                state.remove()
            return filled
        # The changed steps (or their part after the stop) run in no scenario when the all-succeed
        # build stops before their end: every other scenario only adds a failure. A difference
        # found up to there still disproves; otherwise the verdict is unprovable, not proven.
        # A RUN that is a literal failure (`RUN exit 1`) stops every real build too: what follows
        # it runs in none, so the comparison up to it is the whole comparison.
        stops_early = (not base.gap and base.result != ("ok",) and base.stop_index <= max(changed, default=-1)
                       and not base.certain and not fails_in_every_world(original, base.stop_index))
        if stops_early and filled:
            early_stops.append(f"under {shell} the original fails in the world its gaps were filled in: "
                               f"{_result_text(base)}")
        elif stops_early:
            early_stops.append(f"under {shell} the original's all-succeed build stops before the end of the changed " \
                               f"steps: {_result_text(base)}: {base.stop}")
        other, saved_b = build(fixed, snapshot=True, save=_resume_points(fixed, prefix))
        try:
            scenarios += 1
            verdict = _compare(build, original, fixed, base, other, None, shell, scenarios)
            if verdict is not None:
                return verdict
            # A common tail (the same steps to the end) entered from the same state runs the same
            # in every scenario whose failure lies in it: no need to run those.
            tail_a, tail_b = _tail(original, fixed)
            settled = frozenset(tail_a) if tail_a and _same_state(saved_a.get(tail_a[0]), saved_b.get(tail_b[0])) \
                else frozenset()
            chosen = failures(base, prefix, changed, max_failures, settled)
            at_a = {f: _position(base, f) for f in chosen}
            at_b = {f: _position(other, f) for f in chosen}
            # The last scenario resuming from a saved state uses it up instead of copying it.
            last_a = {at_a[f]: f for f in chosen}
            last_b = {at_b[f]: f for f in chosen}
            for failure in chosen:
                consume_a, consume_b = last_a[at_a[failure]] is failure, last_b[at_b[failure]] is failure
                a, _ = build(original, failure=failure, start=saved_a.get(at_a[failure]),  # type: ignore[arg-type]
                             consume=consume_a)
                b, _ = build(fixed, failure=failure, start=saved_b.get(at_b[failure]),  # type: ignore[arg-type]
                             consume=consume_b)
                if consume_a:
                    saved_a.pop(at_a[failure], None)  # type: ignore[arg-type]
                if consume_b:
                    saved_b.pop(at_b[failure], None)  # type: ignore[arg-type]
                scenarios += 1
                verdict = _compare(build, original, fixed, a, b, failure, shell, scenarios)
                if verdict is not None:
                    return verdict
        finally:
            for state in (*saved_a.values(), *saved_b.values()):
                state.remove()
        if base.gap:
            return Verdict("unprovable", f"under {shell} the original stops at a gap of the stub world: {base.stop}",
                           "gap: " + _gap_class(base.gap), scenarios)
    # A stop under one shell only is that shell's own doing (dash has no `set -o pipefail`):
    # the real build stops there too, and the other shell compared the steps after it.
    # The same holds in a filled world (ingress-nginx: the glob `cd /tmp/luarocks*` matches the
    # downloaded tarball and the filled directory, "too many arguments" under bash only, as it
    # would be in a real image whose sh is bash; dash compared every step after it).
    if len(early_stops) == len(shells):
        category = "gap: fill made the build fail" if filled else "stops before the changed steps"
        return Verdict("unprovable", early_stops[0], category, scenarios)
    return Verdict("proven", f"{scenarios} scenarios under {', '.join(shells)}", "proven", scenarios)


def _compare(build: functools.partial[tuple[Outcome, dict[Position, State]]], original: Plan, fixed: Plan,
             a: Outcome, b: Outcome, failure: Failure | None, shell: str, scenarios: int) -> Verdict | None:
    """None when the two builds agree; else the verdict. A difference is confirmed by building
    both sides again from scratch. A side whose second build differs from its first is built a
    third time: two fresh builds that agree stand for that side (under heavy load a build has
    lost a call now and then, 13 times in the whole-corpus runs, never reproduced alone); two
    that differ too mean the trace itself varies (a race between background jobs, say), and
    the fix is unprovable. The confirmed builds are compared again: the difference stands
    (disproven) or was the first build's alone (the scenario agrees)."""
    if a.problem or b.problem:
        return Verdict("unprovable", a.problem or b.problem, "timeout or flood", scenarios)
    found = difference(a, b)
    if not found:
        return None
    snapshot = failure is None
    confirmed: list[Outcome] = []
    for plan_, first, side in ((original, a, "original"), (fixed, b, "fixed file")):
        second, _ = build(plan_, failure=failure, snapshot=snapshot)
        if not second.problem and difference(first, second):
            third, _ = build(plan_, failure=failure, snapshot=snapshot)
            if third.problem or difference(second, third):
                return Verdict("unprovable", f"under {shell} the {side}'s trace is not deterministic: "
                               f"{third.problem or difference(second, third)}", "nondeterministic", scenarios)
        if second.problem:
            return Verdict("unprovable", f"under {shell} the {side}'s trace is not deterministic: {second.problem}",
                           "nondeterministic", scenarios)
        confirmed.append(second)
    found = difference(*confirmed)
    if not found:
        return None
    when = f"when {failure}" if failure else "all commands succeeding"
    return Verdict("disproven", f"under {shell}, {when}: {found}", "disproven", scenarios)


def _gap_class(line: str) -> str:
    if "not found" in line:
        return "command not found"
    if "cd" in line:
        return "cd into a missing directory"
    return "missing file"


def _category(reason: str) -> str:
    if reason.startswith("does not parse"):
        return "does not parse"
    if "not a POSIX shell" in reason or "the builder runs it with" in reason:
        return "not a POSIX shell"
    if "does not have" in reason:
        return "shell not available"
    if "heredoc" in reason:
        return "heredoc interpreter"
    return reason.split(":")[0]
