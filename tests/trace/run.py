"""Running one build in the sandbox, as the builder would, and what it recorded.

``execute(plan, ...)`` builds a ``build.Plan`` stage by stage in fresh roots (or resumed from
a ``State`` saved before a RUN) and returns an ``Outcome``: the invocations as compared
(``Event``: stage, argv, directory, umask, environment, USER, exit status, pipe ends; the
declared cache cleanups left out, concurrent pipeline members in a canonical order), where
each happened (``Call``), the result (builds, or fails at a RUN with a status), the files
left at the end of each stage, and whether the build stopped at a gap of the stub world —
which ``fill_gap`` can fill for the next attempt.
"""
from __future__ import annotations

import hashlib
import os
import posixpath
import re
import shlex
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from tests.trace import declared, guards, sandbox
from tests.trace.build import CopyStep, DirStep, Plan, RunStep
from tests.trace.sandbox import Layout, Record

Key = tuple[str, tuple[str, ...], str]  # path, args without cache flags, cwd


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
    ambiguous: bool = False  # its key runs more than once concurrently (see ``_ambiguous``)


@dataclass(slots=True)
class Outcome:
    events: list[Event] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    result: tuple[object, ...] = ("ok",)
    stop: str = ""  # the stopping RUN's line and the shell's last error line
    stop_index: int = -1  # the stopping RUN's position in its document
    gap: str = ""  # the stop is a gap of the stub world
    gap_cwd: str = ""  # where the shell probably was then (the last invocation's directory)
    gap_cwds: tuple[str, ...] = ()  # every candidate for that, most likely first (see _shell_dirs)
    problem: str = ""  # timeout / trace overflow: nothing can be concluded
    guards: list[tuple[int, bool, int]] = field(default_factory=list)  # the last RUN's tests (guards.py)
    unset_args: tuple[str, ...] = ()  # the stopping RUN's ARGs without a value
    certain: bool = False  # the stop is a failure every world shares (see _CERTAIN)
    files: dict[int, frozenset[tuple[str, str]]] = field(default_factory=dict)


def _command(path: str, args: tuple[str, ...]) -> str:
    text = shlex.join([os.path.basename(path), *args])
    return text if len(text) <= 80 else text[:77] + "..."


# --- running one build ---------------------------------------------------------------------

# What a shell prints when the stub world lacks something the real image would have.
_GAP = re.compile(r"not found|No such file or directory|can't cd|can't open|cannot open|Not a directory"
                  r"|Is a directory|Permission denied|No such file|Directory nonexistent"
                  r"|parameter not set|unbound variable")
# ``set -u`` reading a variable nothing set (dash, bash): a sourced stand-in file should set it.
# A command whose name begins with a blank (`&& \ useradd`: an escaped space before it) is
# found on no PATH: the real build stops there too, in every world (vimagick's ansible).
_CERTAIN = re.compile(r"(?:^|: )\s+\S+: (?:command )?not found$")
_EMPTY_PATH = re.compile(r"cannot create : |: line \d+: : No such file or directory$")
_UNSET = re.compile(r": ([A-Za-z_]\w*): (?:parameter not set|unbound variable)$")
# The xtrace (``set -x``) line of the step that stopped the build, when that step is a test the
# real image would pass: a positive file test on a file an install would have made
# (``[ -s /usr/local/bin/idle3 ]`` after ``make install``), or ``command -v`` of a command it
# would have installed. dash prints ``+ [ -s X ]``, bash ``+ '[' -s X ']'``.
_XTRACE_FILE_TEST = re.compile(r"^\++ (?:\[|'\['|test) -([efsxrd]) ([^\s'\"$*?]+)(?: \]| '\]')?$")
_XTRACE_COMMAND_V = re.compile(r"^\++ command -v ([A-Za-z_][\w.+-]*)$")
_XTRACE_CD = re.compile(r"^\++ cd ([^\s'\"$*?]+)$")
_XTRACE = re.compile(r"^\++ ")
# Names a bash-ism in a /bin/sh script runs under dash: genuinely missing there too.
_SHELL_MESSAGE = re.compile(r"(?:^|[\s='\"])(?:/bin/|/usr/bin/)?(?:sh|bash|dash): (?:line )?\d+: ")
_DASH_LACKS = re.compile(r"\b(\[\[|source|declare|typeset|let|shopt|pushd|popd|local|function|mapfile|readarray)"
                         r": not found")


