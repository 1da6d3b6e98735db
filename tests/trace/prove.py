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
import posixpath
import re
import shlex
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from tests.trace import declared, sandbox
from tests.trace.build import CopyStep, DirStep, Plan, RunStep, Unprovable, layout, plan
from tests.trace.sandbox import Layout, Record

SHELLS = ("dash", "bash")
MAX_GAP_FILLS = 12  # gaps of the stub world filled before giving up (see fill_gap)
MAX_FAILURES = 60  # failing-invocation scenarios per shell (x2 for changed instructions' 100)
FAIL_STATUSES = (1, 100)  # the failing invocations of the changed instructions take these in turn

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
    piped: tuple[bool, bool]  # stdin, stdout a pipe (a pipeline member, a command substitution)

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
    gap_cwd: str = ""  # where the shell probably was then (the last invocation's directory)
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


# A gap's missing path, from dash's and bash's messages: (is a directory, path).
_MISSING = (
    (True, re.compile(r"cd: can't cd to (.+)$")),
    (True, re.compile(r"cd: (.+): No such file or directory$")),
    (False, re.compile(r"cannot create (.+): Directory nonexistent$")),
    (False, re.compile(r"cannot open (.+): No such file$")),
    (False, re.compile(r"line \d+: (.+): (?:No such file or directory|command not found)$")),
    (False, re.compile(r"\d+: (.+): not found$")),
)


def fill_gap(outcome: Outcome, initial: Layout) -> Layout | None:
    """The stub world with the gap the original stopped at filled (the missing directory, or a
    stub file for a missing command, sourced script or redirect target), or None when the gap
    names nothing to create or was filled already. Both sides then start from the same,
    richer world: a directory a tarball would have made (``cd git-2.43.2``), a ``./configure``
    from an archive, a sourced ``/etc/apache2/envvars``. Relative paths are taken from the
    directory of the last invocation before the stop, where the shell most likely was."""
    for is_dir, pattern in _MISSING:
        match = pattern.search(outcome.gap)
        if not match:
            continue
        written = match.group(1).strip()
        if written.startswith(("cannot create ", ".: ")):
            written = written.split(" ", 2)[-1]
        if not written or "$" in written or any(c in written for c in "*?[\n"):
            return None
        if is_dir:
            path = posixpath.normpath(posixpath.join(outcome.gap_cwd, written))
            return None if path in initial.dirs else replace(initial, dirs=initial.dirs | {path})
        if "/" not in written:
            return None if written in initial.names else replace(initial, names=initial.names | {written})
        path = posixpath.normpath(posixpath.join(outcome.gap_cwd, written))
        if "cannot create" in outcome.gap:
            parent = posixpath.dirname(path)
            return None if parent in initial.dirs else replace(initial, dirs=initial.dirs | {parent})
        return None if path in initial.paths else replace(initial, paths=initial.paths | {path})
    return None


