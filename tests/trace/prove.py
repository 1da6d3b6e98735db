"""Prove a fix by test: the original and the fixed build run the same commands and end the same.

``prove(original, fixed)`` builds both Dockerfiles in the sandbox (``build.py`` says what a
build runs, ``sandbox.py`` how) under each shell in ``SHELLS`` as /bin/sh, in scenarios:

1. every command succeeds (run twice on the original: a trace that differs between two runs
   of the same build, e.g. a race between background jobs, proves nothing);
2. for each invocation of the original's all-succeed trace — identified by argv, working
   directory and occurrence index, so the same invocation fails on both sides — that
   invocation exits 1 (and 100 for the invocations of the instructions the fix changed).

Equivalent means: in every scenario, the same command trace — per invocation the stage,
argv, working directory, umask, environment, USER and exit status, with the declared cache
cleanups removed (``declared.py``) and the members of one pipeline in a canonical order —
and the same outcome (the build succeeds, or fails with the same exit status); in the
all-succeed scenario also the same files at the end of every stage (what redirections and
``mkdir`` wrote; declared cache directories excepted).

Scenario caps (so the corpus run fits CI): invocations inside the instructions both files
start with identically (the common prefix) are not made to fail — both sides run the same
deterministic steps up to them, so they fail the same way by construction; of the rest at
most ``MAX_FAILURES`` per shell are made to fail, those of the changed instructions first,
the others spread evenly.

A build the harness cannot run (``build.Unprovable``), a RUN that times out or floods the
trace, a nondeterministic trace, or an original whose all-succeed build stops at a gap of
the stub world (a command it has no stub for, a ``cd`` into a directory it did not create,
a file it cannot source) is **not proven**: the verdict says why. Only differences prove
anything wrong (``disproven``), and only a clean run of every scenario proves it right.
"""
from __future__ import annotations

import difflib
import functools
import hashlib
import os
import re
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.trace import declared, sandbox
from tests.trace.build import CopyStep, DirStep, Plan, RunStep, Unprovable, layout, plan
from tests.trace.sandbox import Layout, Record

SHELLS = ("dash", "bash")
MAX_FAILURES = 60  # failing-invocation scenarios per shell (x2 for changed instructions' 100)
CHANGED_STATUSES = (1, 100)
OTHER_STATUSES = (1,)

Key = tuple[str, tuple[str, ...], str]  # path, args without cache flags, cwd


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


@dataclass(frozen=True, slots=True)
class Failure:
    """The scenario's failing invocation."""

    key: Key
    occurrence: int
    status: int

    def spec(self) -> bytes:
        path, args, cwd = self.key
        return f"{self.status}\n{self.occurrence}\n".encode() + sandbox.key_bytes(path, args, cwd)

    def __str__(self) -> str:
        path, args, cwd = self.key
        nth = {0: "1st", 1: "2nd", 2: "3rd"}.get(self.occurrence, f"{self.occurrence + 1}th")
        return f"`{_command(path, args)}` (in {cwd}, {nth} call) exits {self.status}"


@dataclass(frozen=True, slots=True)
class Event:
    """One invocation as compared between the two builds."""

    stage: int
    path: str
    args: tuple[str, ...]
    cwd: str
    umask: str
    env: tuple[str, ...]
    user: str
    status: int

    def __str__(self) -> str:
        return f"`{_command(self.path, self.args)}` in {self.cwd} (stage {self.stage}, exit {self.status})"


@dataclass(frozen=True, slots=True)
class Call:
    """Where an invocation happened (every one, in order, cache cleanups included)."""

    index: int  # the RUN instruction's position in its document
    key: Key
    cache: bool  # a declared cache cleanup
    position: tuple[int, int]  # (stage, step) of the RUN in its plan


@dataclass(slots=True)
class Outcome:
    events: list[Event] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    result: tuple[object, ...] = ("ok",)
    stop: str = ""  # the stopping RUN's line and the shell's last error line
    gap: str = ""  # the stop is a gap of the stub world
    problem: str = ""  # timeout / trace overflow: nothing can be concluded
    files: dict[int, frozenset[tuple[str, str]]] = field(default_factory=dict)