def _gap(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    if lines and (_XTRACE_FILE_TEST.match(lines[-1].strip()) or _XTRACE_COMMAND_V.match(lines[-1].strip())):
        return lines[-1].strip()
    # ``tini="$(command -v tini-static)"`` under set -e: the assignment's xtrace comes last
    if len(lines) > 1 and re.match(r"^\++ \w+=$", lines[-1].strip()) and _XTRACE_COMMAND_V.match(lines[-2].strip()):
        return lines[-2].strip()
    for line in reversed(lines):
        # A gap is the shell's (or a stub's) error message; an xtrace line only echoes a
        # command, whose words may contain the same text (``+ grep 'not found'``), unless the
        # message was captured into them (tomcat: ``nativeLines="$(catalina.sh configtest
        # 2>&1)"`` traces ``+ nativeLines=/bin/sh: 1: catalina.sh: not found``).
        echoed = _XTRACE.match(line.strip()) and not _SHELL_MESSAGE.search(line)
        if _GAP.search(line) and not _DASH_LACKS.search(line) and not echoed:
            return line.strip()
    return ""


def _shell_dirs(stderr: str, start: str, last_invocation: str, made: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Where the shell probably was when it stopped, for a relative path in a gap: the last
    ``cd`` its xtrace shows (a builtin, so no invocation records it: ``cd /usr/src/postgresql;
    awk ... > src/include/x.new``), then the last invocation's directory, then the directories
    the build made itself, latest first (``git clone URL && cd repo/ && cd dm`` without xtrace:
    the first ``cd`` is invisible, the clone's directory is where the shell went)."""
    here, seen = start, False
    for line in stderr.splitlines():
        match = _XTRACE_CD.match(line.strip())
        if match:
            here, seen = posixpath.normpath(posixpath.join(here, match.group(1))), True
    candidates = (here, last_invocation) if seen else (last_invocation,)
    return tuple(dict.fromkeys((*candidates, *reversed(made))))


# git clone's options that take a value (as the stub's ``cmd_git`` reads them).
_GIT_CLONE_VALUED = frozenset({"-b", "--branch", "--depth", "-o", "--origin", "-c", "--config", "--reference",
                               "-j", "--jobs", "--filter", "-u", "--upload-pack", "--separate-git-dir",
                               "--shallow-since"})


def _clone_dir(record: Record) -> str:
    """The directory a ``git clone`` invocation makes (absolute), or "" for any other."""
    if posixpath.basename(record.path) != "git":
        return ""
    args, i = record.args, 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in ("-C", "-c") else 1
    if i >= len(args) or args[i] != "clone":
        return ""
    operands, rest = [], args[i + 1:]
    k = 0
    while k < len(rest):
        word = rest[k]
        if word == "--":
            operands.extend(rest[k + 1:])
            break
        if word.startswith("-") and len(word) > 1:
            k += 2 if word in _GIT_CLONE_VALUED else 1
            continue
        operands.append(word)
        k += 1
    if len(operands) >= 2:
        target = operands[1]
    elif operands:
        target = posixpath.basename(operands[0].rstrip("/"))
        target = target[:-4] if target.endswith(".git") and len(target) > 4 else target
    else:
        return ""
    return posixpath.normpath(posixpath.join(record.cwd, target)) if target else ""


def _made_dirs(root: Path, records: tuple[Record, ...]) -> tuple[str, ...]:
    """The directories the build made itself, in order: the stub mkdir's list
    (/.trace/made) and the clones of this RUN."""
    try:
        made = (root / ".trace" / "made").read_text().splitlines()
    except OSError:
        made = []
    clones = [d for d in map(_clone_dir, records) if d]
    return tuple(dict.fromkeys(d for d in (*made, *clones) if d.startswith("/")))


def _glob_word(path: str) -> str:
    """A name the last component's pattern matches (``mongosh-*`` -> ``mongosh-filled``), so a
    directory filled under it is what the shell's glob expands to; "" when the pattern is not
    a plain ``*``/``?`` pattern of the last component only."""
    head, last = posixpath.split(path)
    if any(c in head for c in "*?[") or "[" in last or not any(c in last for c in "*?"):
        return ""
    return posixpath.join(head, last.replace("*", "filled").replace("?", "x"))


# A gap's missing path, from dash's and bash's messages: (is a directory, path).
_MISSING = (
    (True, re.compile(r"cd: can't cd to (.+)$")),
    (True, re.compile(r"cd: (.+): No such file or directory$")),
    (False, re.compile(r"cannot create (.+): Directory nonexistent$")),
    (False, re.compile(r"cannot open (.+): No such file$")),
    (False, re.compile(r"line \d+: (.+): (?:No such file or directory|command not found)$")),
    (False, re.compile(r"\d+: (.+): not found$")),
    # the stub's mkdir without -p under a directory the real image has (useradd -m made it):
    # its parent is created ("cannot create" below)
    (False, re.compile(r"^mkdir: cannot create directory '(.+)': No such file or directory$")),
    # bash as sh reading a script file that is missing (``sh /opt/tool/install.sh``, or
    # ``/bin/bash /tmp/library-scripts/common-debian.sh``: a script COPYed from a build
    # context the corpus lacks)
    (False, re.compile(r"^(?:/[\w/]*/)?(?:sh|bash|dash): (/[^:]+): No such file or directory$")),
    # the xtrace line of a failed positive file test (``[ -s /usr/local/bin/idle3 ]``)
    (False, _XTRACE_FILE_TEST),
)


def fill_gap(outcome: Outcome, initial: Layout) -> Layout | None:
    """The stub world with the gap the original stopped at filled (the missing directory, or a
    stub file for a missing command, sourced script or redirect target), or None when the gap
    names nothing to create or was filled already. Both sides then start from the same,
    richer world: a directory a tarball would have made (``cd git-2.43.2``), a ``./configure``
    from an archive, a sourced ``/etc/apache2/envvars``, a script COPYed from a build context
    the corpus lacks, the directory a redirect writes into, a file a positive test under
    ``set -x`` wants (``[ -s /usr/local/bin/idle3 ]``), a command ``command -v`` looks for.
    Relative paths are taken from where the shell most likely was (``_shell_dirs``: the last
    ``cd`` its xtrace shows, else the last invocation's directory), the first such place not
    filled yet. Filling never decides a verdict by itself: both sides run in the same world,
    and ``prove`` refuses a filled world whose original then stops in the changed steps."""
    if _EMPTY_PATH.search(outcome.gap) and set(outcome.unset_args) - initial.variables:
        # An empty expansion named the path (kaniko's `ARG file` then `echo run > $file`): the
        # world where the build gets its --build-args, as the file's own test passes them.
        return replace(initial, variables=initial.variables | set(outcome.unset_args))
    unset = _UNSET.search(outcome.gap)
    if unset:
        name = unset.group(1)
        if name in initial.variables:
            return None
        return replace(initial, variables=initial.variables | {name})
    command_v = _XTRACE_COMMAND_V.match(outcome.gap)
    if command_v:
        name = command_v.group(1)
        return None if name in initial.names else replace(initial, names=initial.names | {name})
    for is_dir, pattern in _MISSING:
        match = pattern.search(outcome.gap)
        if not match:
            continue
        if pattern is _XTRACE_FILE_TEST:
            is_dir, written = match.group(1) == "d", match.group(2)
        else:
            written = match.group(1).strip()
        if written.startswith(("cannot create ", ".: ")):
            written = written.split(" ", 2)[-1]
        if is_dir and written and "\n" not in written and "$" not in written and _glob_word(written):
            written = _glob_word(written)  # ``cd mongosh-*`` after ``tar xf``: the unpacked directory
        if not written or "$" in written or any(c in written for c in "*?[\n"):
            return None
        if not is_dir and "/" not in written and pattern is not _XTRACE_FILE_TEST:
            return None if written in initial.names else replace(initial, names=initial.names | {written})
        # A relative path: the first candidate directory not filled yet (a wrong guess only
        # leaves the gap open: the proof stays unprovable, never wrong).
        for cwd in outcome.gap_cwds or (outcome.gap_cwd,):
            path = posixpath.normpath(posixpath.join(cwd, written))
            if is_dir:
                if path not in initial.dirs:
                    return replace(initial, dirs=initial.dirs | {path})
            elif "Directory nonexistent" in outcome.gap or "cannot create" in outcome.gap:
                parent = posixpath.dirname(path)
                if parent not in initial.dirs:
                    return replace(initial, dirs=initial.dirs | {parent})
            elif "cannot open" in outcome.gap:  # dash reading a missing file: ``. /etc/x``, ``sh x``
                if path not in initial.files:
                    return replace(initial, files=initial.files | {path})
            elif path not in initial.paths:
                return replace(initial, paths=initial.paths | {path})
            if written.startswith("/"):
                break
        return None
    return None


def _canonical(records: tuple[Record, ...], concurrent: list[list[int]] | None = None) -> list[Record]:
    """The records in an order that does not depend on how concurrent processes were scheduled:
    the sets of ``_concurrent`` in order, each sorted by content."""
    ordered: list[Record] = []
    for members in concurrent if concurrent is not None else _concurrent(records):
        ordered.extend(sorted((records[i] for i in members), key=_content) if len(members) > 1
                       else [records[members[0]]])
    return ordered


def _content(r: Record) -> tuple[object, ...]:
    # The pipe ends break ties: two `sort -u` of one pipeline differ only there.
    return (r.path, r.args, r.cwd, r.status, bool(r.stdin_pipe), bool(r.stdout_pipe))


def _concurrent(records: tuple[Record, ...]) -> list[list[int]]:
    """The records (indices) in sets that run concurrently, the sets in the order they ran.

    Two kinds of commands run concurrently, by the shell's semantics, not by chance:

    - the members of one pipeline, and everything a member's process runs: commands that
      share a pipe inode on their own or on an ancestor's stdin/stdout (``echo "$(grep x |
      awk y)" | sha256sum -c -``: grep and awk run under the echo subshell whose stdout is
      sha256sum's stdin), and the command substitutions a member runs before it becomes its
      command (``ldd "$(php -r ...)" | awk``: php's parent then runs ldd). Each such group is
      sorted, at the position of its first member;
    - a background job (``browsh & sleep 10``): its records (``Record.async_root``, see
      stub.c) are placed right after the last foreground group started before the job (PIDs
      of the fresh namespace are handed out in fork order), and the jobs started at the same
      point are sorted together. What runs before a job is still ordered against it; only the
      order inside and between jobs started at one point is not compared.
    """
    parent = list(range(len(records)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with_pipe: dict[int, int] = {}
    by_pid = {record.pid: i for i, record in enumerate(records)}
    for i, record in enumerate(records):
        for pipe in (record.stdin_pipe, record.stdout_pipe, *record.ancestor_pipes):
            if pipe and pipe in first_with_pipe:
                parent[find(i)] = find(first_with_pipe[pipe])
            elif pipe:
                first_with_pipe[pipe] = i
        # A command substitution (its output a pipe) run by a pipeline member's process
        # before that process became the member's command.
        member = by_pid.get(record.ppid)
        if member is not None and record.stdout_pipe and (records[member].stdin_pipe or records[member].stdout_pipe):
            parent[find(i)] = find(member)
    groups: dict[int, list[int]] = {}
    for i in range(len(records)):
        groups.setdefault(find(i), []).append(i)

    foreground = sorted((members for members in groups.values() if not all(records[i].async_root for i in members)),
                        key=lambda members: members[0])
    started = [min(records[i].pid for i in members) for members in foreground]
    jobs: dict[int, list[int]] = {}  # position in ``foreground`` it follows (-1: before all) -> records
    for members in groups.values():
        if all(records[i].async_root for i in members):
            root = min(records[i].async_root for i in members)
            after = max((k for k, pid in enumerate(started) if pid < root), default=-1)
            jobs.setdefault(after, []).extend(members)
    out: list[list[int]] = [jobs[-1]] if -1 in jobs else []
    for k, members in enumerate(foreground):
        out.append(members)
        if k in jobs:
            out.append(jobs[k])
    return out


def _ambiguous(records: tuple[Record, ...], keys: list[Key], concurrent: list[list[int]] | None = None) -> set[int]:
    """Records whose key another record of the same concurrent set shares (``a | sort -u |
    sort -u``): which of them is the key's n-th call depends on scheduling, so a scenario
    failing "the n-th call" would fail a different command from one build to the next."""
    out: set[int] = set()
    for members in concurrent if concurrent is not None else _concurrent(records):
        count = Counter(keys[i] for i in members)
        out.update(i for i in members if count[keys[i]] > 1)
    return out


def files_of(root: Path, full: bool = False) -> frozenset[tuple[str, str]]:
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
            save: frozenset[Position] = frozenset(),
            forced: Mapping[int, bool] | None = None) -> tuple[Outcome, dict[Position, State]]:
    """One build, stopping at the first failing RUN as the builder does: from fresh roots, or
    resumed from a saved ``start`` (used up when ``consume``, else copied). Returns the outcome
    and the states saved before the RUNs at the positions in ``save`` (the caller removes them).
    ``forced``: the tests whose outcome is forced (``guards.py``), by number."""
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
                if stage.base is not None:
                    roots[stage.index] = sandbox.copy_root(roots[stage.base])
                else:
                    roots[stage.index] = sandbox.new_root(initial, shell)
                    guards.force(roots[stage.index], forced or {})
            root = roots[stage.index]
            first = state.position[1] if stage_pos == state.position[0] else 0
            for step_pos in range(first, len(stage.steps)):
                step = stage.steps[step_pos]
                if not isinstance(step, RunStep):
                    _place(root, step, relative)
                    continue
                if (stage_pos, step_pos) in save:
                    saved[(stage_pos, step_pos)] = State((stage_pos, step_pos), roots, outcome, seen).copy()
                # Variables the world sets (a fill: ``set -u`` read one the base image's ENV
                # gives, as php's PHP_INI_DIR): in the environment unless the file sets them
                # (a stage built FROM another inherits them from the same base image).
                filled_env = {name: f"/filled/{name}" for name in initial.variables if name not in dict(step.env)}
                if filled_env:
                    step = replace(step, env=tuple(sorted({**dict(step.env), **filled_env}.items())))
                if _run_step(outcome, seen, root, step, (stage_pos, step_pos), stage.index, shell, failure):
                    return outcome, saved
            if snapshot:
                outcome.files[stage.index] = files_of(root)
            if not any(later.base == stage.index for later in build.stages[stage_pos + 1:]):
                sandbox.remove_root(roots.pop(stage.index))  # no later stage builds FROM it
    finally:
        for root in roots.values():
            sandbox.remove_root(root)
    return outcome, saved


def _run_step(outcome: Outcome, seen: Counter[Key], root: Path, step: RunStep, position: Position, stage: int,
              shell: str, failure: Failure | None) -> bool:
    """Run one RUN and record it; True when the build stops here."""
    try:
        (root / step.cwd.lstrip("/")).mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):  # a stub file where the WORKDIR should be
        outcome.problem = f"line {step.line}: its WORKDIR {step.cwd} is a file in the stub world"
        return True
    result = sandbox.run(root, list(step.argv), dict(step.env), step.cwd,
                         fail=failure.spec() if failure else None, seen=seen[failure.key] if failure else 0)
    if result.timed_out or result.overflow:
        what = "timed out" if result.timed_out else "flooded the trace"
        outcome.problem = f"line {step.line} {what} under {shell}"
        return True
    outcome.guards = guards.take_log(root)
    keys = [(r.path, declared.without_cache_flags(r.path, r.args), r.cwd) for r in result.records]
    concurrent = _concurrent(result.records)
    ambiguous = _ambiguous(result.records, keys, concurrent)
    for i, (record, key) in enumerate(zip(result.records, keys)):
        seen[key] += 1
        outcome.calls.append(Call(step.index, key, declared.is_cache_command(record.path, record.args, record.cwd),
                                  position, i in ambiguous))
    for record in _canonical(result.records, concurrent):
        if not declared.is_cache_command(record.path, record.args, record.cwd):
            outcome.events.append(Event(stage, record.path, declared.without_cache_flags(record.path, record.args),
                                        record.cwd, record.umask, record.env, step.user, record.status,
                                        (bool(record.stdin_pipe), bool(record.stdout_pipe))))
    if result.status == 0:
        return False
    outcome.result = ("failed", result.status)
    last = result.stderr.strip().splitlines()[-1:] or [""]
    outcome.stop = f"line {step.line}: {last[0][:160]}"
    outcome.stop_index = step.index
    outcome.unset_args = step.unset_args
    outcome.certain = _CERTAIN.search(last[0]) is not None
    outcome.gap = "" if outcome.certain else _gap(result.stderr)
    outcome.gap_cwd = result.records[-1].cwd if result.records else step.cwd
    outcome.gap_cwds = _shell_dirs(result.stderr, step.cwd, outcome.gap_cwd, _made_dirs(root, result.records))
    return True