def _canonical(records: tuple[Record, ...]) -> list[Record]:
    """Commands that run concurrently record in any order: the members of one pipeline
    (connected through pipe inodes) and the command substitutions a member runs before it
    becomes its command (``ldd "$(php -r ...)" | awk``: php's parent is the process that then
    runs ldd). Each such group is sorted, at the position of its first member."""
    parent = list(range(len(records)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with_pipe: dict[int, int] = {}
    by_pid = {record.pid: i for i, record in enumerate(records)}
    for i, record in enumerate(records):
        for pipe in (record.stdin_pipe, record.stdout_pipe):
            if pipe and pipe in first_with_pipe:
                parent[find(i)] = find(first_with_pipe[pipe])
            elif pipe:
                first_with_pipe[pipe] = i
        # A command substitution (its output a pipe) run by a pipeline member's process
        # before that process became the member's command.
        member = by_pid.get(record.ppid)
        if member is not None and record.stdout_pipe and (records[member].stdin_pipe or records[member].stdout_pipe):
            parent[find(i)] = find(member)
    groups: dict[int, list[Record]] = {}
    for i, record in enumerate(records):
        groups.setdefault(find(i), []).append(record)
    ordered: list[Record] = []
    for members in sorted(groups.values(), key=lambda m: records.index(m[0])):
        ordered.extend(sorted(members, key=lambda r: (r.path, r.args, r.cwd, r.status)) if len(members) > 1
                       else members)
    return ordered


def _snapshot(root: Path, full: bool = False) -> frozenset[tuple[str, str]]:
    """The files a build left: path and content digest. Store files, declared cache
    directories and the harness's stub files are left out, unless ``full`` (everything a
    later step could observe: the state from which the rest of a build runs)."""
    inodes = sandbox.store().inodes
    skip_top = {"proc", "dev", ".trace", "sys"}
    caches = () if full else tuple(d.lstrip("/") for d in declared.CACHE_DIRS)
    out: set[tuple[str, str]] = set()
    for directory, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(directory, root)
        if rel_dir == ".":
            dirs[:] = [d for d in dirs if d not in skip_top]
        if caches:
            dirs[:] = [d for d in dirs if not os.path.normpath(os.path.join(rel_dir, d)).startswith(caches)]
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
                if content == sandbox.STUB_FILE and not full:
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
        # Files are compared in the all-succeed builds only, which never resume.
        outcome = Outcome(list(self.outcome.events), list(self.outcome.calls))
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
            if not any(later.base == stage.index for later in build.stages[stage_pos + 1:]):
                sandbox.remove_root(roots.pop(stage.index))  # no later stage builds FROM it
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
                                        record.cwd, record.umask, record.env, step.user, record.status,
                                        (bool(record.stdin_pipe), bool(record.stdout_pipe))))
    if result.status == 0:
        return False
    outcome.result = ("failed", result.status)
    last = result.stderr.strip().splitlines()[-1:] or [""]
    outcome.stop = f"line {step.line}: {last[0][:160]}"
    outcome.gap = _gap(result.stderr)
    outcome.gap_cwd = result.records[-1].cwd if result.records else step.cwd
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
    return all(_snapshot(a.roots[k], full=True) == _snapshot(b.roots[k], full=True) for k in a.roots)


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
    reason = sandbox.unavailable()
    if reason:
        return Verdict("unprovable", reason, "no sandbox")
    try:
        original, fixed = plan(original_text), plan(fixed_text)
    except Unprovable as why:
        return Verdict("unprovable", str(why), _category(str(why)))
    initial, relative = layout(original, fixed)
    prefix, changed = _changed(original, fixed)
    verdict = None
    for _ in range(MAX_GAP_FILLS + 1):
        verdict = _prove_in(original, fixed, initial, relative, prefix, changed, shells, max_failures)
        if not isinstance(verdict, Layout):
            return verdict
        initial = verdict
    return Verdict("unprovable", f"still stops at a gap of the stub world after {MAX_GAP_FILLS} fills", "gap: too many")


def _prove_in(original: Plan, fixed: Plan, initial: Layout, relative: frozenset[str], prefix: int, changed: set[int],
              shells: tuple[str, ...], max_failures: int) -> Verdict | Layout:
    """``prove`` in one stub world; a richer world (``fill_gap``) when the original stops at a gap."""
    scenarios = 0
    for shell in shells:
        build = functools.partial(execute, initial=initial, relative=relative, shell=shell)
        # The all-succeed builds save their state before each RUN after the common prefix: a
        # failure scenario is the all-succeed build up to the RUN where its invocation fails
        # (the stubs are deterministic), so it resumes there instead of rebuilding the prefix.
        base, saved_a = build(original, snapshot=True, save=_resume_points(original, prefix))
        if base.gap and (filled := fill_gap(base, initial)) is not None:
            for state in saved_a.values():
                state.remove()
            return filled
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
    return Verdict("proven", f"{scenarios} scenarios under {', '.join(shells)}", "proven", scenarios)


def _compare(build: functools.partial[tuple[Outcome, dict[Position, State]]], original: Plan, fixed: Plan,
             a: Outcome, b: Outcome, failure: Failure | None, shell: str, scenarios: int) -> Verdict | None:
    """None when the two builds agree; else the verdict. A difference is confirmed by building
    both sides again from scratch: if either side's trace changes between two builds, the
    difference proves nothing (a race between background jobs, say) and the fix is unprovable."""
    if a.problem or b.problem:
        return Verdict("unprovable", a.problem or b.problem, "timeout or flood", scenarios)
    found = difference(a, b)
    if not found:
        return None
    snapshot = failure is None
    for plan_, first, side in ((original, a, "original"), (fixed, b, "fixed file")):
        second, _ = build(plan_, failure=failure, snapshot=snapshot)
        if second.problem or difference(first, second):
            return Verdict("unprovable", f"under {shell} the {side}'s trace is not deterministic: "
                           f"{second.problem or difference(first, second)}", "nondeterministic", scenarios)
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