def _command(path: str, args: tuple[str, ...]) -> str:
    text = shlex.join([os.path.basename(path), *args])
    return text if len(text) <= 80 else text[:77] + "..."


# --- running one build ---------------------------------------------------------------------

# What a shell prints when the stub world lacks something the real image would have.
_GAP = re.compile(r"not found|No such file or directory|can't cd|can't open|cannot open|Not a directory"
                  r"|Is a directory|Permission denied|No such file")
# Names a bash-ism in a /bin/sh script runs under dash: genuinely missing there too.
_DASH_LACKS = re.compile(r"\b(\[\[|source|declare|typeset|let|shopt|pushd|popd|local|function|mapfile|readarray)"
                         r": not found")


def _gap(stderr: str) -> str:
    for line in reversed(stderr.strip().splitlines()):
        if _GAP.search(line) and not _DASH_LACKS.search(line):
            return line.strip()
    return ""


def _canonical(records: tuple[Record, ...]) -> list[Record]:
    """Members of one pipeline (connected through pipe inodes) run concurrently and record in
    any order: sort each such group, at the position of its first member."""
    parent = list(range(len(records)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_pipe: dict[int, int] = {}
    for i, record in enumerate(records):
        for pipe in (record.stdin_pipe, record.stdout_pipe):
            if pipe:
                if pipe in by_pipe:
                    parent[find(i)] = find(by_pipe[pipe])
                else:
                    by_pipe[pipe] = i
    groups: dict[int, list[Record]] = {}
    for i, record in enumerate(records):
        groups.setdefault(find(i), []).append(record)
    ordered: list[Record] = []
    for members in sorted(groups.values(), key=lambda m: records.index(m[0])):
        ordered.extend(sorted(members, key=lambda r: (r.path, r.args, r.cwd, r.status)) if len(members) > 1
                       else members)
    return ordered


def _snapshot(root: Path) -> frozenset[tuple[str, str]]:
    """The files a build left: path and content digest (store files and caches excepted)."""
    inodes = sandbox.store().inodes
    skip_top = {"proc", "dev", ".trace", "sys"}
    caches = tuple(d.lstrip("/") for d in declared.CACHE_DIRS)
    out: set[tuple[str, str]] = set()
    for directory, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(directory, root)
        if rel_dir == ".":
            dirs[:] = [d for d in dirs if d not in skip_top]
        dirs[:] = [d for d in dirs if not os.path.join(rel_dir, d).lstrip("./").startswith(caches)]
        for name in dirs:
            out.add((os.path.join(rel_dir, name), "dir"))
        for name in files:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            if info.st_ino in inodes:
                continue
            if os.path.islink(path):
                digest = "-> " + os.readlink(path)
            else:
                with open(path, "rb") as handle:
                    content = handle.read()
                if content == sandbox.STUB_FILE:
                    continue  # the harness's stubs and placeholders (a COPY's file), not the build's output
                digest = hashlib.sha256(content).hexdigest()[:16]
            out.add((os.path.join(rel_dir, name), digest))
    return frozenset(out)


def _place(root: Path, step: CopyStep | DirStep, relative: frozenset[str]) -> None:
    def directory(path: str) -> None:
        target = root / path.lstrip("/")
        try:
            target.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            return
        for command in relative:
            sandbox.place_stub(root, os.path.normpath(os.path.join(path, command)))

    if isinstance(step, DirStep):
        directory(step.path)
        return
    if step.into_dir or (root / step.dest.lstrip("/")).is_dir():
        directory(step.dest)
        for source in step.sources:
            name = os.path.basename(source.rstrip("/"))
            if name and "." in name and not any(c in name for c in "*?[") and "://" not in source:
                sandbox.place_stub(root, os.path.join(step.dest, name))
    else:
        sandbox.place_stub(root, step.dest)


Position = tuple[int, int]  # (stage, step) of a RUN in a plan


@dataclass(slots=True)
class State:
    """A build paused before a RUN: the roots so far and what was recorded."""

    position: Position
    roots: dict[int, Path]
    outcome: Outcome
    seen: Counter[Key]

    def copy(self) -> State:
        outcome = Outcome(list(self.outcome.events), list(self.outcome.calls), files=dict(self.outcome.files))
        return State(self.position, {k: sandbox.copy_root(v) for k, v in self.roots.items()}, outcome,
                     Counter(self.seen))

    def remove(self) -> None:
        for root in self.roots.values():
            sandbox.remove_root(root)


def execute(build: Plan, initial: Layout, relative: frozenset[str], shell: str, failure: Failure | None = None,
            *, snapshot: bool = False, start: State | None = None, consume: bool = False,
            save: frozenset[Position] = frozenset()) -> tuple[Outcome, dict[Position, State]]:
    """One build, stopping at the first failing RUN as the builder does: from fresh roots, or
    resumed from a saved ``start`` (used up when ``consume``, else copied). Returns the outcome
    and the states saved before the RUNs at the positions in ``save`` (the caller removes them)."""
    if start is None:
        state = State((0, 0), {}, Outcome(), Counter())
    else:
        state = start if consume else start.copy()
    outcome, roots, seen = state.outcome, state.roots, state.seen
    saved: dict[Position, State] = {}
    try:
        for stage_pos in range(state.position[0], len(build.stages)):
            stage = build.stages[stage_pos]
            if stage.index not in roots:
                roots[stage.index] = (sandbox.copy_root(roots[stage.base]) if stage.base is not None
                                      else sandbox.new_root(initial, shell))
            root = roots[stage.index]
            first = state.position[1] if stage_pos == state.position[0] else 0
            for step_pos in range(first, len(stage.steps)):
                step = stage.steps[step_pos]
                if not isinstance(step, RunStep):
                    _place(root, step, relative)
                    continue
                if (stage_pos, step_pos) in save:
                    saved[(stage_pos, step_pos)] = State((stage_pos, step_pos), roots, outcome, seen).copy()
                if _run_step(outcome, seen, root, step, (stage_pos, step_pos), stage.index, shell, failure):
                    return outcome, saved
            if snapshot:
                outcome.files[stage.index] = _snapshot(root)
    finally:
        for root in roots.values():
            sandbox.remove_root(root)
    return outcome, saved


def _run_step(outcome: Outcome, seen: Counter[Key], root: Path, step: RunStep, position: Position, stage: int,
              shell: str, failure: Failure | None) -> bool:
    """Run one RUN and record it; True when the build stops here."""
    (root / step.cwd.lstrip("/")).mkdir(parents=True, exist_ok=True)
    result = sandbox.run(root, list(step.argv), dict(step.env), step.cwd,
                         fail=failure.spec() if failure else None, seen=seen[failure.key] if failure else 0)
    if result.timed_out or result.overflow:
        what = "timed out" if result.timed_out else "flooded the trace"
        outcome.problem = f"line {step.line} {what} under {shell}"
        return True
    for record in result.records:
        key = (record.path, declared.without_cache_flags(record.path, record.args), record.cwd)
        seen[key] += 1
        outcome.calls.append(Call(step.index, key, declared.is_cache_command(record.path, record.args, record.cwd),
                                  position))
    for record in _canonical(result.records):
        if not declared.is_cache_command(record.path, record.args, record.cwd):
            outcome.events.append(Event(stage, record.path, declared.without_cache_flags(record.path, record.args),
                                        record.cwd, record.umask, record.env, step.user, record.status))
    if result.status == 0:
        return False
    outcome.result = ("failed", result.status)
    last = result.stderr.strip().splitlines()[-1:] or [""]
    outcome.stop = f"line {step.line}: {last[0][:160]}"
    outcome.gap = _gap(result.stderr)
    return True


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


def failures(outcome: Outcome, prefix: int, changed: set[int], limit: int = MAX_FAILURES) -> list[Failure]:
    """The failing-invocation scenarios for one shell (see the module docstring for the cap)."""
    occurrences: Counter[Key] = Counter()
    near: list[tuple[Key, int]] = []
    far: list[tuple[Key, int]] = []
    for call in outcome.calls:
        occurrence = occurrences[call.key]
        occurrences[call.key] += 1
        if call.cache or call.index < prefix:
            continue
        (near if call.index in changed else far).append((call.key, occurrence))
    chosen = near[:limit]
    room = limit - len(chosen)
    if room > 0 and far:
        step = max(1, len(far) / room)
        chosen += [far[int(i * step)] for i in range(min(room, len(far)))]
    near_set = set(near)
    return [Failure(key, occurrence, status) for key, occurrence in chosen
            for status in (CHANGED_STATUSES if (key, occurrence) in near_set else OTHER_STATUSES)]


def _position(outcome: Outcome, failure: Failure) -> Position | None:
    """The RUN in which the failing invocation happens when every command succeeds."""
    nth = 0
    for call in outcome.calls:
        if call.key == failure.key:
            if nth == failure.occurrence:
                return call.position
            nth += 1
    return None


def prove(original_text: str, fixed_text: str, *, shells: tuple[str, ...] = SHELLS,
          max_failures: int = MAX_FAILURES) -> Verdict:
    """Whether ``fixed_text`` builds like ``original_text`` in every scenario (module docstring)."""
    if original_text == fixed_text:
        return Verdict("proven", "the texts are identical", "identical")
    reason = sandbox.unavailable()
    if reason:
        return Verdict("unprovable", reason, "no sandbox")
    try:
        original, fixed = plan(original_text), plan(fixed_text)
    except Unprovable as why:
        return Verdict("unprovable", str(why), _category(str(why)))
    initial, relative = layout(original, fixed)
    prefix, changed = _changed(original, fixed)
    scenarios = 0
    for shell in shells:
        build = functools.partial(execute, initial=initial, relative=relative, shell=shell)
        base, _ = build(original, snapshot=True)
        other, _ = build(fixed, snapshot=True)
        scenarios += 1
        if base.problem or other.problem:
            return Verdict("unprovable", base.problem or other.problem, "timeout or flood", scenarios)
        found = difference(base, other)
        if found:
            return Verdict("disproven", f"under {shell}, all commands succeeding: {found}", "disproven", scenarios)
        chosen = failures(base, prefix, changed, max_failures)
        # Run both again, saving the state before each RUN where a scenario's failure happens:
        # a scenario is the all-succeed build up to that RUN (the stubs are deterministic, which
        # these second runs check), so it resumes there instead of rebuilding the prefix.
        at_a = {f: _position(base, f) for f in chosen}
        at_b = {f: _position(other, f) for f in chosen}
        again, saved_a = build(original, snapshot=True, save=frozenset(p for p in at_a.values() if p))
        other_again, saved_b = build(fixed, snapshot=True, save=frozenset(p for p in at_b.values() if p))
        try:
            for first, second, side in ((base, again, "original"), (other, other_again, "fixed file")):
                if second.problem or difference(first, second):
                    return Verdict("unprovable", f"under {shell} the {side}'s trace is not deterministic: "
                                   f"{second.problem or difference(first, second)}", "nondeterministic", scenarios)
            # The last scenario resuming from a saved state uses it up instead of copying it.
            last_a = {at_a[f]: f for f in chosen}
            last_b = {at_b[f]: f for f in chosen}
            for failure in chosen:
                a, _ = build(original, failure=failure, start=saved_a.get(at_a[failure]),  # type: ignore[arg-type]
                             consume=last_a[at_a[failure]] is failure)
                b, _ = build(fixed, failure=failure, start=saved_b.get(at_b[failure]),  # type: ignore[arg-type]
                             consume=last_b[at_b[failure]] is failure)
                if last_a[at_a[failure]] is failure:
                    saved_a.pop(at_a[failure], None)  # type: ignore[arg-type]
                if last_b[at_b[failure]] is failure:
                    saved_b.pop(at_b[failure], None)  # type: ignore[arg-type]
                scenarios += 1
                if a.problem or b.problem:
                    return Verdict("unprovable", a.problem or b.problem, "timeout or flood", scenarios)
                found = difference(a, b)
                if found:
                    return Verdict("disproven", f"under {shell}, when {failure}: {found}", "disproven", scenarios)
        finally:
            for state in (*saved_a.values(), *saved_b.values()):
                state.remove()
        if base.gap:
            return Verdict("unprovable", f"under {shell} the original stops at a gap of the stub world: {base.stop}",
                           "gap: " + _gap_class(base.gap), scenarios)
    return Verdict("proven", f"{scenarios} scenarios under {', '.join(shells)}", "proven", scenarios)


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
